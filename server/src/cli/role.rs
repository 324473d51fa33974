//! `server role`: a partner app's roles and the permissions they grant; who holds them (a
//! person, or a group and so its members); and what one person holds. Apps that ask for the
//! `roles` scope find them in their tokens from the next code exchange or refresh on.

use app::domain::{
    audit::Actor,
    directory::roles::{self, Defined, Holder},
};
use clap::{Args, Subcommand};
use sqlx::PgPool;

use super::group::person;

/// Who a role is assigned to: one person or one group.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct HolderArgs {
    /// A person, by account address.
    #[arg(long)]
    email: Option<String>,
    /// A group, by name.
    #[arg(long)]
    group: Option<String>,
}

#[derive(Subcommand)]
pub enum RoleCommand {
    /// Define a role of an app (or change one): the permissions it grants, exactly.
    Define {
        /// The app's client id.
        #[arg(long, allow_hyphen_values = true)]
        client: String,
        /// The role's name, e.g. support-agent (letters, digits and : . _ -).
        #[arg(long)]
        name: String,
        /// A permission the role grants, e.g. tickets:read (repeat for more).
        #[arg(long = "permission")]
        permissions: Vec<String>,
        /// What the role is for.
        #[arg(long)]
        description: Option<String>,
    },
    /// Remove a role of an app; everyone who held it loses it.
    Remove {
        #[arg(long, allow_hyphen_values = true)]
        client: String,
        #[arg(long)]
        name: String,
    },
    /// List an app's roles, what they grant and how many hold them.
    List {
        #[arg(long, allow_hyphen_values = true)]
        client: String,
    },
    /// Give a role of an app to a person or a group.
    Assign {
        #[arg(long, allow_hyphen_values = true)]
        client: String,
        #[arg(long)]
        role: String,
        #[command(flatten)]
        to: HolderArgs,
    },
    /// Take a role of an app from a person or a group.
    Unassign {
        #[arg(long, allow_hyphen_values = true)]
        client: String,
        #[arg(long)]
        role: String,
        #[command(flatten)]
        from: HolderArgs,
    },
    /// Show a person's roles and permissions for an app (their own and their groups').
    Of {
        #[arg(long, allow_hyphen_values = true)]
        client: String,
        #[arg(long)]
        email: String,
    },
}

/// Runs a `role` command.
pub async fn run(db: &PgPool, command: RoleCommand) -> anyhow::Result<()> {
    match command {
        RoleCommand::Define {
            client,
            name,
            permissions,
            description,
        } => {
            let done = roles::define(
                db,
                &client,
                &name,
                description.as_deref(),
                &permissions,
                Actor::Cli,
            )
            .await?;
            println!(
                "{} the role {name} of {client}.",
                match done {
                    Defined::Created => "Defined",
                    Defined::Changed => "Changed",
                    Defined::Unchanged => "Nothing to change in",
                }
            );
        }
        RoleCommand::Remove { client, name } => {
            let ended = roles::delete(db, &client, &name, Actor::Cli).await?;
            println!("Removed the role {name} of {client}: {ended} assignment(s) ended.");
        }
        RoleCommand::List { client } => {
            for role in roles::list(db, &client).await? {
                println!(
                    "{:30} {:>5} people {:>4} groups  {}{}",
                    role.name,
                    role.people,
                    role.groups,
                    role.permissions.join(" "),
                    role.description
                        .map(|d| format!("  ({d})"))
                        .unwrap_or_default()
                );
            }
        }
        RoleCommand::Assign { client, role, to } => {
            let (who, said) = holder(db, &to).await?;
            match roles::assign(db, &client, &role, who, Actor::Cli).await? {
                true => println!("Gave {role} of {client} to {said}."),
                false => println!("{said} already has {role} of {client}."),
            }
        }
        RoleCommand::Unassign { client, role, from } => {
            let (who, said) = holder(db, &from).await?;
            match roles::unassign(db, &client, &role, who, Actor::Cli).await? {
                true => println!("Took {role} of {client} from {said}."),
                false => println!("{said} did not have {role} of {client} assigned."),
            }
        }
        RoleCommand::Of { client, email } => {
            let user_id = person(db, &email).await?;
            let granted = roles::of(db, &client, user_id).await?;
            println!("roles: {}", granted.roles.join(" "));
            println!("permissions: {}", granted.permissions.join(" "));
        }
    }
    Ok(())
}

/// The holder named on the command line, and how to name it in what is printed.
async fn holder<'a>(db: &PgPool, args: &'a HolderArgs) -> anyhow::Result<(Holder<'a>, String)> {
    match (&args.email, &args.group) {
        (Some(email), _) => Ok((
            Holder::Person(person(db, email).await?),
            email.trim().to_owned(),
        )),
        (None, Some(group)) => Ok((
            Holder::Group(group.as_str()),
            format!("the group {}", group.trim()),
        )),
        (None, None) => anyhow::bail!("give --email or --group"),
    }
}

//! `server group`: the directory's groups of people: add, rename, remove, list, and their
//! members. A role assigned to a group (`server role assign --group`) is every member's.

use anyhow::anyhow;
use app::domain::{
    audit::Actor,
    directory::{self, groups},
    email::Email,
};
use clap::Subcommand;
use sqlx::PgPool;

#[derive(Subcommand)]
pub enum GroupCommand {
    /// Add a group.
    Add {
        /// Its name (1 to 100 characters; unique whatever the case).
        name: String,
        /// What the group is for.
        #[arg(long)]
        description: Option<String>,
    },
    /// Rename a group.
    Rename { name: String, new_name: String },
    /// Remove a group: its members leave it, and the roles assigned to it end.
    Remove { name: String },
    /// List the groups with how many members each has.
    List,
    /// Add a person to a group.
    AddMember {
        name: String,
        /// The person's account address.
        #[arg(long)]
        email: String,
    },
    /// Remove a person from a group.
    RemoveMember {
        name: String,
        /// The person's account address.
        #[arg(long)]
        email: String,
    },
    /// List a group's members.
    Members { name: String },
}

/// The account id of the address `email`.
pub(crate) async fn person(db: &PgPool, email: &str) -> anyhow::Result<uuid::Uuid> {
    let email = Email::parse(email).map_err(|e| anyhow!("--email: {e}"))?;
    Ok(directory::person(db, &email).await?)
}

/// Runs a `group` command.
pub async fn run(db: &PgPool, command: GroupCommand) -> anyhow::Result<()> {
    match command {
        GroupCommand::Add { name, description } => {
            groups::create(db, &name, description.as_deref(), Actor::Cli).await?;
            println!("Added the group {}.", name.trim());
        }
        GroupCommand::Rename { name, new_name } => {
            match groups::rename(db, &name, &new_name, Actor::Cli).await? {
                true => println!("Renamed {} to {}.", name.trim(), new_name.trim()),
                false => println!("{} already has that name.", name.trim()),
            }
        }
        GroupCommand::Remove { name } => {
            let ended = groups::delete(db, &name, Actor::Cli).await?;
            println!(
                "Removed the group {}: {} member(s) left it, {} role assignment(s) ended.",
                name.trim(),
                ended.members,
                ended.role_assignments
            );
        }
        GroupCommand::List => {
            for group in groups::list(db).await? {
                println!(
                    "{:40} {:>6} member(s)  {}",
                    group.name,
                    group.members,
                    group.description.as_deref().unwrap_or("")
                );
            }
        }
        GroupCommand::AddMember { name, email } => {
            let user_id = person(db, &email).await?;
            match groups::add_member(db, &name, user_id, Actor::Cli).await? {
                true => println!("Added {} to {}.", email.trim(), name.trim()),
                false => println!("{} is already in {}.", email.trim(), name.trim()),
            }
        }
        GroupCommand::RemoveMember { name, email } => {
            let user_id = person(db, &email).await?;
            match groups::remove_member(db, &name, user_id, Actor::Cli).await? {
                true => println!("Removed {} from {}.", email.trim(), name.trim()),
                false => println!("{} was not in {}.", email.trim(), name.trim()),
            }
        }
        GroupCommand::Members { name } => {
            for member in groups::members(db, &name).await? {
                println!("{}", member.email);
            }
        }
    }
    Ok(())
}

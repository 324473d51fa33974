//! `server admin`: the first administrator and their one-time password setup link.

use app::{
    domain::{accounts, audit::Actor, email::Email, staff::StaffRole},
    state::AppState,
};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Make EMAIL a staff member and print a one-time link to set its password.
    Create {
        #[arg(long)]
        email: String,
        /// The staff role: owner, admin, support or auditor.
        #[arg(long, default_value = "owner", value_parser = staff_role)]
        role: StaffRole,
    },
    /// Like `create`, but only when no administrator exists yet (safe to repeat).
    Bootstrap {
        #[arg(long)]
        email: String,
    },
    /// A fresh one-time link (valid 15 minutes) for an administrator who has not set a password
    /// yet; the earlier link stops working.
    Link {
        #[arg(long)]
        email: String,
    },
}

fn staff_role(raw: &str) -> Result<StaffRole, String> {
    StaffRole::parse(raw).ok_or_else(|| "one of owner, admin, support, auditor".into())
}

fn email(raw: &str) -> anyhow::Result<Email> {
    Email::parse(raw).map_err(|e| anyhow::anyhow!("--email: {e}"))
}

/// Runs an `admin` command.
pub async fn run(state: &AppState, command: AdminCommand) -> anyhow::Result<()> {
    let public_url = &state.settings.public_url;
    let (address, role, only_if_none) = match command {
        AdminCommand::Create { email, role } => (email, role, false),
        AdminCommand::Bootstrap { email } => (email, StaffRole::Owner, true),
        AdminCommand::Link { email: address } => {
            let address = email(&address)?;
            let link = accounts::admin_link(state, &address, Actor::Cli)
                .await
                .map_err(|e| match e {
                    app::domain::error::AccountError::NoSuchAccount => {
                        anyhow::anyhow!("{address} is not an administrator")
                    }
                    other => anyhow::anyhow!("{other}"),
                })?;
            println!("Administrator {address}: open this one-time link (valid 15 minutes) to set the password and sign in:\n\n    {link}\n");
            return Ok(());
        }
    };
    let address = email(&address)?;
    match accounts::ensure_admin(state, &address, role, only_if_none, Actor::Cli)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        Some(link) => println!(
            "Administrator {address}: open this one-time link (valid 15 minutes) to set the password and sign in:\n\n    {link}\n\nLost it? `server admin link --email {address}` gives a fresh one."
        ),
        None => println!("An administrator is already set up; sign in at {public_url}/signin"),
    }
    Ok(())
}

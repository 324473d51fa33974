//! `server admin`: the first administrator and their one-time password setup link.

use app::{
    domain::{accounts, audit::Actor, email::Email},
    state::AppState,
};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Make EMAIL an administrator and print a one-time link to set its password.
    Create {
        #[arg(long)]
        email: String,
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

fn email(raw: &str) -> anyhow::Result<Email> {
    Email::parse(raw).map_err(|e| anyhow::anyhow!("--email: {e}"))
}

/// Runs an `admin` command.
pub async fn run(state: &AppState, command: AdminCommand) -> anyhow::Result<()> {
    let public_url = &state.settings.public_url;
    let (address, only_if_none) = match command {
        AdminCommand::Create { email } => (email, false),
        AdminCommand::Bootstrap { email } => (email, true),
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
    match accounts::ensure_admin(state, &address, only_if_none, Actor::Cli)
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

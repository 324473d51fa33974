//! `server user`: an operator's actions on one account: end its sign-ins everywhere, lift a
//! password lockout.

use app::{
    domain::{account_actions, audit::Actor, email::Email, error::AccountError},
    state::AppState,
};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum UserCommand {
    /// End every sign-in of the account: browser sessions and every app's tokens, offline
    /// access included; apps with a back-channel logout URI are told.
    EndSessions {
        #[arg(long)]
        email: String,
    },
    /// Lift the lockout that 100 consecutive failed password sign-ins put on the account.
    Unlock {
        #[arg(long)]
        email: String,
    },
}

/// Runs a `user` command.
pub async fn run(state: &AppState, command: UserCommand) -> anyhow::Result<()> {
    let parse = |raw: &str| Email::parse(raw).map_err(|e| anyhow::anyhow!("--email: {e}"));
    fn no_account(address: &Email) -> impl Fn(AccountError) -> anyhow::Error + '_ {
        move |e| match e {
            AccountError::NoSuchAccount => anyhow::anyhow!("no account uses {address}"),
            other => anyhow::anyhow!("{other}"),
        }
    }
    match command {
        UserCommand::EndSessions { email } => {
            let address = parse(&email)?;
            let ended = account_actions::end_all_sessions(state, &address, Actor::Cli)
                .await
                .map_err(no_account(&address))?;
            println!(
                "{address}: {} browser session(s) and {} app grant(s) ended; {} app(s) told.",
                ended.sessions,
                ended.grants.ids.len(),
                ended.notices
            );
        }
        UserCommand::Unlock { email } => {
            let address = parse(&email)?;
            let unlocked = account_actions::unlock_password(state, &address, Actor::Cli)
                .await
                .map_err(no_account(&address))?;
            if unlocked {
                println!("{address}: the password works again.");
            } else {
                println!("{address}: the password was not locked.");
            }
        }
    }
    Ok(())
}

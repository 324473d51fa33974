//! `server user`: an operator's actions on one customer's account (the console's customer page
//! does the same): end its sign-ins everywhere, lock, unlock, require a password reset.

use app::{
    domain::{
        audit::Actor,
        client::ClientInfo,
        customers::{
            actions::{self, Request},
            Reason,
        },
        email::Email,
        error::AccountError,
    },
    state::AppState,
};
use clap::{Args, Subcommand};

/// Whose account, and why.
#[derive(Args)]
pub struct Target {
    #[arg(long)]
    email: String,
    /// Why, for the audit trail.
    #[arg(long, default_value = "by an operator at the command line")]
    reason: String,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// End every sign-in of the account: browser sessions and every app's tokens, offline
    /// access included; apps with a back-channel logout URI are told.
    EndSessions(Target),
    /// Lock the account: no sign-in by any method until it is unlocked; every sign-in ends.
    Lock(Target),
    /// Unlock the account, and lift the lockout of 100 consecutive failed passwords.
    Unlock(Target),
    /// Refuse the password until its owner resets it; every sign-in ends.
    RequireReset(Target),
}

/// Runs a `user` command.
pub async fn run(state: &AppState, command: UserCommand) -> anyhow::Result<()> {
    let (UserCommand::EndSessions(target)
    | UserCommand::Lock(target)
    | UserCommand::Unlock(target)
    | UserCommand::RequireReset(target)) = &command;
    let address = Email::parse(&target.email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let reason = Reason::parse(&target.reason)
        .map_err(|_| anyhow::anyhow!("--reason: say why, in at most 500 characters"))?;
    let no_account = |e: AccountError| match e {
        AccountError::NoSuchAccount => anyhow::anyhow!("no customer account uses {address}"),
        other => anyhow::anyhow!("{other}"),
    };
    let client = ClientInfo::default();
    let request = Request {
        actor: Actor::Cli,
        client: &client,
        user_id: actions::by_email(state, &address)
            .await
            .map_err(no_account)?,
        reason: &reason,
    };
    let said = match command {
        UserCommand::EndSessions(_) => {
            let ended = actions::end_sessions(state, &request)
                .await
                .map_err(no_account)?;
            format!(
                "{} browser session(s) and {} app grant(s) ended; {} app(s) told.",
                ended.sessions,
                ended.grants.ids.len(),
                ended.notices
            )
        }
        UserCommand::Lock(_) => match actions::lock(state, &request).await.map_err(no_account)? {
            true => "locked; every sign-in ended.".into(),
            false => "was locked already.".into(),
        },
        UserCommand::Unlock(_) => {
            match actions::unlock(state, &request).await.map_err(no_account)? {
                true => "unlocked; the password works again.".into(),
                false => "was not locked.".into(),
            }
        }
        UserCommand::RequireReset(_) => {
            match actions::require_reset(state, &request)
                .await
                .map_err(no_account)?
            {
                true => "the password must be reset before it works again.".into(),
                false => "has no password.".into(),
            }
        }
    };
    println!("{address}: {said}");
    Ok(())
}

//! `server keys`: the token signing keys.

use app::{
    domain::{audit::Actor, oidc::keys},
    state::AppState,
};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// List the published keys (next, current, previous) of each algorithm.
    List,
    /// Rotate now: next becomes current, current becomes previous, a new next key is made.
    /// Running servers pick it up within a minute.
    Rotate,
}

/// Runs a `keys` command.
pub async fn run(state: &AppState, command: KeysCommand) -> anyhow::Result<()> {
    if let KeysCommand::Rotate = command {
        let current = keys::rotate(&state.db, &state.key_secrets, Actor::Cli).await?;
        println!("rotated; now signing with {}", current.join(", "));
    } else {
        keys::ensure(&state.db, &state.key_secrets).await?;
    }
    for k in keys::list(&state.db).await? {
        println!(
            "{:8} {:9} {}  created {}",
            k.alg, k.state, k.kid, k.created_at
        );
    }
    Ok(())
}

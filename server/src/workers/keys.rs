//! Keeps every node's signing keys current: rotates them when they reach their age (any node
//! may; the database serialises it) and reloads the key ring every minute. A rotation made by
//! another node or by `server keys rotate` reaches every node at once through its change notice
//! (`workers::notices`); the minutely reload catches one missed while the notices were down.

use std::time::Duration;

use app::{domain::oidc::keys, state::AppState};
use tokio::sync::watch;

/// Runs until `shutdown` turns true.
pub async fn run(state: AppState, max_age: time::Duration, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = shutdown.changed() => return,
        }
        match keys::rotate_if_older_than(&state.db, &state.key_secrets, max_age).await {
            Ok(true) => tracing::info!("signing keys rotated on schedule"),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "scheduled key rotation failed"),
        }
        if let Err(e) = state.keys.reload(&state.db, &state.key_secrets).await {
            tracing::error!(error = %e, "reloading the signing keys failed");
        }
    }
}

//! Measures, every second, how far behind the primary this node's streaming replica is
//! (`domain::replica`): more than five seconds, and the primary serves the replica's reads until
//! it catches up. Runs only when a replica is configured.

use app::{domain::replica, state::AppState};
use tokio::sync::watch;

/// Runs until `shutdown` turns true.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let Some(replica) = state.replica.clone() else {
        return;
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(replica::LAG_EVERY) => {}
            _ = shutdown.changed() => return,
        }
        replica.watch_lag(&state.db).await;
    }
}

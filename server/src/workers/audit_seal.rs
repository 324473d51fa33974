//! Seals the audit trail into its hash chain every few seconds (every node runs it; they take
//! turns), and once more on shutdown.

use std::time::Duration;

use app::domain::audit::chain::{self, ChainKey};
use sqlx::PgPool;
use tokio::sync::watch;

/// Seals what waits every five seconds until `shutdown` turns true.
pub async fn run(db: PgPool, key: ChainKey, mut shutdown: watch::Receiver<bool>) {
    loop {
        seal(&db, &key).await;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = shutdown.changed() => {
                seal(&db, &key).await;
                return;
            }
        }
    }
}

/// Seals every row waiting; a failure is logged and left for the next turn.
async fn seal(db: &PgPool, key: &ChainKey) {
    if let Err(e) = chain::seal_all(db, key).await {
        tracing::error!(error = %e, "sealing the audit trail failed");
    }
}

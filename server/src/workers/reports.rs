//! Keeps the dashboard's per-day counts up to date (`reports::rollup`) every 30 seconds.

use std::time::Duration;

use app::domain::reports::rollup;
use sqlx::PgPool;
use tokio::sync::watch;

pub async fn run(db: PgPool, mut shutdown: watch::Receiver<bool>) {
    loop {
        if let Err(e) = rollup::run(&db).await {
            tracing::error!(error = %e, "the dashboard rollup failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

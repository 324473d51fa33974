//! Listens for changes to the registered clients (`oauth_clients_changed`) and empties this
//! node's client cache on each; while the connection is down the cache is not used.

use std::{sync::Arc, time::Duration};

use app::domain::oidc::client_cache::{ClientCache, CHANNEL};
use sqlx::{postgres::PgListener, PgPool};
use tokio::sync::watch;

/// Runs until `shutdown` turns true, reconnecting after a second when the connection fails.
pub async fn run(db: PgPool, cache: Arc<ClientCache>, mut shutdown: watch::Receiver<bool>) {
    loop {
        match listen(&db, &cache, &mut shutdown).await {
            Ok(()) => return,
            Err(e) => tracing::warn!(error = %e, "client change notices interrupted"),
        }
        cache.set_listening(false);
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Listens until shutdown (`Ok`) or a connection error.
async fn listen(
    db: &PgPool,
    cache: &ClientCache,
    shutdown: &mut watch::Receiver<bool>,
) -> sqlx::Result<()> {
    let mut listener = PgListener::connect_with(db).await?;
    listener.listen(CHANNEL).await?;
    cache.set_listening(true);
    loop {
        tokio::select! {
            notice = listener.try_recv() => match notice? {
                Some(_) => cache.clear(),
                // The connection was lost and re-established: notices may have been missed.
                None => cache.clear(),
            },
            _ = shutdown.changed() => {
                cache.set_listening(false);
                return Ok(());
            }
        }
    }
}

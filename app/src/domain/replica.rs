//! Reads that may be served by a streaming replica: stale by the replication lag (about a
//! second at most), with no harm. Today the customer search of the console and of the
//! management API. Anything a decision rests on (sessions, throttles, codes and tokens, the
//! revocation mirror) and every read in a transaction that writes stays on the primary.

use std::{
    future::Future,
    sync::Mutex,
    time::{Duration, Instant},
};

use sqlx::PgPool;

use crate::state::AppState;

/// How long a read may wait for the replica before the primary serves it instead: a hung
/// replica (a cut network, a stopped host) costs a read this much, never an answer.
const PATIENCE: Duration = Duration::from_secs(2);
/// How long the primary serves every such read after the replica failed one, so that a replica
/// that is down costs one read its wait, not every read.
const REST: Duration = Duration::from_secs(10);

/// The replica's pool, and until when it is left alone after failing.
#[derive(Debug)]
pub struct Replica {
    pool: PgPool,
    resting_until: Mutex<Option<Instant>>,
}

impl Replica {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            resting_until: Mutex::new(None),
        }
    }

    /// Whether reads go to the replica now.
    fn usable(&self) -> bool {
        let until = self.resting_until.lock().expect("replica lock");
        until.is_none_or(|until| Instant::now() >= until)
    }

    /// The replica failed a read: the primary serves them all for [`REST`].
    fn rest(&self) {
        *self.resting_until.lock().expect("replica lock") = Some(Instant::now() + REST);
    }
}

/// Runs `read` on the replica when one is configured, and on the primary when none is, it is
/// resting after a failure, it cannot serve (`unavailable` says so of its error) or it takes
/// longer than [`PATIENCE`]: a replica that is down costs the console its offload, never its
/// answers.
pub async fn read<'a, T, E, F, Fut>(
    state: &'a AppState,
    unavailable: impl Fn(&E) -> bool,
    read: F,
) -> Result<T, E>
where
    F: Fn(&'a PgPool) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    if let Some(replica) = state.replica.as_deref().filter(|r| r.usable()) {
        match tokio::time::timeout(PATIENCE, read(&replica.pool)).await {
            Ok(Err(e)) if unavailable(&e) => {
                tracing::warn!("the replica cannot serve; the primary serves its reads for now");
                replica.rest();
            }
            Err(_) => {
                tracing::warn!(
                    "the replica did not answer in time; the primary serves its reads for now"
                );
                replica.rest();
            }
            Ok(done) => return done,
        }
    }
    read(&state.db).await
}

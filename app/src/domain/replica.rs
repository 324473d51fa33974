//! Reads that may be served by a streaming replica: stale by the replication lag, with no
//! harm: the customer search of the console and of the management API, the dashboard, and the
//! audit trail's pages and export. Anything a decision rests on (sessions, throttles, codes and
//! tokens, the revocation mirror) and every read in a transaction that writes stays on the
//! primary. The lag is watched: every second each node notes the primary's WAL position and
//! what the replica has replayed (`workers::replica_lag`); a replica more than [`MAX_LAG`]
//! behind is passed over until it catches up.

use std::{
    collections::VecDeque,
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
/// How far behind the primary the replica may be and still serve reads.
pub const MAX_LAG: Duration = Duration::from_secs(5);
/// How often a node measures the replica's lag.
pub const LAG_EVERY: Duration = Duration::from_secs(1);
/// Positions kept while the replica is behind: at one a second, well past [`MAX_LAG`]. Once
/// full, the oldest (which sets the lag) stays and newer ones are not kept.
const POSITIONS: usize = 120;

/// The replica's pool, until when it is left alone after failing, and how far behind it is.
#[derive(Debug)]
pub struct Replica {
    pool: PgPool,
    resting_until: Mutex<Option<Instant>>,
    lag: Mutex<Lag>,
}

/// The primary's WAL positions the replica had not replayed when last measured, each with when
/// the primary was first seen past it, oldest first; and whether the replica is passed over.
#[derive(Debug, Default)]
struct Lag {
    ahead: VecDeque<(Instant, i64)>,
    passed_over: bool,
}

impl Lag {
    /// Takes one measurement: the primary at `primary_at`, the replica replayed up to
    /// `replayed` (`None`: it replays nothing, so it is no replica). Returns how far behind it
    /// is, measured from when the primary was first seen past what it has replayed (so at most
    /// [`LAG_EVERY`] short), or `None` for no replica.
    fn measure(
        &mut self,
        now: Instant,
        primary_at: i64,
        replayed: Option<i64>,
    ) -> Option<Duration> {
        let Some(replayed) = replayed else {
            self.ahead.clear();
            self.passed_over = true;
            return None;
        };
        let newer = self.ahead.back().is_none_or(|&(_, at)| at < primary_at);
        if primary_at > replayed && newer && self.ahead.len() < POSITIONS {
            self.ahead.push_back((now, primary_at));
        }
        while self.ahead.front().is_some_and(|&(_, at)| at <= replayed) {
            self.ahead.pop_front();
        }
        let behind = self.ahead.front().map_or(Duration::ZERO, |&(seen, _)| {
            now.saturating_duration_since(seen)
        });
        self.passed_over = behind > MAX_LAG;
        Some(behind)
    }
}

impl Replica {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            resting_until: Mutex::new(None),
            lag: Mutex::new(Lag::default()),
        }
    }

    /// Whether reads go to the replica now.
    fn usable(&self) -> bool {
        let until = self.resting_until.lock().expect("replica lock");
        until.is_none_or(|until| Instant::now() >= until)
            && !self.lag.lock().expect("replica lock").passed_over
    }

    /// The replica failed a read: the primary serves them all for [`REST`].
    fn rest(&self) {
        *self.resting_until.lock().expect("replica lock") = Some(Instant::now() + REST);
    }

    /// Measures how far behind `primary` the replica is (see [`Lag::measure`]), and passes it
    /// over while that is more than [`MAX_LAG`]. A replica that cannot answer rests, as after
    /// a failed read.
    pub async fn watch_lag(&self, primary: &PgPool) {
        const POSITION: &str = "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint";
        const REPLAYED: &str = "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint";
        // The primary first: what the replica has replayed can only have grown since.
        let primary_at = match sqlx::query_scalar::<_, i64>(POSITION)
            .fetch_one(primary)
            .await
        {
            Ok(at) => at,
            Err(e) => return tracing::debug!(error = %e, "the primary's WAL position is unknown"),
        };
        let replayed = sqlx::query_scalar::<_, Option<i64>>(REPLAYED).fetch_one(&self.pool);
        let replayed = match tokio::time::timeout(PATIENCE, replayed).await {
            Ok(Ok(replayed)) => replayed,
            Ok(Err(_)) | Err(_) => {
                let resting = *self.resting_until.lock().expect("replica lock");
                if resting.is_none_or(|until| Instant::now() >= until) {
                    tracing::warn!("the replica cannot be reached; the primary serves its reads");
                }
                return self.rest();
            }
        };
        let mut resting = self.resting_until.lock().expect("replica lock");
        if resting.is_some_and(|until| Instant::now() >= until) {
            *resting = None;
            tracing::info!("the replica answers again");
        }
        drop(resting);
        let mut lag = self.lag.lock().expect("replica lock");
        let was = lag.passed_over;
        let behind = lag.measure(Instant::now(), primary_at, replayed);
        match (was, lag.passed_over, behind) {
            (false, true, None) => tracing::warn!(
                "the replica replays nothing (promoted, or no replica): the primary serves its reads"
            ),
            (false, true, Some(behind)) => tracing::warn!(
                behind_ms = behind.as_millis() as u64,
                "the replica is behind: the primary serves its reads until it catches up"
            ),
            (true, false, _) => tracing::info!("the replica has caught up and serves its reads again"),
            _ => {}
        }
    }
}

/// Runs `read` on the replica when one is configured, and on the primary when none is, it is
/// resting after a failure or too far behind, it cannot serve (`unavailable` says so of its
/// error) or it takes longer than [`PATIENCE`]: a replica that is down costs the console its
/// offload, never its answers.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lag_runs_from_when_the_primary_was_first_seen_past_the_replay() {
        let start = Instant::now();
        let at = |secs: u64| start + Duration::from_secs(secs);
        let mut lag = Lag::default();
        assert_eq!(lag.measure(at(0), 100, Some(100)), Some(Duration::ZERO));
        // The primary moves on; the replica stands still.
        assert_eq!(lag.measure(at(1), 200, Some(100)), Some(Duration::ZERO));
        assert_eq!(
            lag.measure(at(3), 300, Some(100)),
            Some(Duration::from_secs(2))
        );
        assert!(!lag.passed_over);
        assert_eq!(
            lag.measure(at(7), 300, Some(100)),
            Some(Duration::from_secs(6))
        );
        assert!(lag.passed_over, "more than five seconds behind");
        // It has replayed what the primary had at 1 s, not yet what it had at 3 s.
        assert_eq!(
            lag.measure(at(8), 300, Some(250)),
            Some(Duration::from_secs(5))
        );
        assert!(!lag.passed_over);
        assert_eq!(lag.measure(at(9), 300, Some(300)), Some(Duration::ZERO));
        assert!(lag.ahead.is_empty());
    }

    #[test]
    fn a_server_that_replays_nothing_is_passed_over() {
        let mut lag = Lag::default();
        assert_eq!(lag.measure(Instant::now(), 100, None), None);
        assert!(lag.passed_over);
        assert_eq!(
            lag.measure(Instant::now(), 100, Some(100)),
            Some(Duration::ZERO)
        );
        assert!(!lag.passed_over);
    }

    #[test]
    fn a_replica_stuck_for_long_keeps_its_oldest_position() {
        let start = Instant::now();
        let mut lag = Lag::default();
        for i in 0..(POSITIONS as u64 + 50) {
            lag.measure(
                start + Duration::from_secs(i),
                100 + i as i64 + 1,
                Some(100),
            );
        }
        assert_eq!(lag.ahead.len(), POSITIONS);
        let now = start + Duration::from_secs(POSITIONS as u64 + 50);
        assert_eq!(
            lag.measure(now, 1_000, Some(100)),
            Some(Duration::from_secs(POSITIONS as u64 + 50))
        );
    }
}

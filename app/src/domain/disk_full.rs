//! What this process has lately seen of its database's disk: a statement refused because the
//! disk is full (SQLSTATE 53100). Readiness turns red while such a refusal is recent, since
//! nothing tells a full disk from the outside: the database still answers, and still reads.
//! Held per process, not per server: every server in a process talks to the same database.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        OnceLock,
    },
    time::{Duration, Instant},
};

/// How long one refusal keeps readiness red. While the disk stays full the next write is
/// refused again and renews it; once space is freed, readiness is green this long after the
/// last refusal.
pub const RED_FOR: Duration = Duration::from_secs(10);

/// SQLSTATE `disk_full`.
pub const SQLSTATE: &str = "53100";

/// Milliseconds after [`epoch`] of the last refusal, plus one (0: none seen).
static LAST_REFUSAL: AtomicU64 = AtomicU64::new(0);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn millis(at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(epoch()).as_millis()).unwrap_or(u64::MAX - 1)
}

/// Records that a statement was just refused for want of disk.
pub fn note() {
    let _ = epoch();
    LAST_REFUSAL.store(millis(Instant::now()) + 1, Ordering::Relaxed);
}

/// Whether a statement was refused for want of disk within [`RED_FOR`] before `now`.
pub fn seen_lately(now: Instant) -> bool {
    match LAST_REFUSAL.load(Ordering::Relaxed) {
        0 => false,
        last => millis(now).saturating_sub(last - 1) < RED_FOR.as_millis() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_keeps_readiness_red_for_a_while_then_not() {
        note();
        let now = Instant::now();
        assert!(seen_lately(now));
        assert!(seen_lately(now + RED_FOR - Duration::from_millis(50)));
        assert!(!seen_lately(now + RED_FOR + Duration::from_millis(50)));
    }
}

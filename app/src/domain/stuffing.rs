//! Credential stuffing: how hard the client's network, and the whole site, are being hit with
//! failing passwords (the throttle counters the risk engine reads too), and what that costs a
//! password sign-in from there: a proof of work, and a wait that grows with the network's
//! failures. Customers on other networks pay nothing; during a site-wide surge everyone solves
//! a small puzzle, which a person does not notice.

use std::time::Duration;

use sqlx::PgExecutor;

use super::{proof_of_work::bits, risk::score::counts, throttle};

/// Failed passwords in the last 15 minutes, from one network and overall.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pressure {
    pub network_failures: i32,
    pub global_failures: i32,
}

/// What a password sign-in under `Pressure` must bring and bear.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Demand {
    /// The proof of work asked for, in zero bits; `None` when none is.
    pub bits: Option<u8>,
    /// How long the server waits before it checks the password.
    pub delay: Duration,
}

/// The first wait, at the stuffing threshold; it doubles with every further 10 failures.
const FIRST_DELAY: Duration = Duration::from_millis(250);
/// Failures past the threshold that add one bit and double the wait.
const STEP: i32 = 10;

/// The demand on a sign-in under `p`. The network's threshold is the risk engine's
/// (`counts::NETWORK_FAILURES`, 20 in 15 minutes), and so is the surge's.
pub fn demand(p: Pressure) -> Demand {
    if p.network_failures >= counts::NETWORK_FAILURES {
        let steps = ((p.network_failures - counts::NETWORK_FAILURES) / STEP)
            .min(i32::from(bits::STUFFING_MAX - bits::STUFFING)) as u8;
        Demand {
            bits: Some(bits::STUFFING + steps),
            delay: FIRST_DELAY * (1u32 << steps),
        }
    } else if p.global_failures >= counts::GLOBAL_SURGE {
        Demand {
            bits: Some(bits::SURGE),
            delay: Duration::ZERO,
        }
    } else {
        Demand::default()
    }
}

/// What a password sign-in from `network` owes now.
pub async fn demand_on(db: impl PgExecutor<'_>, network: Option<&str>) -> sqlx::Result<Demand> {
    Ok(demand(pressure(db, network).await?))
}

/// The pressure on `network` (the client's /24 or /64) and on the site now.
pub async fn pressure(db: impl PgExecutor<'_>, network: Option<&str>) -> sqlx::Result<Pressure> {
    let mut keys = vec![throttle::GLOBAL_KEY.to_owned()];
    if let Some(network) = network {
        keys.push(throttle::network_key(network));
    }
    let failures = throttle::failures(db, &keys).await?;
    Ok(Pressure {
        global_failures: failures[0],
        network_failures: failures.get(1).copied().unwrap_or(0),
    })
}

/// The pressure on `network` and on the site as `counters` read it (a read that covered
/// both keys).
pub fn pressure_from(counters: &throttle::Counters, network: Option<&str>) -> Pressure {
    Pressure {
        global_failures: counters.failures(throttle::GLOBAL_KEY),
        network_failures: network.map_or(0, |n| counters.failures(&throttle::network_key(n))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(failures: i32) -> Demand {
        demand(Pressure {
            network_failures: failures,
            global_failures: 0,
        })
    }

    #[test]
    fn a_calm_network_on_a_calm_site_owes_nothing() {
        assert_eq!(network(0), Demand::default());
        assert_eq!(network(counts::NETWORK_FAILURES - 1), Demand::default());
    }

    #[test]
    fn a_stuffing_network_solves_harder_puzzles_and_waits_longer_as_it_goes_on() {
        let at = counts::NETWORK_FAILURES;
        assert_eq!(network(at).bits, Some(bits::STUFFING));
        assert_eq!(network(at).delay, Duration::from_millis(250));
        assert_eq!(network(at + 9), network(at));
        assert_eq!(network(at + 10).bits, Some(bits::STUFFING + 1));
        assert_eq!(network(at + 10).delay, Duration::from_millis(500));
        assert_eq!(network(at + 25).delay, Duration::from_secs(1));
    }

    #[test]
    fn the_cost_of_stuffing_stops_growing_at_its_cap() {
        let top = network(counts::NETWORK_FAILURES + 10_000);
        assert_eq!(top.bits, Some(bits::STUFFING_MAX));
        assert_eq!(top.delay, Duration::from_secs(4));
    }

    #[test]
    fn a_surge_asks_everyone_for_a_small_puzzle_without_a_wait() {
        let d = demand(Pressure {
            network_failures: 0,
            global_failures: counts::GLOBAL_SURGE,
        });
        assert_eq!(d.bits, Some(bits::SURGE));
        assert_eq!(d.delay, Duration::ZERO);
        // A stuffing network in a surge still pays its own, higher price.
        let both = demand(Pressure {
            network_failures: counts::NETWORK_FAILURES,
            global_failures: counts::GLOBAL_SURGE,
        });
        assert_eq!(both.bits, Some(bits::STUFFING));
    }
}

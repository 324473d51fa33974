//! The adaptive risk engine: at every sign-in attempt, after the first factor (at the one
//! sign-in exit), it gathers signals (`signals` below: device, network, country and travel from
//! the account's history and the GeoIP database; failure velocity from the throttle counters;
//! a breached password; known-bad networks; automation), scores them with a pure function
//! (`score`), and stores the attempt with every signal, its weight and its plain words
//! (`history`). The exit then allows, asks for a second factor, or refuses; each decision is
//! counted (`measures::RISK_DECISIONS`).

pub mod breached;
pub mod geo;
pub mod history;
pub mod notice;
pub mod score;
pub mod travel;

use std::net::IpAddr;

use uuid::Uuid;

use self::{
    history::Origin,
    score::{Assessment, Signals, Thresholds},
};
use super::{
    client::ClientInfo, client_address::Network, measures, password::Password, throttle, tokens,
};
use crate::state::AppState;

/// What the engine needs beyond the state: the GeoIP database, the known-bad networks and the
/// breached-password range service.
#[derive(Debug, Default)]
pub struct RiskSources {
    pub geo: Option<geo::GeoDb>,
    pub bad_networks: Vec<Network>,
    pub breached_range_url: Option<String>,
}

/// One weighed attempt, not stored yet: the sign-in stores it with its outcome.
#[derive(Debug, Clone)]
pub struct Weighed {
    pub origin: Origin,
    pub assessment: Assessment,
}

impl Weighed {
    /// Stores the attempt of `user_id` (as a `completed` sign-in, history from now on, or not);
    /// its id.
    pub async fn store(
        &self,
        db: impl sqlx::PgExecutor<'_>,
        user_id: Uuid,
        completed: bool,
    ) -> sqlx::Result<i64> {
        history::store(db, user_id, &self.origin, &self.assessment, completed).await
    }
}

/// Whether a user agent says its browser is driven by a program.
fn automated(user_agent: Option<&str>) -> bool {
    user_agent.is_some_and(|ua| {
        [
            "HeadlessChrome",
            "PhantomJS",
            "Headless",
            "python-requests",
            "curl/",
            "Go-http-client",
        ]
        .iter()
        .any(|marker| ua.contains(marker))
    })
}

/// Gathers the signals of `user_id`'s attempt from `client` (with `password`, when the first
/// factor was one, and the throttle `counted` already, when they cover the keys it reads) and
/// scores them against `thresholds`.
pub async fn weigh(
    state: &AppState,
    client: &ClientInfo,
    user_id: Uuid,
    email: &str,
    password: Option<&Password>,
    counted: Option<&throttle::Counters>,
    thresholds: Thresholds,
) -> anyhow::Result<Weighed> {
    let sources = &state.risk;
    let ip: Option<IpAddr> = client.ip.as_deref().and_then(|ip| ip.parse().ok());
    let place = match (&sources.geo, ip) {
        (Some(db), Some(ip)) => db.locate(ip),
        _ => None,
    };
    let origin = Origin {
        ip: client.ip.clone(),
        network: client.network(),
        country: place.as_ref().and_then(|p| p.country.clone()),
        coordinates: place.as_ref().and_then(|p| p.coordinates),
        device_hash: client.device.as_deref().map(tokens::token_hash),
    };
    let past = history::of(
        &state.db,
        user_id,
        origin.device_hash.as_deref(),
        origin.network.as_deref(),
    )
    .await?;
    let mut keys = vec![
        throttle::account_key(email),
        throttle::GLOBAL_KEY.to_owned(),
    ];
    if let Some(network) = &origin.network {
        keys.push(throttle::network_key(network));
    }
    let failures = match counted.filter(|c| c.covers(&keys)) {
        Some(counters) => keys.iter().map(|k| counters.failures(k)).collect(),
        None => throttle::failures(&state.db, &keys).await?,
    };
    let breached = match password {
        None => false,
        Some(p) if breached::in_bundled_list(p.expose()) => true,
        Some(p) => match &sources.breached_range_url {
            Some(url) => breached::in_range_service(&state.upstream.http, url, p.expose())
                .await
                .unwrap_or(false),
            None => false,
        },
    };
    let new_country = origin
        .country
        .clone()
        .filter(|c| !past.countries.is_empty() && !past.countries.contains(c));
    let impossible_travel = past.last_minutes_ago.and_then(|minutes| {
        let km = match (
            past.last_latitude.zip(past.last_longitude),
            origin.coordinates,
        ) {
            (Some(from), Some(to)) => Some(travel::distance_km(from, to)),
            _ => None,
        };
        travel::impossible(
            minutes,
            km,
            past.last_country.as_deref(),
            origin.country.as_deref(),
        )
    });
    let signals = Signals {
        history: past.any,
        new_device: !past.device_known,
        new_network: !past.network_known,
        new_country,
        country: origin.country.clone(),
        impossible_travel,
        account_failures: failures[0],
        global_failures: failures[1],
        network_failures: failures.get(2).copied().unwrap_or(0),
        breached_password: breached,
        bad_network: ip.is_some_and(|ip| sources.bad_networks.iter().any(|n| n.contains(ip))),
        automation: automated(client.user_agent.as_deref()),
    };
    let assessment = score::assess(&signals, thresholds);
    measures::risk_decision(assessment.decision);
    Ok(Weighed { origin, assessment })
}

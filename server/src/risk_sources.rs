//! The risk engine's sources outside the database, as the configuration names them: the GeoIP
//! database, the known-bad networks file and the breach range service.

use anyhow::Context;
use app::domain::{
    client_address::Network,
    risk::{geo::GeoDb, RiskSources},
};

use crate::config::Config;

/// The GeoIP database, the known-bad networks and the breach range service, as configured.
pub fn load(config: &Config) -> anyhow::Result<RiskSources> {
    let geo = match &config.geoip_db {
        Some(path) => Some(GeoDb::open(path).context("CIAM_GEOIP_DB")?),
        None => None,
    };
    let mut bad_networks = Vec::new();
    if let Some(path) = &config.bad_networks_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("CIAM_BAD_NETWORKS_FILE: reading {}", path.display()))?;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            bad_networks.push(Network::parse(line).with_context(|| {
                format!("CIAM_BAD_NETWORKS_FILE: {line:?} is not an address or a network")
            })?);
        }
    }
    Ok(RiskSources {
        geo,
        bad_networks,
        breached_range_url: config.breached_passwords_url.clone(),
    })
}

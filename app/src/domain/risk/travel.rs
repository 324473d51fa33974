//! Travel between two sign-ins: the great-circle distance, and whether the journey is one
//! nobody makes (too fast, or another country too soon).

use serde::{Deserialize, Serialize};

use super::score::counts::{COUNTRY_HOP_MINUTES, IMPOSSIBLE_KM_PER_HOUR};

/// Travel from the last sign-in to this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Travel {
    pub from_country: Option<String>,
    pub minutes: i64,
    /// The speed it would take, when both places have coordinates.
    pub km_per_hour: Option<f64>,
}

/// Whether going from the last sign-in to this one is travel nobody makes: too fast between
/// two places with coordinates, or another country within the hour without them.
pub fn impossible(
    minutes: i64,
    km: Option<f64>,
    from_country: Option<&str>,
    to_country: Option<&str>,
) -> Option<Travel> {
    let hours = (minutes.max(1) as f64) / 60.0;
    let travel = |km_per_hour| Travel {
        from_country: from_country.map(str::to_owned),
        minutes,
        km_per_hour,
    };
    match km {
        Some(km) if km > 500.0 && km / hours > IMPOSSIBLE_KM_PER_HOUR => {
            Some(travel(Some(km / hours)))
        }
        Some(_) => None,
        None => match (from_country, to_country) {
            (Some(a), Some(b)) if a != b && minutes < COUNTRY_HOP_MINUTES => Some(travel(None)),
            _ => None,
        },
    }
}

/// Great-circle distance in km between two (latitude, longitude) points.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn travel_is_impossible_only_when_too_fast_or_too_soon() {
        let berlin = (52.52, 13.40);
        let tokyo = (35.68, 139.69);
        let km = distance_km(berlin, tokyo);
        assert!((8_800.0..9_100.0).contains(&km), "{km}");
        assert!(impossible(60, Some(km), Some("DE"), Some("JP")).is_some());
        assert!(impossible(14 * 60, Some(km), Some("DE"), Some("JP")).is_none());
        // A short hop across a border is no journey at all.
        assert!(impossible(5, Some(40.0), Some("DE"), Some("NL")).is_none());
        // Countries only: another country within the hour.
        assert!(impossible(30, None, Some("DE"), Some("JP")).is_some());
        assert!(impossible(90, None, Some("DE"), Some("JP")).is_none());
        assert!(impossible(5, None, Some("DE"), Some("DE")).is_none());
        assert!(impossible(5, None, None, Some("DE")).is_none());
    }
}

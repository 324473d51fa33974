//! A tiny GeoIP database of the tests' own, in the MaxMind format: a few documentation networks
//! placed in countries (and, for some, at coordinates).

use maxminddb_writer::{paths::IpAddrWithMask, Database};
use serde::Serialize;

#[derive(Serialize)]
struct Country<'a> {
    iso_code: &'a str,
}

#[derive(Serialize)]
struct Location {
    latitude: f64,
    longitude: f64,
}

#[derive(Serialize)]
struct Record<'a> {
    country: Country<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<Location>,
}

/// 198.51.100.0/24 in Germany (Berlin), 203.0.113.0/24 in Japan (Tokyo), 192.0.2.0/24 in
/// Germany (no coordinates).
pub const BERLIN: &str = "198.51.100.10";
pub const TOKYO: &str = "203.0.113.10";
pub const GERMANY: &str = "192.0.2.10";

/// Writes the database to a new temporary file; returns its path.
pub fn write() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("keyhaven-geo-{}.mmdb", uuid::Uuid::new_v4()));
    std::fs::write(&path, bytes()).unwrap();
    path
}

/// Where the browser journeys keep the same database (they cannot build one).
pub fn journeys_copy() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end/support/geo-test.mmdb")
}

/// The database.
pub fn bytes() -> Vec<u8> {
    let mut db = Database::default();
    db.metadata.binary_format_major_version = 2;
    db.metadata.database_type = "Keyhaven-Test-City".into();
    for (network, iso_code, location) in [
        ("198.51.100.0/24", "DE", Some((52.52, 13.40))),
        ("203.0.113.0/24", "JP", Some((35.68, 139.69))),
        ("192.0.2.0/24", "DE", None),
    ] {
        let record = Record {
            country: Country { iso_code },
            location: location.map(|(latitude, longitude)| Location {
                latitude,
                longitude,
            }),
        };
        let data = db.insert_value(record).unwrap();
        db.insert_node(network.parse::<IpAddrWithMask>().unwrap(), data);
    }
    db.write_to(Vec::new()).unwrap()
}

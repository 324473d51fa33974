//! Where an address is, from a MaxMind-format database (`CIAM_GEOIP_DB`, read with the
//! maxminddb crate): its country, and its coordinates when the database has them. Country
//! databases with either layout are read: MaxMind's (`country.iso_code`) and the flat one of
//! the free ip-location-db builds (`country_code`).

use std::net::IpAddr;

use serde::Deserialize;

/// A place an address is in.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub country: Option<String>,
    pub coordinates: Option<(f64, f64)>,
}

#[derive(Deserialize)]
struct Record {
    country_code: Option<String>,
    country: Option<Country>,
    location: Option<Location>,
}

#[derive(Deserialize)]
struct Country {
    iso_code: Option<String>,
}

#[derive(Deserialize)]
struct Location {
    latitude: Option<f64>,
    longitude: Option<f64>,
}

/// An opened GeoIP database.
pub struct GeoDb {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GeoDb")
    }
}

impl GeoDb {
    /// Opens the database at `path`.
    pub fn open(path: &std::path::Path) -> anyhow::Result<Self> {
        let reader = maxminddb::Reader::open_readfile(path).map_err(|e| {
            anyhow::anyhow!("{} is not a MaxMind-format database: {e}", path.display())
        })?;
        Ok(Self { reader })
    }

    /// Reads a database from its bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> anyhow::Result<Self> {
        let reader = maxminddb::Reader::from_source(bytes)
            .map_err(|e| anyhow::anyhow!("not a MaxMind-format database: {e}"))?;
        Ok(Self { reader })
    }

    /// Where `ip` is, when the database knows.
    pub fn locate(&self, ip: IpAddr) -> Option<Place> {
        let record: Record = self.reader.lookup(ip).ok()?.decode().ok()??;
        let country = record
            .country_code
            .or_else(|| record.country.and_then(|c| c.iso_code))
            .map(|c| c.to_uppercase());
        let coordinates = record
            .location
            .and_then(|l| Some((l.latitude?, l.longitude?)));
        Some(Place {
            country,
            coordinates,
        })
    }
}

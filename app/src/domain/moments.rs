//! How a moment reads on pages and in mail: "2026-11-29 06:40 CET", to the minute, in the
//! reader's time zone (UTC until they choose one), one format everywhere.

use time::OffsetDateTime;

/// `at` as pages and mail show it in UTC.
pub fn utc(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// `at` in the IANA zone `zone`, with the zone's abbreviation; in UTC when the zone is unknown.
pub fn in_zone(at: OffsetDateTime, zone: &str) -> String {
    let Ok(tz) = jiff::tz::db().get(zone) else {
        return utc(at);
    };
    let Ok(stamp) = jiff::Timestamp::from_second(at.unix_timestamp()) else {
        return utc(at);
    };
    stamp.to_zoned(tz).strftime("%Y-%m-%d %H:%M %Z").to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_in_utc_to_the_minute() {
        let at = time::macros::datetime!(2026-11-29 06:40:59 +01:00);
        assert_eq!(super::utc(at), "2026-11-29 05:40 UTC");
        assert_eq!(super::in_zone(at, "UTC"), "2026-11-29 05:40 UTC");
    }

    #[test]
    fn reads_in_the_readers_zone() {
        let at = time::macros::datetime!(2026-11-29 05:40:00 UTC);
        assert_eq!(super::in_zone(at, "Europe/Berlin"), "2026-11-29 06:40 CET");
        assert_eq!(super::in_zone(at, "Asia/Tokyo"), "2026-11-29 14:40 JST");
        let summer = time::macros::datetime!(2026-07-01 12:00:00 UTC);
        assert_eq!(
            super::in_zone(summer, "Europe/Berlin"),
            "2026-07-01 14:00 CEST"
        );
        assert_eq!(super::in_zone(at, "Nowhere/Else"), "2026-11-29 05:40 UTC");
    }
}

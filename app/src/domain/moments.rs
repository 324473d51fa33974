//! How a moment reads on pages and in mail: "2026-11-29 05:40 UTC", one format everywhere.

use time::OffsetDateTime;

/// `at` as pages and mail show it.
pub fn utc(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_in_utc_to_the_minute() {
        let at = time::macros::datetime!(2026-11-29 06:40:59 +01:00);
        assert_eq!(super::utc(at), "2026-11-29 05:40 UTC");
    }
}

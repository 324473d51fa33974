//! The person's language and time zone: which languages the product speaks and which zones it
//! knows, how a request's language is chosen (the person's setting, then the partner app's
//! `ui_locales`, then the browser's `Accept-Language`, else English), and the profile setting
//! that changes them. The setting lives in `users` (see `users::set_preferences`) and, for the
//! requests of a signed-in browser, in its session.

use leptos_i18n::Locale as _;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_sessions::{session, Session};
use uuid::Uuid;

use super::{
    audit::{self, AuditEvent, Outcome},
    client::ClientInfo,
    sessions, users,
};
use crate::{i18n::Locale, state::AppState};

/// The language of a request nobody chose one for.
pub const DEFAULT_LOCALE: &str = "en";
/// The zone moments are shown in until the person picks one.
pub const DEFAULT_TIME_ZONE: &str = "UTC";
/// The session key of the signed-in person's setting.
const SESSION_KEY: &str = "prefs";
/// No zone name in the database is longer; a longer one is refused before it is looked up.
const MAX_ZONE_NAME: usize = 64;

/// A person's stored setting; `None` where they have not chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    pub locale: Option<String>,
    pub time_zone: Option<String>,
}

/// How this request reads: its language and the zone its moments are shown in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub locale: String,
    pub time_zone: String,
}

impl Default for Reading {
    fn default() -> Self {
        Self {
            locale: DEFAULT_LOCALE.to_owned(),
            time_zone: DEFAULT_TIME_ZONE.to_owned(),
        }
    }
}

impl Reading {
    /// The language: the person's setting, else the first of the app's `ui_locales` (space
    /// separated, in order of preference) the product speaks, else the first of the browser's
    /// `Accept-Language` it speaks, else English. The zone is the person's, else UTC.
    pub fn choose(
        setting: Option<&Preferences>,
        ui_locales: Option<&str>,
        accept_language: Option<&str>,
    ) -> Self {
        let set_locale = setting
            .and_then(|s| s.locale.as_deref())
            .and_then(locale_of);
        let from_app = || first_spoken(ui_locales.unwrap_or("").split_whitespace());
        let from_browser = || {
            let accepted = accepted_languages(accept_language.unwrap_or(""));
            first_spoken(accepted.iter().map(String::as_str))
        };
        let locale = set_locale
            .or_else(from_app)
            .or_else(from_browser)
            .unwrap_or(DEFAULT_LOCALE);
        let time_zone = setting
            .and_then(|s| s.time_zone.as_deref())
            .filter(|zone| known_time_zone(zone))
            .unwrap_or(DEFAULT_TIME_ZONE);
        Self {
            locale: locale.to_owned(),
            time_zone: time_zone.to_owned(),
        }
    }

    /// The language as the translations know it.
    pub fn language(&self) -> Locale {
        language_of(Some(&self.locale))
    }
}

/// The tags of the languages the product speaks ("en", "de").
pub fn spoken() -> impl Iterator<Item = &'static str> {
    Locale::get_all().iter().map(|l| l.as_str())
}

/// A spoken language's name in itself, as a language picker shows it.
pub fn own_name(tag: &str) -> &'static str {
    match tag {
        "de" => "Deutsch",
        _ => "English",
    }
}

/// The translations' language for a stored tag, English for none or an unknown one.
pub fn language_of(tag: Option<&str>) -> Locale {
    let found: Option<&Locale> =
        tag.and_then(|t| Locale::get_all().iter().find(|l| l.as_str() == t));
    found.copied().unwrap_or_default()
}

/// The spoken language `tag` (a BCP 47 tag such as "de-AT") falls under, by its primary
/// subtag.
pub fn locale_of(tag: &str) -> Option<&'static str> {
    let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
    spoken().find(|l| *l == primary)
}

/// The first of `tags` the product speaks.
fn first_spoken<'a>(mut tags: impl Iterator<Item = &'a str>) -> Option<&'static str> {
    tags.find_map(locale_of)
}

/// The languages of an `Accept-Language` header (RFC 9110 §12.5.4), most wanted first: ties
/// keep their order, `q=0` means "not this one", and the wildcard names no language.
pub fn accepted_languages(header: &str) -> Vec<String> {
    let mut weighed: Vec<(u16, usize, String)> = header
        .split(',')
        .enumerate()
        .filter_map(|(position, item)| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            if tag.is_empty() || tag == "*" {
                return None;
            }
            let mut weight = 1000;
            for param in parts {
                if let Some(q) = param.trim().strip_prefix("q=") {
                    let q: f32 = q.trim().parse().ok()?;
                    weight = (q.clamp(0.0, 1.0) * 1000.0).round() as u16;
                }
            }
            (weight > 0).then(|| (weight, position, tag.to_owned()))
        })
        .collect();
    weighed.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    weighed.into_iter().map(|(_, _, tag)| tag).collect()
}

/// Whether `zone` is an IANA time zone name the zone database knows.
pub fn known_time_zone(zone: &str) -> bool {
    zone.len() <= MAX_ZONE_NAME && jiff::tz::db().get(zone).is_ok()
}

/// The zones a person may pick, sorted: the database's region/city names and UTC. The names are
/// read once per process: listing them walks the system's time zone directory, which every
/// profile page would otherwise pay for (a tzdata upgrade is offered after a restart).
pub fn time_zones() -> Vec<String> {
    static ZONES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        let mut zones: Vec<String> = jiff::tz::db()
            .available()
            .map(|name| name.as_str().to_owned())
            .filter(|name| name == DEFAULT_TIME_ZONE || is_region_zone(name))
            .collect();
        zones.sort();
        zones.dedup();
        zones
    });
    ZONES.clone()
}

/// "Europe/Berlin" but not "Etc/GMT+5", "posix/..." or old aliases such as "CET".
fn is_region_zone(name: &str) -> bool {
    const REGIONS: &[&str] = &[
        "Africa/",
        "America/",
        "Antarctica/",
        "Asia/",
        "Atlantic/",
        "Australia/",
        "Europe/",
        "Indian/",
        "Pacific/",
    ];
    REGIONS.iter().any(|region| name.starts_with(region))
}

/// Why a new setting was refused; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreferenceRefusal {
    #[error("Choose one of the languages offered.")]
    UnknownLanguage,
    #[error("Choose one of the time zones offered.")]
    UnknownTimeZone,
}

impl PreferenceRefusal {
    /// The form field the refusal is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::UnknownLanguage => "locale",
            Self::UnknownTimeZone => "time_zone",
        }
    }
}

/// Checks a new setting: a spoken language and a known zone.
pub fn check(locale: &str, time_zone: &str) -> Result<Preferences, PreferenceRefusal> {
    if !spoken().any(|l| l == locale) {
        return Err(PreferenceRefusal::UnknownLanguage);
    }
    if !known_time_zone(time_zone) {
        return Err(PreferenceRefusal::UnknownTimeZone);
    }
    Ok(Preferences {
        locale: Some(locale.to_owned()),
        time_zone: Some(time_zone.to_owned()),
    })
}

/// The signed-in person's setting as this browser's session holds it.
pub async fn remembered(session: &Session) -> Result<Option<Preferences>, session::Error> {
    session.get(SESSION_KEY).await
}

/// Keeps the person's setting in this browser's session (at sign-in).
pub async fn remember(session: &Session, setting: &Preferences) -> Result<(), session::Error> {
    session.insert(SESSION_KEY, setting).await
}

/// Changes the person's language and zone: stored on the account and in every session they
/// have, so their other devices read the new setting at their next request, and audited.
pub async fn update(
    state: &AppState,
    client: &ClientInfo,
    user_id: Uuid,
    setting: &Preferences,
) -> anyhow::Result<()> {
    let mut tx = state.db.begin().await?;
    let before = users::set_preferences(&mut *tx, user_id, setting).await?;
    sessions::set_everywhere(&mut *tx, user_id, SESSION_KEY, &json!(setting)).await?;
    let event = AuditEvent::new("profile.updated", Outcome::Success)
        .by(user_id)
        .detail(json!({
            "changed": ["preferences"],
            "locale": { "from": before.locale, "to": setting.locale },
            "time_zone": { "from": before.time_zone, "to": setting.time_zone },
        }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_is_read_by_weight_then_order() {
        assert_eq!(
            accepted_languages("fr;q=0.5, de-AT, en;q=0.9, *;q=0.1, it;q=0"),
            ["de-AT", "en", "fr"]
        );
        assert_eq!(accepted_languages(""), Vec::<String>::new());
        assert_eq!(accepted_languages("de;q=abc, en"), ["en"]);
    }

    #[test]
    fn the_setting_beats_the_app_which_beats_the_browser() {
        let german = Preferences {
            locale: Some("de".into()),
            time_zone: Some("Europe/Berlin".into()),
        };
        let chosen = Reading::choose(Some(&german), Some("en"), Some("en"));
        assert_eq!(
            (chosen.locale.as_str(), chosen.time_zone.as_str()),
            ("de", "Europe/Berlin")
        );
        let app = Reading::choose(None, Some("fr-CA de en"), Some("en"));
        assert_eq!(app.locale, "de");
        assert_eq!(app.time_zone, "UTC");
        let browser = Reading::choose(None, Some("fr"), Some("fr, de-CH;q=0.8, en;q=0.5"));
        assert_eq!(browser.locale, "de");
        assert_eq!(Reading::choose(None, None, Some("ja, fr")).locale, "en");
        assert_eq!(Reading::choose(None, None, None), Reading::default());
    }

    #[test]
    fn only_offered_languages_and_known_zones_are_accepted() {
        assert!(check("de", "Europe/Berlin").is_ok());
        assert_eq!(
            check("fr", "Europe/Berlin"),
            Err(PreferenceRefusal::UnknownLanguage)
        );
        assert_eq!(
            check("en", "Mars/Olympus"),
            Err(PreferenceRefusal::UnknownTimeZone)
        );
        assert_eq!(
            check("en", &"A".repeat(500)),
            Err(PreferenceRefusal::UnknownTimeZone)
        );
        let zones = time_zones();
        assert!(zones.iter().any(|z| z == "Asia/Tokyo"));
        assert!(zones.iter().any(|z| z == "UTC"));
        assert!(zones.iter().all(|z| known_time_zone(z)));
    }
}

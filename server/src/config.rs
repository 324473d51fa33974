//! Process configuration, read from the environment once at start-up.

use std::net::SocketAddr;

use anyhow::{bail, Context};
use app::domain::client_address::TrustedProxies;

pub use master_key::MasterKey;

mod master_key;

/// Everything the process is configured with.
#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    /// `CIAM_DATABASE_REPLICA_URL`: a streaming replica for the reads that may be stale by the
    /// replication lag (`app::domain::replica`); none: every read goes to the primary.
    pub replica_url: Option<String>,
    pub listen: SocketAddr,
    /// Base URL of the site, without a trailing slash.
    pub public_url: String,
    /// `None`: development mail (console and the admin's outbox page).
    pub smtp_url: Option<String>,
    pub mail_from: String,
    /// `None`: development texts (console and the admin's outbox page); otherwise the HTTP
    /// gateway each text is POSTed to as JSON.
    pub sms_webhook_url: Option<String>,
    /// Bearer token sent to the SMS gateway.
    pub sms_webhook_token: Option<String>,
    /// 32-byte key that encrypts secrets at rest.
    pub master_key: MasterKey,
    pub log_format: LogFormat,
    /// Where the compiled site (the `pkg/` bundle and public assets) is served from.
    pub site_root: String,
    /// How old the current signing keys may get before they are rotated.
    pub key_rotation: time::Duration,
    /// How long a refresh token family lives at most, however often it rotates.
    pub refresh_family_lifetime: time::Duration,
    /// The proxies whose forwarding headers say who the client is.
    pub trusted_proxies: TrustedProxies,
    /// `CIAM_DEV_DELIVERY=on`: development delivery (mail and texts kept for the outbox pages,
    /// not sent) even though the site is served over https.
    pub dev_delivery_forced: bool,
    /// A MaxMind-format GeoIP database (country or city) for the risk engine.
    pub geoip_db: Option<std::path::PathBuf>,
    /// A file of known-bad networks (one address or CIDR network per line, `#` comments).
    pub bad_networks_file: Option<std::path::PathBuf>,
    /// A k-anonymity range service for breached passwords, e.g.
    /// `https://api.pwnedpasswords.com/range`.
    pub breached_passwords_url: Option<String>,
    /// The countries texts may go to (ISO 3166 alpha-2); `None`: every country.
    pub sms_countries: Option<Vec<String>>,
    /// Where `/metrics` is served; by default nowhere.
    pub metrics: MetricsConfig,
    /// How many management API requests each app may make a minute, on each node
    /// (`CIAM_API_RATE_LIMIT`, 600 by default).
    pub api_rate_limit: u32,
    /// How many password hashes may wait for a free slot before more are refused with 503
    /// (`CIAM_HASHING_QUEUE`; by default as many as there are slots, one per core).
    pub hashing_queue: Option<usize>,
}

/// How the Prometheus page `/metrics` is reached: on a listener of its own (`listen`, for a
/// network only the monitoring reaches: no authentication), and/or on the main listener behind
/// a bearer token (`token`). With neither, it is not served.
#[derive(Clone, Default)]
pub struct MetricsConfig {
    /// `CIAM_METRICS_LISTEN`: the address of the listener serving only `/metrics`.
    pub listen: Option<SocketAddr>,
    /// `CIAM_METRICS_TOKEN`: the bearer token `/metrics` asks for on the main listener.
    pub token: Option<String>,
}

/// The shortest metrics token accepted.
pub const MIN_METRICS_TOKEN_LEN: usize = 32;

impl MetricsConfig {
    /// Whether `/metrics` is served at all (and the recorder installed).
    pub fn enabled(&self) -> bool {
        self.listen.is_some() || self.token.is_some()
    }

    /// Reads `CIAM_METRICS_LISTEN` and `CIAM_METRICS_TOKEN`.
    fn from_env() -> anyhow::Result<Self> {
        let listen: Option<SocketAddr> = match var("CIAM_METRICS_LISTEN") {
            None => None,
            Some(addr) => Some(addr.trim().parse().with_context(|| {
                format!("CIAM_METRICS_LISTEN must be an address like 127.0.0.1:9464, not {addr:?}")
            })?),
        };
        let token = var("CIAM_METRICS_TOKEN")
            .map(|token| check_metrics_token(&token).map(|()| token))
            .transpose()?;
        Ok(Self { listen, token })
    }
}

/// A metrics token must be hard to guess and fit in a header: at least
/// [`MIN_METRICS_TOKEN_LEN`] visible ASCII characters (`openssl rand -hex 32` makes one).
pub fn check_metrics_token(token: &str) -> anyhow::Result<()> {
    if token.len() < MIN_METRICS_TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
        bail!(
            "CIAM_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_LEN} visible ASCII \
             characters without spaces, such as the output of `openssl rand -hex 32`"
        );
    }
    Ok(())
}

impl std::fmt::Debug for MetricsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsConfig")
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "[configured]"))
            .finish()
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("smtp", &self.smtp_url.as_ref().map(|_| "[configured]"))
            .field("mail_from", &self.mail_from)
            .field(
                "sms",
                &self.sms_webhook_url.as_ref().map(|_| "[configured]"),
            )
            .field("log_format", &self.log_format)
            .field("metrics", &self.metrics)
            .finish_non_exhaustive()
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    /// Reads the configuration from `CIAM_*` variables and `DATABASE_URL`.
    pub fn from_env() -> anyhow::Result<Self> {
        let database_url =
            var("DATABASE_URL").unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/ciam".into());
        let listen = var("CIAM_LISTEN")
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse()
            .context("CIAM_LISTEN must be an address like 127.0.0.1:3000")?;
        let public_url = parse_public_url(
            &var("CIAM_PUBLIC_URL").unwrap_or_else(|| "http://localhost:3000".into()),
        )?;
        let trusted_proxies = TrustedProxies::parse(
            &var("CIAM_TRUSTED_PROXIES").unwrap_or_default(),
        )
        .map_err(|bad| {
            anyhow::anyhow!(
                "CIAM_TRUSTED_PROXIES must list networks like 10.0.0.0/8 or addresses, \
                     separated by commas; {bad:?} is neither"
            )
        })?;
        let dev_delivery_forced = match var("CIAM_DEV_DELIVERY").as_deref() {
            None | Some("off") => false,
            Some("on") => true,
            Some(other) => bail!("CIAM_DEV_DELIVERY must be 'on' or 'off', not {other:?}"),
        };
        let log_format = match var("CIAM_LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => bail!("CIAM_LOG_FORMAT must be 'pretty' or 'json', not {other:?}"),
        };
        let config = Self {
            database_url,
            replica_url: var("CIAM_DATABASE_REPLICA_URL"),
            listen,
            public_url,
            smtp_url: var("CIAM_SMTP_URL"),
            mail_from: var("CIAM_MAIL_FROM")
                .unwrap_or_else(|| "Keyhaven <no-reply@localhost>".into()),
            sms_webhook_url: var("CIAM_SMS_WEBHOOK_URL"),
            sms_webhook_token: var("CIAM_SMS_WEBHOOK_TOKEN"),
            master_key: master_key::load()?,
            log_format,
            site_root: var("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into()),
            key_rotation: days("CIAM_KEY_ROTATION_DAYS", 90, 3650)?,
            refresh_family_lifetime: days("CIAM_REFRESH_TOKEN_MAX_DAYS", 30, 365)?,
            trusted_proxies,
            dev_delivery_forced,
            geoip_db: var("CIAM_GEOIP_DB").map(Into::into),
            bad_networks_file: var("CIAM_BAD_NETWORKS_FILE").map(Into::into),
            breached_passwords_url: var("CIAM_BREACHED_PASSWORDS_URL"),
            sms_countries: sms_countries(var("CIAM_SMS_COUNTRIES").as_deref())?,
            metrics: MetricsConfig::from_env()?,
            api_rate_limit: match var("CIAM_API_RATE_LIMIT") {
                None => 600,
                Some(raw) => raw
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| (1..=1_000_000).contains(n))
                    .context(
                        "CIAM_API_RATE_LIMIT must be a number of requests a minute, 1 to 1000000",
                    )?,
            },
            hashing_queue: match var("CIAM_HASHING_QUEUE") {
                None => None,
                Some(raw) => Some(
                    raw.trim()
                        .parse()
                        .ok()
                        .filter(|n| (0..=100_000).contains(n))
                        .context("CIAM_HASHING_QUEUE must be a number of hashes, 0 to 100000")?,
                ),
            },
        };
        config.check_delivery()?;
        Ok(config)
    }

    /// Development delivery (nothing sent, the outbox pages show it all) is for development:
    /// over https it needs the explicit switch.
    fn check_delivery(&self) -> anyhow::Result<()> {
        if self.is_https() && self.smtp_url.is_none() && !self.dev_delivery_forced {
            bail!(
                "CIAM_PUBLIC_URL is https but CIAM_SMTP_URL is not set: mail would only be kept \
                 for the development outbox page, never sent. Set CIAM_SMTP_URL, or \
                 CIAM_DEV_DELIVERY=on if this really is a development site."
            );
        }
        Ok(())
    }

    /// Whether mail goes to the development outbox page instead of a mail server.
    pub fn dev_mail(&self) -> bool {
        self.smtp_url.is_none()
    }

    /// Whether texts go to the development outbox page: no gateway, and development delivery
    /// (an http site, or the explicit switch). Over https without either, no text is sent.
    pub fn dev_sms(&self) -> bool {
        self.sms_webhook_url.is_none() && (!self.is_https() || self.dev_delivery_forced)
    }

    /// Whether the site is served over https (and cookies must be `Secure` and `__Host-`).
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The origin (scheme, host, port) of the public URL, as browsers send it in `Origin`.
    pub fn public_origin(&self) -> &str {
        origin_of(&self.public_url)
    }
}

/// The whole number of days in `name` (1 to `max`), or `default` when it is unset.
fn days(name: &str, default: i64, max: i64) -> anyhow::Result<time::Duration> {
    match var(name) {
        None => Ok(time::Duration::days(default)),
        Some(days) => match days.parse::<i64>() {
            Ok(d) if (1..=max).contains(&d) => Ok(time::Duration::days(d)),
            _ => bail!("{name} must be a whole number of days, 1 to {max}"),
        },
    }
}

/// `CIAM_SMS_COUNTRIES`: a comma-separated list of two-letter country codes.
fn sms_countries(list: Option<&str>) -> anyhow::Result<Option<Vec<String>>> {
    let Some(list) = list else {
        return Ok(None);
    };
    let codes: Vec<String> = list
        .split(',')
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .collect();
    if let Some(bad) = codes
        .iter()
        .find(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()))
    {
        bail!(
            "CIAM_SMS_COUNTRIES must list two-letter country codes like GB,DE; {bad:?} is not one"
        );
    }
    Ok(Some(codes))
}

fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// Accepts `http(s)://host[:port][/path]`, returns it without a trailing slash.
pub fn parse_public_url(raw: &str) -> anyhow::Result<String> {
    let url = raw.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .context("CIAM_PUBLIC_URL must start with http:// or https://")?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        bail!("CIAM_PUBLIC_URL must be a plain base URL such as https://id.example.com");
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_url_loses_its_trailing_slash_and_keeps_its_origin() {
        let url = parse_public_url("https://id.example.com/").unwrap();
        assert_eq!(url, "https://id.example.com");
        assert_eq!(
            origin_of("http://localhost:3000/base"),
            "http://localhost:3000"
        );
    }

    #[test]
    fn a_public_url_without_scheme_is_refused() {
        assert!(parse_public_url("id.example.com").is_err());
        assert!(parse_public_url("https://").is_err());
    }

    #[test]
    fn metrics_tokens_must_be_long_and_fit_in_a_header() {
        assert!(check_metrics_token(&"a1".repeat(16)).is_ok());
        assert!(check_metrics_token(&"a".repeat(MIN_METRICS_TOKEN_LEN - 1)).is_err());
        assert!(check_metrics_token(&format!("{} x", "a".repeat(40))).is_err());
        assert!(check_metrics_token(&format!("{}é", "a".repeat(40))).is_err());
        let config = MetricsConfig {
            listen: None,
            token: Some("a1".repeat(16)),
        };
        assert!(config.enabled());
        assert!(
            !format!("{config:?}").contains("a1a1"),
            "the token never prints"
        );
        assert!(!MetricsConfig::default().enabled());
    }
}

//! Throttling, counted in Postgres so that every node shares the numbers: failed sign-ins per
//! account and per client address, and what costs something or fills tables (mail, texts,
//! registrations, passkey ceremonies) per recipient and per client address or network.

use crate::domain::privacy::{Erasure, Export, Table};
use sqlx::PgExecutor;
use time::Duration;

/// How many failures within a window lock a key, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub max_failures: i32,
    pub window: Duration,
    pub lockout: Duration,
}

impl ThrottlePolicy {
    /// `max_failures` within `window` lock the key for as long again.
    const fn limit(max_failures: i32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            lockout: window,
        }
    }

    /// Per account: 10 failures in 15 minutes lock it for 15 minutes (NIST 800-63B §5.2.2
    /// allows at most 100 consecutive failures).
    pub const ACCOUNT: Self = Self::limit(10, Duration::minutes(15));
    /// Per client address: 50 failures in 15 minutes, across all accounts.
    pub const CLIENT: Self = Self::limit(50, Duration::minutes(15));
    /// Mails to one address: 5 an hour.
    pub const MAIL_PER_ADDRESS: Self = Self::limit(5, Duration::hours(1));
    /// Texts to one phone number: 5 an hour (each costs money, and SMS pumping is real fraud).
    pub const SMS_PER_NUMBER: Self = Self::limit(5, Duration::hours(1));
    /// Texts to the numbers of one country: 200 an hour (SMS pumping sends many texts to
    /// premium ranges of one country).
    pub const SMS_PER_COUNTRY: Self = Self::limit(200, Duration::hours(1));
    /// Texts asked for from one client address: 10 an hour.
    pub const SMS_PER_CLIENT: Self = Self::limit(10, Duration::hours(1));
    /// Mails asked for from one client address: 20 an hour.
    pub const MAIL_PER_CLIENT: Self = Self::limit(20, Duration::hours(1));
    /// Registrations (password or passkey sign-ups) of one address: 5 an hour (each mails its
    /// owner).
    pub const REGISTER_PER_ADDRESS: Self = Self::limit(5, Duration::hours(1));
    /// Registrations across the whole site: 10,000 an hour. High enough for a launch day; it
    /// stops a bot farm signing up from many networks at once (and an operator sees it).
    pub const REGISTER_GLOBAL: Self = Self::limit(10_000, Duration::hours(1));
    /// Registrations from one client network: 50 an hour.
    pub const REGISTER_PER_NETWORK: Self = Self::limit(50, Duration::hours(1));
    /// Registrations without a proof of work (a browser without JavaScript, or a bot) from one
    /// client network: 5 an hour.
    pub const REGISTER_UNPROVEN_PER_NETWORK: Self = Self::limit(5, Duration::hours(1));
    /// Registrations without a proof of work across the whole site: 500 an hour.
    pub const REGISTER_UNPROVEN_GLOBAL: Self = Self::limit(500, Duration::hours(1));
    /// Passkey sign-ups started for one address: 10 an hour (a cancelled browser prompt is
    /// retried).
    pub const PASSKEY_SIGN_UP_PER_ADDRESS: Self = Self::limit(10, Duration::hours(1));
    /// Passkey ceremonies started from one client network: 300 in 15 minutes (the sign-in page
    /// starts one for the browser's autofill on every visit).
    pub const CEREMONIES_PER_NETWORK: Self = Self::limit(300, Duration::minutes(15));
    /// Counted for the risk engine only (failed passwords per network and overall, in 15
    /// minutes): never locks.
    pub const WATCH: Self = Self::limit(i32::MAX, Duration::minutes(15));
}

/// The counter of every failed password, for the risk engine's surge signal.
pub const GLOBAL_KEY: &str = "global";

/// The counter key of a client network (its /24 or /64).
pub fn network_key(network: &str) -> String {
    format!("net:{network}")
}

/// The failures counted now against each of `keys` (0 for a key without a current window), in
/// the same order.
pub async fn failures(db: impl PgExecutor<'_>, keys: &[String]) -> sqlx::Result<Vec<i32>> {
    let rows: Vec<(String, i32)> = sqlx::query_as(
        "SELECT key, failures FROM auth_throttle
         WHERE key = ANY($1) AND window_started_at > now() - interval '15 minutes'",
    )
    .bind(keys)
    .fetch_all(db)
    .await?;
    Ok(keys
        .iter()
        .map(|k| rows.iter().find(|(key, _)| key == k).map_or(0, |(_, n)| *n))
        .collect())
}

/// The counters of some keys as one read found them: the failures in each key's current
/// window, and how long each stays locked. A password sign-in reads its account's, its client's,
/// its network's and the site's once, for the lock, the price of stuffing and the risk engine.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    asked: Vec<String>,
    rows: Vec<CounterRow>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct CounterRow {
    key: String,
    /// Failures in the current window (0 once it is over).
    failures: i32,
    /// Seconds the key stays locked, when it is.
    locked_for: Option<f64>,
}

impl Counters {
    /// Reads the counters of `keys`.
    pub async fn read(db: impl PgExecutor<'_>, keys: &[String]) -> sqlx::Result<Self> {
        let rows = sqlx::query_as(
            "SELECT key,
                    CASE WHEN window_started_at > now() - interval '15 minutes'
                         THEN failures ELSE 0 END AS failures,
                    CASE WHEN locked_until > now()
                         THEN extract(epoch FROM locked_until - now())::float8 END AS locked_for
             FROM auth_throttle WHERE key = ANY($1)",
        )
        .bind(keys)
        .fetch_all(db)
        .await?;
        Ok(Self {
            asked: keys.to_vec(),
            rows,
        })
    }

    /// Whether this read covered every one of `keys`.
    pub fn covers(&self, keys: &[String]) -> bool {
        keys.iter().all(|k| self.asked.contains(k))
    }

    fn row(&self, key: &str) -> Option<&CounterRow> {
        self.rows.iter().find(|r| r.key == key)
    }

    /// The failures counted against `key` in its current window.
    pub fn failures(&self, key: &str) -> i32 {
        self.row(key).map_or(0, |r| r.failures)
    }

    /// Whether `key` has a counter at all (a successful sign-in has one to forget).
    pub fn counts(&self, key: &str) -> bool {
        self.row(key).is_some()
    }

    /// Minutes until the longest lock among `keys` ends, or `None` when none is locked (as
    /// [`locked_minutes`] answers).
    pub fn locked_minutes(&self, keys: &[String]) -> Option<i64> {
        keys.iter()
            .filter_map(|k| self.row(k).and_then(|r| r.locked_for))
            .reduce(f64::max)
            .map(minutes_from_seconds)
    }
}

fn minutes_from_seconds(seconds: f64) -> i64 {
    ((seconds / 60.0).ceil() as i64).max(1)
}

/// The keys and limits for a registration of `email` from `client_network`; one that came
/// without a proof of work (`proven` false) counts against tighter limits too.
pub fn registration_keys(
    email: &str,
    client_network: Option<&str>,
    proven: bool,
) -> Vec<(String, ThrottlePolicy)> {
    let mut keys = send_keys(
        "register",
        &email.to_lowercase(),
        client_network,
        ThrottlePolicy::REGISTER_PER_ADDRESS,
        ThrottlePolicy::REGISTER_PER_NETWORK,
    );
    keys.push((
        REGISTER_GLOBAL_KEY.to_owned(),
        ThrottlePolicy::REGISTER_GLOBAL,
    ));
    if !proven {
        keys.extend(unproven_keys(client_network));
    }
    keys
}

/// The counter of every registration (password and passkey sign-ups).
pub const REGISTER_GLOBAL_KEY: &str = "register-global";

/// The tighter limits of registrations without a proof of work.
fn unproven_keys(client_network: Option<&str>) -> Vec<(String, ThrottlePolicy)> {
    let mut keys = vec![(
        "register-unproven".to_owned(),
        ThrottlePolicy::REGISTER_UNPROVEN_GLOBAL,
    )];
    if let Some(network) = client_network {
        keys.push((
            format!("register-unproven-ip:{network}"),
            ThrottlePolicy::REGISTER_UNPROVEN_PER_NETWORK,
        ));
    }
    keys
}

/// The keys and limits for a passkey sign-up of `email` from `client_network` (the network's
/// count is shared with password registrations, and so are the limits without a proof of
/// work).
pub fn passkey_sign_up_keys(
    email: &str,
    client_network: Option<&str>,
    proven: bool,
) -> Vec<(String, ThrottlePolicy)> {
    let mut keys = vec![(
        format!("passkey-sign-up:{}", email.to_lowercase()),
        ThrottlePolicy::PASSKEY_SIGN_UP_PER_ADDRESS,
    )];
    if let Some(network) = client_network {
        keys.push((
            format!("register-ip:{network}"),
            ThrottlePolicy::REGISTER_PER_NETWORK,
        ));
    }
    keys.push((
        REGISTER_GLOBAL_KEY.to_owned(),
        ThrottlePolicy::REGISTER_GLOBAL,
    ));
    if !proven {
        keys.extend(unproven_keys(client_network));
    }
    keys
}

/// The key and limit for passkey ceremonies started from `client_network`.
pub fn ceremony_keys(client_network: Option<&str>) -> Vec<(String, ThrottlePolicy)> {
    client_network
        .map(|network| {
            vec![(
                format!("passkey-ceremony-ip:{network}"),
                ThrottlePolicy::CEREMONIES_PER_NETWORK,
            )]
        })
        .unwrap_or_default()
}

/// The counter key of an account (by its normalised, lower-cased address).
pub fn account_key(email: &str) -> String {
    format!("account:{}", email.to_lowercase())
}

/// The counter key of a client address.
pub fn client_key(ip: &str) -> String {
    format!("ip:{ip}")
}

/// Minutes until the longest lock among `keys` ends, or `None` when none is locked.
pub async fn locked_minutes(db: impl PgExecutor<'_>, keys: &[String]) -> sqlx::Result<Option<i64>> {
    let seconds: Option<f64> = sqlx::query_scalar(
        "SELECT max(extract(epoch FROM locked_until - now()))::float8 FROM auth_throttle
         WHERE key = ANY($1) AND locked_until > now()",
    )
    .bind(keys)
    .fetch_one(db)
    .await?;
    Ok(seconds.map(minutes_from_seconds))
}

/// Counts one failure against `key`, locking it when the policy's limit is reached.
pub async fn record_failure(
    db: impl PgExecutor<'_>,
    key: &str,
    policy: ThrottlePolicy,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO auth_throttle AS t (key, failures, window_started_at, locked_until)
         VALUES ($1, 1, now(), CASE WHEN 1 >= $2 THEN now() + make_interval(secs => $4) END)
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN t.window_started_at < now() - make_interval(secs => $3)
                           THEN 1 ELSE t.failures + 1 END,
           window_started_at = CASE WHEN t.window_started_at < now() - make_interval(secs => $3)
                                    THEN now() ELSE t.window_started_at END,
           locked_until = CASE
             WHEN t.window_started_at >= now() - make_interval(secs => $3)
                  AND t.failures + 1 >= $2
             THEN now() + make_interval(secs => $4)
             ELSE t.locked_until END",
    )
    .bind(key)
    .bind(policy.max_failures)
    .bind(policy.window.whole_seconds() as f64)
    .bind(policy.lockout.whole_seconds() as f64)
    .execute(db)
    .await?;
    Ok(())
}

/// Rate-limits an action that costs something (a mail sent): counts one use against every key
/// and answers `Some(minutes)` without counting when any key is already locked.
pub async fn admit(
    db: &sqlx::PgPool,
    keys: &[(String, ThrottlePolicy)],
) -> sqlx::Result<Option<i64>> {
    let names: Vec<String> = keys.iter().map(|(key, _)| key.clone()).collect();
    if let Some(minutes) = locked_minutes(db, &names).await? {
        return Ok(Some(minutes));
    }
    for (key, policy) in keys {
        record_failure(db, key, *policy).await?;
    }
    Ok(None)
}

/// The keys and limits for mail sent to `email` at the request of `client_ip`: 5 an hour per
/// address, 20 an hour per client address.
pub fn mail_keys(
    action: &str,
    email: &str,
    client_ip: Option<&str>,
) -> Vec<(String, ThrottlePolicy)> {
    send_keys(
        action,
        &email.to_lowercase(),
        client_ip,
        ThrottlePolicy::MAIL_PER_ADDRESS,
        ThrottlePolicy::MAIL_PER_CLIENT,
    )
}

/// The keys and limits for texts to `phone` (E.164) at the request of `client_ip`: 5 an hour
/// per number, 10 an hour per client address.
pub fn sms_keys(phone: &str, client_ip: Option<&str>) -> Vec<(String, ThrottlePolicy)> {
    send_keys(
        "sms",
        phone,
        client_ip,
        ThrottlePolicy::SMS_PER_NUMBER,
        ThrottlePolicy::SMS_PER_CLIENT,
    )
}

/// One key per recipient (`action:recipient`) and one per asking client (`action-ip:address`).
fn send_keys(
    action: &str,
    recipient: &str,
    client_ip: Option<&str>,
    per_recipient: ThrottlePolicy,
    per_client: ThrottlePolicy,
) -> Vec<(String, ThrottlePolicy)> {
    let mut keys = vec![(format!("{action}:{recipient}"), per_recipient)];
    if let Some(ip) = client_ip {
        keys.push((format!("{action}-ip:{ip}"), per_client));
    }
    keys
}

/// Forgets the failures of `key` (after a successful sign-in).
pub async fn clear(db: impl PgExecutor<'_>, key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM auth_throttle WHERE key = $1")
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "auth_throttle",
    person: None,
    personal: &["key"],
    other: &["failures", "window_started_at", "locked_until"],
    export: Export::Not("counters keyed by an address or an account, kept for minutes"),
    // A key is `kind:value`; the value may hold colons itself (an IPv6 address).
    erasure: Erasure::DeleteNaming("substring(key from position(':' in key) + 1) = ANY($1)"),
}];

//! Browser sessions: what a session says about who is signed in, how (the factors proven and
//! when) and until when (idle and absolute expiry); the Postgres store behind tower-sessions
//! is `store`.

mod store;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use tower_sessions::{session, Session};
use uuid::Uuid;

pub use self::store::{delete_expired, end_all_for_user, set_everywhere, PgSessionStore, TABLES};
use super::assurance::{self, Factor};

/// A session ends after this long without a request (NIST 800-63B AAL2: 30 minutes), unless
/// the business set its own limit (`settings::Limits`), kept in the session at sign-in.
pub const IDLE_TIMEOUT: Duration = Duration::minutes(30);
/// A session ends this long after sign-in, however active (NIST 800-63B AAL2: 12 hours),
/// unless the business set its own.
pub const ABSOLUTE_TIMEOUT: Duration = Duration::hours(12);
/// Activity refreshes the idle deadline at most this often, so most requests write nothing.
const REFRESH_AFTER: Duration = Duration::minutes(5);

const USER_KEY: &str = "user_id";
const AUTH_AT_KEY: &str = "auth_at";
const SEEN_AT_KEY: &str = "seen_at";
/// This sign-in's idle limit (the business's, shorter for staff), in seconds.
const IDLE_LIMIT_KEY: &str = "idle_limit";
/// This sign-in's absolute limit (the business's), in seconds.
const MAX_AGE_KEY: &str = "max_age";
const PENDING_VERIFICATION_KEY: &str = "pending_verification";
/// How the person signed in: the method's name.
const METHOD_KEY: &str = "auth_method";
/// How the person signed in: the RFC 8176 authentication method references.
const AMR_KEY: &str = "amr";
/// The factors proven in this sign-in, with their times.
const FACTORS_KEY: &str = "factors";
/// When the sign-in last became multi-factor.
const MULTI_FACTOR_AT_KEY: &str = "mfa_at";
/// An upstream identity waiting for its account's owner to sign in (`social::identities`).
pub const PENDING_LINK_KEY: &str = "social_pending_link";
/// The apps' authorization requests waiting for a sign-in or consent
/// (`oidc::pending_requests`).
pub const APP_REQUESTS_KEY: &str = "oauth_requests";
/// Where the browser goes back to after a step-up or a sign-in asked for by a sensitive change
/// (`authentication::second_step`).
pub const RETURN_TO_KEY: &str = "return_to";
/// This browser's claims on the accounts it registered (`address_proof`).
pub const REGISTRATION_CLAIMS_KEY: &str = "registration_claims";
/// New recovery codes held sealed until shown once (`mfa::enrolment`); an enrolment on the
/// second step can be followed by the consent step before the sign-in completes.
pub const HELD_CODES_KEY: &str = "new_recovery_codes";
/// The sign-in's session id as apps see it (`sid` in ID and logout tokens). Unlike the cookie's
/// id it says nothing that lets anyone take the session over.
const SID_KEY: &str = "sid";

/// One factor proven in this sign-in, and when (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactorUse {
    pub factor: Factor,
    pub at: i64,
}

/// How the person of a session authenticated: the method of the sign-in, the factors proven
/// (with their times), and when the sign-in last became multi-factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub method: String,
    pub factors: Vec<FactorUse>,
    pub multi_factor_at: Option<i64>,
}

impl Authenticated {
    /// The kinds of factor proven.
    pub fn kinds(&self) -> Vec<Factor> {
        self.factors.iter().map(|f| f.factor).collect()
    }

    /// The RFC 8176 `amr` values of the sign-in.
    pub fn amr(&self) -> Vec<String> {
        assurance::amr(&self.kinds())
    }

    /// The `acr` level of the sign-in.
    pub fn acr(&self) -> &'static str {
        assurance::acr(&self.kinds())
    }
}

/// Marks `session` as signed in for `user_id` by `method` with `factors` proven, under a fresh
/// id (session fixation defence). Only the sign-in exit (`authentication`) calls this. What
/// survives: an upstream identity waiting to be linked (signing in is how its owner proves the
/// account is theirs), the apps' sign-in requests waiting for this sign-in, this browser's
/// claims on accounts it registered, where a step-up goes back to, and recovery codes waiting
/// to be shown (sealed to their account: another person's sign-in cannot open them).
pub async fn sign_in(
    session: &Session,
    user_id: Uuid,
    method: &str,
    factors: &[FactorUse],
) -> Result<(), session::Error> {
    let mut kept = Vec::new();
    for key in [
        PENDING_LINK_KEY,
        APP_REQUESTS_KEY,
        REGISTRATION_CLAIMS_KEY,
        RETURN_TO_KEY,
        HELD_CODES_KEY,
    ] {
        if let Some(value) = session.get::<serde_json::Value>(key).await? {
            kept.push((key, value));
        }
    }
    // Signing in again as the same person (a forced re-authentication, a step-up) keeps the
    // sign-in's `sid`, so the apps it signed in to are not told it ended.
    let same_person = session.get::<Uuid>(USER_KEY).await? == Some(user_id);
    let sid = match session.get::<String>(SID_KEY).await? {
        Some(sid) if same_person => sid,
        _ => new_sid(),
    };
    // A session the store holds gets a new id (session fixation defence); one it does not hold
    // (no cookie, or one naming nothing) is given a fresh random id when first saved.
    if session.id().is_some() {
        session.cycle_id().await?;
    }
    session.clear().await;
    for (key, value) in kept {
        session.insert(key, value).await?;
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let kinds: Vec<Factor> = factors.iter().map(|f| f.factor).collect();
    session.insert(USER_KEY, user_id).await?;
    session.insert(AUTH_AT_KEY, now).await?;
    session.insert(SEEN_AT_KEY, now).await?;
    session.insert(SID_KEY, sid).await?;
    session.insert(METHOD_KEY, method).await?;
    session.insert(AMR_KEY, assurance::amr(&kinds)).await?;
    session.insert(FACTORS_KEY, factors).await?;
    if assurance::is_multi_factor(&kinds) {
        session.insert(MULTI_FACTOR_AT_KEY, now).await?;
    }
    Ok(())
}

/// Adds `factor`, proven just now, to the signed-in session (a new factor enrolled and
/// confirmed with its first code): the session becomes multi-factor when that makes it so.
pub async fn add_factor(session: &Session, factor: Factor) -> Result<(), session::Error> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let mut factors = session
        .get::<Vec<FactorUse>>(FACTORS_KEY)
        .await?
        .unwrap_or_default();
    factors.retain(|f| f.factor != factor);
    factors.push(FactorUse { factor, at: now });
    let kinds: Vec<Factor> = factors.iter().map(|f| f.factor).collect();
    session.insert(AMR_KEY, assurance::amr(&kinds)).await?;
    session.insert(FACTORS_KEY, factors).await?;
    if assurance::is_multi_factor(&kinds) {
        session.insert(MULTI_FACTOR_AT_KEY, now).await?;
    }
    Ok(())
}

/// How the signed-in person of `session` authenticated (`None` for an anonymous session).
pub async fn authenticated(session: &Session) -> Result<Option<Authenticated>, session::Error> {
    let Some(method) = session.get::<String>(METHOD_KEY).await? else {
        return Ok(None);
    };
    Ok(Some(Authenticated {
        method,
        factors: session
            .get::<Vec<FactorUse>>(FACTORS_KEY)
            .await?
            .unwrap_or_default(),
        multi_factor_at: session.get::<i64>(MULTI_FACTOR_AT_KEY).await?,
    }))
}

/// A fresh sign-in id: 132 random bits.
fn new_sid() -> String {
    crate::domain::tokens::random_token()[..22].to_owned()
}

/// The `sid` of the sign-in in `session` (one is made for a sign-in that predates them).
pub async fn sid(session: &Session) -> Result<String, session::Error> {
    if let Some(sid) = session.get::<String>(SID_KEY).await? {
        return Ok(sid);
    }
    let sid = new_sid();
    session.insert(SID_KEY, &sid).await?;
    Ok(sid)
}

/// The `sid` of `session` without making one.
pub async fn existing_sid(session: &Session) -> Result<Option<String>, session::Error> {
    session.get::<String>(SID_KEY).await
}

/// Ends `session` (its row and its cookie).
pub async fn sign_out(session: &Session) -> Result<(), session::Error> {
    session.flush().await
}

/// The signed-in user of `session`, if the session is still within its idle and absolute
/// limits. Refreshes the idle deadline when it is older than a few minutes.
pub async fn current_user(session: &Session) -> Result<Option<Uuid>, session::Error> {
    let Some(user_id) = session.get::<Uuid>(USER_KEY).await? else {
        return Ok(None);
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let auth_at = session.get::<i64>(AUTH_AT_KEY).await?.unwrap_or(0);
    let seen_at = session.get::<i64>(SEEN_AT_KEY).await?.unwrap_or(0);
    let idle = session
        .get::<i64>(IDLE_LIMIT_KEY)
        .await?
        .unwrap_or(IDLE_TIMEOUT.whole_seconds());
    let max_age = session
        .get::<i64>(MAX_AGE_KEY)
        .await?
        .unwrap_or(ABSOLUTE_TIMEOUT.whole_seconds());
    if now - auth_at > max_age || now - seen_at > idle {
        session.flush().await?;
        return Ok(None);
    }
    // A short limit is kept closer: the deadline moves at least every fifth of it.
    if now - seen_at > REFRESH_AFTER.whole_seconds().min(idle / 5) {
        session.insert(SEEN_AT_KEY, now).await?;
        // The stored session lives as long as this sign-in's idle limit, not the layer's
        // default (set only here, where the session is written anyway).
        session.set_expiry(Some(tower_sessions::Expiry::OnInactivity(
            Duration::seconds(idle),
        )));
    }
    Ok(Some(user_id))
}

/// Gives this sign-in the business's limits: `idle` without a request, `max` in all. The
/// stored session expires with the idle limit too.
pub async fn set_lifetimes(
    session: &Session,
    idle: Duration,
    max: Duration,
) -> Result<(), session::Error> {
    session.insert(IDLE_LIMIT_KEY, idle.whole_seconds()).await?;
    session.insert(MAX_AGE_KEY, max.whole_seconds()).await?;
    session.set_expiry(Some(tower_sessions::Expiry::OnInactivity(idle)));
    Ok(())
}

/// Shortens this sign-in's idle limit to `limit` when it is longer (staff sessions).
pub async fn set_idle_limit(session: &Session, limit: Duration) -> Result<(), session::Error> {
    let current = session
        .get::<i64>(IDLE_LIMIT_KEY)
        .await?
        .unwrap_or(IDLE_TIMEOUT.whole_seconds());
    let limit = limit.whole_seconds().min(current);
    session.insert(IDLE_LIMIT_KEY, limit).await?;
    session.set_expiry(Some(tower_sessions::Expiry::OnInactivity(
        Duration::seconds(limit),
    )));
    Ok(())
}

/// When this session's user signed in (or the Unix epoch for an anonymous session).
pub async fn signed_in_at(session: &Session) -> Result<OffsetDateTime, session::Error> {
    let at = session.get::<i64>(AUTH_AT_KEY).await?.unwrap_or(0);
    Ok(OffsetDateTime::from_unix_timestamp(at).unwrap_or(OffsetDateTime::UNIX_EPOCH))
}

/// Remembers, for the "resend link" button, which account just proved its password but has
/// not verified its address yet.
pub async fn set_pending_verification(
    session: &Session,
    user_id: Uuid,
) -> Result<(), session::Error> {
    session.insert(PENDING_VERIFICATION_KEY, user_id).await
}

/// Takes the account remembered by [`set_pending_verification`].
pub async fn take_pending_verification(session: &Session) -> Result<Option<Uuid>, session::Error> {
    session.remove::<Uuid>(PENDING_VERIFICATION_KEY).await
}

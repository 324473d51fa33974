//! Passwordless sign-in by email: one request mails a single-use link and a 6-digit code,
//! both valid 15 minutes. The code works only in the browser that asked and dies after 5 wrong
//! tries; the link works in any browser (showing which device asked) until it is used.

use hmac::{Hmac, Mac};
use rand::{rngs::OsRng, Rng};
use serde_json::json;
use sha2::Sha256;
use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    accounts::templates,
    audit::{self, AuditEvent, Outcome},
    branding,
    client::{device_summary, ClientInfo},
    email::Email,
    error::AccountError,
    mail,
    names::DisplayName,
    sessions, settings, throttle,
    tokens::{random_token, token_hash, TokenRejection},
    users,
};
use crate::state::AppState;

/// How long a link and its code stay valid.
pub const LIFETIME: Duration = Duration::minutes(15);
/// Wrong codes allowed before the request dies.
pub const MAX_CODE_ATTEMPTS: i32 = 5;
/// Digits in a code.
pub const CODE_DIGITS: usize = 6;
const SESSION_KEY: &str = "email_sign_in";

/// Why a code was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeRejection {
    #[error("That code is not right. {left} attempt{} left.", if *left == 1 { "" } else { "s" })]
    Wrong { left: i32 },
    #[error("Too many wrong codes. Ask for a new one.")]
    Exhausted,
    #[error("This code has expired. Ask for a new one.")]
    Expired,
    #[error("Ask for a code first.")]
    NoRequest,
}

impl CodeRejection {
    /// Refuses a request that is used up (or out of its `max` attempts) or expired.
    pub(crate) fn check(used: bool, attempts: i32, max: i32, expired: bool) -> Result<(), Self> {
        if used || attempts >= max {
            return Err(Self::Exhausted);
        }
        if expired {
            return Err(Self::Expired);
        }
        Ok(())
    }

    /// The answer to a wrong code, `attempts` (counting this one) out of `max`.
    pub(crate) fn wrong(attempts: i32, max: i32) -> Self {
        if attempts >= max {
            Self::Exhausted
        } else {
            Self::Wrong {
                left: max - attempts,
            }
        }
    }
}

/// What the confirmation page shows about a link.
#[derive(Debug, Clone)]
pub struct LinkDetails {
    pub email: String,
    pub requested_at: OffsetDateTime,
    pub device: String,
    pub ip: Option<String>,
    /// Whether this browser is the one that asked.
    pub same_browser: bool,
}

/// The key codes are hashed with, derived from the master key, so a copy of the database
/// alone cannot brute-force the short codes.
#[derive(Clone)]
pub struct CodeKey([u8; 32]);

impl CodeKey {
    pub fn derive(master_key: &[u8; 32]) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(master_key).expect("HMAC takes any key size");
        mac.update(b"email sign-in code v1");
        Self(mac.finalize().into_bytes().into())
    }

    pub(crate) fn hash(&self, request: Uuid, code: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key size");
        mac.update(request.as_bytes());
        mac.update(code.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// Whether `code` as typed (spaces ignored) is a well-formed code matching `expected`.
    pub(crate) fn matches(&self, request: Uuid, code: &str, expected: &[u8]) -> bool {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        code.len() == CODE_DIGITS
            && code.chars().all(|c| c.is_ascii_digit())
            && self.verify(request, &code, expected)
    }

    fn verify(&self, request: Uuid, code: &str, expected: &[u8]) -> bool {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key size");
        mac.update(request.as_bytes());
        mac.update(code.as_bytes());
        mac.verify_slice(expected).is_ok()
    }
}

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeKey([redacted])")
    }
}

pub(crate) fn random_code() -> String {
    format!(
        "{:0width$}",
        OsRng.gen_range(0..1_000_000u32),
        width = CODE_DIGITS
    )
}

/// Mails a sign-in link and code to `email` when it has an account (or, when the business
/// allows it, to a new address). The caller cannot tell which happened.
#[tracing::instrument(skip_all)]
pub async fn request(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    email: &Email,
) -> Result<(), AccountError> {
    let policy = settings::load(&state.db).await?;
    if !policy.email_sign_in_enabled {
        return Err(AccountError::MethodDisabled);
    }
    let keys = throttle::mail_keys("email-sign-in", email.as_str(), client.ip.as_deref());
    if let Some(minutes) = throttle::admit(&state.db, &keys).await? {
        return Err(AccountError::Throttled { minutes });
    }

    let mut tx = state.db.begin().await?;
    let user = users::find_by_email(&mut *tx, email).await?;
    let id = Uuid::new_v4();
    let link = random_token();
    let code = random_code();
    sqlx::query(
        "INSERT INTO email_sign_in_requests
           (id, email, user_id, link_hash, code_hash, requested_ip, requested_user_agent, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))",
    )
    .bind(id)
    .bind(email.as_str())
    .bind(user.as_ref().map(|u| u.id))
    .bind(token_hash(&link))
    .bind(state.code_key.hash(id, &code))
    .bind(&client.ip)
    .bind(&client.user_agent)
    .bind(LIFETIME.whole_seconds() as f64)
    .execute(&mut *tx)
    .await?;
    if user.is_some() || policy.register_on_email_sign_in {
        let brand = branding::load(&mut *tx).await?;
        let name = user.as_ref().map_or("there", |u| u.display_name.as_str());
        let message = templates(state, &brand.product_name).sign_in_link(email, name, &link, &code);
        mail::enqueue(&mut *tx, &message).await?;
    }
    let event = AuditEvent::new("signin.email.requested", Outcome::Success)
        .about(user.as_ref().map(|u| u.id))
        .detail(json!({ "known_account": user.is_some() }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    session.insert(SESSION_KEY, id).await?;
    Ok(())
}

/// Signs in with the code typed into the browser that asked for it.
#[tracing::instrument(skip_all)]
pub async fn sign_in_with_code(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    code: &str,
) -> Result<Uuid, AccountError> {
    let Some(id) = session.get::<Uuid>(SESSION_KEY).await? else {
        return Err(CodeRejection::NoRequest.into());
    };
    let mut tx = state.db.begin().await?;
    let row: Option<(Vec<u8>, i32, bool, bool)> = sqlx::query_as(
        "SELECT code_hash, attempts, used_at IS NOT NULL, expires_at <= now()
         FROM email_sign_in_requests WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((expected, attempts, used, expired)) = row else {
        return Err(CodeRejection::NoRequest.into());
    };
    CodeRejection::check(used, attempts, MAX_CODE_ATTEMPTS, expired)?;
    if !state.code_key.matches(id, code, &expected) {
        let attempts = attempts + 1;
        sqlx::query(
            "UPDATE email_sign_in_requests
             SET attempts = $2, used_at = CASE WHEN $2 >= $3 THEN now() END WHERE id = $1",
        )
        .bind(id)
        .bind(attempts)
        .bind(MAX_CODE_ATTEMPTS)
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::new("signin.email.code", Outcome::Failure)
            .detail(json!({ "attempts": attempts }));
        audit::record(&mut *tx, client, event).await?;
        tx.commit().await?;
        return Err(CodeRejection::wrong(attempts, MAX_CODE_ATTEMPTS).into());
    }
    let user_id = complete(state, &mut tx, id).await?;
    let event = AuditEvent::new("signin.email.code", Outcome::Success).by(user_id);
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    sessions::sign_in(session, user_id).await?;
    Ok(user_id)
}

/// What the link's confirmation page shows; uses nothing up.
pub async fn link_details(
    state: &AppState,
    session: &Session,
    link: &str,
) -> Result<LinkDetails, AccountError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        email: String,
        created_at: OffsetDateTime,
        requested_user_agent: Option<String>,
        requested_ip: Option<String>,
        used: bool,
        exhausted: bool,
        expired: bool,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, email, created_at, requested_user_agent, requested_ip,
                used_at IS NOT NULL AS used, attempts >= $2 AS exhausted,
                expires_at <= now() AS expired
         FROM email_sign_in_requests WHERE link_hash = $1",
    )
    .bind(token_hash(link.trim()))
    .bind(MAX_CODE_ATTEMPTS)
    .fetch_optional(&state.db)
    .await?;
    let Some(row) = row else {
        return Err(TokenRejection::Unknown.into());
    };
    if row.exhausted {
        return Err(CodeRejection::Exhausted.into());
    }
    if row.used {
        return Err(TokenRejection::Used.into());
    }
    if row.expired {
        return Err(TokenRejection::Expired.into());
    }
    let same_browser = session.get::<Uuid>(SESSION_KEY).await? == Some(row.id);
    Ok(LinkDetails {
        email: row.email,
        requested_at: row.created_at,
        device: device_summary(row.requested_user_agent.as_deref()),
        ip: row.requested_ip,
        same_browser,
    })
}

/// Signs in with the mailed link, in whichever browser opened it.
#[tracing::instrument(skip_all)]
pub async fn sign_in_with_link(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    link: &str,
) -> Result<Uuid, AccountError> {
    let mut tx = state.db.begin().await?;
    let row: Option<(Uuid, bool, bool, bool)> = sqlx::query_as(
        "SELECT id, used_at IS NOT NULL, attempts >= $2, expires_at <= now()
         FROM email_sign_in_requests WHERE link_hash = $1 FOR UPDATE",
    )
    .bind(token_hash(link.trim()))
    .bind(MAX_CODE_ATTEMPTS)
    .fetch_optional(&mut *tx)
    .await?;
    let id = match row {
        None => return Err(TokenRejection::Unknown.into()),
        Some((_, _, true, _)) => return Err(CodeRejection::Exhausted.into()),
        Some((_, true, _, _)) => return Err(TokenRejection::Used.into()),
        Some((_, _, _, true)) => return Err(TokenRejection::Expired.into()),
        Some((id, false, false, false)) => id,
    };
    let user_id = complete(state, &mut tx, id).await?;
    let event = AuditEvent::new("signin.email.link", Outcome::Success).by(user_id);
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    sessions::sign_in(session, user_id).await?;
    Ok(user_id)
}

/// Uses request `id` up and returns its account: the existing one (its address now proven),
/// or a new one when the business registers new addresses on first use.
async fn complete(state: &AppState, tx: &mut PgConnection, id: Uuid) -> Result<Uuid, AccountError> {
    let (email, user_id): (String, Option<Uuid>) = sqlx::query_as(
        "UPDATE email_sign_in_requests SET used_at = now() WHERE id = $1 RETURNING email, user_id",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    if let Some(user_id) = user_id {
        users::mark_verified(&mut *tx, user_id).await?;
        return Ok(user_id);
    }
    // No mail went out for an unknown address unless registration on first use is on, so a
    // request without an account can only be completed in that case.
    if !settings::load(&state.db).await?.register_on_email_sign_in {
        return Err(TokenRejection::Unknown.into());
    }
    let email = Email::parse(&email)?;
    if let Some(existing) = users::find_by_email(&mut *tx, &email).await? {
        users::mark_verified(&mut *tx, existing.id).await?;
        return Ok(existing.id);
    }
    let name = DisplayName::from_email(&email);
    let user_id = users::insert_passwordless(&mut *tx, &email, &name).await?;
    Ok(user_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_six_digits() {
        for _ in 0..100 {
            let code = random_code();
            assert_eq!(code.len(), CODE_DIGITS);
            assert!(code.chars().all(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn a_code_verifies_only_for_its_request_and_key() {
        let key = CodeKey::derive(&[1; 32]);
        let request = Uuid::new_v4();
        let hash = key.hash(request, "123456");
        assert!(key.matches(request, "123456", &hash));
        assert!(key.matches(request, " 123 456 ", &hash));
        assert!(!key.matches(request, "123457", &hash));
        assert!(!key.matches(Uuid::new_v4(), "123456", &hash));
        assert!(!CodeKey::derive(&[2; 32]).matches(request, "123456", &hash));
        assert_eq!(format!("{key:?}"), "CodeKey([redacted])");
    }
}

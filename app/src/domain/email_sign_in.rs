//! Passwordless sign-in by email: one request mails a single-use link and a 6-digit code,
//! both valid 15 minutes. The code works only in the browser that asked and dies after 5 wrong
//! tries; the link works in any browser (showing which device asked) until it is used.

use serde_json::json;
use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    accounts::templates,
    address_proof::{self, Proof},
    audit::{self, AuditEvent, Outcome},
    authentication::{self, Method},
    branding,
    client::{device_summary, ClientInfo},
    email::Email,
    error::AccountError,
    mail,
    names::DisplayName,
    otp::{self, CodeRejection, CodeTable},
    settings, throttle,
    tokens::{random_token, token_hash, TokenRejection},
    users,
};
use crate::domain::privacy::{Erasure, Export, Table};
use crate::state::AppState;

/// How long a link and its code stay valid.
pub const LIFETIME: Duration = Duration::minutes(15);
const SESSION_KEY: &str = "email_sign_in";

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

/// Mails a sign-in link and code to `email` when it has an account (or, when the business
/// allows it, to a new address). The caller cannot tell which happened.
#[tracing::instrument(skip_all)]
pub async fn request(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    email: &Email,
) -> Result<(), AccountError> {
    let policy = settings::current(state).await?;
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
    let code = otp::random_code();
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
    // A throwaway address gets no new account (and the same answer).
    if user.is_some() || (policy.register_on_email_sign_in && !email.is_disposable()) {
        let brand = branding::for_client(&mut *tx, client).await?;
        // The account's language; a new address reads the page's.
        let language = user
            .as_ref()
            .map_or(client.reading.language(), |u| u.language());
        let templates = templates(state, &brand, language);
        let name = user
            .as_ref()
            .map_or(templates.no_name(), |u| u.display_name.as_str());
        let message = templates.sign_in_link(email, name, &link, &code);
        mail::enqueue(&mut *tx, &message).await?;
    }
    let event = AuditEvent::new("email_sign_in.requested", Outcome::Success)
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
    CodeRejection::check(used, attempts, expired)?;
    if !state.code_key.matches(id, code, &expected) {
        let rejection =
            otp::count_wrong_code(&mut tx, CodeTable::EmailSignIn, id, attempts).await?;
        authentication::failed(&mut *tx, client, Method::EmailCode, None, "wrong_code").await?;
        tx.commit().await?;
        return Err(rejection.into());
    }
    let (user_id, proof) = complete(state, client, session, &mut tx, id).await?;
    tx.commit().await?;
    proof.after_commit(state);
    authentication::sign_in(state, client, session, user_id, Method::EmailCode).await?;
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
    .bind(otp::MAX_ATTEMPTS)
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
    .bind(otp::MAX_ATTEMPTS)
    .fetch_optional(&mut *tx)
    .await?;
    let id = match row {
        None => return Err(TokenRejection::Unknown.into()),
        Some((_, _, true, _)) => return Err(CodeRejection::Exhausted.into()),
        Some((_, true, _, _)) => return Err(TokenRejection::Used.into()),
        Some((_, _, _, true)) => return Err(TokenRejection::Expired.into()),
        Some((id, false, false, false)) => id,
    };
    let (user_id, proof) = complete(state, client, session, &mut tx, id).await?;
    tx.commit().await?;
    proof.after_commit(state);
    authentication::sign_in(state, client, session, user_id, Method::EmailLink).await?;
    Ok(user_id)
}

/// Uses request `id` up and returns its account, whose address is now proven (by `session`,
/// the browser that brought the link or code): the existing one, or a new one when the business
/// registers new addresses on first use.
async fn complete(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    tx: &mut PgConnection,
    id: Uuid,
) -> Result<(Uuid, Proof), AccountError> {
    let (email, user_id): (String, Option<Uuid>) = sqlx::query_as(
        "UPDATE email_sign_in_requests SET used_at = now() WHERE id = $1 RETURNING email, user_id",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let issuer = &state.settings.public_url;
    if let Some(user_id) = user_id {
        let proof = address_proof::prove(tx, client, Some(session), issuer, user_id).await?;
        return Ok((user_id, proof));
    }
    // No mail went out for an unknown address unless registration on first use is on, so a
    // request without an account can only be completed in that case.
    if !settings::current(state).await?.register_on_email_sign_in {
        return Err(TokenRejection::Unknown.into());
    }
    let email = Email::parse(&email)?;
    if let Some(existing) = users::find_by_email(&mut *tx, &email).await? {
        let proof = address_proof::prove(tx, client, Some(session), issuer, existing.id).await?;
        return Ok((existing.id, proof));
    }
    let name = DisplayName::from_email(&email);
    let user_id =
        users::insert_passwordless(&mut *tx, &email, &name, &client.reading.locale).await?;
    let event = AuditEvent::new("account.registered", Outcome::Success)
        .by(user_id)
        .detail(json!({ "method": "email_sign_in" }));
    audit::record(&mut *tx, client, event).await?;
    Ok((user_id, Proof::default()))
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "email_sign_in_requests",
    person: Some("user_id"),
    personal: &[
        "email",
        "user_id",
        "link_hash",
        "code_hash",
        "requested_ip",
        "requested_user_agent",
    ],
    other: &["id", "attempts", "expires_at", "used_at", "created_at"],
    export: Export::RowsWithout(&["link_hash", "code_hash"]),
    erasure: Erasure::Delete,
}];

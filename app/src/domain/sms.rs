//! SMS one-time codes: proving a phone number for the profile, and signing in with it. Codes have
//! 6 digits, live 10 minutes, are stored as an HMAC, work only in the browser session that asked
//! and die after 5 wrong tries. Texts go through the SMS outbox, limited per number and per client.

use serde_json::json;
use sqlx::{PgConnection, PgExecutor, Postgres, Transaction};
use time::{Duration, OffsetDateTime};
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    audit::{self, AuditEvent, Outcome},
    authentication::{self, Method},
    branding,
    client::ClientInfo,
    error::AccountError,
    mfa,
    otp::{self, CodeRejection, CodeTable},
    phone::{Phone, PhoneError},
    settings,
    throttle::{self, ThrottlePolicy},
    webhooks,
};
use crate::domain::privacy::{Erasure, Export, Table};
use crate::state::AppState;

pub mod outbox;

/// How long a code stays valid.
pub const LIFETIME: Duration = Duration::minutes(10);

/// What a code is for; each has its own slot in the browser session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    VerifyPhone,
    SignIn,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyPhone => "verify_phone",
            Self::SignIn => "sign_in",
        }
    }

    fn session_key(self) -> &'static str {
        match self {
            Self::VerifyPhone => "sms_verify_phone",
            Self::SignIn => "sms_sign_in",
        }
    }
}

/// The text that carries a code. The last line is the WebOTP format, so browsers can offer
/// the code to the page that asked for it, and only to that site.
fn message(product: &str, code: &str, host: &str) -> String {
    format!(
        "{code} is your {product} code. It expires in {} minutes. Never share it.\n\n@{host} #{code}",
        LIFETIME.whole_minutes()
    )
}

/// Queues one text for the SMS worker; it is not retried after `expires_at`.
pub async fn enqueue(
    db: impl PgExecutor<'_>,
    to: &Phone,
    body: &str,
    expires_at: OffsetDateTime,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO sms_outbox (id, recipient, body, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(Uuid::new_v4())
        .bind(to.as_str())
        .bind(body)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(())
}

/// Stores a new code for `phone` and, when `send` is set, queues the text that carries it.
async fn issue(
    state: &AppState,
    tx: &mut PgConnection,
    purpose: Purpose,
    phone: &Phone,
    user_id: Option<Uuid>,
    send: bool,
) -> Result<Uuid, AccountError> {
    let id = Uuid::new_v4();
    let code = otp::random_code();
    let expires_at = OffsetDateTime::now_utc() + LIFETIME;
    sqlx::query(
        "INSERT INTO sms_codes (id, purpose, phone, user_id, code_hash, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(purpose.as_str())
    .bind(phone.as_str())
    .bind(user_id)
    .bind(state.code_key.hash(id, &code))
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    if send {
        let brand = branding::default_brand(&mut *tx).await?;
        let host = url::Url::parse(&state.settings.public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        enqueue(
            &mut *tx,
            phone,
            &message(&brand.product_name, &code, &host),
            expires_at,
        )
        .await?;
    }
    Ok(id)
}

/// The code request of `purpose` this browser made, checked against `code`. A wrong code counts
/// an attempt (committed here); a right one is used up in the returned transaction.
async fn check(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    purpose: Purpose,
    code: &str,
) -> Result<(Transaction<'static, Postgres>, Phone, Option<Uuid>), AccountError> {
    let Some(id) = session.get::<Uuid>(purpose.session_key()).await? else {
        return Err(CodeRejection::NoRequest.into());
    };
    let mut tx = state.db.begin().await?;
    #[derive(sqlx::FromRow)]
    struct Row {
        phone: String,
        user_id: Option<Uuid>,
        code_hash: Vec<u8>,
        attempts: i32,
        used: bool,
        expired: bool,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT phone, user_id, code_hash, attempts, used_at IS NOT NULL AS used,
                expires_at <= now() AS expired
         FROM sms_codes WHERE id = $1 AND purpose = $2 FOR UPDATE",
    )
    .bind(id)
    .bind(purpose.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(Row {
        phone,
        user_id,
        code_hash: expected,
        attempts,
        used,
        expired,
    }) = row
    else {
        return Err(CodeRejection::NoRequest.into());
    };
    CodeRejection::check(used, attempts, expired)?;
    // A sign-in request for a number no account uses sent nothing, so no code can be right.
    let valid = user_id.is_some() && state.code_key.matches(id, code, &expected);
    if !valid {
        let rejection = otp::count_wrong_code(&mut tx, CodeTable::Sms, id, attempts).await?;
        match purpose {
            Purpose::SignIn => {
                authentication::failed(&mut *tx, client, Method::SmsCode, user_id, "wrong_code")
                    .await?
            }
            Purpose::VerifyPhone => {
                let event = AuditEvent::new("phone.verification_failed", Outcome::Failure)
                    .about(user_id)
                    .detail(json!({ "attempts": attempts + 1 }));
                audit::record(&mut *tx, client, event).await?;
            }
        }
        tx.commit().await?;
        return Err(rejection.into());
    }
    sqlx::query("UPDATE sms_codes SET used_at = now() WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    session.remove::<Uuid>(purpose.session_key()).await?;
    Ok((tx, Phone::from_stored(phone), user_id))
}

/// Counts one text against the number and the client, or refuses when either is over its limit.
async fn admit(state: &AppState, client: &ClientInfo, phone: &Phone) -> Result<(), AccountError> {
    let country = phone.country();
    if let Some(allowed) = &state.settings.sms_countries {
        if !country.as_ref().is_some_and(|c| allowed.contains(c)) {
            return Err(PhoneError::CountryNotServed.into());
        }
    }
    let mut keys = throttle::sms_keys(phone.as_str(), client.ip.as_deref());
    if let Some(country) = country {
        keys.push((
            format!("sms-country:{country}"),
            ThrottlePolicy::SMS_PER_COUNTRY,
        ));
    }
    match throttle::admit(&state.db, &keys).await? {
        Some(minutes) => Err(AccountError::Throttled { minutes }),
        None => Ok(()),
    }
}

/// Texts a sign-in code to `phone` when an account has proven that number; the caller cannot
/// tell whether one has.
#[tracing::instrument(skip_all)]
pub async fn request_sign_in(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    phone: &Phone,
) -> Result<(), AccountError> {
    if !settings::current(state).await?.sms_enabled {
        return Err(AccountError::MethodDisabled);
    }
    ensure_available(state)?;
    admit(state, client, phone).await?;
    let mut tx = state.db.begin().await?;
    let user_id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM users WHERE phone = $1")
        .bind(phone.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let id = issue(
        state,
        &mut tx,
        Purpose::SignIn,
        phone,
        user_id,
        user_id.is_some(),
    )
    .await?;
    let event = AuditEvent::new("sms_sign_in.requested", Outcome::Success)
        .about(user_id)
        .detail(json!({ "known_account": user_id.is_some() }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    state.sms_queued.notify_one();
    session.insert(Purpose::SignIn.session_key(), id).await?;
    Ok(())
}

/// Signs in with the texted code, in the browser that asked for it.
#[tracing::instrument(skip_all)]
pub async fn sign_in_with_code(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    code: &str,
) -> Result<Uuid, AccountError> {
    if !settings::current(state).await?.sms_enabled {
        return Err(AccountError::MethodDisabled);
    }
    let (tx, _, user_id) = check(state, client, session, Purpose::SignIn, code).await?;
    let user_id = user_id.ok_or(CodeRejection::NoRequest)?;
    tx.commit().await?;
    authentication::sign_in(state, client, session, user_id, Method::SmsCode).await?;
    Ok(user_id)
}

/// Texts a code that proves `phone` belongs to the signed-in account. Needs a recent sign-in,
/// since the number may become a way to sign in.
#[tracing::instrument(skip_all)]
pub async fn request_phone_verification(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
    phone: &Phone,
) -> Result<(), AccountError> {
    mfa::freshness::ensure(&state.db, session, user_id).await?;
    ensure_available(state)?;
    admit(state, client, phone).await?;
    let mut tx = state.db.begin().await?;
    let id = issue(
        state,
        &mut tx,
        Purpose::VerifyPhone,
        phone,
        Some(user_id),
        true,
    )
    .await?;
    let event = AuditEvent::new("phone.verification_requested", Outcome::Success).by(user_id);
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    state.sms_queued.notify_one();
    session
        .insert(Purpose::VerifyPhone.session_key(), id)
        .await?;
    Ok(())
}

/// Whether this browser has a phone verification code outstanding.
pub async fn verification_pending(session: &Session) -> Result<bool, AccountError> {
    Ok(session
        .get::<Uuid>(Purpose::VerifyPhone.session_key())
        .await?
        .is_some())
}

/// Saves the number once the texted code proves it; returns the number.
#[tracing::instrument(skip_all)]
pub async fn confirm_phone(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
    code: &str,
) -> Result<Phone, AccountError> {
    let (mut tx, phone, owner) = check(state, client, session, Purpose::VerifyPhone, code).await?;
    if owner != Some(user_id) {
        return Err(CodeRejection::NoRequest.into());
    }
    let taken: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE phone = $1 AND id <> $2)")
            .bind(phone.as_str())
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
    if taken {
        return Err(PhoneError::InUse.into());
    }
    sqlx::query("UPDATE users SET phone = $2, phone_verified_at = now() WHERE id = $1")
        .bind(user_id)
        .bind(phone.as_str())
        .execute(&mut *tx)
        .await?;
    let event = AuditEvent::new("phone.verified", Outcome::Success).by(user_id);
    audit::record(&mut *tx, client, event).await?;
    webhooks::emit(&mut *tx, &webhooks::Event::PersonUpdated(user_id)).await?;
    tx.commit().await?;
    Ok(phone)
}

/// Removes the account's phone number (it stops working for sign-in at once).
pub async fn remove_phone(
    state: &AppState,
    client: &ClientInfo,
    user_id: Uuid,
) -> Result<(), AccountError> {
    let mut tx = state.db.begin().await?;
    forget_phone(&mut tx, user_id).await?;
    let event = AuditEvent::new("phone.removed", Outcome::Success).by(user_id);
    audit::record(&mut *tx, client, event).await?;
    webhooks::emit(&mut *tx, &webhooks::Event::PersonUpdated(user_id)).await?;
    tx.commit().await?;
    Ok(())
}

/// Forgets the account's phone number in the caller's transaction; whether it had one.
pub async fn forget_phone(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET phone = NULL, phone_verified_at = NULL, updated_at = now()
         WHERE id = $1 AND phone IS NOT NULL",
    )
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Refuses to send a text when no gateway is configured (outside development).
fn ensure_available(state: &AppState) -> Result<(), AccountError> {
    if state.settings.sms_available {
        Ok(())
    } else {
        Err(AccountError::MethodDisabled)
    }
}

/// The account's proven phone number, if any.
pub async fn phone_of(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Option<Phone>> {
    let phone: Option<Option<String>> = sqlx::query_scalar("SELECT phone FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(db)
        .await?;
    Ok(phone.flatten().map(Phone::from_stored))
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[
    Table {
        name: "sms_codes",
        person: Some("user_id"),
        personal: &["phone", "user_id", "code_hash"],
        other: &[
            "id",
            "purpose",
            "attempts",
            "expires_at",
            "used_at",
            "created_at",
        ],
        export: Export::RowsWithout(&["code_hash"]),
        erasure: Erasure::Delete,
    },
    Table {
        name: "sms_outbox",
        person: None,
        personal: &["recipient", "body"],
        other: &[
            "id",
            "attempts",
            "next_attempt_at",
            "expires_at",
            "delivered_at",
            "abandoned_at",
            "last_error",
            "created_at",
        ],
        export: Export::Not("texts on their way; the person's phone holds them"),
        erasure: Erasure::DeleteNaming("recipient = ANY($1)"),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_carries_the_code_and_the_webotp_line() {
        let text = message("Keyhaven", "123456", "id.example.com");
        assert!(text.starts_with("123456 is your Keyhaven code. It expires in 10 minutes."));
        assert!(text.ends_with("\n\n@id.example.com #123456"));
    }
}

//! Enrolling and removing second factors: an authenticator app (started, then confirmed with a
//! first code), a new set of recovery codes, removing the app. Each change needs a recent proof
//! (`freshness`), is audited and mails the person a notice; removing the last strong factor
//! while the policy requires one is refused. The second step of a sign-in uses the unchecked
//! [`begin`] and [`finish`] for an administrator made to enrol before going on.

use serde_json::json;
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    factors, freshness, recovery_codes,
    totp::{self, Enrolment},
};
use crate::{
    domain::{
        accounts::templates,
        assurance::Factor,
        audit::{self, AuditEvent, Outcome},
        branding,
        client::ClientInfo,
        error::AccountError,
        mail::{self, FactorChange},
        sessions, settings,
        users::{self, User},
    },
    state::AppState,
};

// New recovery codes, sealed, wait under this key until the page that shows them once has.
use crate::domain::sessions::HELD_CODES_KEY;

/// Why a change of factors was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FactorRejection {
    #[error("That code is not right. Check the time on your phone and try the newest code.")]
    WrongCode,
    #[error("That code was already used. Wait for the next one.")]
    Replayed,
    #[error("Start again: scan the new key, then type its first code.")]
    NoEnrolment,
    #[error("There is no authenticator app to remove.")]
    NotEnrolled,
    #[error(
        "This is your last strong second factor, and this account must sign in with one. Add \
         a passkey or another authenticator app first."
    )]
    LastStrongFactor,
    #[error("Recovery codes stand in for an authenticator app or a passkey: add one first.")]
    NoStrongFactor,
}

/// Starts enrolling an authenticator app for the signed-in `user_id` (after a recent proof).
pub async fn start(
    state: &AppState,
    session: &Session,
    user_id: Uuid,
) -> Result<Enrolment, AccountError> {
    freshness::ensure(&state.db, session, user_id).await?;
    let user = account(state, user_id).await?;
    begin(state, &user).await
}

/// Confirms the enrolment started in this browser with the app's first `code`. When the
/// person had no recovery codes left, a new set is held for showing once ([`take_held`]);
/// returns whether it was.
pub async fn confirm(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
    code: &str,
) -> Result<bool, AccountError> {
    freshness::ensure(&state.db, session, user_id).await?;
    let user = account(state, user_id).await?;
    let codes = finish(state, client, &user, code).await?;
    sessions::add_factor(session, Factor::Totp).await?;
    hold(state, session, user_id, &codes).await?;
    Ok(!codes.is_empty())
}

/// Keeps new recovery `codes` sealed in `session` until [`take_held`] shows them.
pub(crate) async fn hold(
    state: &AppState,
    session: &Session,
    user_id: Uuid,
    codes: &[String],
) -> Result<(), AccountError> {
    if codes.is_empty() {
        return Ok(());
    }
    let plain = serde_json::to_vec(codes).map_err(anyhow::Error::from)?;
    let sealed = state
        .factor_secrets
        .seal(&format!("held codes:{user_id}"), &plain);
    session.insert(HELD_CODES_KEY, sealed).await?;
    Ok(())
}

/// Whether new recovery codes wait in `session` to be shown.
pub async fn holds_codes(session: &Session) -> bool {
    matches!(session.get::<Vec<u8>>(HELD_CODES_KEY).await, Ok(Some(_)))
}

/// The new recovery codes held for `user_id`, once: they are gone from the session after.
pub async fn take_held(
    state: &AppState,
    session: &Session,
    user_id: Uuid,
) -> Result<Vec<String>, AccountError> {
    let Some(sealed) = session.remove::<Vec<u8>>(HELD_CODES_KEY).await? else {
        return Ok(Vec::new());
    };
    Ok(state
        .factor_secrets
        .open(&format!("held codes:{user_id}"), &sealed)
        .and_then(|plain| serde_json::from_slice(&plain).ok())
        .unwrap_or_default())
}

/// Makes a new secret for `user`, kept sealed in `totp_pending`, and what to show for it. While
/// one waits for its first code (15 minutes), showing the page again, or twice at once, shows
/// the same one (a person who scanned it and then reloaded keeps a working key).
pub(crate) async fn begin(state: &AppState, user: &User) -> Result<Enrolment, AccountError> {
    // The setup waiting, if one began in the last 15 minutes, else a new one; two requests
    // at once agree on the one that is stored first.
    let candidate = totp::seal(&state.factor_secrets, user.id, &totp::new_secret());
    let sealed: Vec<u8> = sqlx::query_scalar(
        "INSERT INTO totp_pending (user_id, sealed) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET
           sealed = CASE WHEN totp_pending.created_at > now() - interval '15 minutes'
                         THEN totp_pending.sealed ELSE EXCLUDED.sealed END,
           created_at = CASE WHEN totp_pending.created_at > now() - interval '15 minutes'
                             THEN totp_pending.created_at ELSE now() END
         RETURNING sealed",
    )
    .bind(user.id)
    .bind(&candidate)
    .fetch_one(&state.db)
    .await?;
    let secret = totp::open(&state.factor_secrets, user.id, &sealed)
        .ok_or_else(|| anyhow::anyhow!("a pending authenticator setup could not be opened"))?;
    let product = branding::default_brand(&state.db).await?.product_name;
    let enrolment = totp::enrolment(&secret, &product, &user.email)
        .ok_or_else(|| anyhow::anyhow!("an authenticator enrolment could not be drawn"))?;
    Ok(enrolment)
}

/// Stores the secret begun by [`begin`] once `code` matches it; audits, mails a notice, and
/// makes recovery codes when the person has none left.
pub(crate) async fn finish(
    state: &AppState,
    client: &ClientInfo,
    user: &User,
    code: &str,
) -> Result<Vec<String>, AccountError> {
    let sealed: Option<Vec<u8>> = sqlx::query_scalar(
        "SELECT sealed FROM totp_pending
         WHERE user_id = $1 AND created_at > now() - interval '15 minutes'",
    )
    .bind(user.id)
    .fetch_optional(&state.db)
    .await?;
    let secret = sealed
        .and_then(|sealed| totp::open(&state.factor_secrets, user.id, &sealed))
        .ok_or(FactorRejection::NoEnrolment)?;
    let now = OffsetDateTime::now_utc().unix_timestamp() as u64;
    let step = totp::matching_step(&secret, code, now).ok_or(FactorRejection::WrongCode)?;
    let mut tx = state.db.begin().await?;
    totp::store(&mut *tx, &state.factor_secrets, user.id, &secret, step).await?;
    sqlx::query("DELETE FROM totp_pending WHERE user_id = $1")
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    let codes = if recovery_codes::left(&mut *tx, user.id).await? == 0 {
        recovery_codes::replace(&mut tx, &state.recovery_key, user.id).await?
    } else {
        Vec::new()
    };
    changed(
        state,
        &mut tx,
        client,
        user,
        "mfa.totp_enrolled",
        FactorChange::AuthenticatorAdded,
    )
    .await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(codes)
}

/// Removes the signed-in person's authenticator app (after a recent proof), unless it is their
/// last strong factor and the policy requires one. Without a strong factor left, the recovery
/// codes go too.
pub async fn remove_totp(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
) -> Result<(), AccountError> {
    freshness::ensure(&state.db, session, user_id).await?;
    let user = account(state, user_id).await?;
    let policy = settings::current(state).await?.mfa_policy;
    let mut tx = state.db.begin().await?;
    users::lock(&mut tx, user_id).await?;
    let before = factors::of(&mut *tx, user_id).await?;
    if !before.totp {
        return Err(FactorRejection::NotEnrolled.into());
    }
    if before.passkeys == 0 && policy.requires(&user) {
        return Err(FactorRejection::LastStrongFactor.into());
    }
    totp::remove(&mut *tx, user_id).await?;
    if before.passkeys == 0 {
        recovery_codes::remove(&mut *tx, user_id).await?;
    }
    changed(
        state,
        &mut tx,
        client,
        &user,
        "mfa.totp_removed",
        FactorChange::AuthenticatorRemoved,
    )
    .await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(())
}

/// Replaces the signed-in person's recovery codes with a new set (after a recent proof), held
/// for showing once ([`take_held`]).
pub async fn new_recovery_codes(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
) -> Result<(), AccountError> {
    let factors = factors::of(&state.db, user_id).await?;
    freshness::ensure_with(session, &factors).await?;
    if !factors.has_strong() {
        return Err(FactorRejection::NoStrongFactor.into());
    }
    let user = account(state, user_id).await?;
    let mut tx = state.db.begin().await?;
    let codes = recovery_codes::replace(&mut tx, &state.recovery_key, user_id).await?;
    changed(
        state,
        &mut tx,
        client,
        &user,
        "mfa.recovery_codes_replaced",
        FactorChange::RecoveryCodesReplaced,
    )
    .await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    hold(state, session, user_id, &codes).await
}

async fn account(state: &AppState, user_id: Uuid) -> Result<User, AccountError> {
    users::find_by_id(&state.db, user_id)
        .await?
        .ok_or(AccountError::NoSuchAccount)
}

/// The audit row and the mailed notice of a change to `user`'s factors.
pub(crate) async fn changed(
    state: &AppState,
    tx: &mut sqlx::PgConnection,
    client: &ClientInfo,
    user: &User,
    action: &'static str,
    what: FactorChange,
) -> Result<(), AccountError> {
    let event = AuditEvent::new(action, Outcome::Success).by(user.id);
    audit::record(&mut *tx, client, event.detail(json!({}))).await?;
    notify_changed(state, tx, user, what).await
}

/// Mails `user` the notice that their factors changed (`what`), in their language.
pub(crate) async fn notify_changed(
    state: &AppState,
    tx: &mut sqlx::PgConnection,
    user: &User,
    what: FactorChange,
) -> Result<(), AccountError> {
    let brand = branding::default_brand(&mut *tx).await?;
    let notice = templates(state, &brand, user.language()).factors_changed(
        &user.email(),
        &user.display_name,
        what,
    );
    mail::enqueue(&mut *tx, &notice).await?;
    Ok(())
}

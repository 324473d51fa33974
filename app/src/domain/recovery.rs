//! Password recovery: a mailed single-use reset link (which proves the address), a new password,
//! and every sign-in of the account ended everywhere: browser sessions and the grants of every
//! app, offline access included, each app told by back-channel logout.

use serde_json::json;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    accounts::templates,
    address_proof,
    audit::{self, AuditEvent, Outcome},
    authentication::{self, Method},
    branding,
    client::ClientInfo,
    email::Email,
    error::AccountError,
    mail, mfa, passkeys,
    password::{NewPassword, Password},
    sign_out::{self, EndedSignIns},
    sms, social, throttle,
    tokens::{self, TokenPurpose},
    users, webhooks,
};
use crate::state::AppState;

/// Mails a reset link when `email` has an account; says nothing either way.
#[tracing::instrument(skip_all)]
pub async fn request_reset(
    state: &AppState,
    client: &ClientInfo,
    email: &Email,
) -> Result<(), AccountError> {
    let keys = throttle::mail_keys("password-reset", email.as_str(), client.ip.as_deref());
    if let Some(minutes) = throttle::admit(&state.db, &keys).await? {
        return Err(AccountError::Throttled { minutes });
    }
    let mut tx = state.db.begin().await?;
    let user = users::find_by_email(&mut *tx, email).await?;
    let event = AuditEvent::new("password.reset_requested", Outcome::Success)
        .about(user.as_ref().map(|u| u.id))
        .detail(json!({ "known_account": user.is_some() }));
    audit::record(&mut *tx, client, event).await?;
    if let Some(user) = user {
        let brand = branding::for_client(&mut *tx, client).await?;
        let token = tokens::issue(&mut tx, user.id, TokenPurpose::ResetPassword).await?;
        let message = templates(state, &brand, user.language()).reset_password(
            &user.email(),
            &user.display_name,
            token.expose(),
        );
        mail::enqueue(&mut *tx, &message).await?;
    }
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(())
}

/// Sets a new password with a reset token, ends every session of the account, tells the owner
/// by mail and signs this browser in.
#[tracing::instrument(skip_all)]
pub async fn reset_password(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    token: &str,
    password: Password,
) -> Result<(), AccountError> {
    // Check the token and the password before using the token up, so a refused password does
    // not cost the user their link.
    let mut conn = state.db.acquire().await?;
    let user_id = tokens::peek(&mut conn, token, TokenPurpose::ResetPassword).await??;
    drop(conn);
    let user = users::find_by_id(&state.db, user_id)
        .await?
        .ok_or(AccountError::NoSuchAccount)?;
    let policy = super::settings::current(state)
        .await?
        .limits
        .password_policy();
    let password = NewPassword::parse(
        password.expose().to_owned(),
        &[user.email.as_str(), user.display_name.as_str()],
        &policy,
    )?;
    let hash = state.passwords.hash(&password).await?;

    let mut tx = state.db.begin().await?;
    let user_id = tokens::consume(&mut tx, token, TokenPurpose::ResetPassword).await??;
    // The link arrived by mail, so whoever holds it controls the address.
    let issuer = &state.settings.public_url;
    let proof = address_proof::prove(&mut tx, client, Some(session), issuer, user_id).await?;
    users::set_password_hash(&mut *tx, user_id, &hash).await?;
    let ended = sign_out::end_everywhere(&mut tx, issuer, user_id).await?;
    let brand = branding::for_client(&mut *tx, client).await?;
    let message = templates(state, &brand, user.language())
        .password_changed(&user.email(), &user.display_name);
    mail::enqueue(&mut *tx, &message).await?;
    let event = AuditEvent::new("password.reset", Outcome::Success)
        .by(user_id)
        .detail(ended.detail());
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    proof.after_commit(state);
    ended.after_commit(state);
    state.mail_queued.notify_one();

    authentication::sign_in(state, client, session, user_id, Method::PasswordReset).await?;
    Ok(())
}

/// What an owner who suspects an intruder gets, in the caller's transaction: every sign-in
/// ends (apps told by back-channel), a password must be reset before it signs in again, a reset
/// link goes to `to` (the account's own address), and every other way in an intruder could have
/// added is removed: passkeys, linked social accounts, the authenticator app with its recovery
/// codes, remembered devices and the phone number. The owner adds back their own after the
/// reset; an intruder's would otherwise outlive the lock-out. Returns what ended and what went;
/// its `after_commit` is the caller's to run.
pub(crate) async fn lock_out_intruder(
    conn: &mut sqlx::PgConnection,
    state: &AppState,
    user_id: Uuid,
    to: &Email,
    name: &str,
) -> Result<LockedOut, AccountError> {
    sqlx::query(
        "UPDATE users SET password_reset_required = true, updated_at = now()
         WHERE id = $1 AND password_hash IS NOT NULL",
    )
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    let ended = sign_out::end_everywhere(&mut *conn, &state.settings.public_url, user_id).await?;
    let passkeys = passkeys::remove_all(&mut *conn, user_id).await?;
    let identities = social::identities::remove_all(&mut *conn, user_id).await?;
    let second_factors = mfa::factors::remove_all(&mut *conn, user_id).await?;
    let phone = sms::forget_phone(&mut *conn, user_id).await?;
    if phone {
        webhooks::emit(&mut *conn, &webhooks::Event::PersonUpdated(user_id)).await?;
    }
    let brand = branding::default_brand(&mut *conn).await?;
    // In the owner's language (English when the account is not found).
    let language = users::find_by_id(&mut *conn, user_id)
        .await?
        .map(|user| user.language())
        .unwrap_or_default();
    let reset = tokens::issue(&mut *conn, user_id, TokenPurpose::ResetPassword).await?;
    let message = templates(state, &brand, language).reset_password(to, name, reset.expose());
    mail::enqueue(&mut *conn, &message).await?;
    Ok(LockedOut {
        ended,
        passkeys,
        identities,
        second_factors,
        phone,
    })
}

/// What a lock-out ended and removed.
pub(crate) struct LockedOut {
    ended: EndedSignIns,
    passkeys: u64,
    identities: u64,
    /// Authenticator app, recovery codes and remembered devices, in rows.
    second_factors: u64,
    phone: bool,
}

impl LockedOut {
    /// The audit detail: the sign-ins ended and the ways in removed.
    pub(crate) fn detail(&self) -> serde_json::Value {
        let mut detail = self.ended.detail();
        detail["passkeys_removed"] = json!(self.passkeys);
        detail["identities_removed"] = json!(self.identities);
        detail["second_factors_removed"] = json!(self.second_factors);
        detail["phone_removed"] = json!(self.phone);
        detail
    }

    /// Wakes the logout worker and tells this node's revocation copy at once.
    pub(crate) fn after_commit(&self, state: &AppState) {
        self.ended.after_commit(state);
    }
}

//! What an operator does to one customer's account, from the console or the command line:
//! lock, unlock, end every sign-in, require a password reset, verify the address by hand,
//! rename, change the address, remove the phone number, resend the verification mail, remove a second factor or passkey, delete. Each runs
//! in one transaction and writes one audit row with the actor and the reason. Staff accounts
//! are not customers: they are managed as staff (`staff::members`).

use serde_json::{json, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use super::Reason;
use crate::{
    domain::{
        audit::{self, Actor, AuditEvent, Outcome},
        client::ClientInfo,
        email::{Email, EmailError},
        email_change,
        error::AccountError,
        mail::{self, FactorChange},
        mfa::{enrolment::notify_changed, recovery_codes, totp},
        names::DisplayName,
        passkeys,
        sign_out::{self, EndedSignIns},
        users::{self, Role, User},
        webhooks,
    },
    state::AppState,
};

/// One operator action: who, on whom, and why.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub actor: Actor,
    pub client: &'a ClientInfo,
    pub user_id: Uuid,
    pub reason: &'a Reason,
}

/// The customer's account, locked until the transaction ends; staff accounts are not found.
pub(crate) async fn customer(conn: &mut PgConnection, user_id: Uuid) -> Result<User, AccountError> {
    users::lock(conn, user_id).await?;
    users::find_by_id(&mut *conn, user_id)
        .await?
        .filter(|u| u.role == Role::Customer)
        .ok_or(AccountError::NoSuchAccount)
}

/// The customer id of `email` (for the command line).
pub async fn by_email(state: &AppState, email: &Email) -> Result<Uuid, AccountError> {
    users::find_by_email(&state.db, email)
        .await?
        .filter(|u| u.role == Role::Customer)
        .map(|u| u.id)
        .ok_or(AccountError::NoSuchAccount)
}

async fn audit_done(
    tx: &mut PgConnection,
    request: &Request<'_>,
    action: &'static str,
    mut detail: Value,
) -> Result<(), AccountError> {
    detail["reason"] = Value::from(request.reason.as_str());
    let event = AuditEvent::new(action, Outcome::Success)
        .by_actor(request.actor.clone())
        .about(Some(request.user_id))
        .detail(detail);
    audit::record(&mut *tx, request.client, event).await?;
    Ok(())
}

/// Locks the account: no sign-in by any method until it is unlocked, and every sign-in ends
/// now. False when it was locked already.
pub async fn lock(state: &AppState, request: &Request<'_>) -> Result<bool, AccountError> {
    let mut tx = state.db.begin().await?;
    let user = customer(&mut tx, request.user_id).await?;
    if user.locked_at.is_some() {
        return Ok(false);
    }
    sqlx::query("UPDATE users SET locked_at = now(), updated_at = now() WHERE id = $1")
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    let ended = sign_out::end_everywhere(&mut tx, &state.settings.public_url, user.id).await?;
    webhooks::emit(&mut *tx, &webhooks::Event::PersonLocked(user.id)).await?;
    audit_done(&mut tx, request, "account.locked", ended.detail()).await?;
    tx.commit().await?;
    ended.after_commit(state);
    Ok(true)
}

/// Unlocks the account: lifts an operator's lock and the lockout of too many failed passwords.
/// False when neither held.
pub async fn unlock(state: &AppState, request: &Request<'_>) -> Result<bool, AccountError> {
    let mut tx = state.db.begin().await?;
    let user = customer(&mut tx, request.user_id).await?;
    let locked = user.locked_at.is_some();
    let password_locked = user.password_locked_at.is_some();
    if !locked && !password_locked {
        return Ok(false);
    }
    sqlx::query("UPDATE users SET locked_at = NULL, updated_at = now() WHERE id = $1")
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    users::unlock_password(&mut *tx, user.id).await?;
    let detail = json!({ "account_lock": locked, "password_lockout": password_locked });
    audit_done(&mut tx, request, "account.unlocked", detail).await?;
    tx.commit().await?;
    Ok(true)
}

/// Ends every sign-in of the account: browser sessions and every app's grant, offline access
/// included, each app told by back-channel logout.
pub async fn end_sessions(
    state: &AppState,
    request: &Request<'_>,
) -> Result<EndedSignIns, AccountError> {
    let mut tx = state.db.begin().await?;
    let user = customer(&mut tx, request.user_id).await?;
    let ended = sign_out::end_everywhere(&mut tx, &state.settings.public_url, user.id).await?;
    audit_done(&mut tx, request, "account.sessions_ended", ended.detail()).await?;
    tx.commit().await?;
    ended.after_commit(state);
    Ok(ended)
}

/// The password may not be used again: the next password sign-in is refused until the owner
/// resets it, and every sign-in ends now. False when the account has no password.
pub async fn require_reset(state: &AppState, request: &Request<'_>) -> Result<bool, AccountError> {
    let mut tx = state.db.begin().await?;
    let user = customer(&mut tx, request.user_id).await?;
    if user.password_hash.is_none() {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE users SET password_reset_required = true, updated_at = now() WHERE id = $1",
    )
    .bind(user.id)
    .execute(&mut *tx)
    .await?;
    let ended = sign_out::end_everywhere(&mut tx, &state.settings.public_url, user.id).await?;
    audit_done(&mut tx, request, "password.reset_required", ended.detail()).await?;
    tx.commit().await?;
    ended.after_commit(state);
    Ok(true)
}

/// Marks the address proven by hand (the operator checked it some other way). False when it
/// was proven already.
pub async fn verify_email(state: &AppState, request: &Request<'_>) -> Result<bool, AccountError> {
    let mut tx = state.db.begin().await?;
    let user = customer(&mut tx, request.user_id).await?;
    if user.is_verified() {
        return Ok(false);
    }
    users::mark_proven(&mut *tx, user.id).await?;
    audit_done(&mut tx, request, "email.verified_by_staff", json!({})).await?;
    tx.commit().await?;
    Ok(true)
}

/// Changes the display name (audited with the name before and after).
pub async fn rename(
    state: &AppState,
    request: &Request<'_>,
    name: &DisplayName,
) -> Result<(), AccountError> {
    let mut tx = state.db.begin().await?;
    let user = customer(&mut tx, request.user_id).await?;
    rename_in(&mut tx, request, &user, name).await?;
    tx.commit().await?;
    Ok(())
}

/// [`rename`] inside the caller's transaction, `user` locked by [`customer`].
pub(crate) async fn rename_in(
    tx: &mut PgConnection,
    request: &Request<'_>,
    user: &User,
    name: &DisplayName,
) -> Result<(), AccountError> {
    users::set_display_name(&mut *tx, user.id, name).await?;
    let detail = json!({ "display_name": { "before": user.display_name, "after": name.as_str() } });
    audit_done(tx, request, "profile.updated", detail).await
}

/// Moves the account to the address `new`, which counts as proven by staff (they checked it
/// some other way, and say how in the reason: a change that waited for the new address's
/// proof would, at that proof, strip the account as a pre-hijacking defence). The old address
/// is told, and every link or code mailed to it stops working. False when it is the same
/// address; refused when another account uses it.
pub async fn change_email(
    state: &AppState,
    request: &Request<'_>,
    new: &Email,
) -> Result<bool, AccountError> {
    let mut tx = state.db.begin().await?;
    let user = customer(&mut tx, request.user_id).await?;
    if !change_email_in(state, &mut tx, request, &user, new).await? {
        return Ok(false);
    }
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(true)
}

/// [`change_email`] inside the caller's transaction, `user` locked by [`customer`]; the caller
/// wakes the mailer after its commit.
pub(crate) async fn change_email_in(
    state: &AppState,
    tx: &mut PgConnection,
    request: &Request<'_>,
    user: &User,
    new: &Email,
) -> Result<bool, AccountError> {
    let old = user.email();
    if old.as_str().to_lowercase() == new.as_str().to_lowercase() {
        return Ok(false);
    }
    if email_change::holder(&mut *tx, new, user.id)
        .await?
        .is_some()
    {
        return Err(EmailError::InUse.into());
    }
    // Links and codes mailed to the old address open nothing any more.
    email_change::move_address(&mut *tx, user.id, new, false).await?;
    // The owner's own change links, and the old address's undo, end with it.
    email_change::end_all(&mut *tx, user.id).await?;
    let brand = crate::domain::branding::default_brand(&mut *tx).await?;
    let notice = mail::Templates::new(&state.settings.public_url, &brand, user.language())
        .email_changed(&old, &user.display_name, &new.masked());
    mail::enqueue(&mut *tx, &notice).await?;
    let detail = json!({ "email": { "before": old.as_str(), "after": new.as_str() } });
    audit_done(tx, request, "email.changed_by_staff", detail).await?;
    Ok(true)
}

/// Removes the phone number (it stops working for sign-in at once). False when there was
/// none.
pub async fn remove_phone(state: &AppState, request: &Request<'_>) -> Result<bool, AccountError> {
    let mut tx = state.db.begin().await?;
    let user = customer(&mut tx, request.user_id).await?;
    let Some(phone) = user.phone.clone() else {
        return Ok(false);
    };
    sqlx::query(
        "UPDATE users SET phone = NULL, phone_verified_at = NULL, updated_at = now()
         WHERE id = $1",
    )
    .bind(user.id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM sms_codes WHERE user_id = $1")
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    audit_done(
        &mut tx,
        request,
        "phone.removed_by_staff",
        json!({ "phone": phone }),
    )
    .await?;
    webhooks::emit(&mut *tx, &webhooks::Event::PersonUpdated(user.id)).await?;
    tx.commit().await?;
    Ok(true)
}

/// Sends a fresh verification link. False when the address is proven already.
pub async fn resend_verification(
    state: &AppState,
    request: &Request<'_>,
) -> Result<bool, AccountError> {
    let mut tx = state.db.begin().await?;
    let user = customer(&mut tx, request.user_id).await?;
    if user.is_verified() {
        return Ok(false);
    }
    // Sent by staff, so it wears the default brand.
    let staff_side = crate::domain::client::ClientInfo::default();
    crate::domain::accounts::queue_verification(state, &staff_side, &mut tx, &user).await?;
    audit_done(&mut tx, request, "email.verification_sent", json!({})).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(true)
}

/// A second factor an operator can remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactorToRemove {
    /// The authenticator app (its recovery codes go too when no strong factor is left).
    Authenticator,
    /// One passkey, by its public id.
    Passkey(String),
}

/// Removes a second factor or passkey (the owner is mailed a notice). A passkey that is the
/// account's last way in stays. False when there was no such factor.
pub async fn remove_factor(
    state: &AppState,
    request: &Request<'_>,
    factor: &FactorToRemove,
) -> Result<bool, AccountError> {
    let mut tx = state.db.begin().await?;
    let user = customer(&mut tx, request.user_id).await?;
    let (kind, what) = match factor {
        FactorToRemove::Authenticator => {
            if !totp::remove(&mut *tx, user.id).await? {
                return Ok(false);
            }
            let strong_left = crate::domain::mfa::factors::of(&mut *tx, user.id)
                .await?
                .has_strong();
            if !strong_left {
                recovery_codes::remove(&mut *tx, user.id).await?;
            }
            ("authenticator", FactorChange::AuthenticatorRemovedBySupport)
        }
        FactorToRemove::Passkey(id) => {
            if !passkeys::remove_in(&mut tx, user.id, id).await? {
                return Ok(false);
            }
            ("passkey", FactorChange::PasskeyRemovedBySupport)
        }
    };
    notify_changed(state, &mut tx, &user, what).await?;
    audit_done(
        &mut tx,
        request,
        "account.factor_removed",
        json!({ "factor": kind }),
    )
    .await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(true)
}

/// Deletes the account: every sign-in ends (apps told), then the account and everything that
/// hangs on it go. The audit row keeps the address and the reason.
pub async fn delete(state: &AppState, request: &Request<'_>) -> Result<(), AccountError> {
    let mut tx = state.db.begin().await?;
    let user = customer(&mut tx, request.user_id).await?;
    let ended = sign_out::end_everywhere(&mut tx, &state.settings.public_url, user.id).await?;
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    // Earlier messages about the person go with them; subscribers are told to forget them.
    webhooks::forget(&mut *tx, user.id).await?;
    webhooks::emit(&mut *tx, &webhooks::Event::PersonDeleted(user.id)).await?;
    let mut detail = ended.detail();
    detail["email"] = Value::from(user.email.clone());
    audit_done(&mut tx, request, "account.deleted", detail).await?;
    tx.commit().await?;
    ended.after_commit(state);
    Ok(())
}

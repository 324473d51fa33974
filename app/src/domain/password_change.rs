//! The signed-in person's own password: change it (proven by the current one, or by a recent
//! sign-in), set one on an account that has none, or remove it while another way in remains.
//! A change or a removal signs every other device out (their apps told, their grants ended);
//! each is mailed to the owner and audited.

use serde_json::json;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    accounts::templates,
    active_sessions,
    audit::{self, AuditEvent, Outcome},
    branding,
    client::ClientInfo,
    error::AccountError,
    hashing::Verification,
    mail::{self, FactorChange, OutgoingMail},
    mfa,
    password::{NewPassword, Password},
    sessions, settings,
    sign_out::EndedSignIns,
    throttle::{self, ThrottlePolicy},
    users::{self, User},
};
use crate::state::AppState;

/// Why a password change cannot go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordChangeError {
    #[error("That is not your current password.")]
    WrongCurrent,
    #[error("Your account has no password yet: set one instead.")]
    NoPassword,
    #[error("Your account already has a password: change it instead.")]
    HasPassword,
    #[error(
        "Your password is your only way to sign in. Add a passkey or link another account first."
    )]
    OnlyWayIn,
}

/// Changes the password of `user_id` to `new`. `current` proves it is the owner; without it a
/// recent sign-in must (see `mfa::freshness`). A wrong current password counts as a failed
/// sign-in of the account.
#[tracing::instrument(skip_all)]
pub async fn change(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
    current: Option<&Password>,
    new: Password,
) -> Result<(), AccountError> {
    let user = account(state, user_id).await?;
    let Some(stored) = user.password_hash.as_deref() else {
        return Err(PasswordChangeError::NoPassword.into());
    };
    let new = acceptable(state, &user, new).await?;
    match current {
        Some(current) => check_current(state, client, &user, stored, current).await?,
        None => mfa::freshness::ensure(&state.db, session, user_id).await?,
    }
    let hash = state.passwords.hash(&new).await?;

    let mut tx = state.db.begin().await?;
    if !users::ways_in_for_update(&mut tx, user_id).await?.password {
        return Err(PasswordChangeError::NoPassword.into());
    }
    users::set_password_hash(&mut *tx, user_id, &hash).await?;
    let ended = end_others(&mut tx, state, session, user_id).await?;
    let proof = if current.is_some() {
        "current_password"
    } else {
        "recent_sign_in"
    };
    let event = AuditEvent::new("password.changed", Outcome::Success)
        .by(user_id)
        .detail(json!({ "proven_by": proof, "ended": ended.detail() }));
    let brand = branding::for_client(&mut *tx, client).await?;
    let message = templates(state, &brand, user.language())
        .password_changed(&user.email(), &user.display_name);
    finish(tx, state, client, event, message, ended).await
}

/// Gives a passwordless account a password. Needs a recent sign-in.
#[tracing::instrument(skip_all)]
pub async fn set(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
    new: Password,
) -> Result<(), AccountError> {
    mfa::freshness::ensure(&state.db, session, user_id).await?;
    let user = account(state, user_id).await?;
    if user.password_hash.is_some() {
        return Err(PasswordChangeError::HasPassword.into());
    }
    let new = acceptable(state, &user, new).await?;
    let hash = state.passwords.hash(&new).await?;

    let mut tx = state.db.begin().await?;
    // Counted under the row lock: a password set meanwhile (another tab) is not overwritten.
    if users::ways_in_for_update(&mut tx, user_id).await?.password {
        return Err(PasswordChangeError::HasPassword.into());
    }
    users::set_password_hash(&mut *tx, user_id, &hash).await?;
    let event = AuditEvent::new("password.set", Outcome::Success).by(user_id);
    let brand = branding::for_client(&mut *tx, client).await?;
    let message = templates(state, &brand, user.language()).factors_changed(
        &user.email(),
        &user.display_name,
        FactorChange::PasswordAdded,
    );
    finish(tx, state, client, event, message, EndedSignIns::default()).await
}

/// Removes the password of `user_id`, when another way in remains (a passkey, a linked
/// account, or the verified address while email sign-in is on). Needs a recent sign-in.
#[tracing::instrument(skip_all)]
pub async fn remove(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
) -> Result<(), AccountError> {
    mfa::freshness::ensure(&state.db, session, user_id).await?;
    let user = account(state, user_id).await?;

    let mut tx = state.db.begin().await?;
    let email_sign_in = settings::load(&mut *tx).await?.email_sign_in_enabled;
    let ways_in = users::ways_in_for_update(&mut tx, user_id).await?;
    if !ways_in.password {
        return Err(PasswordChangeError::NoPassword.into());
    }
    if ways_in.count(email_sign_in) <= 1 {
        return Err(PasswordChangeError::OnlyWayIn.into());
    }
    users::clear_password(&mut *tx, user_id).await?;
    let ended = end_others(&mut tx, state, session, user_id).await?;
    let event = AuditEvent::new("password.removed", Outcome::Success)
        .by(user_id)
        .detail(json!({ "ended": ended.detail() }));
    let brand = branding::for_client(&mut *tx, client).await?;
    let message = templates(state, &brand, user.language()).factors_changed(
        &user.email(),
        &user.display_name,
        FactorChange::PasswordRemoved,
    );
    finish(tx, state, client, event, message, ended).await
}

async fn account(state: &AppState, user_id: Uuid) -> Result<User, AccountError> {
    users::find_by_id(&state.db, user_id)
        .await?
        .ok_or(AccountError::NoSuchAccount)
}

/// `new` as the business's password policy accepts it, judged against the person's own
/// address and name.
async fn acceptable(
    state: &AppState,
    user: &User,
    new: Password,
) -> Result<NewPassword, AccountError> {
    let policy = settings::current(state).await?.limits.password_policy();
    let context = [user.email.as_str(), user.display_name.as_str()];
    Ok(NewPassword::parse(
        new.expose().to_owned(),
        &context,
        &policy,
    )?)
}

/// Checks the current password the way a password sign-in does: the account's throttle and
/// lockout first, and a wrong one counted against both.
async fn check_current(
    state: &AppState,
    client: &ClientInfo,
    user: &User,
    stored: &str,
    current: &Password,
) -> Result<(), AccountError> {
    let key = throttle::account_key(&user.email);
    if let Some(minutes) = throttle::locked_minutes(&state.db, std::slice::from_ref(&key)).await? {
        return Err(AccountError::Throttled { minutes });
    }
    if user.password_locked_at.is_some() {
        return Err(AccountError::PasswordLocked);
    }
    match state.passwords.verify(current, Some(stored)).await? {
        Verification::Match | Verification::MatchNeedsRehash => Ok(()),
        Verification::Mismatch => {
            throttle::record_failure(&state.db, &key, ThrottlePolicy::ACCOUNT).await?;
            let locked = users::count_failed_sign_in(&state.db, user.id).await?;
            let event = AuditEvent::new("password.change_failed", Outcome::Failure)
                .by(user.id)
                .detail(json!({ "reason": "wrong_current_password", "password_locked": locked }));
            audit::record(&state.db, client, event).await?;
            match throttle::locked_minutes(&state.db, &[key]).await? {
                Some(minutes) => Err(AccountError::Throttled { minutes }),
                None => Err(PasswordChangeError::WrongCurrent.into()),
            }
        }
    }
}

/// Ends every sign-in of `user_id` but this browser's.
async fn end_others(
    conn: &mut sqlx::PgConnection,
    state: &AppState,
    session: &Session,
    user_id: Uuid,
) -> Result<EndedSignIns, AccountError> {
    let keep = sessions::sid(session).await?;
    let issuer = &state.settings.public_url;
    Ok(active_sessions::end_where(conn, issuer, user_id, None, Some(&keep)).await?)
}

/// Mails the owner, audits, commits, then tells what must hear of it.
async fn finish(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    state: &AppState,
    client: &ClientInfo,
    event: AuditEvent,
    message: OutgoingMail,
    ended: EndedSignIns,
) -> Result<(), AccountError> {
    mail::enqueue(&mut *tx, &message).await?;
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    ended.after_commit(state);
    state.mail_queued.notify_one();
    Ok(())
}

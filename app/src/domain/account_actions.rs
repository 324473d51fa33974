//! What an operator does to one account (from the command line now, the console later): end
//! every sign-in of it everywhere, or lift a password lockout. Each is audited with the actor.

use serde_json::json;

use super::{
    audit::{self, Actor, AuditEvent, Outcome},
    client::ClientInfo,
    email::Email,
    error::AccountError,
    sign_out::{self, EndedEverywhere},
    users,
};
use crate::state::AppState;

/// Ends every sign-in of the account of `email`: browser sessions and every app's grant, offline
/// access included, each app told by back-channel logout.
pub async fn end_all_sessions(
    state: &AppState,
    email: &Email,
    actor: Actor,
) -> Result<EndedEverywhere, AccountError> {
    let user = users::find_by_email(&state.db, email)
        .await?
        .ok_or(AccountError::NoSuchAccount)?;
    let mut tx = state.db.begin().await?;
    let ended = sign_out::end_everywhere(&mut tx, &state.settings.public_url, user.id).await?;
    let event = AuditEvent::new("account.sessions_ended", Outcome::Success)
        .by_actor(actor)
        .about(Some(user.id))
        .detail(ended.detail());
    audit::record(&mut *tx, &ClientInfo::default(), event).await?;
    tx.commit().await?;
    ended.after_commit(state);
    Ok(ended)
}

/// Lifts the password lockout of the account of `email`; false when it was not locked.
pub async fn unlock_password(
    state: &AppState,
    email: &Email,
    actor: Actor,
) -> Result<bool, AccountError> {
    let user = users::find_by_email(&state.db, email)
        .await?
        .ok_or(AccountError::NoSuchAccount)?;
    let mut tx = state.db.begin().await?;
    if !users::unlock_password(&mut *tx, user.id).await? {
        return Ok(false);
    }
    let event = AuditEvent::new("password.unlocked", Outcome::Success)
        .by_actor(actor)
        .about(Some(user.id))
        .detail(json!({ "email": email.as_str() }));
    audit::record(&mut *tx, &ClientInfo::default(), event).await?;
    tx.commit().await?;
    Ok(true)
}

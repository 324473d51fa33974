//! The consent step of a sign-in: when the person has not accepted the current version of a
//! required purpose (or, after a social, passkey or email sign-up, was never asked), their
//! proven sign-in waits in the session (10 minutes, this browser only) while the page asks.
//! Accepting records the answer in the ledger and signs in; declining ends the attempt with
//! nothing signed in. A person already signed in whom an app's authorization finds behind on a
//! required policy is asked on the same page before the app goes on.

use serde_json::json;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    held::{self, Waiting},
    second_step::StepRejection,
};
use crate::{
    domain::{
        audit::{self, AuditEvent, Outcome},
        client::ClientInfo,
        consents::asked::{self, Answer, Ask},
        error::AccountError,
        sessions,
    },
    state::AppState,
};

/// The consent step's page.
pub const PAGE: &str = "/signin/consent";
const KEY: &str = "consent_step";

/// Holds the proven sign-in of `step` until the person answers; audits the question.
pub(super) async fn begin(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    step: Waiting,
    ask: &Ask,
) -> Result<(), AccountError> {
    let keys: Vec<&str> = ask.purposes.iter().map(|p| p.key.as_str()).collect();
    let event = AuditEvent::new("signin.consent_asked", Outcome::Success)
        .about(Some(step.user_id))
        .detail(json!({ "method": step.method.as_str(), "purposes": keys }));
    audit::record(&state.db, client, event).await?;
    held::hold(session, KEY, step).await
}

/// The waiting sign-in, if one is within its time.
async fn pending(session: &Session) -> Result<Option<Waiting>, AccountError> {
    held::pending(session, KEY).await
}

/// Whether a sign-in waits for an answer.
pub async fn waits(session: &Session) -> bool {
    pending(session).await.ok().flatten().is_some()
}

/// Drops a waiting sign-in.
pub(super) async fn clear(session: &Session) -> Result<(), AccountError> {
    held::clear(session, KEY).await
}

/// Who the page asks, and the name of the question: the person whose sign-in waits (the
/// step's id), else the signed-in person (no name).
async fn asked_person(session: &Session) -> Result<Option<(Uuid, String)>, AccountError> {
    if let Some(step) = pending(session).await? {
        return Ok(Some((step.user_id, step.id.to_string())));
    }
    Ok(sessions::current_user(session)
        .await?
        .map(|id| (id, String::new())))
}

/// What the page asks, with the name its answer must give back; `None` when nothing is
/// outstanding.
pub async fn question(
    state: &AppState,
    session: &Session,
) -> Result<Option<(Ask, String)>, AccountError> {
    let Some((user_id, name)) = asked_person(session).await? else {
        return Ok(None);
    };
    let ask = asked::outstanding(&state.db, user_id).await?;
    Ok(ask.map(|ask| (ask, name)))
}

/// Whether the signed-in `user_id` must answer before an app goes on.
pub async fn behind(state: &AppState, user_id: Uuid) -> Result<bool, AccountError> {
    Ok(asked::outstanding(&state.db, user_id).await?.is_some())
}

/// Records the person's `answer` to the question named `shown` and goes on: a waiting sign-in
/// is completed. Refused, with nothing written, when the question is not the one waiting, the
/// account was locked or its password reset meanwhile, or a required purpose is unticked or
/// changed since it was shown.
pub async fn accept(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    shown: &str,
    answer: &Answer,
) -> Result<(), AccountError> {
    let waiting = pending(session).await?;
    let user_id = match &waiting {
        Some(step) if step.id.to_string() == shown => {
            held::still_admitted(state, client, session, KEY, step).await?;
            step.user_id
        }
        None if shown.is_empty() => sessions::current_user(session)
            .await?
            .ok_or(StepRejection::NoStep)?,
        _ => return Err(StepRejection::NoStep.into()),
    };
    let mut tx = state.db.begin().await?;
    // Serialises two tabs answering at once: the second finds nothing outstanding.
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    if let Some(ask) = asked::outstanding(&state.db, user_id).await? {
        let granted = asked::check(&ask, answer)?;
        asked::record(&mut tx, client, user_id, &granted, ask.collection()).await?;
    }
    tx.commit().await?;
    if let Some(step) = waiting {
        clear(session).await?;
        step.go_on(state, client, session).await?;
    }
    Ok(())
}

/// Ends a waiting sign-in the person would not consent to; nothing is signed in. False when
/// none waited.
pub async fn decline(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
) -> Result<bool, AccountError> {
    let Some(step) = pending(session).await? else {
        return Ok(false);
    };
    clear(session).await?;
    super::failed(
        &state.db,
        client,
        step.method,
        Some(step.user_id),
        "consent_declined",
    )
    .await?;
    Ok(true)
}

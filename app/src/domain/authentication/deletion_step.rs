//! The pending deletion's step of a sign-in: a person whose account is set to be deleted
//! proves who they are as on any sign-in, then the proven sign-in waits (`held`) while the
//! page offers to cancel the deletion. Cancelling keeps the account and goes on signing in
//! (through the consent step, when one is due); keeping the deletion ends the attempt with
//! nothing signed in.

use time::OffsetDateTime;
use tower_sessions::Session;

use super::{
    held::{self, Waiting},
    second_step::StepRejection,
    Progress,
};
use crate::{
    domain::{client::ClientInfo, error::AccountError, privacy::deletion},
    state::AppState,
};

/// The step's page.
pub const PAGE: &str = "/signin/deletion";
const KEY: &str = "deletion_step";

/// Holds the proven sign-in of `step`, whose account is set to be deleted.
pub(super) async fn begin(session: &Session, step: Waiting) -> Result<(), AccountError> {
    held::hold(session, KEY, step).await
}

/// Whether a sign-in waits here.
pub async fn waits(session: &Session) -> bool {
    held::pending(session, KEY).await.ok().flatten().is_some()
}

/// Drops a waiting sign-in.
pub(super) async fn clear(session: &Session) -> Result<(), AccountError> {
    held::clear(session, KEY).await
}

/// When the waiting person's account is to be deleted, with the name the answer must give
/// back; `None` when no sign-in waits, or its deletion was cancelled meanwhile.
pub async fn question(
    state: &AppState,
    session: &Session,
) -> Result<Option<(OffsetDateTime, String)>, AccountError> {
    let Some(step) = held::pending(session, KEY).await? else {
        return Ok(None);
    };
    let due = deletion::pending(&state.db, step.user_id).await?;
    Ok(due.map(|due| (due, step.id.to_string())))
}

/// Cancels the deletion of the waiting person's account and goes on signing them in.
/// Refused, with nothing changed, when the sign-in named `shown` does not wait here, or the
/// account was locked meanwhile.
pub async fn cancel(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    shown: &str,
) -> Result<Progress, AccountError> {
    let step = match held::pending(session, KEY).await? {
        Some(step) if step.id.to_string() == shown => step,
        _ => return Err(StepRejection::NoStep.into()),
    };
    held::still_admitted(state, client, session, KEY, &step).await?;
    let mut tx = state.db.begin().await?;
    // A second tab finds nothing left to cancel, and goes on all the same.
    deletion::cancel(&mut tx, client, step.user_id).await?;
    tx.commit().await?;
    clear(session).await?;
    step.go_on(state, client, session).await
}

/// Ends a waiting sign-in whose person keeps the deletion: nothing is signed in. False when
/// none waited.
pub async fn keep(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
) -> Result<bool, AccountError> {
    let Some(step) = held::pending(session, KEY).await? else {
        return Ok(false);
    };
    clear(session).await?;
    super::failed(
        &state.db,
        client,
        step.method,
        Some(step.user_id),
        "deletion_kept",
    )
    .await?;
    Ok(true)
}

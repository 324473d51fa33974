//! A proven sign-in held in the session (this browser only, for 10 minutes) while the person
//! answers a question before it goes on: the consent step's, and the pending deletion's. Each
//! step keeps its own under its own session key; the answer must name the held sign-in back.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::{Method, RiskMark};
use crate::{
    domain::{client::ClientInfo, error::AccountError, sessions::FactorUse, users},
    state::AppState,
};

/// How long a proven sign-in waits for the answer.
const LIFETIME_SECS: i64 = 600;

/// A proven sign-in waiting for the person's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Waiting {
    /// Names the question this sign-in asked: an answer must name it back, so an answer to a
    /// question shown before another sign-in in the same browser is not taken for this one.
    pub id: Uuid,
    pub user_id: Uuid,
    pub method: Method,
    pub proven: Vec<FactorUse>,
    pub risk: Option<RiskMark>,
    pub started_at: i64,
}

impl Waiting {
    /// A sign-in of `user_id` proven now by `method` and `proven` factors.
    pub fn new(
        user_id: Uuid,
        method: Method,
        proven: &[FactorUse],
        risk: Option<&RiskMark>,
    ) -> Self {
        Self {
            id: Uuid::new_v4(),
            user_id,
            method,
            proven: proven.to_vec(),
            risk: risk.cloned(),
            started_at: OffsetDateTime::now_utc().unix_timestamp(),
        }
    }

    /// Goes on with the held sign-in once its question is answered (`complete` asks the next
    /// question, if any, or signs in).
    pub async fn go_on(
        &self,
        state: &AppState,
        client: &ClientInfo,
        session: &Session,
    ) -> Result<super::Progress, AccountError> {
        super::complete(
            state,
            client,
            session,
            self.user_id,
            self.method,
            &self.proven,
            self.risk.clone().map(super::Verdict::Stored),
        )
        .await
    }
}

/// Holds `step` under `key`.
pub(super) async fn hold(session: &Session, key: &str, step: Waiting) -> Result<(), AccountError> {
    session.insert(key, step).await?;
    Ok(())
}

/// The sign-in held under `key`, if one is within its time.
pub(super) async fn pending(session: &Session, key: &str) -> Result<Option<Waiting>, AccountError> {
    let Some(step) = session.get::<Waiting>(key).await? else {
        return Ok(None);
    };
    if OffsetDateTime::now_utc().unix_timestamp() - step.started_at > LIFETIME_SECS {
        clear(session, key).await?;
        return Ok(None);
    }
    Ok(Some(step))
}

/// Drops the sign-in held under `key`.
pub(super) async fn clear(session: &Session, key: &str) -> Result<(), AccountError> {
    session.remove::<Waiting>(key).await?;
    Ok(())
}

/// Refuses (and drops) a held sign-in whose account is gone, was locked, or must reset its
/// password while the question waited (the checks every sign-in starts with,
/// `super::admitted`).
pub(super) async fn still_admitted(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    key: &str,
    step: &Waiting,
) -> Result<(), AccountError> {
    let checked = match users::find_by_id(&state.db, step.user_id).await? {
        Some(user) => super::admitted(state, client, &user, step.method).await,
        None => Err(AccountError::NoSuchAccount),
    };
    if checked.is_err() {
        clear(session, key).await?;
    }
    checked
}

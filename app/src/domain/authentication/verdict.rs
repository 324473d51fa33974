//! The risk engine's verdict on one sign-in attempt: weighed once at the exit (refused there
//! when the engine blocks), carried through any step that waits, and stored with the sign-in's
//! outcome.

use serde_json::json;
use uuid::Uuid;

use super::Method;
use crate::domain::{
    audit::{self, AuditEvent, Outcome},
    client::ClientInfo,
    error::AccountError,
    measures::{self, SignInOutcome},
    password::Password,
    risk::{self, score::Decision},
    settings, throttle,
    users::User,
};
use crate::state::AppState;

/// What a password sign-in brings to the exit: the password (the risk engine checks whether it
/// is a breached one) and the throttle counters read before it was checked.
#[derive(Debug, Clone, Copy)]
pub struct PasswordProof<'a> {
    pub password: &'a Password,
    pub counters: &'a throttle::Counters,
}

/// The risk engine's verdict on one attempt, as the sign-in carries it to its end.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RiskMark {
    /// The stored assessment.
    pub id: i64,
    /// The engine asked for a second factor.
    pub step_up: bool,
}

/// The risk verdict a sign-in holds: stored already (a step waited in between), or weighed
/// just now and stored with the sign-in's outcome (as history in the sign-in's own
/// transaction, or before a step waits).
#[derive(Debug, Clone)]
pub(crate) enum Verdict {
    Stored(RiskMark),
    Fresh(risk::Weighed),
}

impl Verdict {
    pub(super) fn step_up(&self) -> bool {
        match self {
            Self::Stored(mark) => mark.step_up,
            Self::Fresh(weighed) => weighed.assessment.decision == Decision::StepUp,
        }
    }

    /// The stored verdict, storing a fresh one for `user_id` (as `completed` history or not).
    pub(super) async fn mark(
        self,
        db: impl sqlx::PgExecutor<'_>,
        user_id: Uuid,
        completed: bool,
    ) -> sqlx::Result<RiskMark> {
        match self {
            Self::Stored(mark) => {
                if completed {
                    risk::history::completed(db, mark.id).await?;
                }
                Ok(mark)
            }
            Self::Fresh(weighed) => Ok(RiskMark {
                step_up: weighed.assessment.decision == Decision::StepUp,
                id: weighed.store(db, user_id, completed).await?,
            }),
        }
    }
}

/// Weighs the attempt against the business's thresholds in `policy`; refuses it when the
/// engine blocks (the reasons in plain words). The verdict is stored when it blocks; else the
/// sign-in stores it with its outcome.
pub(super) async fn weigh(
    state: &AppState,
    client: &ClientInfo,
    user: &User,
    method: Method,
    password: Option<PasswordProof<'_>>,
    policy: &settings::AuthSettings,
) -> Result<Verdict, AccountError> {
    let thresholds = policy.risk_thresholds();
    let weighed = risk::weigh(
        state,
        client,
        user.id,
        &user.email,
        password.map(|p| p.password),
        password.map(|p| p.counters),
        thresholds,
    )
    .await?;
    let assessment = &weighed.assessment;
    if assessment.decision == Decision::Block {
        let id = weighed.store(&state.db, user.id, false).await?;
        let event = AuditEvent::new("signin.failed", Outcome::Failure)
            .about(Some(user.id))
            .detail(json!({
                "method": method.as_str(),
                "reason": "risk_blocked",
                "risk": id,
                "score": assessment.score,
                "signals": assessment.reasons,
            }));
        audit::record(&state.db, client, event).await?;
        measures::sign_in(method, SignInOutcome::Blocked);
        let words: Vec<String> = assessment.reasons.iter().map(|r| r.words.clone()).collect();
        return Err(AccountError::RiskBlocked(words.join("; ")));
    }
    Ok(Verdict::Fresh(weighed))
}

//! The second step of a sign-in: after a first factor, when the exit asks for a second one,
//! the person's proof so far waits in the session (10 minutes, for this browser only) while
//! they give an authenticator code, a recovery code, a passkey or, as the weaker fallback, a
//! code mailed to them. An administrator made to enrol sets up an authenticator app here. A
//! signed-in person is brought here too when an app or a sensitive change asks for more
//! (step-up). Five wrong codes end the step; wrong codes also count against the account, so
//! starting again does not give an attacker more tries.

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

pub use super::return_to::{is_local_path, set_return, take_return};

pub mod enrolling;
use super::{complete, failed, Method, RiskMark};
use crate::{
    domain::{
        accounts::templates,
        assurance::Factor,
        branding,
        client::ClientInfo,
        error::AccountError,
        mail,
        measures::{self, ChallengeOutcome},
        mfa::{factors, recovery_codes, remembered, totp},
        otp,
        sessions::{self, FactorUse},
        throttle::{self, ThrottlePolicy},
        users::{self, User},
    },
    state::AppState,
};

/// The second step's page.
pub const PAGE: &str = "/signin/second-factor";
const KEY: &str = "second_step";
/// How long the first factor's proof waits for the second.
const LIFETIME_SECS: i64 = 600;
/// Wrong codes that end the step.
const MAX_WRONG: u8 = 5;

/// A first factor's proof waiting for the second.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Waiting {
    pub user_id: Uuid,
    pub method: Method,
    pub proven: Vec<FactorUse>,
    pub started_at: i64,
    /// The person has no strong factor and must enrol one before going on.
    pub must_enrol: bool,
    /// An app or a sensitive change asked for multi-factor (a remembered device is not enough,
    /// and a mailed code is offered even to those who enrolled nothing).
    pub multi_factor_wanted: bool,
    pub wrong: u8,
    /// The mailed code's id and HMAC, while one is out.
    email_code: Option<(Uuid, Vec<u8>)>,
    /// The risk engine's verdict on the first factor's attempt.
    #[serde(default)]
    pub risk: Option<RiskMark>,
}

/// What a new second step starts from.
#[derive(Debug, Clone)]
pub(super) struct Begin {
    pub method: Method,
    pub proven: Vec<FactorUse>,
    pub must_enrol: bool,
    pub multi_factor_wanted: bool,
    pub risk: Option<RiskMark>,
}

/// What the second step's page offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub totp: bool,
    pub recovery_codes: bool,
    pub passkey: bool,
    /// A code mailed to the account's address (weaker: the UI says so).
    pub email: bool,
    pub email_sent: bool,
    pub must_enrol: bool,
}

/// How a second step ended well.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Finished {
    /// Recovery codes left, after one was used.
    pub recovery_codes_left: Option<i64>,
    /// A new set of recovery codes was made with an enrolment, held for showing once.
    pub recovery_codes_to_show: bool,
}

/// Why a second step's answer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StepRejection {
    #[error("Your sign-in timed out. Sign in again.")]
    NoStep,
    #[error("That code is not right. {left} tries left.")]
    WrongCode { left: u8 },
    #[error("That code was already used. Wait for the next one.")]
    Replayed,
    #[error("Too many wrong codes. Sign in again.")]
    TooManyTries,
    #[error("A code by email is not offered here.")]
    EmailNotOffered,
}

/// The waiting step, if one is still within its time.
pub async fn pending(session: &Session) -> Result<Option<Waiting>, AccountError> {
    let Some(step) = session.get::<Waiting>(KEY).await? else {
        return Ok(None);
    };
    if OffsetDateTime::now_utc().unix_timestamp() - step.started_at > LIFETIME_SECS {
        clear(session).await?;
        return Ok(None);
    }
    Ok(Some(step))
}

/// The waiting step of `user_id`, if one is within its time.
pub async fn waiting_for(
    session: &Session,
    user_id: Uuid,
) -> Result<Option<Waiting>, AccountError> {
    Ok(pending(session).await?.filter(|s| s.user_id == user_id))
}

/// Starts (or, for the same person, goes on with) a second step.
pub(super) async fn begin(
    session: &Session,
    user: &User,
    begin: Begin,
    previous: Option<Waiting>,
) -> Result<(), AccountError> {
    let step = Waiting {
        user_id: user.id,
        method: begin.method,
        proven: begin.proven,
        started_at: OffsetDateTime::now_utc().unix_timestamp(),
        must_enrol: begin.must_enrol,
        multi_factor_wanted: begin.multi_factor_wanted,
        wrong: previous.as_ref().map_or(0, |p| p.wrong),
        email_code: None,
        risk: begin.risk,
    };
    session.insert(KEY, step).await?;
    Ok(())
}

/// What a step-up for the signed-in person needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepUp {
    /// The second step's page waits for a second factor.
    SecondStep,
    /// The person has no second factor: signing in again is the proof (the browser goes to
    /// the sign-in page and comes back after).
    SignInAgain,
}

/// Asks the signed-in `user_id` for a second factor, then back to `return_to` (a path on this
/// site). For an app that asked for multi-factor (`for_app`), a person without a strong factor
/// enrols one or takes a mailed code; for a sensitive change they sign in again.
pub async fn begin_step_up(
    state: &AppState,
    session: &Session,
    user_id: Uuid,
    return_to: &str,
    for_app: bool,
) -> Result<StepUp, AccountError> {
    set_return(session, return_to).await?;
    let Some(auth) = sessions::authenticated(session).await? else {
        return Ok(StepUp::SignInAgain);
    };
    let enrolled = factors::of(&state.db, user_id).await?;
    if !enrolled.has_strong() && !for_app {
        return Ok(StepUp::SignInAgain);
    }
    let method = Method::parse(&auth.method).unwrap_or(Method::Password);
    let step = Waiting {
        user_id,
        method,
        proven: auth.factors,
        started_at: OffsetDateTime::now_utc().unix_timestamp(),
        must_enrol: !enrolled.has_strong(),
        multi_factor_wanted: true,
        wrong: 0,
        email_code: None,
        risk: None,
    };
    session.insert(KEY, step).await?;
    measures::mfa_challenge(measures::ANY_FACTOR, ChallengeOutcome::Issued);
    Ok(StepUp::SecondStep)
}

/// What the page offers the waiting step (`None` when none waits).
pub async fn offer(state: &AppState, session: &Session) -> Result<Option<Offer>, AccountError> {
    let Some(step) = pending(session).await? else {
        return Ok(None);
    };
    let enrolled = factors::of(&state.db, step.user_id).await?;
    let email_first = step.proven.iter().any(|f| f.factor == Factor::Email);
    Ok(Some(Offer {
        totp: enrolled.totp,
        recovery_codes: enrolled.recovery_codes_left > 0,
        passkey: enrolled.passkeys > 0,
        email: !email_first && (enrolled.has_strong() || step.multi_factor_wanted),
        email_sent: step.email_code.is_some(),
        must_enrol: step.must_enrol,
    }))
}

/// Goes on with a code from the person's authenticator app.
pub async fn verify_totp(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    code: &str,
    remember: bool,
) -> Result<Finished, AccountError> {
    let step = admitted(state, session).await?;
    let now = OffsetDateTime::now_utc().unix_timestamp() as u64;
    let mut tx = state.db.begin().await?;
    let checked = totp::check(&mut tx, &state.factor_secrets, step.user_id, code, now).await?;
    tx.commit().await?;
    match checked {
        Some(totp::Check::Accepted) => {}
        Some(totp::Check::Replayed) => {
            // Counted like a wrong code; said as what it is, unless it ended the step.
            return Err(
                match wrong(state, client, session, step, Factor::Totp, "replayed_code").await {
                    AccountError::SecondStep(StepRejection::WrongCode { .. }) => {
                        StepRejection::Replayed.into()
                    }
                    other => other,
                },
            );
        }
        _ => return Err(wrong(state, client, session, step, Factor::Totp, "wrong_code").await),
    }
    prove(state, client, session, step, Factor::Totp, remember).await?;
    Ok(Finished::default())
}

/// Goes on with one of the person's recovery codes (used up).
pub async fn use_recovery_code(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    code: &str,
    remember: bool,
) -> Result<Finished, AccountError> {
    let step = admitted(state, session).await?;
    let mut tx = state.db.begin().await?;
    let left = recovery_codes::use_code(&mut tx, &state.recovery_key, step.user_id, code).await?;
    tx.commit().await?;
    let Some(left) = left else {
        let factor = Factor::RecoveryCode;
        return Err(wrong(state, client, session, step, factor, "wrong_recovery_code").await);
    };
    prove(state, client, session, step, Factor::RecoveryCode, remember).await?;
    Ok(Finished {
        recovery_codes_left: Some(left),
        recovery_codes_to_show: false,
    })
}

/// Mails a code to the account's address (the weaker fallback), limited like every mail.
pub async fn send_email_code(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
) -> Result<(), AccountError> {
    let mut step = admitted(state, session).await?;
    if !offer(state, session).await?.is_some_and(|o| o.email) {
        return Err(StepRejection::EmailNotOffered.into());
    }
    let user = account(state, step.user_id).await?;
    let keys = throttle::mail_keys("second-factor", &user.email, client.ip.as_deref());
    if let Some(minutes) = throttle::admit(&state.db, &keys).await? {
        return Err(AccountError::Throttled { minutes });
    }
    let id = Uuid::new_v4();
    let code = otp::random_code();
    let mut tx = state.db.begin().await?;
    let brand = branding::for_client(&mut *tx, client).await?;
    let message = templates(state, &brand, user.language()).second_factor_code(
        &user.email(),
        &user.display_name,
        &code,
    );
    mail::enqueue(&mut *tx, &message).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    step.email_code = Some((id, state.code_key.hash(id, &code)));
    session.insert(KEY, step).await?;
    Ok(())
}

/// Goes on with the code mailed by [`send_email_code`].
pub async fn verify_email_code(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    code: &str,
    remember: bool,
) -> Result<Finished, AccountError> {
    let step = admitted(state, session).await?;
    let Some((id, expected)) = step.email_code.clone() else {
        return Err(StepRejection::EmailNotOffered.into());
    };
    if !state.code_key.matches(id, code, &expected) {
        return Err(wrong(
            state,
            client,
            session,
            step,
            Factor::Email,
            "wrong_email_code",
        )
        .await);
    }
    prove(state, client, session, step, Factor::Email, remember).await?;
    Ok(Finished::default())
}

/// Forgets the waiting step.
pub async fn clear(session: &Session) -> Result<(), AccountError> {
    session.remove::<Waiting>(KEY).await?;
    Ok(())
}

/// The waiting step, unless it is missing or its account is locked by wrong codes.
async fn admitted(state: &AppState, session: &Session) -> Result<Waiting, AccountError> {
    let step = pending(session).await?.ok_or(StepRejection::NoStep)?;
    if let Some(minutes) = throttle::locked_minutes(&state.db, &[key(step.user_id)]).await? {
        return Err(AccountError::Throttled { minutes });
    }
    Ok(step)
}

fn key(user_id: Uuid) -> String {
    format!("second-factor:{user_id}")
}

async fn account(state: &AppState, user_id: Uuid) -> Result<User, AccountError> {
    users::find_by_id(&state.db, user_id)
        .await?
        .ok_or(AccountError::NoSuchAccount)
}

/// Counts a wrong answer for `factor` in the step and against the account; the step ends at the
/// fifth.
async fn wrong(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    mut step: Waiting,
    factor: Factor,
    reason: &str,
) -> AccountError {
    measures::mfa_challenge(measures::factor_label(factor), ChallengeOutcome::Failed);
    let counted = async {
        throttle::record_failure(&state.db, &key(step.user_id), ThrottlePolicy::ACCOUNT).await?;
        failed(&state.db, client, step.method, Some(step.user_id), reason).await?;
        step.wrong += 1;
        if step.wrong >= MAX_WRONG {
            clear(session).await?;
            return Ok::<_, AccountError>(StepRejection::TooManyTries.into());
        }
        let left = MAX_WRONG - step.wrong;
        session.insert(KEY, step).await?;
        Ok(StepRejection::WrongCode { left }.into())
    };
    counted.await.unwrap_or_else(|e| e)
}

/// Adds `factor` to the waiting proof and signs in; remembers the device when asked.
async fn prove(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    step: Waiting,
    factor: Factor,
    remember: bool,
) -> Result<(), AccountError> {
    measures::mfa_challenge(measures::factor_label(factor), ChallengeOutcome::Passed);
    let mut proven = step.proven;
    proven.retain(|f| f.factor != factor);
    proven.push(FactorUse {
        factor,
        at: OffsetDateTime::now_utc().unix_timestamp(),
    });
    complete(
        state,
        client,
        session,
        step.user_id,
        step.method,
        &proven,
        step.risk.map(super::Verdict::Stored),
    )
    .await?;
    throttle::clear(&state.db, &key(step.user_id)).await?;
    if remember && remembered::remember(&state.db, client, step.user_id).await? {
        let event = crate::domain::audit::AuditEvent::new(
            "device.remembered",
            crate::domain::audit::Outcome::Success,
        )
        .by(step.user_id)
        .detail(json!({ "days": remembered::LIFETIME.whole_days() }));
        crate::domain::audit::record(&state.db, client, event).await?;
    }
    Ok(())
}

//! The one exit of every sign-in: where a first factor, proven by any of the sign-in paths
//! (password, email link or code, SMS code, passkey, social, password reset), becomes a
//! signed-in session. It applies the account policy that holds for every path (a verified
//! address when the business requires one), decides whether a second factor is needed (the MFA
//! policy, the factors the person enrolled, a remembered device) and hands over to
//! `second_step` when it is, records how the person authenticated (method, factors and their
//! times, RFC 8176 `amr`) and audits the sign-in. The risk decisions belong here too. Last, a
//! person whose account is set to be deleted is offered to cancel that (`deletion_step`), and
//! one who has not accepted the current required policies is asked first (`consent_step`); both
//! hold the proven sign-in meanwhile (`held`).

pub mod consent_step;
pub mod deletion_step;
mod held;
mod return_to;
pub mod second_step;
mod verdict;

use serde_json::json;
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    assurance::{self, Factor},
    audit::{self, AuditEvent, Outcome},
    client::ClientInfo,
    error::AccountError,
    measures::{self, ChallengeOutcome, SignInOutcome},
    mfa::{factors, remembered},
    risk,
    sessions::{self, FactorUse},
    settings,
    users::{self, User},
};
use crate::state::AppState;
use verdict::weigh;
pub(crate) use verdict::Verdict;
pub use verdict::{PasswordProof, RiskMark};
/// How a person proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Password,
    EmailLink,
    EmailCode,
    SmsCode,
    Passkey,
    /// An upstream identity provider (OpenID Connect or OAuth 2.0).
    Social,
    /// A mailed reset link, then a new password.
    PasswordReset,
}

impl Method {
    /// The name the session, the audit trail and the risk rules use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::EmailLink => "email_link",
            Self::EmailCode => "email_code",
            Self::SmsCode => "sms_code",
            Self::Passkey => "passkey",
            Self::Social => "social",
            Self::PasswordReset => "password_reset",
        }
    }

    /// The method named `name` (as [`Method::as_str`] gives it).
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Password,
            Self::EmailLink,
            Self::EmailCode,
            Self::SmsCode,
            Self::Passkey,
            Self::Social,
            Self::PasswordReset,
        ]
        .into_iter()
        .find(|m| m.as_str() == name)
    }

    /// The factor this method proves. A password reset proves control of the mailbox; the new
    /// password it sets proves nothing yet.
    pub fn factor(self) -> Factor {
        match self {
            Self::Password => Factor::Password,
            Self::EmailLink | Self::EmailCode | Self::PasswordReset => Factor::Email,
            Self::SmsCode => Factor::Sms,
            Self::Passkey => Factor::Passkey,
            Self::Social => Factor::Federated,
        }
    }
}

/// What a proven first factor led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The session is signed in.
    SignedIn,
    /// A second factor is needed first: the browser goes to the second step's page.
    SecondStep,
    /// The person must answer the consent step's question first.
    Consent,
    /// The person's account is set to be deleted: they are offered to cancel that first.
    Deletion,
}

/// Signs `session` in as `user_id`, who has just proven a first factor by `method` (see
/// [`sign_in_user`]).
pub async fn sign_in(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
    method: Method,
) -> Result<Progress, AccountError> {
    let user = users::find_by_id(&state.db, user_id)
        .await?
        .ok_or(AccountError::NoSuchAccount)?;
    sign_in_user(state, client, session, &user, method, None).await
}

/// Signs `session` in as `user` (as just read), who has just proven a first factor by
/// `method`, or starts the second step when a second factor is needed. Refuses an account
/// whose address is not verified while the business requires that (the browser is remembered
/// for the "send a new link" button). Factors this browser proved for the same person moments
/// ago, in a second step still waiting, count too: a passkey or a mailed code used on the
/// second step's page completes it. The risk engine weighs every attempt here (with the
/// `password`, when that was the first factor): a risky one is asked for a second factor, a
/// very risky one is refused with its reasons.
#[tracing::instrument(skip_all, fields(method = method.as_str()))]
pub async fn sign_in_user(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user: &User,
    method: Method,
    password: Option<PasswordProof<'_>>,
) -> Result<Progress, AccountError> {
    admitted(state, client, user, method).await?;
    let policy = settings::current(state).await?;
    if !user.is_verified() && policy.require_verified_email {
        sessions::set_pending_verification(session, user.id).await?;
        failed(
            &state.db,
            client,
            method,
            Some(user.id),
            "email_not_verified",
        )
        .await?;
        return Err(AccountError::EmailNotVerified);
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let waiting = second_step::waiting_for(session, user.id).await?;
    let mut proven = waiting
        .as_ref()
        .map(|step| step.proven.clone())
        .unwrap_or_default();
    proven.retain(|f| f.factor != method.factor());
    proven.push(FactorUse {
        factor: method.factor(),
        at: now,
    });
    let kinds: Vec<Factor> = proven.iter().map(|f| f.factor).collect();
    // A step already waiting was weighed when it began.
    let risk = match waiting.as_ref().and_then(|step| step.risk.clone()) {
        Some(risk) => Some(Verdict::Stored(risk)),
        None if policy.risk_engine_enabled => {
            Some(weigh(state, client, user, method, password, &policy).await?)
        }
        None => None,
    };
    if !assurance::is_multi_factor(&kinds) {
        let first_ask = waiting.is_none();
        let enrolled = factors::of(&state.db, user.id).await?;
        let required = user.mfa_required || policy.mfa_policy.requires(user);
        // The risk engine's step-up needs something to step up with: any factor but the
        // mailbox that just signed in.
        let risky = risk.as_ref().is_some_and(Verdict::step_up)
            && (enrolled.has_strong() || !kinds.contains(&Factor::Email));
        let wanted = risky
            || waiting
                .as_ref()
                .is_some_and(|step| step.multi_factor_wanted);
        let asked =
            wanted || required || (policy.mfa_policy.asks_enrolled() && enrolled.enrolled());
        let remembered =
            asked && !wanted && remembered::recognises(&state.db, client, user.id).await?;
        if asked && !remembered {
            let must_enrol = required && !enrolled.has_strong();
            let risk = match risk {
                Some(verdict) => Some(verdict.mark(&state.db, user.id, false).await?),
                None => None,
            };
            let step = second_step::Begin {
                method,
                proven,
                must_enrol,
                multi_factor_wanted: wanted,
                risk,
            };
            second_step::begin(session, user, step, waiting).await?;
            if first_ask {
                measures::sign_in(method, SignInOutcome::Challenged);
                measures::mfa_challenge(measures::ANY_FACTOR, ChallengeOutcome::Issued);
            }
            let event = AuditEvent::new("signin.second_factor_asked", Outcome::Success)
                .about(Some(user.id))
                .detail(json!({
                    "method": method.as_str(),
                    "must_enrol": must_enrol,
                    "risk": risky,
                }));
            audit::record(&state.db, client, event).await?;
            return Ok(Progress::SecondStep);
        }
    } else if waiting.is_some() {
        // A factor proven by its own path (a passkey, a mailed link) on the second step's page.
        measures::mfa_challenge(
            measures::factor_label(method.factor()),
            ChallengeOutcome::Passed,
        );
    }
    complete(state, client, session, user.id, method, &proven, risk).await
}

/// Refuses (and audits) a sign-in by `method` to a locked account, or by password to one
/// whose password must be reset: checked when a sign-in starts and again when a waiting one
/// goes on.
pub(super) async fn admitted(
    state: &AppState,
    client: &ClientInfo,
    user: &User,
    method: Method,
) -> Result<(), AccountError> {
    let refusal = if user.locked_at.is_some() {
        Some(("account_locked", AccountError::AccountLocked))
    } else if user.password_reset_required && method == Method::Password {
        Some(("reset_required", AccountError::ResetRequired))
    } else {
        None
    };
    match refusal {
        Some((reason, error)) => {
            failed(&state.db, client, method, Some(user.id), reason).await?;
            Err(error)
        }
        None => Ok(()),
    }
}

/// Signs `session` in as `user_id` with `proven` factors, and audits the sign-in, unless the
/// account was locked or must reset its password meanwhile (refused), the
/// person's account is set to be deleted (the deletion step offers to cancel that) or they must
/// first answer the consent step. The weighed attempt becomes history; after a
/// risky one the owner is mailed "was this you?".
pub(crate) async fn complete(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
    method: Method,
    proven: &[FactorUse],
    risk: Option<Verdict>,
) -> Result<Progress, AccountError> {
    second_step::clear(session).await?;
    consent_step::clear(session).await?;
    deletion_step::clear(session).await?;
    // Whatever waited between the first factor and here (a second factor, a question), the
    // account may have been locked or put behind a reset meanwhile: it is read again, and held
    // until the sign-in is audited, so that an erasure that comes due meanwhile waits for it
    // and then finds its row, or went first and the account is gone.
    let mut tx = state.db.begin().await?;
    let Some(users::Held { user, deletion_due }) = users::hold(&mut tx, user_id).await? else {
        return Err(AccountError::NoSuchAccount);
    };
    admitted(state, client, &user, method).await?;
    let ask = match deletion_due {
        Some(_) => None,
        None => super::consents::asked::outstanding_for(&mut tx, user_id, user.role).await?,
    };
    if deletion_due.is_some() || ask.is_some() {
        // The sign-in waits for an answer: not signed in yet, but a verdict weighed just now is
        // stored for it.
        tx.rollback().await?;
        let risk = match risk {
            Some(verdict) => Some(verdict.mark(&state.db, user_id, false).await?),
            None => None,
        };
        let step = held::Waiting::new(user_id, method, proven, risk.as_ref());
        return match ask {
            Some(ask) => {
                consent_step::begin(state, client, session, step, &ask).await?;
                Ok(Progress::Consent)
            }
            None => {
                deletion_step::begin(session, step).await?;
                Ok(Progress::Deletion)
            }
        };
    }
    sessions::sign_in(session, user_id, method.as_str(), proven).await?;
    // The person reads in their language from now on; an account that has none yet (made
    // before languages were kept) takes the one it was just used in.
    let mut setting = user.preferences();
    if setting.locale.is_none() {
        users::fill_locale(&mut *tx, user_id, &client.reading.locale).await?;
        setting.locale = Some(client.reading.locale.clone());
    }
    super::preferences::remember(session, &setting).await?;
    super::active_sessions::note_client(state, session, client).await?;
    let limits = settings::current(state).await?.limits;
    sessions::set_lifetimes(session, limits.session_idle(), limits.session_max()).await?;
    if user.is_admin() {
        sessions::set_idle_limit(session, super::staff::IDLE_TIMEOUT).await?;
    }
    // The weighed attempt becomes history with the sign-in.
    let risk = match risk {
        Some(verdict) => Some(verdict.mark(&mut *tx, user_id, true).await?),
        None => None,
    };
    let kinds: Vec<Factor> = proven.iter().map(|f| f.factor).collect();
    let event = AuditEvent::new("signin.succeeded", Outcome::Success)
        .by(user_id)
        .detail(json!({
            "method": method.as_str(),
            "amr": assurance::amr(&kinds),
            "acr": assurance::acr(&kinds),
            "risk": risk.as_ref().map(|r| r.id),
        }));
    audit::record(&mut *tx, client, event).await?;
    super::webhooks::emit(&mut *tx, &super::webhooks::Event::PersonSignedIn(user_id)).await?;
    tx.commit().await?;
    measures::sign_in(method, SignInOutcome::Success);
    if let Some(risk) = risk.filter(|r| r.step_up) {
        risk::notice::new_sign_in(state, client, user_id, risk.id).await?;
    }
    Ok(Progress::SignedIn)
}

/// Where a browser goes after proving a factor: the second step, the deletion step or the
/// consent step while one waits, back to the page that asked for a step-up, an app's sign-in in progress, or the
/// profile.
pub async fn landing(session: &Session) -> String {
    if second_step::pending(session).await.ok().flatten().is_some() {
        return second_step::PAGE.to_owned();
    }
    if deletion_step::waits(session).await {
        return deletion_step::PAGE.to_owned();
    }
    if consent_step::waits(session).await {
        return consent_step::PAGE.to_owned();
    }
    if let Ok(Some(path)) = second_step::take_return(session).await {
        return path;
    }
    super::oidc::pending_requests::landing(session)
        .await
        .to_owned()
}

/// Whether a proven sign-in waits for the person's answer on the deletion or the consent
/// step's page.
pub async fn question_waits(session: &Session) -> bool {
    deletion_step::waits(session).await || consent_step::waits(session).await
}

/// Whether `page` is one of the pages a sign-in in progress must go to next.
pub fn is_step_page(page: &str) -> bool {
    [second_step::PAGE, deletion_step::PAGE, consent_step::PAGE].contains(&page)
}

/// Records a failed sign-in attempt by `method` (for `user`, when known) and `reason`, and
/// counts it (`measures::SIGN_INS`).
pub async fn failed(
    db: impl sqlx::PgExecutor<'_>,
    client: &ClientInfo,
    method: Method,
    user: Option<Uuid>,
    reason: &str,
) -> sqlx::Result<()> {
    measures::sign_in(method, SignInOutcome::of_refusal(reason));
    let event = AuditEvent::new("signin.failed", Outcome::Failure)
        .about(user)
        .detail(json!({ "method": method.as_str(), "reason": reason }));
    audit::record(db, client, event).await
}

//! What a server function reads from its request: shared state, session, client, caller.

use http::request::Parts;
use leptos::prelude::*;
use tower_sessions::Session;
use uuid::Uuid;

use super::error::AppError;
use crate::{
    domain::{
        authentication::second_step::StepRejection, client::ClientInfo,
        email_change::EmailChangeError, error::AccountError, mfa::enrolment::FactorRejection,
        password_change::PasswordChangeError, preferences::Reading, sessions, users::User,
    },
    state::AppState,
};

/// The shared state provided by the server.
pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::Internal
    })
}

/// The caller's browser session.
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "session layer missing");
        AppError::Internal
    })
}

/// The caller's address and user agent.
pub fn client() -> ClientInfo {
    use_context::<Parts>()
        .map(|parts| ClientInfo::from_parts(&parts))
        .unwrap_or_default()
}

/// A moment as every page shows it, in the reader's time zone: "2026-11-29 06:40 CET".
pub fn moment(at: time::OffsetDateTime) -> String {
    let zone = use_context::<Parts>().and_then(|parts| {
        parts
            .extensions
            .get::<Reading>()
            .map(|reading| reading.time_zone.clone())
    });
    match zone {
        Some(zone) => crate::domain::moments::in_zone(at, &zone),
        None => crate::domain::moments::utc(at),
    }
}

/// The signed-in caller, or `Unauthorized`.
pub async fn signed_in_user(session: &Session) -> Result<Uuid, AppError> {
    sessions::current_user(session)
        .await
        .map_err(|e| AppError::from(AccountError::from(e)))?
        .ok_or(AppError::Unauthorized)
}

/// What one page's rendering reads once however many of its parts ask: the signed-in account.
/// Provided only while a page renders (its parts only read); a server function called on its
/// own has none, so one that changes the account and reads it again sees the change.
#[derive(Clone, Default)]
pub struct PageReads {
    account: std::sync::Arc<tokio::sync::OnceCell<User>>,
}

/// The signed-in caller's account, or `Unauthorized`: read once per page.
pub async fn signed_in_account(state: &AppState, session: &Session) -> Result<User, AppError> {
    let user_id = signed_in_user(session).await?;
    let read = || async {
        match crate::domain::accounts::profile(&state.db, user_id).await {
            Ok(user) => Ok(user),
            Err(AccountError::NoSuchAccount) => Err(AppError::Unauthorized),
            Err(e) => Err(AppError::from(e)),
        }
    };
    match use_context::<PageReads>() {
        Some(page) => match page.account.get_or_try_init(read).await? {
            user if user.id == user_id => Ok(user.clone()),
            // Another person's (cannot happen within one page's session): read afresh.
            _ => read().await,
        },
        None => read().await,
    }
}

impl From<AccountError> for AppError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Email(e) => AppError::field("email", e.to_string()),
            AccountError::EmailChange(e @ EmailChangeError::Same) => {
                AppError::field("email", e.to_string())
            }
            AccountError::EmailChange(e) => AppError::Refused(e.to_string()),
            AccountError::PasswordChange(e @ PasswordChangeError::WrongCurrent) => {
                AppError::field("current_password", e.to_string())
            }
            AccountError::PasswordChange(e) => AppError::Refused(e.to_string()),
            AccountError::SignIns(e) => AppError::Refused(e.to_string()),
            AccountError::Consent(e) => AppError::Refused(e.to_string()),
            AccountError::Export(e) => AppError::Refused(e.to_string()),
            AccountError::Deletion(e) => AppError::Refused(e.to_string()),
            AccountError::ConsentAnswer(e) => AppError::field("consent", e.to_string()),
            AccountError::DisplayName(e) => AppError::field("display_name", e.to_string()),
            AccountError::Password(e) => AppError::field("password", e.to_string()),
            AccountError::Token(e) => AppError::Refused(e.to_string()),
            AccountError::Code(e) => AppError::field("code", e.to_string()),
            AccountError::Passkey(e @ crate::domain::passkeys::PasskeyRejection::BadName) => {
                AppError::field("name", e.to_string())
            }
            AccountError::Passkey(e) => AppError::Refused(e.to_string()),
            AccountError::Phone(e @ crate::domain::phone::PhoneError::InUse) => {
                AppError::Refused(e.to_string())
            }
            AccountError::Phone(e) => AppError::field("phone", e.to_string()),
            AccountError::Social(e) => AppError::Refused(e.to_string()),
            AccountError::StepUp => AppError::StepUp,
            AccountError::Factor(e @ (FactorRejection::WrongCode | FactorRejection::Replayed)) => {
                AppError::field("code", e.to_string())
            }
            AccountError::Factor(e) => AppError::Refused(e.to_string()),
            AccountError::SecondStep(
                e @ (StepRejection::WrongCode { .. } | StepRejection::Replayed),
            ) => AppError::field("code", e.to_string()),
            AccountError::SecondStep(e) => AppError::Refused(e.to_string()),
            AccountError::NotFound => AppError::NotFound,
            AccountError::RiskBlocked(reasons) => AppError::Refused(format!(
                "We stopped this sign-in because it does not look like you: {reasons}. If it \
                 was you, sign in from a device you used before, or reset your password."
            )),
            AccountError::MethodDisabled => {
                AppError::Refused("This sign-in method is not available.".into())
            }
            AccountError::InvalidCredentials => AppError::InvalidCredentials,
            AccountError::Throttled { minutes } => AppError::Throttled { minutes },
            AccountError::ProofOfWork => AppError::ProofOfWork,
            AccountError::EmailNotVerified => AppError::EmailNotVerified,
            AccountError::PasswordLocked => AppError::Locked(
                "After too many failed attempts this password is locked. To sign in, reset your \
                 password with the link we mail you."
                    .into(),
            ),
            AccountError::Forbidden => AppError::Forbidden,
            AccountError::AccountLocked => AppError::Locked(
                "This account is locked. Contact support to have it unlocked.".into(),
            ),
            AccountError::ResetRequired => AppError::Locked(
                "This password must be changed before it can be used again. Choose \"Forgot \
                 password\" to get a reset link."
                    .into(),
            ),
            AccountError::Breach(e) => AppError::Refused(e.to_string()),
            AccountError::LastOwner => AppError::Refused(
                "The last owner stays an owner: make someone else owner first.".into(),
            ),
            AccountError::CustomerAddress => AppError::field(
                "email",
                "This address belongs to a customer; invite another address.",
            ),
            AccountError::ReasonNeeded => {
                AppError::field("reason", "Say why, in at most 500 characters.")
            }
            AccountError::NoSuchAccount => {
                AppError::Refused("That account no longer exists.".into())
            }
            AccountError::Busy => AppError::Busy,
            AccountError::Unexpected(e) if crate::domain::error::database_unavailable(&e) => {
                tracing::warn!(error = %e, "the database is unavailable");
                AppError::Unavailable
            }
            AccountError::Unexpected(e) => {
                tracing::error!(error = ?e, "request failed");
                AppError::Internal
            }
        }
    }
}

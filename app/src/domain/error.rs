//! `AccountError`: the one error type of the account services.

use super::{
    email::EmailError, names::DisplayNameError, otp::CodeRejection, passkeys::PasskeyRejection,
    password::PasswordRejection, phone::PhoneError, tokens::TokenRejection,
};

/// Everything an account operation can refuse, plus the unexpected.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Email(#[from] EmailError),
    #[error(transparent)]
    EmailChange(#[from] super::email_change::EmailChangeError),
    #[error(transparent)]
    PasswordChange(#[from] super::password_change::PasswordChangeError),
    #[error(transparent)]
    SignIns(#[from] super::active_sessions::EndRefusal),
    #[error(transparent)]
    Consent(#[from] super::consents::ledger::ConsentRefusal),
    #[error(transparent)]
    Export(#[from] super::privacy::export::ExportRefusal),
    #[error(transparent)]
    Deletion(#[from] super::privacy::deletion::DeletionRefusal),
    #[error(transparent)]
    ConsentAnswer(#[from] super::consents::asked::AnswerRefusal),
    #[error(transparent)]
    DisplayName(#[from] DisplayNameError),
    #[error(transparent)]
    Password(#[from] PasswordRejection),
    #[error(transparent)]
    Token(#[from] TokenRejection),
    #[error(transparent)]
    Code(#[from] CodeRejection),
    #[error(transparent)]
    Passkey(#[from] PasskeyRejection),
    #[error(transparent)]
    Phone(#[from] PhoneError),
    #[error(transparent)]
    Social(#[from] super::social::SocialError),
    #[error("a recent second factor (or, without one, a recent sign-in) is needed")]
    StepUp,
    #[error(transparent)]
    Factor(#[from] super::mfa::enrolment::FactorRejection),
    #[error(transparent)]
    SecondStep(#[from] super::authentication::second_step::StepRejection),
    #[error("not found")]
    NotFound,
    /// The risk engine refused the sign-in; the reasons in plain words.
    #[error("sign-in refused as too risky: {0}")]
    RiskBlocked(String),
    #[error("this sign-in method is switched off")]
    MethodDisabled,
    #[error("incorrect email or password")]
    InvalidCredentials,
    /// A sign-in from a network trying many passwords came without a solved proof of work.
    #[error("a proof of work is needed from this network")]
    ProofOfWork,
    #[error("locked for {minutes} minutes")]
    Throttled { minutes: i64 },
    #[error("the password is locked after too many consecutive failures")]
    PasswordLocked,
    #[error("email address not verified")]
    EmailNotVerified,
    #[error("no such account")]
    NoSuchAccount,
    /// The caller is not allowed this (a console action outside their staff role).
    #[error("not allowed")]
    Forbidden,
    /// An operator locked the account: no sign-in until it is unlocked.
    #[error("the account is locked")]
    AccountLocked,
    /// The password may not be used again until it is reset.
    #[error("the password must be reset")]
    ResetRequired,
    /// An operator's action asked for a reason and got none, or one too long.
    #[error("a reason is needed")]
    ReasonNeeded,
    #[error(transparent)]
    Breach(#[from] super::customers::breach::BreachError),
    /// The staff would be left without an owner.
    #[error("the last owner cannot be demoted or removed")]
    LastOwner,
    /// Staff need an address of their own: this one has a customer account.
    #[error("this address has a customer account; choose another address for staff")]
    CustomerAddress,
    /// Every password-hashing slot is busy and the queue is full (an overload being shed).
    #[error("every password-hashing slot is busy")]
    Busy,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<super::hashing::HashingError> for AccountError {
    fn from(e: super::hashing::HashingError) -> Self {
        match e {
            super::hashing::HashingError::Busy => Self::Busy,
            super::hashing::HashingError::Failed(e) => Self::Unexpected(e),
        }
    }
}

/// What a session store error says when the database could not be reached (see
/// [`database_unavailable`]); the store's errors carry only text.
pub const SESSION_STORE_UNAVAILABLE: &str = "the session store's database is unavailable";

/// What an API answers, in words, while the database cannot serve (with 503 and
/// `Retry-After`).
pub const UNAVAILABLE_TEXT: &str = "The service is briefly unavailable; try again in a moment.";

/// Whether `e` means the database cannot serve right now, rather than a fault of ours: no
/// connection within the pool's acquire timeout, a connection lost or refused, the server
/// shutting down or starting up (SQLSTATE class 57P, 08), out of disk or memory (53), or
/// read-only (25006). Such failures are answered with 503 and `Retry-After`. A full disk
/// (53100) is also noted for readiness ([`super::disk_full`]).
pub fn sqlx_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            if code == super::disk_full::SQLSTATE {
                super::disk_full::note();
            }
            code.starts_with("08")
                || code.starts_with("57P")
                || code.starts_with("53")
                || code == "25006"
        }),
        _ => false,
    }
}

/// Whether anything in `e`'s chain of causes is [`sqlx_unavailable`], or the session store
/// saying so.
pub fn database_unavailable(e: &anyhow::Error) -> bool {
    use tower_sessions::{session, session_store};
    e.chain().any(|cause| {
        if let Some(e) = cause.downcast_ref::<sqlx::Error>() {
            return sqlx_unavailable(e);
        }
        let store = match cause.downcast_ref::<session::Error>() {
            Some(session::Error::Store(e)) => Some(e),
            _ => cause.downcast_ref::<session_store::Error>(),
        };
        matches!(store, Some(session_store::Error::Backend(m)) if m == SESSION_STORE_UNAVAILABLE)
    })
}

impl From<sqlx::Error> for AccountError {
    fn from(e: sqlx::Error) -> Self {
        Self::Unexpected(anyhow::Error::new(e).context("database operation failed"))
    }
}

impl From<tower_sessions::session::Error> for AccountError {
    fn from(e: tower_sessions::session::Error) -> Self {
        Self::Unexpected(anyhow::Error::new(e).context("session operation failed"))
    }
}

impl From<tower_sessions::session_store::Error> for AccountError {
    fn from(e: tower_sessions::session_store::Error) -> Self {
        Self::Unexpected(anyhow::Error::new(e).context("session store operation failed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_told_from_our_own_faults() {
        let timed_out = anyhow::Error::new(sqlx::Error::PoolTimedOut).context("loading");
        assert!(database_unavailable(&timed_out));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(database_unavailable(&anyhow::Error::new(sqlx::Error::Io(
            refused
        ))));
        let store = tower_sessions::session::Error::Store(
            tower_sessions::session_store::Error::Backend(SESSION_STORE_UNAVAILABLE.into()),
        );
        assert!(database_unavailable(
            &anyhow::Error::new(store).context("session")
        ));

        let ours = anyhow::Error::new(sqlx::Error::RowNotFound).context("loading");
        assert!(!database_unavailable(&ours));
        let other = tower_sessions::session_store::Error::Backend("bad row".into());
        assert!(!database_unavailable(&anyhow::Error::new(other)));
    }
}

//! Why a social sign-in did not go through, as both sides know it: each reason has a short code
//! carried to the page that shows its message.

/// Why a social sign-in did not go through. Each has a short code carried to the page that
/// shows the message (so no provider-controlled text is ever reflected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SocialError {
    #[error("This sign-in method is not available.")]
    Unavailable,
    #[error("The sign-in attempt expired or did not start in this browser. Please try again.")]
    Expired,
    #[error("The sign-in was cancelled or refused by the provider.")]
    Cancelled,
    #[error("We could not reach the sign-in provider. Please try again later.")]
    Unreachable,
    #[error("The sign-in provider's answer could not be verified, so you were not signed in.")]
    Unverified,
    #[error(
        "The sign-in provider did not confirm your email address, so no account was created. \
         Register with your email address instead."
    )]
    EmailUnverified,
    #[error("That account at the provider is already linked to another of our accounts.")]
    InUse,
    #[error("There is no sign-in to link waiting; start again from the sign-in page.")]
    NoPendingLink,
    #[error("Sign in to the account that uses the provider's email address to link it.")]
    WrongAccount,
    #[error("You cannot unlink your only way to sign in.")]
    LastMethod,
    #[error("No such linked account.")]
    NotLinked,
    #[error(
        "We stopped this sign-in because it does not look like you. If it was you, sign in from \
         a device you used before, or reset your password."
    )]
    RiskBlocked,
}

impl SocialError {
    pub const ALL: [SocialError; 12] = [
        Self::Unavailable,
        Self::Expired,
        Self::Cancelled,
        Self::Unreachable,
        Self::Unverified,
        Self::EmailUnverified,
        Self::InUse,
        Self::NoPendingLink,
        Self::WrongAccount,
        Self::LastMethod,
        Self::NotLinked,
        Self::RiskBlocked,
    ];

    /// The short code carried in `?social_error=`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
            Self::Unreachable => "unreachable",
            Self::Unverified => "unverified",
            Self::EmailUnverified => "email_unverified",
            Self::InUse => "in_use",
            Self::NoPendingLink => "no_pending_link",
            Self::WrongAccount => "wrong_account",
            Self::LastMethod => "last_method",
            Self::NotLinked => "not_linked",
            Self::RiskBlocked => "risk_blocked",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_round_trips_through_its_code() {
        for e in SocialError::ALL {
            assert_eq!(SocialError::from_code(e.code()), Some(e));
        }
        assert_eq!(SocialError::from_code("<script>"), None);
    }
}

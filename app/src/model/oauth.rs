//! Why an app's authorization or sign-out request stopped on our own page, as both sides know it.

use serde::{Deserialize, Serialize};

/// Why an authorization request ends on our own error page instead of going back to the app
/// (its redirect address cannot be trusted). Carried as a short code, so no request text is
/// ever shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AuthorizeProblem {
    #[error("The request names no app (client_id is missing).")]
    NoClient,
    #[error("The app that sent you here is not registered.")]
    UnknownClient,
    #[error(
        "The app asked to send you back to an address it has not registered, so we stopped here."
    )]
    BadRedirectUri,
    #[error("There is no sign-in for an app in progress in this browser.")]
    NoRequest,
    #[error("The app's sign-in request expired. Go back to the app and start again.")]
    Expired,
    #[error("The app's sign-out request could not be verified, so nothing was changed.")]
    BadLogoutHint,
    #[error(
        "The app's sign-in request has expired or was already used. Go back to the app and start again."
    )]
    BadPushedRequest,
    #[error(
        "The app's sign-in request could not be verified, so we stopped here. Go back to the app and start again."
    )]
    BadRequestObject,
}

impl AuthorizeProblem {
    pub const ALL: [AuthorizeProblem; 8] = [
        Self::NoClient,
        Self::UnknownClient,
        Self::BadRedirectUri,
        Self::NoRequest,
        Self::Expired,
        Self::BadLogoutHint,
        Self::BadPushedRequest,
        Self::BadRequestObject,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::NoClient => "no_client",
            Self::UnknownClient => "unknown_client",
            Self::BadRedirectUri => "bad_redirect_uri",
            Self::NoRequest => "no_request",
            Self::Expired => "expired",
            Self::BadLogoutHint => "bad_logout_hint",
            Self::BadPushedRequest => "bad_pushed_request",
            Self::BadRequestObject => "bad_request_object",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_round_trips_through_its_code() {
        for p in AuthorizeProblem::ALL {
            assert_eq!(AuthorizeProblem::from_code(p.code()), Some(p));
        }
        assert_eq!(AuthorizeProblem::from_code("x"), None);
    }
}

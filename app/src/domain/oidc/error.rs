//! `TokenError`: what the app-facing endpoints (token, PAR, revocation, introspection) answer
//! when they refuse, with the codes and statuses of RFC 6749 §5.2, and 503
//! `temporarily_unavailable` when the database cannot serve.

use serde_json::{json, Value};

/// An error of the token endpoint, as RFC 6749 §5.2 names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    InvalidRequest(&'static str),
    InvalidClient,
    InvalidGrant(&'static str),
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    ServerError,
    /// The database cannot serve right now (down, restarting, read-only): answered 503 with
    /// `Retry-After`, and the error code §4.1.2.1 gives this case, so that a client retries
    /// instead of giving up.
    Unavailable,
    /// Another error of the authorization request's kind (RFC 6749 §4.1.2.1), as the pushed
    /// authorization request endpoint reports it.
    Refused {
        error: &'static str,
        description: &'static str,
    },
}

impl TokenError {
    /// HTTP status: 401 for a failed client authentication, 500 for ours, 503 while the
    /// database cannot serve, 400 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidClient => 401,
            Self::ServerError => 500,
            Self::Unavailable => 503,
            _ => 400,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let (error, description) = match self {
            Self::InvalidRequest(d) => ("invalid_request", *d),
            Self::InvalidClient => ("invalid_client", "Client authentication failed."),
            Self::InvalidGrant(d) => ("invalid_grant", *d),
            Self::UnauthorizedClient => (
                "unauthorized_client",
                "This client may not use this grant type.",
            ),
            Self::UnsupportedGrantType => ("unsupported_grant_type", "Unknown grant_type."),
            Self::InvalidScope => ("invalid_scope", "A requested scope is not allowed."),
            Self::ServerError => ("server_error", "The request could not be completed."),
            Self::Unavailable => (
                "temporarily_unavailable",
                crate::domain::error::UNAVAILABLE_TEXT,
            ),
            Self::Refused { error, description } => (*error, *description),
        };
        json!({ "error": error, "error_description": description })
    }
}

impl From<sqlx::Error> for TokenError {
    fn from(e: sqlx::Error) -> Self {
        if crate::domain::error::sqlx_unavailable(&e) {
            tracing::warn!(error = %e, "OpenID endpoint: the database cannot serve");
            return Self::Unavailable;
        }
        tracing::error!(error = %e, "OpenID endpoint database error");
        Self::ServerError
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_the_rfc_codes_and_statuses() {
        assert_eq!(TokenError::InvalidClient.status(), 401);
        assert_eq!(TokenError::InvalidClient.body()["error"], "invalid_client");
        assert_eq!(TokenError::InvalidGrant("x").status(), 400);
        assert_eq!(
            TokenError::UnsupportedGrantType.body()["error"],
            "unsupported_grant_type"
        );
    }

    #[test]
    fn a_database_that_cannot_serve_is_temporarily_unavailable_and_a_bug_is_ours() {
        let down = TokenError::from(sqlx::Error::PoolTimedOut);
        assert_eq!(down, TokenError::Unavailable);
        assert_eq!(down.status(), 503);
        assert_eq!(down.body()["error"], "temporarily_unavailable");
        let bug = TokenError::from(sqlx::Error::RowNotFound);
        assert_eq!(bug, TokenError::ServerError);
        assert_eq!(bug.status(), 500);
    }
}

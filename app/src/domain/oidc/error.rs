//! `TokenError`: what the app-facing endpoints (token, PAR, revocation, introspection) answer
//! when they refuse, with the codes and statuses of RFC 6749 §5.2.

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
    /// Another error of the authorization request's kind (RFC 6749 §4.1.2.1), as the pushed
    /// authorization request endpoint reports it.
    Refused {
        error: &'static str,
        description: &'static str,
    },
}

impl TokenError {
    /// HTTP status: 401 for a failed client authentication, 500 for ours, 400 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidClient => 401,
            Self::ServerError => 500,
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
            Self::Refused { error, description } => (*error, *description),
        };
        json!({ "error": error, "error_description": description })
    }
}

impl From<sqlx::Error> for TokenError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "token endpoint database error");
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
}

//! The grant types of the token endpoint, one file each: the authorization code with PKCE
//! (RFC 6749 §4.1.3, RFC 7636), refresh with rotation and reuse detection (RFC 6749 §6,
//! RFC 9700 §4.14.2), and client credentials (RFC 6749 §4.4).

use serde::Deserialize;

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;

/// The token endpoint's own parameters (client authentication is read by `client_auth`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenForm {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
}

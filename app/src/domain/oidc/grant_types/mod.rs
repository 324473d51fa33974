//! The grant types of the token endpoint, one file each: the authorization code with PKCE
//! (RFC 6749 §4.1.3, RFC 7636), refresh with rotation and reuse detection (RFC 6749 §6,
//! RFC 9700 §4.14.2), and client credentials (RFC 6749 §4.4).

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;

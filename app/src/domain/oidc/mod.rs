//! The OpenID provider partner apps sign in through (being built): signing keys, registered
//! clients, the authorization code flow with PKCE, and the tokens it issues.

pub mod authorize;
pub mod clients;
pub mod grants;
pub mod keys;
pub mod logout;
pub mod par;
pub mod revocation;
pub mod session_apps;
pub mod token;

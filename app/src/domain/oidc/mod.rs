//! The OpenID provider partner apps sign in through: signing keys, registered clients and their
//! authentication, the authorization code flow with PKCE (and pushed requests), the tokens it
//! issues, subjects, revocation and introspection, and logout across the apps of a sign-in.

pub mod assertion;
pub mod authorize;
pub mod client_cache;
pub mod clients;
pub mod dpop;
pub mod grants;
pub mod keys;
pub mod logout;
pub mod notice_cache;
pub mod par;
pub mod person_cache;
pub mod revocation;
pub mod revoked;
pub mod session_apps;
pub mod subjects;
pub mod token;

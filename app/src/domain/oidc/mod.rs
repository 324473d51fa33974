//! The OpenID provider partner apps sign in through: signing keys (`keys`) and the tokens signed
//! with them (`jws`); registered clients (`clients`, `registration`) and how they authenticate
//! (`client_auth`, `assertion`); the authorization code flow with PKCE (`authorize`,
//! `pending_requests`, `par`); the token endpoint (`token`, one file per grant in
//! `grant_types/`); what ends a grant (`grant_revocation`, `revocation`); subjects, userinfo,
//! DPoP, connected apps, logout across the apps of a sign-in, and the per-node copies kept true
//! by change notices.

pub mod assertion;
pub mod authorize;
pub mod client_admin;
pub mod client_auth;
pub mod client_cache;
pub mod client_edit;
pub mod clients;
pub mod connected_apps;
pub mod dpop;
pub mod error;
pub mod grant_revocation;
pub mod grant_types;
pub mod issue;
pub mod jws;
pub mod key_pairs;
pub mod keys;
pub mod logout;
pub mod notice_cache;
pub mod par;
pub mod pending_requests;
pub mod person_cache;
pub mod registration;
pub mod revocation;
pub mod revoked;
pub mod session_apps;
pub mod subjects;
pub mod token;
pub mod userinfo;

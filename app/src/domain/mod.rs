//! Domain services and persistence (server only): one module per capability, each owning its
//! tables. Sign-in paths (`password_sign_in`, `email_sign_in`, `sms`, `passkeys`, `social`,
//! `recovery`) all end in `authentication`, the one place a proven factor becomes a session;
//! `sign_out` ends sign-ins, one or all; `address_proof` decides what survives an address's
//! first proof. Keys derive from the master key in `master_key` only.

pub mod accounts;
pub mod active_sessions;
pub mod address_proof;
pub mod assurance;
pub mod audit;
pub mod authentication;
pub mod branding;
pub mod client;
pub mod client_address;
pub mod consents;
pub mod customers;
pub mod directory;
pub mod email;
pub mod email_change;
pub mod email_sign_in;
pub mod error;
pub mod html;
pub mod imported_hashes;
pub mod mail;
pub mod master_key;
pub mod measures;
pub mod mfa;
pub mod moments;
pub mod names;
pub mod oidc;
pub mod otp;
pub mod passkeys;
pub mod password;
pub mod password_change;
pub mod password_sign_in;
pub mod phone;
pub mod postal_address;
pub mod preferences;
pub mod privacy;
pub mod proof_of_work;
pub mod recovery;
pub mod reports;
pub mod risk;
pub mod scim;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod sign_out;
pub mod sms;
pub mod social;
pub mod staff;
pub mod stuffing;
mod text_enum;
pub mod throttle;
pub mod timeline;
pub mod tokens;
pub mod users;
pub mod webhooks;

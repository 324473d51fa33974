//! Domain services and persistence (server only): one module per capability, each owning its
//! tables.

pub mod accounts;
pub mod audit;
pub mod branding;
pub mod client;
pub mod email;
pub mod email_sign_in;
pub mod error;
pub mod mail;
pub mod names;
pub mod oidc;
pub mod passkeys;
pub mod password;
pub mod phone;
pub mod recovery;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod signin;
pub mod sms;
pub mod social;
pub mod throttle;
pub mod tokens;
pub mod users;

//! The API both sides share: DTOs and `#[server]` functions, one module per area. A server
//! function authenticates, parses input into domain types, calls one domain service and maps
//! the error. Nothing more.

pub mod account;
pub mod admin;
pub mod branding;
pub mod consents;
pub mod console;
pub mod delete_account;
pub mod error;
pub mod my_data;
pub mod oauth;
pub mod passkeys;
pub mod password;
pub mod passwordless;
pub mod postal_address;
pub mod preferences;
pub mod profile;
pub mod second_factor;
pub mod security;
pub mod sign_ins;
pub mod signin;
pub mod signin_consent;
pub mod sms;
pub mod social;
pub mod timeline;

#[cfg(feature = "ssr")]
pub(crate) mod context;
#[cfg(feature = "ssr")]
pub use context::PageReads;

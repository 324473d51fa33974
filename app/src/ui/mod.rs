//! Pages and components, by area. No business rules live here.

pub mod account;
pub mod admin;
pub mod consents;
pub mod console;
pub mod delete_account;
pub mod email_change;
pub mod form;
pub mod home;
pub mod layout;
pub mod my_data;
pub mod not_found;
pub mod oauth;
pub mod passkeys;
pub mod password;
pub mod passwordless;
pub mod profile;
pub mod proof_of_work;
pub mod recovery;
pub mod second_factor;
pub mod security;
pub mod sign_ins;
pub mod signin;
pub mod signin_consent;
pub mod sms;
pub mod social;
pub mod timeline;

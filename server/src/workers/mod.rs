//! Background work every node runs: mail, SMS and back-channel logout delivery from their
//! outboxes, signing key rotation and reloading, the change notices that keep the in-memory clients,
//! people and revocations true, and cleanup of expired rows.

pub mod cleanup;
pub mod keys;
pub mod logout;
pub mod mail;
pub mod notices;
pub mod outbox;
pub mod sms;

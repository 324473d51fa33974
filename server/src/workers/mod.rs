//! Background work every node runs: mail, SMS and back-channel logout delivery from their
//! outboxes, signing key rotation and reloading, client cache invalidation, and cleanup of
//! expired rows.

pub mod cleanup;
pub mod client_changes;
pub mod keys;
pub mod logout;
pub mod mail;
pub mod outbox;
pub mod sms;

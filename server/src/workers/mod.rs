//! Background work every node runs: mail and SMS delivery from their outboxes, signing key
//! rotation and reloading, and cleanup of expired rows.

pub mod cleanup;
pub mod keys;
pub mod mail;
pub mod outbox;
pub mod sms;

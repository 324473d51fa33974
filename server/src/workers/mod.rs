//! Background work every node runs: mail and SMS delivery from their outboxes, and cleanup of
//! expired rows.

pub mod cleanup;
pub mod mail;
pub mod sms;

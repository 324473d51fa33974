//! Background work every node runs: mail delivery from the outbox, and cleanup of expired rows.

pub mod cleanup;
pub mod mail;

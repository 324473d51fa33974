//! The `server` command's subcommands other than `serve` and `migrate`: administrators, the
//! sign-in policy, social providers, signing keys, partner apps, operator actions on one
//! account, and the audit trail's hash chain. Every change they make is audited with `cli` as
//! the actor.

pub mod admin;
pub mod audit;
pub mod client;
pub mod keys;
pub mod settings;
pub mod social;
pub mod user;

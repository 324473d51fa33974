//! The `server` command's subcommands other than `serve` and `migrate`: staff accounts, the
//! sign-in policy, social providers, signing keys, partner apps, consent purposes, operator
//! actions on one customer's account, bulk import, demo customers, the audit trail's hash
//! chain, webhook subscriptions, SCIM provisioning clients and the privacy inventory. Every
//! change they make is audited with `cli` as the actor.

pub mod admin;
pub mod audit;
pub mod client;
pub mod client_update;
pub mod consent;
pub mod group;
pub mod hashing;
pub mod import;
pub mod keys;
pub mod policy;
pub mod privacy;
pub mod role;
pub mod scim_client;
pub mod seed;
pub mod settings;
pub mod social;
pub mod user;
pub mod webhook;

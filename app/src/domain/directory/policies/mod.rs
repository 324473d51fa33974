//! Each partner app's attribute-based policies (`app_policies`): one Cedar schema and one
//! Cedar policy set per app, versioned, checked as a whole before they are saved
//! (`compile`), read and written by `store` (each save audited `policy.updated` with the
//! actor, the version and SHA-256 digests of the texts), and the decisions an app asks for
//! (`decide`): the person from the directory, the resource and context from the app, Cedar's
//! answer naming the policies that decided it. `entities` builds what Cedar evaluates.
//!
//! The schema is Cedar's human-readable syntax, without a namespace, and must declare the two
//! entity types the service supplies, exactly so:
//!
//! ```cedar
//! entity Group;
//! entity Person in [Group] {
//!   roles: Set<String>,        // the person's roles for this app (RBAC, `roles`)
//!   permissions: Set<String>,  // what those roles grant
//!   email_verified: Bool,
//!   country?: String,          // from the person's postal address, when they gave one
//!   region?: String,
//! };
//! ```
//!
//! The principal of every request is `Person::"<sub>"`, the `sub` the app knows the person by
//! (public or pairwise), its parents `Group::"<name>"` for each of the person's groups. The
//! app sends the action (`Action::"<name>"`), the resource (any other entity type of the
//! schema: its id, attributes and parents as Cedar entity JSON) and the context (a record);
//! each is checked against the schema. An app asks only about people it knows: a pairwise
//! `sub` it was given, or (public subjects) an account that approved the app, or any account
//! for a first-party app.
//!
//! Policy ids are the `@id("…")` annotation when a policy has one, else Cedar's own
//! (`policy0`, `policy1`, … in the order written).

mod compile;
pub mod decide;
mod entities;
pub mod store;

pub use compile::{compile, Compiled};
pub use decide::{decide, evaluate, Decision, DecisionCache, DecisionRequest, PolicyCache};
pub use entities::{EntityRef, Person, Resource};
pub use store::{set, show, Saved, Stored};

use super::DirectoryError;
use crate::domain::privacy::{Erasure, Export, Table};

/// The channel a trigger notifies on any change to `app_policies`.
pub const CHANNEL: &str = "app_policies_changed";
/// The most bytes of a schema or of a policy set.
pub const MAX_TEXT: usize = 128 * 1024;
/// The most parents a resource may name.
pub const MAX_PARENTS: usize = 32;
/// The most attributes of a resource, and the most fields of a context.
pub const MAX_ATTRIBUTES: usize = 64;
/// The most characters of a `sub`, an action's name, a resource's type or id.
pub const MAX_NAME: usize = 255;

/// Why policies were not saved or a decision not made; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error("the schema is refused: {}", .0.join("; "))]
    Schema(Vec<String>),
    #[error("the policies are refused: {}", .0.join("; "))]
    Policies(Vec<String>),
    #[error("a schema or a policy set may hold at most {MAX_TEXT} bytes")]
    TooLarge,
    /// The app has no policies to decide by.
    #[error("no policies defined for this app")]
    NoPolicies,
    /// The app's stored policies no longer compile (they must be saved again).
    #[error("this app's stored policies no longer compile: {0}")]
    Stale(String),
    /// The policies changed while the request was answered.
    #[error("the policies changed meanwhile: try again")]
    Conflict,
    /// The app does not know this `sub`.
    #[error("no such subject for this app")]
    UnknownSubject,
    /// The request does not fit the app's schema or the limits.
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A Cedar error in words: its message, its help, and the messages of the errors behind it.
pub(crate) fn described(error: &dyn miette::Diagnostic) -> String {
    let mut text = error.to_string();
    if let Some(help) = error.help() {
        text.push_str(&format!(" ({help})"));
    }
    if let Some(related) = error.related() {
        for more in related {
            text.push_str("; ");
            text.push_str(&described(more));
        }
    }
    text
}

/// The table this module owns: apps' texts, nothing about people.
pub const TABLES: &[Table] = &[Table {
    name: "app_policies",
    person: None,
    personal: &[],
    other: &["client_id", "schema", "policies", "version", "updated_at"],
    export: Export::Not("an app's authorization policies: nothing about people"),
    erasure: Erasure::Nothing,
}];

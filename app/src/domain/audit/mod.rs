//! The audit trail: one row for every authentication event and account change, and for every
//! change an operator makes. Actions are named `area.verb` in the past tense
//! (`passkey.added`, `password.reset`, `signin.failed`); the outcome says whether it worked.
//! The table is append-only and sealed into a hash chain (`chain`).

pub mod chain;
pub mod erasure;
pub mod query;

use std::{borrow::Cow, sync::Arc};

use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

use super::client::ClientInfo;
use crate::domain::privacy::{Erasure, Export, Table};

/// Who made a change that is not a person's own (an operator's, or the service's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An operator, through the `server` command line.
    Cli,
    /// The service itself (a scheduled job).
    System,
    /// A signed-in staff member.
    Person(Uuid),
    /// A SCIM provisioning client (`scim:<its id>`).
    Provisioning(Uuid),
    /// A partner app's back end, through the management API (its client id); recorded as
    /// `app:<client id>`.
    App(Arc<str>),
}

/// Whether the audited attempt succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

/// One audited event.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub action: &'static str,
    pub outcome: Outcome,
    /// Who acted (the signed-in user), when known.
    pub actor: Option<Uuid>,
    /// Who acted when no person did: `cli` for the command line, `system`, `scim:<id>` for a
    /// provisioning client, or `app:<client id>`.
    pub actor_label: Option<Cow<'static, str>>,
    /// Whose account the event concerns, when known.
    pub subject: Option<Uuid>,
    pub detail: Value,
}

impl AuditEvent {
    pub fn new(action: &'static str, outcome: Outcome) -> Self {
        Self {
            action,
            outcome,
            actor: None,
            actor_label: None,
            subject: None,
            detail: Value::Object(Default::default()),
        }
    }

    /// The event concerns `user`, who is also the one acting.
    pub fn by(mut self, user: Uuid) -> Self {
        self.actor = Some(user);
        self.subject = Some(user);
        self
    }

    /// `actor` made the change.
    pub fn by_actor(mut self, actor: Actor) -> Self {
        match actor {
            Actor::Cli => self.actor_label = Some(Cow::Borrowed("cli")),
            Actor::System => self.actor_label = Some(Cow::Borrowed("system")),
            Actor::Person(id) => self.actor = Some(id),
            Actor::Provisioning(id) => self.actor_label = Some(Cow::Owned(format!("scim:{id}"))),
            Actor::App(client_id) => {
                self.actor_label = Some(Cow::Owned(format!("app:{client_id}")))
            }
        }
        self
    }

    /// The event concerns `user`, who is not (known to be) the one acting.
    pub fn about(mut self, user: Option<Uuid>) -> Self {
        self.subject = user;
        self
    }

    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }
}

/// Writes the successful change `action` that `actor` made outside any person's request (the
/// command line, a scheduled job), with no client address.
pub async fn record_change(
    db: impl PgExecutor<'_>,
    action: &'static str,
    actor: Actor,
    detail: Value,
) -> sqlx::Result<()> {
    let event = AuditEvent::new(action, Outcome::Success)
        .by_actor(actor)
        .detail(detail);
    record(db, &ClientInfo::default(), event).await
}

/// Writes `event` (inside the caller's transaction when given one).
pub async fn record(
    db: impl PgExecutor<'_>,
    client: &ClientInfo,
    event: AuditEvent,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_events
           (actor_id, actor, subject_id, action, outcome, ip, user_agent, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(event.actor)
    .bind(event.actor_label.as_deref())
    .bind(event.subject)
    .bind(event.action)
    .bind(match event.outcome {
        Outcome::Success => "success",
        Outcome::Failure => "failure",
    })
    .bind(&client.ip)
    .bind(&client.user_agent)
    .bind(&event.detail)
    .execute(db)
    .await?;
    Ok(())
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "audit_events",
    person: Some("subject_id"),
    personal: &["actor_id", "subject_id", "ip", "user_agent", "detail"],
    other: &[
        "id",
        "at",
        "action",
        "outcome",
        "actor",
        "chain_seq",
        "chain_hash",
        // A keyed digest of the personal columns (`chain`), and the pseudonym of an erased
        // person (`erasure`).
        "personal_digest",
        "erased_as",
    ],
    export: Export::RowsRedactedForOthers {
        actor: "actor_id",
        columns: &["actor_id", "ip", "user_agent"],
    },
    erasure: Erasure::Pseudonymise,
}];

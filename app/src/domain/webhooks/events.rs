//! The events partner systems can subscribe to, and `emit`: one delivery row per matching
//! enabled subscription, written in the transaction of the change itself (so a message goes
//! out at least once exactly when the change committed). A message says what happened and to
//! whom by id, and nothing more: never a secret, never an address or a name.

use serde::Serialize;
use serde_json::{json, Value};
use sqlx::PgExecutor;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};
use uuid::Uuid;

/// The kinds of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    PersonCreated,
    PersonUpdated,
    PersonDeleted,
    PersonSignedIn,
    PersonLocked,
    ConsentChanged,
    SessionEnded,
}

impl EventType {
    /// Every kind, in the order they are listed to operators.
    pub const ALL: [EventType; 7] = [
        Self::PersonCreated,
        Self::PersonUpdated,
        Self::PersonDeleted,
        Self::PersonSignedIn,
        Self::PersonLocked,
        Self::ConsentChanged,
        Self::SessionEnded,
    ];

    /// The name in messages and subscriptions (`person.created`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PersonCreated => "person.created",
            Self::PersonUpdated => "person.updated",
            Self::PersonDeleted => "person.deleted",
            Self::PersonSignedIn => "person.signed_in",
            Self::PersonLocked => "person.locked",
            Self::ConsentChanged => "consent.changed",
            Self::SessionEnded => "session.ended",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// Why sign-ins ended (`session.ended`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The person signed out.
    SignedOut,
    /// Every sign-in of the person was ended (a reset, an operator, a deletion asked for).
    EndedEverywhere,
    /// The person ended some of their sign-ins: one from the portal's list, or all but the one
    /// they use (by hand, or by changing their password).
    EndedByOwner,
}

impl SessionEnd {
    fn as_str(self) -> &'static str {
        match self {
            Self::SignedOut => "signed_out",
            Self::EndedEverywhere => "ended_everywhere",
            Self::EndedByOwner => "ended_by_owner",
        }
    }
}

/// One event, with the little it may say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    PersonCreated(Uuid),
    /// The person's profile changed (what changed is for the subscriber to read from the
    /// provider, with the person's consent).
    PersonUpdated(Uuid),
    /// The person was erased: the subscriber should forget them too (GDPR Art. 17(2), 19).
    PersonDeleted(Uuid),
    PersonSignedIn(Uuid),
    /// The account was locked (by an operator, or its password after too many failures).
    PersonLocked(Uuid),
    ConsentChanged {
        person: Uuid,
        purpose: &'a str,
        granted: bool,
    },
    SessionEnded {
        person: Uuid,
        reason: SessionEnd,
    },
}

impl Event<'_> {
    pub fn kind(&self) -> EventType {
        match self {
            Self::PersonCreated(_) => EventType::PersonCreated,
            Self::PersonUpdated(_) => EventType::PersonUpdated,
            Self::PersonDeleted(_) => EventType::PersonDeleted,
            Self::PersonSignedIn(_) => EventType::PersonSignedIn,
            Self::PersonLocked(_) => EventType::PersonLocked,
            Self::ConsentChanged { .. } => EventType::ConsentChanged,
            Self::SessionEnded { .. } => EventType::SessionEnded,
        }
    }

    fn person(&self) -> Uuid {
        match self {
            Self::PersonCreated(id)
            | Self::PersonUpdated(id)
            | Self::PersonDeleted(id)
            | Self::PersonSignedIn(id)
            | Self::PersonLocked(id) => *id,
            Self::ConsentChanged { person, .. } | Self::SessionEnded { person, .. } => *person,
        }
    }

    /// The person the delivery rows are kept under, for their export and erasure: none for
    /// their deletion, which is sent after they are erased and must survive it.
    fn kept_under(&self) -> Option<Uuid> {
        match self {
            Self::PersonDeleted(_) => None,
            _ => Some(self.person()),
        }
    }

    fn data(&self) -> Value {
        let id = self.person();
        match self {
            Self::ConsentChanged {
                purpose, granted, ..
            } => json!({ "person_id": id, "purpose": purpose, "granted": granted }),
            Self::SessionEnded { reason, .. } => {
                json!({ "person_id": id, "reason": reason.as_str() })
            }
            _ => json!({ "person_id": id }),
        }
    }
}

/// A message's body (Standard Webhooks 1.0, "Payload structure").
#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    timestamp: String,
    data: &'a Value,
}

/// The body of `event` at `at`.
pub fn body(event: &Event<'_>, at: OffsetDateTime) -> String {
    let at = at.replace_nanosecond(0).unwrap_or(at);
    let data = event.data();
    let body = Body {
        kind: event.kind().as_str(),
        timestamp: at.format(&Rfc3339).expect("a UTC time formats"),
        data: &data,
    };
    serde_json::to_string(&body).expect("the body serialises")
}

/// Queues `event` for every enabled subscription to its kind, in the caller's transaction;
/// returns how many messages were queued. The event has one id (`msg_…`), the same for every
/// subscriber and on every attempt (the subscriber's idempotency key). The delivery worker is woken when the transaction commits.
pub async fn emit(db: impl PgExecutor<'_>, event: &Event<'_>) -> sqlx::Result<u64> {
    let message_id = format!("msg_{}", Uuid::new_v4().simple());
    let body = body(event, OffsetDateTime::now_utc());
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries (subscription_id, message_id, event_type, person_id, body)
         SELECT id, $1, $2, $3, $4
         FROM webhook_subscriptions WHERE enabled AND $2 = ANY (event_types)",
    )
    .bind(&message_id)
    .bind(event.kind().as_str())
    .bind(event.kept_under())
    .bind(&body)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_say_what_happened_to_whom_and_nothing_more() {
        let id = Uuid::nil();
        let at = OffsetDateTime::from_unix_timestamp(1_765_000_000).unwrap();
        assert_eq!(
            body(&Event::PersonCreated(id), at),
            r#"{"type":"person.created","timestamp":"2025-12-06T05:46:40Z","data":{"person_id":"00000000-0000-0000-0000-000000000000"}}"#
        );
        let consent = Event::ConsentChanged {
            person: id,
            purpose: "newsletter",
            granted: false,
        };
        let parsed: Value = serde_json::from_str(&body(&consent, at)).unwrap();
        assert_eq!(
            parsed["data"],
            json!({ "person_id": id, "purpose": "newsletter", "granted": false })
        );
        let ended = Event::SessionEnded {
            person: id,
            reason: SessionEnd::SignedOut,
        };
        let parsed: Value = serde_json::from_str(&body(&ended, at)).unwrap();
        assert_eq!(parsed["type"], "session.ended");
        assert_eq!(parsed["data"]["reason"], "signed_out");
    }

    #[test]
    fn event_names_round_trip() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventType::parse("person.exploded"), None);
    }
}

//! The consent ledger (`consent_ledger`, append-only, and `consent_ledger_context`): every
//! grant and withdrawal of a purpose, and every app approval and disconnection, as a new row
//! with the policy version and text hash it concerned, how it was collected, and the network
//! and browser it came from. A person's current choices are their newest row per purpose.

use serde_json::json;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{purposes, Collection};
use crate::domain::privacy::{Erasure, Export, Table};
use crate::{
    domain::{
        audit::{self, AuditEvent, Outcome},
        client::ClientInfo,
        error::AccountError,
        webhooks,
    },
    state::AppState,
};

/// Why a portal choice was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConsentRefusal {
    #[error("There is no such purpose.")]
    UnknownPurpose,
    #[error("This one is required to keep the account; to withdraw it, delete the account.")]
    Required,
}

/// What a ledger row is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject<'a> {
    /// A purpose's policy, at the version and text hash shown.
    Policy {
        purpose: &'a str,
        version: i32,
        hash: &'a [u8],
    },
    /// A partner app's access, with the scopes approved (or, on withdrawal, held).
    App {
        client_id: &'a str,
        scopes: &'a [String],
    },
}

/// Appends one row for `user_id` (and its context: the network and browser of `client`).
pub async fn append(
    conn: &mut PgConnection,
    user_id: Uuid,
    client: &ClientInfo,
    subject: Subject<'_>,
    granted: bool,
    via: Collection,
) -> sqlx::Result<()> {
    let (purpose, version, hash, client_id, scopes) = match subject {
        Subject::Policy {
            purpose,
            version,
            hash,
        } => (Some(purpose), Some(version), Some(hash), None, None),
        Subject::App { client_id, scopes } => (None, None, None, Some(client_id), Some(scopes)),
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO consent_ledger
           (user_id, granted, collected_via, purpose, policy_version, policy_hash, client_id, scopes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(user_id)
    .bind(granted)
    .bind(via)
    .bind(purpose)
    .bind(version)
    .bind(hash)
    .bind(client_id)
    .bind(scopes)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO consent_ledger_context (entry_id, user_id, ip, user_agent)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(user_id)
    .bind(&client.ip)
    .bind(&client.user_agent)
    .execute(&mut *conn)
    .await?;
    // Subscribers hear of purposes (an app's approval is the app's own business).
    if let Some(purpose) = purpose {
        let changed = webhooks::Event::ConsentChanged {
            person: user_id,
            purpose,
            granted,
        };
        webhooks::emit(&mut *conn, &changed).await?;
    }
    Ok(())
}

/// Appends a withdrawal of every purpose `user_id` has granted now (on the version granted),
/// collected by the service; returns how many.
pub async fn withdraw_all(
    conn: &mut PgConnection,
    client: &ClientInfo,
    user_id: Uuid,
) -> sqlx::Result<usize> {
    let granted: Vec<Choice> = current(&mut *conn, user_id)
        .await?
        .into_iter()
        .filter(|c| c.granted)
        .collect();
    for choice in &granted {
        let subject = Subject::Policy {
            purpose: &choice.purpose,
            version: choice.policy_version,
            hash: &choice.policy_hash,
        };
        append(conn, user_id, client, subject, false, Collection::Service).await?;
    }
    Ok(granted.len())
}

/// A person's current choice for one purpose.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Choice {
    pub purpose: String,
    pub granted: bool,
    /// The policy version the choice was made on, and the SHA-256 of its text.
    pub policy_version: i32,
    pub policy_hash: Vec<u8>,
    pub at: OffsetDateTime,
}

/// The newest choice per purpose of `user_id`.
pub async fn current(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Vec<Choice>> {
    sqlx::query_as(
        "SELECT DISTINCT ON (purpose) purpose, granted, policy_version, policy_hash, at
         FROM consent_ledger WHERE user_id = $1 AND purpose IS NOT NULL
         ORDER BY purpose, id DESC",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// The `consents` claim for `user_id`: every purpose in use, keyed by its key, with whether
/// the person's newest choice grants it, the policy version that choice was made on, the
/// current version, and when (seconds since the epoch; null when never chosen).
pub async fn claim(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<serde_json::Value> {
    sqlx::query_scalar(
        "SELECT COALESCE(jsonb_object_agg(p.key, jsonb_build_object(
                    'granted', COALESCE(c.granted, false),
                    'version', c.policy_version,
                    'current_version', p.version,
                    'at', extract(epoch FROM c.at)::bigint)), '{}'::jsonb)
         FROM consent_purposes p
         LEFT JOIN LATERAL (
             SELECT granted, policy_version, at FROM consent_ledger
             WHERE user_id = $1 AND purpose = p.key ORDER BY id DESC LIMIT 1
         ) c ON true
         WHERE p.retired_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(db)
    .await
}

/// One ledger row, as the person's history shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    pub at: OffsetDateTime,
    pub granted: bool,
    pub collected_via: Collection,
    pub purpose: Option<String>,
    /// The purpose's name, or the app's.
    pub name: Option<String>,
    pub policy_version: Option<i32>,
    pub policy_hash: Option<Vec<u8>>,
    pub client_id: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Every ledger row of `user_id`, newest first (at most `limit`).
pub async fn history(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<Entry>> {
    sqlx::query_as(
        "SELECT l.at, l.granted, l.collected_via, l.purpose,
                COALESCE(p.name, c.name, l.client_id) AS name, l.policy_version, l.policy_hash,
                l.client_id, l.scopes, x.ip, x.user_agent
         FROM consent_ledger l
         LEFT JOIN consent_purposes p ON p.key = l.purpose
         LEFT JOIN oauth_clients c ON c.id = l.client_id
         LEFT JOIN consent_ledger_context x ON x.entry_id = l.id
         WHERE l.user_id = $1 ORDER BY l.id DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Grants or withdraws `key` for `user_id` from the portal, on the purpose's current policy
/// version; false when that already was the person's choice on that version. Required purposes
/// cannot be withdrawn here.
pub async fn choose(
    state: &AppState,
    client: &ClientInfo,
    user_id: Uuid,
    key: &str,
    granted: bool,
) -> Result<bool, AccountError> {
    let mut tx = state.db.begin().await?;
    let purpose = purposes::get(&mut *tx, key)
        .await?
        .filter(|p| p.retired_at.is_none())
        .ok_or(ConsentRefusal::UnknownPurpose)?;
    if purpose.required && !granted {
        return Err(ConsentRefusal::Required.into());
    }
    // Serialises two tabs choosing at once, so neither writes a row the other made redundant.
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let now = current(&mut *tx, user_id).await?;
    let unchanged = now
        .iter()
        .any(|c| c.purpose == key && c.granted == granted && c.policy_version == purpose.version);
    if unchanged {
        return Ok(false);
    }
    record(
        &mut tx,
        client,
        user_id,
        &purpose,
        granted,
        Collection::Portal,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Appends a grant or withdrawal of `purpose`'s current version, and audits it.
pub async fn record(
    conn: &mut PgConnection,
    client: &ClientInfo,
    user_id: Uuid,
    purpose: &purposes::Purpose,
    granted: bool,
    via: Collection,
) -> sqlx::Result<()> {
    let subject = Subject::Policy {
        purpose: &purpose.key,
        version: purpose.version,
        hash: &purpose.body_hash,
    };
    append(conn, user_id, client, subject, granted, via).await?;
    let action = if granted {
        "consent.granted"
    } else {
        "consent.withdrawn"
    };
    let event = AuditEvent::new(action, Outcome::Success)
        .by(user_id)
        .detail(json!({
            "purpose": purpose.key, "name": purpose.name, "version": purpose.version,
            "collected_via": via.as_str(),
        }));
    audit::record(conn, client, event).await
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[
    Table {
        name: "consent_ledger",
        person: Some("user_id"),
        personal: &["user_id"],
        other: &[
            "id",
            "at",
            "granted",
            "collected_via",
            "purpose",
            "policy_version",
            "policy_hash",
            "client_id",
            "scopes",
        ],
        export: Export::Rows,
        erasure: Erasure::Keep(
            "the proof of consent (GDPR Art. 7(1)); it names the account by id only",
        ),
    },
    Table {
        name: "consent_ledger_context",
        person: Some("user_id"),
        personal: &["user_id", "ip", "user_agent"],
        other: &["entry_id"],
        export: Export::Rows,
        erasure: Erasure::Delete,
    },
];

//! The Postgres store behind tower-sessions (`sessions`): rows keyed by a digest of the cookie's
//! session id, never the id itself, written only for sessions that still exist, and only with
//! the keys a request changed.

use async_trait::async_trait;
use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, SessionStore},
};
use uuid::Uuid;

use super::USER_KEY;
use crate::domain::privacy::{Erasure, Export, Table};
use crate::domain::tokens::token_hash;

/// Stores sessions in the `sessions` table. `save` only updates rows that exist, so a session
/// ended elsewhere (sign-out everywhere, password reset) is never written back by a request
/// that was still in flight. And `save` writes only what its request changed: a record keeps a
/// copy of the data as loaded (under [`LOADED_KEY`], never stored), and the row gets the keys
/// that differ from it and loses the keys removed from it. Two requests of one session that
/// change different keys (a page's passkey autofill and an app's authorization request, two
/// tabs) both keep their change; whole-record saves would lose the one written first.
#[derive(Debug, Clone)]
pub struct PgSessionStore {
    db: PgPool,
}

impl PgSessionStore {
    pub fn new(db: PgPool) -> Self {
        Self { db }
    }
}

/// The row's key for session `id`: the cookie's value digested as every secret the database
/// keeps is (`tokens::token_hash`, SHA-256), in hex. Whoever reads the table (a backup, a
/// replica, an injection elsewhere) learns no cookie that signs anyone in.
fn key(id: &Id) -> String {
    token_hash(&id.to_string())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// A database error as the store reports it: an unreachable database by the one text that
/// `error::database_unavailable` recognises.
fn database(e: sqlx::Error) -> session_store::Error {
    if crate::domain::error::sqlx_unavailable(&e) {
        session_store::Error::Backend(crate::domain::error::SESSION_STORE_UNAVAILABLE.into())
    } else {
        backend(e)
    }
}

/// Where a loaded record keeps its data as loaded (see [`PgSessionStore`]).
const LOADED_KEY: &str = "__as_loaded";

/// The record's data to store, and the data as it was loaded (none for a new or cleared one).
fn split_loaded(
    record: &Record,
) -> (
    serde_json::Map<String, serde_json::Value>,
    Option<serde_json::Map<String, serde_json::Value>>,
) {
    let mut data: serde_json::Map<String, serde_json::Value> = record
        .data
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let loaded = match data.remove(LOADED_KEY) {
        Some(serde_json::Value::Object(loaded)) => Some(loaded),
        _ => None,
    };
    (data, loaded)
}

fn user_of(record: &Record) -> Option<Uuid> {
    record
        .data
        .get(USER_KEY)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

#[async_trait]
impl SessionStore for PgSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = serde_json::Value::Object(split_loaded(record).0);
        loop {
            let inserted = sqlx::query(
                "INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(key(&record.id))
            .bind(user_of(record))
            .bind(&data)
            .bind(record.expiry_date)
            .execute(&self.db)
            .await
            .map_err(database)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let (data, loaded) = split_loaded(record);
        let Some(loaded) = loaded else {
            // New to this request, or cleared by it: the record is the whole truth.
            sqlx::query(
                "UPDATE sessions SET user_id = $2, data = $3, expires_at = $4, updated_at = now()
                 WHERE id = $1",
            )
            .bind(key(&record.id))
            .bind(user_of(record))
            .bind(serde_json::Value::Object(data))
            .bind(record.expiry_date)
            .execute(&self.db)
            .await
            .map_err(database)?;
            return Ok(());
        };
        let removed: Vec<&String> = loaded.keys().filter(|k| !data.contains_key(*k)).collect();
        let changed: serde_json::Map<String, serde_json::Value> = data
            .iter()
            .filter(|(k, v)| loaded.get(*k) != Some(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        sqlx::query(
            "UPDATE sessions
             SET data = (data - $2::text[]) || $3,
                 user_id = (((data - $2::text[]) || $3) ->> $5)::uuid,
                 expires_at = $4, updated_at = now()
             WHERE id = $1",
        )
        .bind(key(&record.id))
        .bind(removed)
        .bind(serde_json::Value::Object(changed))
        .bind(record.expiry_date)
        .bind(USER_KEY)
        .execute(&self.db)
        .await
        .map_err(database)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(serde_json::Value, OffsetDateTime)> = sqlx::query_as(
            "SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > now()",
        )
        .bind(key(id))
        .fetch_optional(&self.db)
        .await
        .map_err(database)?;
        row.map(|(data, expiry_date)| {
            let mut data: std::collections::HashMap<String, serde_json::Value> =
                serde_json::from_value(data).map_err(backend)?;
            let loaded = serde_json::Value::Object(
                data.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            );
            data.insert(LOADED_KEY.to_owned(), loaded);
            Ok(Record {
                id: *id,
                data,
                expiry_date,
            })
        })
        .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(key(id))
            .execute(&self.db)
            .await
            .map_err(database)?;
        Ok(())
    }
}

/// Sets `key` to `value` in every session of `user_id` (a setting their other devices read at
/// their next request). The store writes back only the keys a request changed, so a request in
/// flight on another device does not undo it.
pub async fn set_everywhere(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    key: &str,
    value: &serde_json::Value,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "UPDATE sessions SET data = jsonb_set(data, ARRAY[$2], $3), updated_at = now()
         WHERE user_id = $1 AND expires_at > now()",
    )
    .bind(user_id)
    .bind(key)
    .bind(value)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Ends every session of `user_id`.
pub async fn end_all_for_user(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Removes expired sessions.
pub async fn delete_expired(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= now()")
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "sessions",
    person: Some("user_id"),
    personal: &["id", "user_id", "data"],
    other: &["expires_at", "created_at", "updated_at"],
    // The id is a digest of the cookie's, useless outside this table; the data is the sign-in's
    // working state (sealed values, pending steps, this browser's claims), whose facts the
    // export gives from the audit trail instead.
    export: Export::RowsWithout(&["id", "data"]),
    erasure: Erasure::Delete,
}];

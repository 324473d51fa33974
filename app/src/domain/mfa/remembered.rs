//! Remembered devices: "remember this device for 30 days" after a second factor. A row binds
//! the browser's device cookie (its SHA-256) to one account until it expires or is forgotten;
//! on a remembered device the second step is not asked.

use serde_json::json;
use sqlx::{PgConnection, PgExecutor};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::domain::privacy::{Erasure, Export, Table};
use crate::domain::{
    audit::{self, AuditEvent, Outcome},
    client::{device_summary, ClientInfo},
    error::AccountError,
    tokens::token_hash,
};

/// How long a device stays remembered.
pub const LIFETIME: Duration = Duration::days(30);

/// A remembered device as the portal lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RememberedDevice {
    pub id: Uuid,
    pub device: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// Remembers the calling browser for `user_id` (for 30 days from now); `false` when the
/// browser has no device cookie to remember it by.
pub async fn remember(
    db: impl PgExecutor<'_>,
    client: &ClientInfo,
    user_id: Uuid,
) -> sqlx::Result<bool> {
    let Some(device) = &client.device else {
        return Ok(false);
    };
    sqlx::query(
        "INSERT INTO remembered_devices (id, user_id, token_hash, device, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
         ON CONFLICT (user_id, token_hash) DO UPDATE SET
           expires_at = excluded.expires_at, last_used_at = now(), device = excluded.device",
    )
    .bind(Uuid::new_v4())
    .bind(user_id)
    .bind(token_hash(device))
    .bind(device_summary(client.user_agent.as_deref()))
    .bind(LIFETIME.whole_seconds() as f64)
    .execute(db)
    .await?;
    Ok(true)
}

/// Whether the calling browser is remembered for `user_id` (and notes its use).
pub async fn recognises(
    db: impl PgExecutor<'_>,
    client: &ClientInfo,
    user_id: Uuid,
) -> sqlx::Result<bool> {
    let Some(device) = &client.device else {
        return Ok(false);
    };
    let done = sqlx::query(
        "UPDATE remembered_devices SET last_used_at = now()
         WHERE user_id = $1 AND token_hash = $2 AND expires_at > now()",
    )
    .bind(user_id)
    .bind(token_hash(device))
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The remembered devices of `user_id`, most recently used first.
pub async fn list(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Vec<RememberedDevice>> {
    sqlx::query_as(
        "SELECT id, device, created_at, last_used_at, expires_at FROM remembered_devices
         WHERE user_id = $1 AND expires_at > now() ORDER BY last_used_at DESC",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// Forgets one remembered device of `user_id` (audited): it is asked for the second factor
/// again.
pub async fn forget(
    db: &sqlx::PgPool,
    client: &ClientInfo,
    user_id: Uuid,
    id: Uuid,
) -> Result<(), AccountError> {
    let mut tx = db.begin().await?;
    let done = sqlx::query("DELETE FROM remembered_devices WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AccountError::NotFound);
    }
    let event = AuditEvent::new("device.forgotten", Outcome::Success)
        .by(user_id)
        .detail(json!({ "device": id }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Forgets every remembered device of `user_id` (a password reset, every sign-in ended);
/// returns how many.
pub async fn forget_all(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM remembered_devices WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Removes expired rows.
pub async fn delete_expired(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM remembered_devices WHERE expires_at <= now()")
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "remembered_devices",
    person: Some("user_id"),
    personal: &["user_id", "token_hash", "device"],
    other: &["id", "created_at", "last_used_at", "expires_at"],
    export: Export::RowsWithout(&["token_hash"]),
    erasure: Erasure::Delete,
}];

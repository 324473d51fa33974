//! Provisioning clients: an identity provider that keeps people and groups here in step with
//! its own, named by an operator and given a long-lived bearer token (`server scim-client add`).
//! The token (256 random bits, shown once) is kept as its SHA-256 only and looked up by that
//! hash, so the lookup reveals nothing about the token; a revoked client's token opens nothing.
//! Adding and revoking are audited with the actor.

use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{
    audit::{self, Actor},
    tokens::{random_token, token_hash},
};

/// What every token starts with, so that a leaked one is recognised for what it is.
pub const TOKEN_PREFIX: &str = "khscim_";

/// The client a request authenticated as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningClient {
    pub id: Uuid,
    pub name: String,
}

impl ProvisioningClient {
    /// The actor its changes are audited under.
    pub fn actor(&self) -> Actor {
        Actor::Provisioning(self.id)
    }
}

/// A client as listed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    pub id: Uuid,
    pub name: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// Why a client command was refused.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("a provisioning client's name is 1 to 80 characters, without control characters")]
    BadName,
    #[error("no provisioning client {0}")]
    NotFound(Uuid),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Adds the client `name` (audited `scim_client.added`, never the token); its id and its
/// token, which is shown once and never again.
pub async fn add(db: &PgPool, name: &str, actor: Actor) -> Result<(Uuid, String), ClientError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(ClientError::BadName);
    }
    let id = Uuid::new_v4();
    let token = format!("{TOKEN_PREFIX}{}", random_token());
    let mut tx = db.begin().await?;
    sqlx::query("INSERT INTO scim_clients (id, name, token_hash) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(name)
        .bind(token_hash(&token))
        .execute(&mut *tx)
        .await?;
    let detail = json!({ "scim_client": id, "name": name });
    audit::record_change(&mut *tx, "scim_client.added", actor, detail).await?;
    tx.commit().await?;
    Ok((id, token))
}

/// Every client, oldest first.
pub async fn list(db: &PgPool) -> sqlx::Result<Vec<Listed>> {
    sqlx::query_as(
        "SELECT id, name, created_at, last_used_at, revoked_at FROM scim_clients
         ORDER BY created_at, id",
    )
    .fetch_all(db)
    .await
}

/// Revokes client `id`: its token opens nothing from now on (audited `scim_client.revoked`).
/// False when it was revoked already.
pub async fn revoke(db: &PgPool, id: Uuid, actor: Actor) -> Result<bool, ClientError> {
    let mut tx = db.begin().await?;
    let found: Option<bool> = sqlx::query_scalar(
        "SELECT revoked_at IS NOT NULL FROM scim_clients WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    match found {
        None => return Err(ClientError::NotFound(id)),
        Some(true) => return Ok(false),
        Some(false) => {}
    }
    sqlx::query("UPDATE scim_clients SET revoked_at = now() WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record_change(
        &mut *tx,
        "scim_client.revoked",
        actor,
        json!({ "scim_client": id }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The live client whose token `token` is, if any (noting, at most once a minute, that it was
/// used).
pub async fn authenticate(db: &PgPool, token: &str) -> sqlx::Result<Option<ProvisioningClient>> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
        return Ok(None);
    }
    let found: Option<(Uuid, String, bool)> = sqlx::query_as(
        "SELECT id, name, last_used_at IS NULL OR last_used_at < now() - interval '1 minute'
         FROM scim_clients WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(token_hash(token))
    .fetch_optional(db)
    .await?;
    let Some((id, name, stale)) = found else {
        return Ok(None);
    };
    if stale {
        sqlx::query("UPDATE scim_clients SET last_used_at = now() WHERE id = $1")
            .bind(id)
            .execute(db)
            .await?;
    }
    Ok(Some(ProvisioningClient { id, name }))
}

//! Saving and reading an app's schema and policies. A save is checked as a whole first
//! (`compile`): refused, nothing changes. Saved, the version goes up by one and the change is
//! audited `policy.updated` with the actor, the version before and after, the SHA-256 of each
//! text and the policies' ids (never the texts); the table's trigger tells every node.

use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;

use super::{compile, PolicyError};
use crate::domain::{
    audit::Actor,
    directory::{audit_change, roles::app},
};

/// An app's saved schema and policies.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Stored {
    pub schema: String,
    pub policies: String,
    pub version: i64,
    pub updated_at: OffsetDateTime,
}

/// What [`set`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// Saved as this version.
    Version(i64),
    /// The texts were already these (this version): nothing written.
    Unchanged(i64),
}

fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Sets the schema and policies of the app `client_id` (one that signs people in), after
/// checking them together; audited `policy.updated` with `actor`.
pub async fn set(
    db: &PgPool,
    client_id: &str,
    schema: &str,
    policies: &str,
    actor: Actor,
) -> Result<Saved, PolicyError> {
    let compiled = compile(schema, policies)?;
    let mut ids: Vec<String> = compiled
        .policies
        .policies()
        .map(|p| p.id().to_string())
        .collect();
    ids.sort();
    let mut tx = db.begin().await?;
    app(&mut tx, client_id, true).await?;
    let before: Option<(String, String, i64)> = sqlx::query_as(
        "SELECT schema, policies, version FROM app_policies WHERE client_id = $1 FOR UPDATE",
    )
    .bind(client_id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((old_schema, old_policies, version)) = &before {
        if old_schema == schema && old_policies == policies {
            return Ok(Saved::Unchanged(*version));
        }
    }
    let version = before.as_ref().map_or(1, |(_, _, v)| v + 1);
    sqlx::query(
        "INSERT INTO app_policies (client_id, schema, policies, version) VALUES ($1, $2, $3, $4)
         ON CONFLICT (client_id) DO UPDATE SET schema = excluded.schema,
           policies = excluded.policies, version = excluded.version, updated_at = now()",
    )
    .bind(client_id)
    .bind(schema)
    .bind(policies)
    .bind(version)
    .execute(&mut *tx)
    .await?;
    let was = before.as_ref().map(|(schema, policies, version)| {
        json!({
            "version": version,
            "schema_sha256": digest(schema),
            "policies_sha256": digest(policies),
        })
    });
    audit_change(
        &mut *tx,
        "policy.updated",
        actor,
        None,
        json!({
            "client_id": client_id,
            "version": version,
            "schema_sha256": digest(schema),
            "policies_sha256": digest(policies),
            "policy_ids": ids,
            "before": was,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(Saved::Version(version))
}

/// The schema and policies of the app `client_id`, if it has any.
pub async fn show(db: &PgPool, client_id: &str) -> Result<Option<Stored>, PolicyError> {
    let mut conn = db.acquire().await?;
    app(&mut conn, client_id, false).await?;
    Ok(sqlx::query_as(
        "SELECT schema, policies, version, updated_at FROM app_policies WHERE client_id = $1",
    )
    .bind(client_id)
    .fetch_optional(&mut *conn)
    .await?)
}

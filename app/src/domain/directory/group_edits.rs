//! Groups as the management API reads and edits them: by id, a page at a time by name, each
//! with a version (its `ETag`) that any change to what it shows renews; an edit applies only
//! when the version the app read is current, checked and made in one transaction under the
//! group's row lock (audited `group.renamed` / `group.described` with the actor).

use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::{audit_change, description, groups, groups::Group, DirectoryError};
use crate::domain::audit::Actor;

const COLUMNS: &str = "g.id, g.name, g.description, g.created_at,
     (SELECT count(*) FROM group_members m WHERE m.group_id = g.id) AS members";

impl Group {
    /// The version of what the group shows.
    pub fn version(&self) -> String {
        let mut hash = Sha256::new();
        for field in [
            self.id.to_string(),
            self.name.clone(),
            self.description.clone().unwrap_or_default(),
            self.created_at.unix_timestamp_nanos().to_string(),
            self.members.to_string(),
        ] {
            hash.update(field.as_bytes());
            hash.update([0]);
        }
        hash.finalize()[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The group `id`.
pub async fn by_id(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<Group>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM groups g WHERE g.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// At most `limit` groups by name (case-insensitive, then id), after the group `after`.
pub async fn page(db: &PgPool, after: Option<Uuid>, limit: i64) -> sqlx::Result<Vec<Group>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM groups g
         WHERE $1::uuid IS NULL
            OR (lower(g.name), g.id) > (SELECT lower(name), id FROM groups WHERE id = $1)
         ORDER BY lower(g.name), g.id LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// What an edit changes; `None` leaves it.
#[derive(Debug, Clone, Default)]
pub struct GroupChanges {
    pub name: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
}

/// Why an edit was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("the group changed since this version was read")]
    Stale(Box<Group>),
    #[error("no group has this id")]
    NotFound,
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

impl From<sqlx::Error> for EditError {
    fn from(e: sqlx::Error) -> Self {
        Self::Directory(e.into())
    }
}

/// Applies `changes` to the group `id` when its version is still `expected`; the group after.
pub async fn update(
    db: &PgPool,
    id: Uuid,
    expected: &str,
    changes: &GroupChanges,
    actor: Actor,
) -> Result<Group, EditError> {
    let name = changes
        .name
        .as_deref()
        .map(groups::group_name)
        .transpose()?;
    let text = match &changes.description {
        Some(text) => Some(description(text.as_deref())?),
        None => None,
    };
    let mut tx = db.begin().await?;
    sqlx::query("SELECT 1 FROM groups WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(EditError::NotFound)?;
    let group = by_id(&mut *tx, id).await?.ok_or(EditError::NotFound)?;
    if group.version() != expected {
        return Err(EditError::Stale(Box::new(group)));
    }
    if let Some(name) = name.filter(|n| *n != group.name) {
        sqlx::query("UPDATE groups SET name = $2 WHERE id = $1")
            .bind(id)
            .bind(&name)
            .execute(&mut *tx)
            .await
            .map_err(|e| match groups::is_unique_violation(&e) {
                true => DirectoryError::GroupExists(name.clone()),
                false => e.into(),
            })?;
        let detail = json!({ "group_id": id, "from": group.name, "to": name });
        audit_change(&mut *tx, "group.renamed", actor.clone(), None, detail).await?;
    }
    if let Some(text) = text.filter(|t| *t != group.description) {
        sqlx::query("UPDATE groups SET description = $2 WHERE id = $1")
            .bind(id)
            .bind(&text)
            .execute(&mut *tx)
            .await?;
        let detail = json!({ "group_id": id, "from": group.description, "to": text });
        audit_change(&mut *tx, "group.described", actor, None, detail).await?;
    }
    let after = by_id(&mut *tx, id).await?.ok_or(EditError::NotFound)?;
    tx.commit().await?;
    Ok(after)
}

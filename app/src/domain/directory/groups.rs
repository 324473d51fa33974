//! Groups of people (`groups`, `group_members`): directory-wide, named uniquely whatever the
//! case; created, renamed and deleted, members added and removed, listed. A role assigned to a
//! group is every member's (`roles`). Each change is audited (`group.created`,
//! `group.renamed`, `group.deleted`, `group.member_added`, `group.member_removed`) with its
//! actor; a membership's row names the person as its subject and the group by id and name.

use serde_json::json;
use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{audit_change, description, DirectoryError, MAX_GROUP_NAME};
use crate::domain::audit::Actor;

/// One group, with how many members it has.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Group {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub created_at: OffsetDateTime,
    pub members: i64,
}

/// One member of a group.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Member {
    pub user_id: Uuid,
    pub email: String,
    pub added_at: OffsetDateTime,
}

/// What deleting a group ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deleted {
    pub members: i64,
    pub role_assignments: i64,
}

/// A group's name: trimmed, 1 to [`MAX_GROUP_NAME`] characters, no control characters.
pub fn group_name(raw: &str) -> Result<String, DirectoryError> {
    let name = raw.trim();
    if name.is_empty()
        || name.chars().count() > MAX_GROUP_NAME
        || name.chars().any(char::is_control)
    {
        return Err(DirectoryError::GroupName);
    }
    Ok(name.to_owned())
}

/// How [`find`] holds the group it found for the rest of the caller's transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hold {
    /// Not at all (a read).
    Not,
    /// Against renaming and deletion (a membership or an assignment is being written).
    Share,
    /// Against everything else (the group itself is being changed).
    Update,
}

/// The id and exact name of the group named `name` (whatever its case), held as `hold` says.
pub(crate) async fn find(
    conn: &mut PgConnection,
    name: &str,
    hold: Hold,
) -> Result<(Uuid, String), DirectoryError> {
    let sql = match hold {
        Hold::Not => "SELECT id, name FROM groups WHERE lower(name) = lower($1)",
        Hold::Share => "SELECT id, name FROM groups WHERE lower(name) = lower($1) FOR SHARE",
        Hold::Update => "SELECT id, name FROM groups WHERE lower(name) = lower($1) FOR UPDATE",
    };
    sqlx::query_as(sql)
        .bind(name.trim())
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| DirectoryError::UnknownGroup(name.trim().to_owned()))
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

/// Creates the group `name` (audited `group.created`); its id.
pub async fn create(
    db: &PgPool,
    name: &str,
    description_text: Option<&str>,
    actor: Actor,
) -> Result<Uuid, DirectoryError> {
    let mut tx = db.begin().await?;
    let id = create_in(&mut tx, name, description_text, actor).await?;
    tx.commit().await?;
    Ok(id)
}

/// [`create`] inside the caller's transaction.
pub async fn create_in(
    tx: &mut PgConnection,
    name: &str,
    description_text: Option<&str>,
    actor: Actor,
) -> Result<Uuid, DirectoryError> {
    let name = group_name(name)?;
    let description = description(description_text)?;
    let id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO groups (id, name, description) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(Uuid::new_v4())
    .bind(&name)
    .bind(&description)
    .fetch_optional(&mut *tx)
    .await?;
    let id = id.ok_or_else(|| DirectoryError::GroupExists(name.clone()))?;
    audit_change(
        &mut *tx,
        "group.created",
        actor,
        None,
        json!({ "group_id": id, "name": name, "description": description }),
    )
    .await?;
    Ok(id)
}

/// Renames the group `name` to `new_name` (audited `group.renamed` with both); whether the
/// name changed (a name already so changes nothing).
pub async fn rename(
    db: &PgPool,
    name: &str,
    new_name: &str,
    actor: Actor,
) -> Result<bool, DirectoryError> {
    let new_name = group_name(new_name)?;
    let mut tx = db.begin().await?;
    let (id, old) = find(&mut tx, name, Hold::Update).await?;
    if old == new_name {
        return Ok(false);
    }
    sqlx::query("UPDATE groups SET name = $2 WHERE id = $1")
        .bind(id)
        .bind(&new_name)
        .execute(&mut *tx)
        .await
        .map_err(|e| match is_unique_violation(&e) {
            true => DirectoryError::GroupExists(new_name.clone()),
            false => e.into(),
        })?;
    audit_change(
        &mut *tx,
        "group.renamed",
        actor,
        None,
        json!({ "group_id": id, "from": old, "to": new_name }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Deletes the group `name`, its memberships and the roles assigned to it (audited
/// `group.deleted` with how many of each ended).
pub async fn delete(db: &PgPool, name: &str, actor: Actor) -> Result<Deleted, DirectoryError> {
    let mut tx = db.begin().await?;
    let (id, name) = find(&mut tx, name, Hold::Update).await?;
    let (members, role_assignments): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM group_members WHERE group_id = $1),
                (SELECT count(*) FROM role_assignments WHERE group_id = $1)",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM groups WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit_change(
        &mut *tx,
        "group.deleted",
        actor,
        None,
        json!({
            "group_id": id,
            "name": name,
            "members": members,
            "role_assignments": role_assignments,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(Deleted {
        members,
        role_assignments,
    })
}

/// Adds `user_id` to the group `name` (audited `group.member_added`, the person its subject);
/// whether they were not a member before.
pub async fn add_member(
    db: &PgPool,
    name: &str,
    user_id: Uuid,
    actor: Actor,
) -> Result<bool, DirectoryError> {
    let mut tx = db.begin().await?;
    let (id, name) = find(&mut tx, name, Hold::Share).await?;
    let added = sqlx::query(
        "INSERT INTO group_members (group_id, user_id)
         SELECT $1, id FROM users WHERE id = $2
         ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(user_id)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !added {
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)")
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
        if !exists {
            return Err(DirectoryError::UnknownPerson(user_id.to_string()));
        }
        return Ok(false);
    }
    audit_change(
        &mut *tx,
        "group.member_added",
        actor,
        Some(user_id),
        json!({ "group_id": id, "group": name }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Removes `user_id` from the group `name` (audited `group.member_removed`, the person its
/// subject); whether they were a member.
pub async fn remove_member(
    db: &PgPool,
    name: &str,
    user_id: Uuid,
    actor: Actor,
) -> Result<bool, DirectoryError> {
    let mut tx = db.begin().await?;
    let (id, name) = find(&mut tx, name, Hold::Share).await?;
    let removed = sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if !removed {
        return Ok(false);
    }
    audit_change(
        &mut *tx,
        "group.member_removed",
        actor,
        Some(user_id),
        json!({ "group_id": id, "group": name }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Every group with its member count, by name.
pub async fn list(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Group>> {
    sqlx::query_as(
        "SELECT g.id, g.name, g.description, g.created_at,
                (SELECT count(*) FROM group_members m WHERE m.group_id = g.id) AS members
         FROM groups g ORDER BY lower(g.name), g.name",
    )
    .fetch_all(db)
    .await
}

/// The members of the group `name`, by address.
pub async fn members(db: &PgPool, name: &str) -> Result<Vec<Member>, DirectoryError> {
    let mut conn = db.acquire().await?;
    let (id, _) = find(&mut conn, name, Hold::Not).await?;
    Ok(sqlx::query_as(
        "SELECT u.id AS user_id, u.email, m.added_at
         FROM group_members m JOIN users u ON u.id = m.user_id
         WHERE m.group_id = $1 ORDER BY lower(u.email)",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?)
}

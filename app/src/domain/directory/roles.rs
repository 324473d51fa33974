//! Each partner app's roles and permissions (`app_roles`, `app_permissions`,
//! `app_role_permissions`); who holds them is `assignments`' (re-exported here). Defined and
//! deleted by an operator, each change audited (`role.defined`, `role.deleted`) with its actor
//! and what changed; and read for a token by [`for_person`], one query, at every token issue
//! (never kept anywhere else), so a change reaches an app at its next code exchange or refresh.
//!
//! Apps that sign people in may ask for the [`SCOPE`]; with it their ID tokens, access tokens
//! (RFC 9068 §2.2.3.1 names `roles` among the claims an access token may carry) and userinfo
//! hold the person's `roles` and `permissions` for that app alone (RFC 7643 §4.1.2 calls them
//! `roles` and `entitlements`), as arrays of names, sorted, each once.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

pub use super::assignments::{assign, unassign, Holder};
use super::{audit_change, description, is_token_name, DirectoryError};
use crate::domain::audit::Actor;

/// The scope that gives an app the person's roles and permissions for it.
pub const SCOPE: &str = "roles";

/// One of an app's roles, what it grants, and how many people and groups hold it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Role {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// Sorted.
    pub permissions: Vec<String>,
    pub people: i64,
    pub groups: i64,
}

/// What [`define`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defined {
    Created,
    Changed,
    /// The role was already so: nothing written.
    Unchanged,
}

/// A person's roles and permissions for one app, each sorted and once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Granted {
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
}

impl Granted {
    /// Adds the `roles` and `permissions` claims to `claims`.
    pub fn add_claims(&self, claims: &mut Map<String, Value>) {
        claims.insert("roles".into(), json!(self.roles));
        claims.insert("permissions".into(), json!(self.permissions));
    }
}

/// Whether `scopes` hold the [`SCOPE`].
pub fn asked(scopes: &[String]) -> bool {
    scopes.iter().any(|s| s == SCOPE)
}

/// `user_id`'s roles for the app `client_id`, assigned to them or to a group of theirs, and
/// the permissions those roles grant: one query.
pub async fn for_person(
    db: impl PgExecutor<'_>,
    client_id: &str,
    user_id: Uuid,
) -> sqlx::Result<Granted> {
    // From the person's side: their assignments and their groups' (each by an index that
    // starts with the person or the group), then the app's roles among them.
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "WITH held AS (
             SELECT role_id FROM role_assignments WHERE user_id = $2
             UNION
             SELECT a.role_id FROM group_members m
             JOIN role_assignments a ON a.group_id = m.group_id
             WHERE m.user_id = $2
         )
         SELECT r.name, p.permission
         FROM held JOIN app_roles r ON r.id = held.role_id AND r.client_id = $1
         LEFT JOIN app_role_permissions p ON p.role_id = r.id",
    )
    .bind(client_id)
    .bind(user_id)
    .fetch_all(db)
    .await?;
    let mut roles = BTreeSet::new();
    let mut permissions = BTreeSet::new();
    for (role, permission) in rows {
        roles.insert(role);
        permissions.extend(permission);
    }
    Ok(Granted {
        roles: roles.into_iter().collect(),
        permissions: permissions.into_iter().collect(),
    })
}

/// As [`for_person`], for an operator's question: the app must be one that signs people in,
/// and the person must exist.
pub async fn of(db: &PgPool, client_id: &str, user_id: Uuid) -> Result<Granted, DirectoryError> {
    let mut conn = db.acquire().await?;
    app(&mut conn, client_id, false).await?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)")
        .bind(user_id)
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Err(DirectoryError::UnknownPerson(user_id.to_string()));
    }
    Ok(for_person(&mut *conn, client_id, user_id).await?)
}

/// Checks that `client_id` is an app that signs people in; with `hold`, holds it against other
/// role changes for the rest of the transaction (they queue, so the permissions no role
/// grants any more can be dropped safely).
pub(super) async fn app(
    conn: &mut PgConnection,
    client_id: &str,
    hold: bool,
) -> Result<(), DirectoryError> {
    let sql = if hold {
        "SELECT client_type FROM oauth_clients WHERE id = $1 FOR NO KEY UPDATE"
    } else {
        "SELECT client_type FROM oauth_clients WHERE id = $1"
    };
    let kind: Option<String> = sqlx::query_scalar(sql)
        .bind(client_id)
        .fetch_optional(conn)
        .await?;
    match kind.as_deref() {
        None => Err(DirectoryError::UnknownClient(client_id.to_owned())),
        Some("service") => Err(DirectoryError::ServiceClient(client_id.to_owned())),
        Some(_) => Ok(()),
    }
}

/// The id of `client_id`'s role `name`, held for the rest of the transaction.
pub(super) async fn role(
    conn: &mut PgConnection,
    client_id: &str,
    name: &str,
    for_update: bool,
) -> Result<(Uuid, Option<String>), DirectoryError> {
    let sql = if for_update {
        "SELECT id, description FROM app_roles WHERE client_id = $1 AND name = $2 FOR UPDATE"
    } else {
        "SELECT id, description FROM app_roles WHERE client_id = $1 AND name = $2 FOR SHARE"
    };
    sqlx::query_as(sql)
        .bind(client_id)
        .bind(name)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| DirectoryError::UnknownRole {
            client: client_id.to_owned(),
            role: name.to_owned(),
        })
}

async fn permissions_of(conn: &mut PgConnection, role_id: Uuid) -> sqlx::Result<Vec<String>> {
    let mut held: Vec<String> =
        sqlx::query_scalar("SELECT permission FROM app_role_permissions WHERE role_id = $1")
            .bind(role_id)
            .fetch_all(conn)
            .await?;
    held.sort();
    Ok(held)
}

/// Drops the app's permissions no role grants any more.
async fn drop_unused_permissions(conn: &mut PgConnection, client_id: &str) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM app_permissions p WHERE p.client_id = $1 AND NOT EXISTS (
             SELECT 1 FROM app_role_permissions g
             WHERE g.client_id = p.client_id AND g.permission = p.name)",
    )
    .bind(client_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Defines the role `name` of the app `client_id` as granting exactly `permissions` (each
/// checked; repeats count once), with `description`: creates it, or changes one that exists
/// (audited `role.defined` with what it was before).
pub async fn define(
    db: &PgPool,
    client_id: &str,
    name: &str,
    description_text: Option<&str>,
    permissions: &[String],
    actor: Actor,
) -> Result<Defined, DirectoryError> {
    if !is_token_name(name) {
        return Err(DirectoryError::RoleName(name.to_owned()));
    }
    if let Some(bad) = permissions.iter().find(|p| !is_token_name(p)) {
        return Err(DirectoryError::PermissionName(bad.clone()));
    }
    let permissions: Vec<String> = permissions
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let description = description(description_text)?;
    let mut tx = db.begin().await?;
    app(&mut tx, client_id, true).await?;
    let before = match role(&mut tx, client_id, name, true).await {
        Ok((id, description)) => Some((id, description, permissions_of(&mut tx, id).await?)),
        Err(DirectoryError::UnknownRole { .. }) => None,
        Err(e) => return Err(e),
    };
    let role_id = match &before {
        Some((id, old_description, old_permissions)) => {
            if *old_description == description && *old_permissions == permissions {
                return Ok(Defined::Unchanged);
            }
            sqlx::query("UPDATE app_roles SET description = $2 WHERE id = $1")
                .bind(id)
                .bind(&description)
                .execute(&mut *tx)
                .await?;
            *id
        }
        None => sqlx::query_scalar(
            "INSERT INTO app_roles (id, client_id, name, description) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(Uuid::new_v4())
        .bind(client_id)
        .bind(name)
        .bind(&description)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DirectoryError::Conflict)?,
    };
    sqlx::query(
        "INSERT INTO app_permissions (client_id, name) SELECT $1, unnest($2::text[])
         ON CONFLICT DO NOTHING",
    )
    .bind(client_id)
    .bind(&permissions)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM app_role_permissions WHERE role_id = $1 AND NOT permission = ANY($2)")
        .bind(role_id)
        .bind(&permissions)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO app_role_permissions (role_id, client_id, permission)
         SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING",
    )
    .bind(role_id)
    .bind(client_id)
    .bind(&permissions)
    .execute(&mut *tx)
    .await?;
    drop_unused_permissions(&mut tx, client_id).await?;
    let was = before.as_ref().map(|(_, description, permissions)| {
        json!({ "description": description, "permissions": permissions })
    });
    audit_change(
        &mut *tx,
        "role.defined",
        actor,
        None,
        json!({
            "client_id": client_id,
            "role": name,
            "role_id": role_id,
            "description": description,
            "permissions": permissions,
            "before": was,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(match before {
        None => Defined::Created,
        Some(_) => Defined::Changed,
    })
}

/// Deletes the role `name` of the app `client_id` and every assignment of it (audited
/// `role.deleted` with what it granted and how many held it); how many assignments ended.
pub async fn delete(
    db: &PgPool,
    client_id: &str,
    name: &str,
    actor: Actor,
) -> Result<i64, DirectoryError> {
    let mut tx = db.begin().await?;
    app(&mut tx, client_id, true).await?;
    let (role_id, _) = role(&mut tx, client_id, name, true).await?;
    let permissions = permissions_of(&mut tx, role_id).await?;
    let assignments: i64 =
        sqlx::query_scalar("SELECT count(*) FROM role_assignments WHERE role_id = $1")
            .bind(role_id)
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query("DELETE FROM app_roles WHERE id = $1")
        .bind(role_id)
        .execute(&mut *tx)
        .await?;
    drop_unused_permissions(&mut tx, client_id).await?;
    audit_change(
        &mut *tx,
        "role.deleted",
        actor,
        None,
        json!({
            "client_id": client_id,
            "role": name,
            "role_id": role_id,
            "permissions": permissions,
            "assignments": assignments,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(assignments)
}

/// The roles of the app `client_id`, by name.
pub async fn list(db: &PgPool, client_id: &str) -> Result<Vec<Role>, DirectoryError> {
    let mut conn = db.acquire().await?;
    app(&mut conn, client_id, false).await?;
    Ok(sqlx::query_as(
        "SELECT r.id, r.name, r.description,
                COALESCE(array_agg(p.permission ORDER BY p.permission)
                         FILTER (WHERE p.permission IS NOT NULL), '{}') AS permissions,
                (SELECT count(*) FROM role_assignments a
                 WHERE a.role_id = r.id AND a.user_id IS NOT NULL) AS people,
                (SELECT count(*) FROM role_assignments a
                 WHERE a.role_id = r.id AND a.group_id IS NOT NULL) AS groups
         FROM app_roles r LEFT JOIN app_role_permissions p ON p.role_id = r.id
         WHERE r.client_id = $1
         GROUP BY r.id ORDER BY r.name",
    )
    .bind(client_id)
    .fetch_all(&mut *conn)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claims_are_arrays_even_when_empty() {
        let mut claims = Map::new();
        Granted::default().add_claims(&mut claims);
        assert_eq!(
            Value::Object(claims),
            json!({ "roles": [], "permissions": [] })
        );
        let mut claims = Map::new();
        Granted {
            roles: vec!["agent".into()],
            permissions: vec!["tickets:read".into()],
        }
        .add_claims(&mut claims);
        assert_eq!(claims["roles"], json!(["agent"]));
        assert_eq!(claims["permissions"], json!(["tickets:read"]));
    }

    #[test]
    fn only_the_roles_scope_asks() {
        assert!(asked(&["openid".into(), "roles".into()]));
        assert!(!asked(&["openid".into(), "role".into()]));
    }
}

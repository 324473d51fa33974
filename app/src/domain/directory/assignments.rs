//! Who holds an app's roles (`role_assignments`): a person, or a group and so each of its
//! members. Given and taken by an operator, audited (`role.assigned`, `role.unassigned`) with
//! the actor, the app, the role, and the person as the row's subject or the group by id and
//! name. Read for tokens by `roles::for_person`.

use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{
    audit_change,
    groups::{self, Hold},
    roles::{app, role},
    DirectoryError,
};
use crate::domain::audit::Actor;

/// Who a role is assigned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder<'a> {
    /// One person, by account id.
    Person(Uuid),
    /// Every member of the group of this name.
    Group(&'a str),
}

/// The holder's row in `role_assignments`: (person, group), one of them set, the group's
/// name for the audit trail; the holder held against deletion for the rest of the transaction.
async fn holder(
    conn: &mut PgConnection,
    holder: Holder<'_>,
) -> Result<(Option<Uuid>, Option<(Uuid, String)>), DirectoryError> {
    match holder {
        Holder::Person(user_id) => {
            let found: Option<Uuid> =
                sqlx::query_scalar("SELECT id FROM users WHERE id = $1 FOR KEY SHARE")
                    .bind(user_id)
                    .fetch_optional(conn)
                    .await?;
            let user_id = found.ok_or(DirectoryError::UnknownPerson(user_id.to_string()))?;
            Ok((Some(user_id), None))
        }
        Holder::Group(name) => Ok((None, Some(groups::find(conn, name, Hold::Share).await?))),
    }
}

/// Changes whether `who` holds the role `name` of the app `client_id` (`assign`: gives it,
/// else takes it away), audited (`role.assigned`, `role.unassigned`; a person as the row's
/// subject); whether anything changed.
async fn set_assignment(
    db: &PgPool,
    client_id: &str,
    name: &str,
    who: Holder<'_>,
    assign: bool,
    actor: Actor,
) -> Result<bool, DirectoryError> {
    let mut tx = db.begin().await?;
    app(&mut tx, client_id, false).await?;
    let (role_id, _) = role(&mut tx, client_id, name, false).await?;
    let (person, group) = holder(&mut tx, who).await?;
    let group_id = group.as_ref().map(|(id, _)| *id);
    let sql = if assign {
        "INSERT INTO role_assignments (role_id, user_id, group_id) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM role_assignments
         WHERE role_id = $1 AND user_id IS NOT DISTINCT FROM $2
           AND group_id IS NOT DISTINCT FROM $3"
    };
    let changed = sqlx::query(sql)
        .bind(role_id)
        .bind(person)
        .bind(group_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if !changed {
        return Ok(false);
    }
    let mut detail = json!({ "client_id": client_id, "role": name, "role_id": role_id });
    if let Some((id, group_name)) = &group {
        detail["group_id"] = json!(id);
        detail["group"] = json!(group_name);
    }
    let action = if assign {
        "role.assigned"
    } else {
        "role.unassigned"
    };
    audit_change(&mut *tx, action, actor, person, detail).await?;
    tx.commit().await?;
    Ok(true)
}

/// Gives the role `name` of the app `client_id` to `who` (audited `role.assigned`); whether
/// they did not hold it before.
pub async fn assign(
    db: &PgPool,
    client_id: &str,
    name: &str,
    who: Holder<'_>,
    actor: Actor,
) -> Result<bool, DirectoryError> {
    set_assignment(db, client_id, name, who, true, actor).await
}

/// Takes the role `name` of the app `client_id` from `who` (audited `role.unassigned`);
/// whether they held it. A person who holds it through a group too keeps it through the group.
pub async fn unassign(
    db: &PgPool,
    client_id: &str,
    name: &str,
    who: Holder<'_>,
    actor: Actor,
) -> Result<bool, DirectoryError> {
    set_assignment(db, client_id, name, who, false, actor).await
}

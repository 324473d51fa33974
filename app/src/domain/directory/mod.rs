//! The directory: groups of people (`groups`, directory-wide, so that a later provisioning
//! interface such as SCIM, RFC 7643 §4.2, can keep them) and each partner app's roles and
//! permissions (`roles`), assigned to people directly or through their groups
//! (`assignments`). An app that asks for the `roles` scope finds the person's roles and
//! permissions for it in its tokens and at userinfo, read afresh at every token issue
//! (`roles::for_person`, one query).
//!
//! Each app's attribute-based policies (Cedar) over these and the person's attributes, and the
//! decisions it asks for, are `policies`'.
//!
//! Partner back ends read and change people through the management API (`people`, with
//! versions for `If-Match`) and groups (`group_edits`), and retry their creates safely (`idempotency`).
//!
//! Every change is audited with its actor and what it changed. The tables that name people
//! (`group_members`, `role_assignments`) are declared here for the privacy inventory: a
//! person's export holds their rows, and their erasure deletes them.

pub mod assignments;
pub mod group_edits;
pub mod groups;
pub mod idempotency;
pub mod people;
pub mod policies;
pub mod roles;

use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

use super::{
    audit::{self, Actor, AuditEvent, Outcome},
    client::ClientInfo,
    email::Email,
    privacy::{Erasure, Export, Table},
};

/// The most characters of a group's name.
pub const MAX_GROUP_NAME: usize = 100;
/// The most characters of a role's or a group's description.
pub const MAX_DESCRIPTION: usize = 500;
/// The most characters of a role's or a permission's name.
pub const MAX_NAME: usize = 100;

/// Why a directory change or question was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("a group's name must be 1 to 100 characters, with no control characters")]
    GroupName,
    #[error(
        "a role's name must be 1 to 100 characters of letters, digits and : . _ - (got {0:?})"
    )]
    RoleName(String),
    #[error("a permission must be 1 to 100 characters of letters, digits and : . _ - (got {0:?})")]
    PermissionName(String),
    #[error("a description must be 1 to 500 characters, with no control characters")]
    Description,
    #[error("a group named {0:?} already exists")]
    GroupExists(String),
    #[error("no group is named {0:?}")]
    UnknownGroup(String),
    #[error("no app has the client id {0:?}")]
    UnknownClient(String),
    #[error("app {0:?} is a service: it signs no one in, so it has no roles")]
    ServiceClient(String),
    #[error("app {client:?} has no role named {role:?}")]
    UnknownRole { client: String, role: String },
    #[error("no account uses {0}")]
    UnknownPerson(String),
    #[error("changed by someone else meanwhile: try again")]
    Conflict,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A role's or permission's name: 1 to [`MAX_NAME`] characters of `[A-Za-z0-9:._-]` (they
/// travel in tokens as JSON strings apps compare exactly, so nothing that needs escaping or
/// trimming).
pub fn is_token_name(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'_' | b'-'))
}

/// A description, trimmed; `None` when blank.
pub(crate) fn description(text: Option<&str>) -> Result<Option<String>, DirectoryError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_DESCRIPTION || text.chars().any(char::is_control) {
        return Err(DirectoryError::Description);
    }
    Ok(Some(text.to_owned()))
}

/// The account id of `email`, any account.
pub async fn person(db: impl PgExecutor<'_>, email: &Email) -> Result<Uuid, DirectoryError> {
    sqlx::query_scalar("SELECT id FROM users WHERE lower(email) = lower($1)")
        .bind(email.as_str())
        .fetch_optional(db)
        .await?
        .ok_or_else(|| DirectoryError::UnknownPerson(email.as_str().to_owned()))
}

/// Audits the change `action` that `actor` made (about the person `about`, if any).
pub(crate) async fn audit_change(
    db: impl PgExecutor<'_>,
    action: &'static str,
    actor: Actor,
    about: Option<Uuid>,
    detail: Value,
) -> sqlx::Result<()> {
    let event = AuditEvent::new(action, Outcome::Success)
        .by_actor(actor)
        .about(about)
        .detail(detail);
    audit::record(db, &ClientInfo::default(), event).await
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[
    Table {
        name: "api_idempotency_keys",
        person: Some("person_id"),
        personal: &["person_id", "fingerprint"],
        other: &["client_id", "key", "location", "status", "created_at"],
        export: Export::Not(
            "an app's retry key for the request that created the account: a digest, kept a day",
        ),
        erasure: Erasure::Delete,
    },
    Table {
        name: "app_permissions",
        person: None,
        personal: &[],
        other: &["client_id", "name"],
        export: Export::Not("an app's permissions: nothing about people"),
        erasure: Erasure::Nothing,
    },
    Table {
        name: "app_roles",
        person: None,
        personal: &[],
        other: &["id", "client_id", "name", "description"],
        export: Export::Not("an app's roles: nothing about people"),
        erasure: Erasure::Nothing,
    },
    Table {
        name: "app_role_permissions",
        person: None,
        personal: &[],
        other: &["role_id", "client_id", "permission"],
        export: Export::Not("what an app's roles grant: nothing about people"),
        erasure: Erasure::Nothing,
    },
    Table {
        name: "groups",
        person: None,
        personal: &[],
        other: &["id", "name", "description", "created_at"],
        export: Export::Not("the directory's groups; a person's memberships are exported"),
        erasure: Erasure::Nothing,
    },
    Table {
        name: "group_members",
        person: Some("user_id"),
        personal: &["user_id"],
        other: &["group_id", "added_at"],
        export: Export::Rows,
        erasure: Erasure::Delete,
    },
    Table {
        name: "role_assignments",
        person: Some("user_id"),
        personal: &["user_id"],
        other: &["role_id", "group_id", "assigned_at"],
        export: Export::Rows,
        erasure: Erasure::Delete,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_names_are_letters_digits_and_four_marks() {
        for good in [
            "tickets:read",
            "a",
            "Admin.v2",
            "x_y-z",
            &"p".repeat(MAX_NAME),
        ] {
            assert!(is_token_name(good), "{good}");
        }
        let long = "p".repeat(MAX_NAME + 1);
        for bad in [
            "",
            " admin",
            "tickets read",
            "rôle",
            "a/b",
            "a\"b",
            "a\nb",
            &long,
        ] {
            assert!(!is_token_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn descriptions_are_trimmed_bounded_and_one_line() {
        assert_eq!(description(None).unwrap(), None);
        assert_eq!(description(Some("  ")).unwrap(), None);
        assert_eq!(
            description(Some(" Support staff ")).unwrap().as_deref(),
            Some("Support staff")
        );
        assert!(description(Some("a\nb")).is_err());
        assert!(description(Some(&"d".repeat(MAX_DESCRIPTION + 1))).is_err());
    }
}

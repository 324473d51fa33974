//! SCIM 2.0 provisioning (RFC 7643, RFC 7644): an identity provider (Entra ID, Okta) keeps the
//! service's customers and the directory's groups in step with its own. Provisioning clients
//! and their bearer tokens (`clients`); filters parsed into a tree (`filter`) and turned into
//! SQL with bound values (`query`); PATCH operations applied to a resource's JSON (`patch`);
//! Users onto customer accounts (`users`, `user_writes`) and Groups onto the directory's
//! groups (`groups`). Every write goes through the domain's own functions (`customers::actions`
//! for lock, unlock, rename and the address; `privacy::erasure` for deletion;
//! `directory::groups`), audited with the provisioning client as the actor
//! (`Actor::Provisioning`), so webhooks and the audit trail see what they see from the console.

pub mod clients;
pub mod filter;
pub mod groups;
pub mod patch;
pub mod query;
pub mod user_writes;
pub mod users;

use crate::domain::{
    directory::DirectoryError,
    error::AccountError,
    privacy::{Erasure, Export, Table},
};

/// The core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// A list response.
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// A PATCH request.
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The most resources one page holds.
pub const MAX_RESULTS: i64 = 200;
/// The longest `externalId` and name part kept.
pub const MAX_TEXT: usize = 256;

/// Why a SCIM request was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum ScimError {
    /// 400 with a `scimType` (RFC 7644 §3.12).
    #[error("{detail}")]
    Invalid {
        scim_type: &'static str,
        detail: String,
    },
    #[error("{0}")]
    NotFound(String),
    /// 409 `uniqueness`.
    #[error("{0}")]
    Conflict(String),
    /// 412: the resource changed since the version the client named.
    #[error("the resource changed since that version")]
    Changed,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl ScimError {
    pub fn invalid(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::Invalid {
            scim_type,
            detail: detail.into(),
        }
    }

    pub fn value(detail: impl Into<String>) -> Self {
        Self::invalid("invalidValue", detail)
    }

    pub fn path(detail: impl Into<String>) -> Self {
        Self::invalid("invalidPath", detail)
    }

    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::invalid("mutability", detail)
    }
}

impl From<filter::FilterError> for ScimError {
    fn from(e: filter::FilterError) -> Self {
        Self::invalid("invalidFilter", e.0)
    }
}

impl From<AccountError> for ScimError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::NoSuchAccount | AccountError::NotFound => {
                Self::NotFound("no such user".into())
            }
            AccountError::Email(crate::domain::email::EmailError::InUse) => {
                Self::Conflict("another account uses this userName".into())
            }
            AccountError::Email(e) => Self::value(format!("userName: {e}")),
            AccountError::DisplayName(e) => Self::value(format!("displayName: {e}")),
            AccountError::Unexpected(e) => Self::Other(e),
            other => Self::Other(anyhow::anyhow!(other.to_string())),
        }
    }
}

impl From<DirectoryError> for ScimError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::GroupName => Self::value(e.to_string()),
            DirectoryError::GroupExists(_) => Self::Conflict(e.to_string()),
            DirectoryError::UnknownGroup(_) => Self::NotFound("no such group".into()),
            DirectoryError::UnknownPerson(_) => Self::value(e.to_string()),
            DirectoryError::Database(e) => Self::Database(e),
            other => Self::Other(anyhow::anyhow!(other.to_string())),
        }
    }
}

/// A text attribute: trimmed, at most [`MAX_TEXT`] characters, no control characters; `None`
/// when blank.
pub fn text(name: &str, raw: Option<&serde_json::Value>) -> Result<Option<String>, ScimError> {
    let text = match raw {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::String(s)) => s.trim(),
        Some(_) => return Err(ScimError::value(format!("{name} must be a string"))),
    };
    if text.chars().count() > MAX_TEXT || text.chars().any(char::is_control) {
        return Err(ScimError::value(format!(
            "{name} must be at most {MAX_TEXT} characters, without control characters"
        )));
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[
    Table {
        name: "scim_clients",
        person: None,
        personal: &[],
        other: &[
            "id",
            "name",
            "token_hash",
            "created_at",
            "last_used_at",
            "revoked_at",
        ],
        export: Export::Not("provisioning clients: identity providers, nothing about people"),
        erasure: Erasure::Nothing,
    },
    Table {
        name: "scim_users",
        person: Some("user_id"),
        personal: &[
            "user_id",
            "given_name",
            "family_name",
            "formatted_name",
            "placeholder_name",
        ],
        other: &[],
        export: Export::Rows,
        erasure: Erasure::Delete,
    },
    Table {
        name: "scim_user_ids",
        person: Some("user_id"),
        personal: &["user_id", "external_id"],
        other: &["client_id"],
        export: Export::Rows,
        erasure: Erasure::Delete,
    },
    Table {
        name: "scim_group_ids",
        person: None,
        personal: &[],
        other: &["client_id", "group_id", "external_id"],
        export: Export::Not("a group's id at a provisioning client: nothing about people"),
        erasure: Erasure::Nothing,
    },
    Table {
        name: "scim_groups",
        person: None,
        personal: &[],
        other: &["group_id", "updated_at"],
        export: Export::Not("when provisioning changed a group: nothing about people"),
        erasure: Erasure::Nothing,
    },
];

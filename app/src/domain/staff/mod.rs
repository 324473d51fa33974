//! Staff and least privilege: the roles (owner, admin, support, auditor), the permissions each
//! console action checks by name, and who holds which role. The role → permission matrix lives
//! in the `staff_role_permissions` table; [`authorize`] is the one check every console server
//! function makes, and a refusal is audited.

pub mod members;

use serde_json::json;
use sqlx::PgExecutor;
use time::Duration;
use uuid::Uuid;

use super::{
    audit::{self, AuditEvent, Outcome},
    client::ClientInfo,
    error::AccountError,
};
use crate::domain::privacy::{Erasure, Export, Table};

/// A staff session ends after this long without a request (customers': `sessions::IDLE_TIMEOUT`).
pub const IDLE_TIMEOUT: Duration = Duration::minutes(15);

/// A staff role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaffRole {
    /// Everything, including managing staff.
    Owner,
    /// Everything except managing staff.
    Admin,
    /// Reads customers, ends sessions, resends mails, unlocks.
    Support,
    /// Reads the audit trail and reports.
    Auditor,
}

crate::text_enum!(StaffRole {
    Owner => "owner",
    Admin => "admin",
    Support => "support",
    Auditor => "auditor",
});

/// What one console action needs. Each name is a row of `staff_permissions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    CustomersRead,
    CustomersEdit,
    CustomersLock,
    CustomersUnlock,
    CustomersSessions,
    CustomersMail,
    CustomersReset,
    CustomersFactors,
    CustomersDelete,
    CustomersBreach,
    CustomersImport,
    SettingsRead,
    SettingsWrite,
    AppsRead,
    AppsWrite,
    AuditRead,
    AuditExport,
    ReportsRead,
    StaffRead,
    StaffManage,
}

crate::text_enum!(Permission {
    CustomersRead => "customers.read",
    CustomersEdit => "customers.edit",
    CustomersLock => "customers.lock",
    CustomersUnlock => "customers.unlock",
    CustomersSessions => "customers.sessions",
    CustomersMail => "customers.mail",
    CustomersReset => "customers.reset",
    CustomersFactors => "customers.factors",
    CustomersDelete => "customers.delete",
    CustomersBreach => "customers.breach",
    CustomersImport => "customers.import",
    SettingsRead => "settings.read",
    SettingsWrite => "settings.write",
    AppsRead => "apps.read",
    AppsWrite => "apps.write",
    AuditRead => "audit.read",
    AuditExport => "audit.export",
    ReportsRead => "reports.read",
    StaffRead => "staff.read",
    StaffManage => "staff.manage",
});

/// A staff member allowed the action they asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub user_id: Uuid,
    pub role: StaffRole,
}

/// The role of `user_id`, when they are staff.
pub async fn role_of(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Option<StaffRole>> {
    sqlx::query_scalar("SELECT role FROM staff_members WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(db)
        .await
}

/// The permissions of `role`, as the table grants them.
pub async fn permissions_of(
    db: impl PgExecutor<'_>,
    role: StaffRole,
) -> sqlx::Result<Vec<Permission>> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT permission FROM staff_role_permissions WHERE role = $1")
            .bind(role)
            .fetch_all(db)
            .await?;
    Ok(names.iter().filter_map(|n| Permission::parse(n)).collect())
}

/// Lets `user_id` do what `permission` covers, or refuses with [`AccountError::Forbidden`]
/// (audited as `staff.denied`, with the permission asked for).
pub async fn authorize(
    db: &sqlx::PgPool,
    client: &ClientInfo,
    user_id: Uuid,
    permission: Permission,
) -> Result<Staff, AccountError> {
    let row: Option<(StaffRole, bool)> = sqlx::query_as(
        "SELECT m.role, EXISTS (SELECT 1 FROM staff_role_permissions p
                                WHERE p.role = m.role AND p.permission = $2)
         FROM staff_members m WHERE m.user_id = $1",
    )
    .bind(user_id)
    .bind(permission)
    .fetch_optional(db)
    .await?;
    match row {
        Some((role, true)) => Ok(Staff { user_id, role }),
        other => {
            let event = AuditEvent::new("staff.denied", Outcome::Failure)
                .by(user_id)
                .detail(json!({
                    "permission": permission.as_str(),
                    "role": other.map(|(role, _)| role.as_str()),
                }));
            audit::record(db, client, event).await?;
            Err(AccountError::Forbidden)
        }
    }
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[
    Table {
        name: "staff_members",
        person: Some("user_id"),
        personal: &["user_id"],
        other: &["role", "granted_at"],
        export: Export::Rows,
        erasure: Erasure::Delete,
    },
    Table {
        name: "staff_permissions",
        person: None,
        personal: &[],
        other: &["name", "description"],
        export: Export::Not("holds nothing about people"),
        erasure: Erasure::Nothing,
    },
    Table {
        name: "staff_role_permissions",
        person: None,
        personal: &[],
        other: &["role", "permission"],
        export: Export::Not("holds nothing about people"),
        erasure: Erasure::Nothing,
    },
    Table {
        name: "staff_roles",
        person: None,
        personal: &[],
        other: &["name", "description"],
        export: Export::Not("holds nothing about people"),
        erasure: Erasure::Nothing,
    },
];

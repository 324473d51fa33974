//! The staff member's own view of the console (their role, what it allows, who else of the
//! staff is signed in) and the staff list an owner manages.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::error::AppError;

/// One staff member signed in now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresentStaff {
    pub email: String,
    pub role: String,
    pub signed_in_at: String,
    pub last_seen_at: String,
}

/// The signed-in staff member's view of the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleView {
    pub role: String,
    /// The permissions of the role, by name (`customers.read`, ...).
    pub permissions: Vec<String>,
    /// The staff signed in now, when the role may see them.
    pub present: Vec<PresentStaff>,
}

/// The signed-in staff member's role, permissions and the staff signed in now.
#[server(prefix = "/api", endpoint = "console/me")]
pub async fn console_me() -> Result<ConsoleView, AppError> {
    use crate::{
        api::context,
        domain::{error::AccountError, staff},
    };
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    let role = staff::role_of(&state.db, user_id)
        .await
        .map_err(AccountError::from)?
        .ok_or(AppError::Forbidden)?;
    let permissions = staff::permissions_of(&state.db, role)
        .await
        .map_err(AccountError::from)?;
    let present = if permissions.contains(&staff::Permission::StaffRead) {
        staff::members::signed_in(&state.db)
            .await
            .map_err(AccountError::from)?
            .into_iter()
            .map(|p| PresentStaff {
                email: p.email,
                role: p.role.to_string(),
                signed_in_at: super::moment(p.signed_in_at),
                last_seen_at: super::moment(p.last_seen_at),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(ConsoleView {
        role: role.to_string(),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
        present,
    })
}

/// One staff member in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub since: String,
}

/// Every staff member.
#[server(prefix = "/api", endpoint = "console/staff")]
pub async fn list_staff() -> Result<Vec<StaffMember>, AppError> {
    use crate::domain::{error::AccountError, staff};
    let allowed = super::guard(staff::Permission::StaffRead).await?;
    let members = staff::members::list(&allowed.state.db)
        .await
        .map_err(AccountError::from)?;
    Ok(members
        .into_iter()
        .map(|m| StaffMember {
            user_id: m.user_id.to_string(),
            email: m.email,
            display_name: m.display_name,
            role: m.role.to_string(),
            since: super::moment(m.granted_at),
        })
        .collect())
}

#[cfg(feature = "ssr")]
fn staff_id(raw: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(raw.trim()).map_err(|_| AppError::NotFound)
}

/// Gives a staff member another role (owners only).
#[server(prefix = "/api", endpoint = "console/staff/role")]
pub async fn change_staff_role(
    user_id: String,
    role: String,
    reason: String,
    confirm: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::staff::{self, StaffRole};
    let allowed = super::guard_change(staff::Permission::StaffManage, confirm.as_deref()).await?;
    let role = StaffRole::parse(&role)
        .ok_or_else(|| AppError::field("role", "Choose owner, admin, support or auditor."))?;
    staff::members::change_role(
        &allowed.state.db,
        &allowed.client,
        allowed.actor(),
        staff_id(&user_id)?,
        role,
        &crate::domain::customers::Reason::parse(&reason)?,
    )
    .await?;
    Ok(())
}

/// Removes a staff member (owners only): the account becomes a customer's and its sign-ins end.
#[server(prefix = "/api", endpoint = "console/staff/remove")]
pub async fn remove_staff(
    user_id: String,
    reason: String,
    confirm: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::staff;
    let allowed = super::guard_change(staff::Permission::StaffManage, confirm.as_deref()).await?;
    staff::members::remove(
        &allowed.state.db,
        &allowed.client,
        allowed.actor(),
        staff_id(&user_id)?,
        &crate::domain::customers::Reason::parse(&reason)?,
    )
    .await?;
    Ok(())
}

/// Invites someone to the staff (owners only): the account is made with `role`, and a
/// one-time link to set its password is mailed to the address.
#[server(prefix = "/api", endpoint = "console/staff/invite")]
pub async fn invite_staff(
    email: String,
    role: String,
    confirm: Option<String>,
) -> Result<bool, AppError> {
    use crate::domain::{
        accounts,
        email::Email,
        staff::{self, StaffRole},
    };
    let allowed = super::guard_change(staff::Permission::StaffManage, confirm.as_deref()).await?;
    let email = Email::parse(&email).map_err(|e| AppError::field("email", e.to_string()))?;
    let role = StaffRole::parse(&role)
        .ok_or_else(|| AppError::field("role", "Choose owner, admin, support or auditor."))?;
    Ok(accounts::invite_staff(&allowed.state, &email, role, allowed.actor()).await?)
}

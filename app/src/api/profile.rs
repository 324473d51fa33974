//! The signed-in customer's own account.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// What the portal shows of the signed-in account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub email: String,
    pub email_verified: bool,
    pub display_name: String,
    pub is_admin: bool,
    /// Proven phone number (E.164), if any.
    pub phone: Option<String>,
    /// The account has a password (else the profile offers to set one).
    pub has_password: bool,
}

/// The signed-in account, or `None` when nobody is signed in.
#[server(prefix = "/api", endpoint = "me")]
pub async fn me() -> Result<Option<AccountSummary>, AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    match context::signed_in_account(&state, &session).await {
        Ok(user) => Ok(Some(AccountSummary {
            email_verified: user.is_verified(),
            is_admin: user.is_admin(),
            has_password: user.password_hash.is_some(),
            email: user.email,
            display_name: user.display_name,
            phone: user.phone,
        })),
        Err(AppError::Unauthorized) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Changes the signed-in account's display name.
#[server(prefix = "/api", endpoint = "update-profile")]
pub async fn update_profile(display_name: String) -> Result<(), AppError> {
    use super::context;
    use crate::domain::names::DisplayName;

    let name = DisplayName::parse(&display_name)
        .map_err(|e| AppError::field("display_name", e.to_string()))?;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::accounts::rename(&state, &context::client(), user_id, &name).await?;
    Ok(())
}

/// Asks to move the signed-in account to another address: a link that makes the change goes
/// there. Needs a recent sign-in.
#[server(prefix = "/api", endpoint = "change-email")]
pub async fn change_email(email: String) -> Result<(), AppError> {
    use super::context;
    use crate::domain::email::Email;

    let new = Email::parse(&email).map_err(|e| AppError::field("email", e.to_string()))?;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::email_change::request(&state, &context::client(), &session, user_id, &new)
        .await?;
    leptos_axum::redirect("/profile?email_change_sent=1");
    Ok(())
}

/// The link mailed to the new address: makes the change.
#[server(prefix = "/api", endpoint = "confirm-email-change")]
pub async fn confirm_email_change(token: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    crate::domain::email_change::confirm(&state, &context::client(), &token).await?;
    leptos_axum::redirect("/profile?email_changed=1");
    Ok(())
}

/// The link mailed to the old address: "this wasn't me".
#[server(prefix = "/api", endpoint = "undo-email-change")]
pub async fn undo_email_change(token: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    crate::domain::email_change::undo(&state, &context::client(), &token).await?;
    leptos_axum::redirect("/signin?email_restored=1");
    Ok(())
}

//! Passwordless sign-in endpoints: a mailed link and code.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// What the link's confirmation page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailLinkDetails {
    pub email: String,
    /// When it was asked for, UTC, e.g. "2026-11-29 05:40 UTC".
    pub requested_at: String,
    /// The asking device, e.g. "Firefox on Linux".
    pub device: String,
    pub ip: Option<String>,
    /// Whether the browser opening the link is the one that asked.
    pub same_browser: bool,
}

/// Mails a sign-in link and code; answers the same whether or not the address has an account.
#[server(prefix = "/api", endpoint = "email-sign-in")]
pub async fn request_email_sign_in(email: String) -> Result<(), AppError> {
    use super::context;
    use crate::domain::email::Email;

    let email = Email::parse(&email).map_err(|e| AppError::field("email", e.to_string()))?;
    let state = context::state()?;
    let session = context::session().await?;
    crate::domain::email_sign_in::request(&state, &context::client(), &session, &email).await?;
    leptos_axum::redirect("/signin/code");
    Ok(())
}

/// Signs in with the mailed code, in the browser that asked for it.
#[server(prefix = "/api", endpoint = "email-sign-in/code")]
pub async fn sign_in_with_email_code(code: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    crate::domain::email_sign_in::sign_in_with_code(&state, &context::client(), &session, &code)
        .await?;
    leptos_axum::redirect(&crate::domain::authentication::landing(&session).await);
    Ok(())
}

/// Describes a mailed link before it is used: for whom and from which device it was asked.
#[server(prefix = "/api", endpoint = "email-sign-in/describe")]
pub async fn describe_email_link(token: String) -> Result<EmailLinkDetails, AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let details = crate::domain::email_sign_in::link_details(&state, &session, &token).await?;
    Ok(EmailLinkDetails {
        email: details.email,
        requested_at: context::moment(details.requested_at),
        device: details.device,
        ip: details.ip,
        same_browser: details.same_browser,
    })
}

/// Signs in with the mailed link.
#[server(prefix = "/api", endpoint = "email-sign-in/link")]
pub async fn sign_in_with_email_link(token: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    crate::domain::email_sign_in::sign_in_with_link(&state, &context::client(), &session, &token)
        .await?;
    leptos_axum::redirect(&crate::domain::authentication::landing(&session).await);
    Ok(())
}

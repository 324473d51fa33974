//! Passkey endpoints. The browser side is `public/passkey.js`: start calls return the WebAuthn
//! options as JSON text for `navigator.credentials`, finish calls take its answer as JSON text.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// A passkey as the portal lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeySummary {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

#[cfg(feature = "ssr")]
fn parse_credential<T: serde::de::DeserializeOwned>(credential: &str) -> Result<T, AppError> {
    serde_json::from_str(credential)
        .map_err(|_| AppError::BadRequest("the passkey answer is not valid".into()))
}

#[cfg(feature = "ssr")]
fn to_json<T: Serialize>(value: &T) -> Result<String, AppError> {
    serde_json::to_string(value).map_err(|e| {
        tracing::error!(error = %e, "serialising WebAuthn options failed");
        AppError::Internal
    })
}

/// Starts a usernameless passkey sign-in.
#[server(prefix = "/api", endpoint = "passkeys/sign-in/start")]
pub async fn passkey_sign_in_start() -> Result<String, AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let options =
        crate::domain::passkeys::start_sign_in(&state, &context::client(), &session).await?;
    to_json(&options)
}

/// Finishes a passkey sign-in.
#[server(prefix = "/api", endpoint = "passkeys/sign-in/finish")]
pub async fn passkey_sign_in_finish(credential: String) -> Result<(), AppError> {
    use super::context;
    let credential = parse_credential(&credential)?;
    let state = context::state()?;
    let session = context::session().await?;
    crate::domain::passkeys::finish_sign_in(&state, &context::client(), &session, &credential)
        .await?;
    leptos_axum::redirect(&crate::domain::authentication::landing(&session).await);
    Ok(())
}

/// Starts a sign-up with a passkey only.
#[server(prefix = "/api", endpoint = "passkeys/sign-up/start")]
pub async fn passkey_sign_up_start(
    email: String,
    display_name: String,
    /// The answer to the registration's proof-of-work puzzle, when the page solved one.
    #[server(default)]
    proof: String,
    /// The purposes ticked on the registration form, `consent[<purpose>]=<version shown>`.
    #[server(default)]
    consent: std::collections::HashMap<String, String>,
) -> Result<String, AppError> {
    use super::context;
    use crate::domain::{consents::asked::Answer, email::Email, names::DisplayName};
    let email = Email::parse(&email).map_err(|e| AppError::field("email", e.to_string()))?;
    let name = DisplayName::parse(&display_name)
        .map_err(|e| AppError::field("display_name", e.to_string()))?;
    let consent = Answer::parse(&consent).map_err(|e| AppError::field("consent", e.to_string()))?;
    let state = context::state()?;
    let session = context::session().await?;
    let options = crate::domain::passkeys::start_sign_up(
        &state,
        &context::client(),
        &session,
        &email,
        &name,
        &proof,
        &consent,
    )
    .await?;
    to_json(&options)
}

/// Finishes a passkey sign-up; the address is then verified by mail.
#[server(prefix = "/api", endpoint = "passkeys/sign-up/finish")]
pub async fn passkey_sign_up_finish(credential: String) -> Result<(), AppError> {
    use super::context;
    let credential = parse_credential(&credential)?;
    let state = context::state()?;
    let session = context::session().await?;
    crate::domain::passkeys::finish_sign_up(&state, &context::client(), &session, &credential)
        .await?;
    leptos_axum::redirect("/register/sent");
    Ok(())
}

/// Starts adding a passkey to the signed-in account.
#[server(prefix = "/api", endpoint = "passkeys/add/start")]
pub async fn passkey_add_start(#[server(default)] name: String) -> Result<String, AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    let options = crate::domain::passkeys::start_registration(
        &state,
        &context::client(),
        &session,
        user_id,
        &name,
    )
    .await?;
    to_json(&options)
}

/// Finishes adding a passkey to the signed-in account.
#[server(prefix = "/api", endpoint = "passkeys/add/finish")]
pub async fn passkey_add_finish(credential: String) -> Result<(), AppError> {
    use super::context;
    let credential = parse_credential(&credential)?;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::passkeys::finish_registration(
        &state,
        &context::client(),
        &session,
        user_id,
        &credential,
    )
    .await?;
    leptos_axum::redirect("/profile?passkey_added=1");
    Ok(())
}

/// The signed-in account's passkeys.
#[server(prefix = "/api", endpoint = "passkeys/list")]
pub async fn list_passkeys() -> Result<Vec<PasskeySummary>, AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    let passkeys = crate::domain::passkeys::list(&state.db, user_id).await?;
    Ok(passkeys
        .into_iter()
        .map(|p| PasskeySummary {
            id: p.public_id(),
            created_at: context::moment(p.created_at),
            last_used_at: p.last_used_at.map(context::moment),
            name: p.name,
        })
        .collect())
}

/// Renames one of the signed-in account's passkeys.
#[server(prefix = "/api", endpoint = "passkeys/rename")]
pub async fn rename_passkey(id: String, name: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::passkeys::rename(&state, &context::client(), user_id, &id, &name).await?;
    Ok(())
}

/// Removes one of the signed-in account's passkeys (after a recent sign-in).
#[server(prefix = "/api", endpoint = "passkeys/remove")]
pub async fn remove_passkey(id: String) -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::passkeys::remove(&state, &context::client(), &session, user_id, &id).await?;
    Ok(())
}

//! Social sign-in providers in the console: the list with each provider's callback address,
//! adding one (a preset or any OpenID provider), changing it (name, client id, a new secret,
//! scopes), turning it on or off, removing it, and testing that its issuer's discovery document
//! and keys can be reached. Every change is audited; the secret is stored sealed and never
//! shown again.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::error::AppError;

/// One provider as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderRow {
    pub id: String,
    pub kind: String,
    pub display_name: String,
    pub issuer: Option<String>,
    pub client_id: String,
    pub scopes: String,
    pub enabled: bool,
    /// The redirect URI to register with the provider.
    pub callback: String,
}

/// Every configured provider.
#[server(prefix = "/api", endpoint = "console/social")]
pub async fn list_providers() -> Result<Vec<ProviderRow>, AppError> {
    use crate::domain::{error::AccountError, social::providers, staff::Permission};
    let allowed = super::guard(Permission::SettingsRead).await?;
    let public_url = &allowed.state.settings.public_url;
    Ok(providers::list(&allowed.state.db)
        .await
        .map_err(AccountError::from)?
        .into_iter()
        .map(|p| ProviderRow {
            callback: format!("{public_url}/signin/social/{}/callback", p.id),
            id: p.id,
            kind: p.kind,
            display_name: p.display_name,
            issuer: p.issuer,
            client_id: p.client_id,
            scopes: p.scopes,
            enabled: p.enabled,
        })
        .collect())
}

/// The add and change forms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderForm {
    pub id: String,
    pub kind: String,
    pub display_name: String,
    pub issuer: String,
    pub tenant: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: String,
}

#[cfg(feature = "ssr")]
fn refused(e: anyhow::Error) -> AppError {
    match e.downcast_ref::<crate::domain::social::providers::ProviderConfigError>() {
        Some(config) => AppError::Refused(format!("{}.", capitalised(&config.to_string()))),
        None => {
            tracing::error!(error = ?e, "changing a social provider failed");
            AppError::Internal
        }
    }
}

#[cfg(feature = "ssr")]
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Adds a provider, enabled.
#[server(prefix = "/api", endpoint = "console/social/add")]
pub async fn add_provider(provider: ProviderForm, confirm: Option<String>) -> Result<(), AppError> {
    use crate::domain::{social::providers, staff::Permission};
    let allowed = super::guard_change(Permission::SettingsWrite, confirm.as_deref()).await?;
    let given = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    let new = providers::NewProvider {
        id: provider.id.trim().to_owned(),
        kind: provider.kind.trim().to_owned(),
        display_name: given(&provider.display_name),
        issuer: given(&provider.issuer),
        tenant: given(&provider.tenant),
        client_id: provider.client_id.trim().to_owned(),
        client_secret: given(&provider.client_secret),
        scopes: given(&provider.scopes),
    };
    providers::add(
        &allowed.state.db,
        &allowed.state.secrets,
        &new,
        allowed.actor(),
    )
    .await
    .map_err(refused)
}

/// Changes a provider's name, client id, scopes and (when one is given) secret.
#[server(prefix = "/api", endpoint = "console/social/change")]
pub async fn change_provider(
    provider: ProviderForm,
    confirm: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::{social::providers, staff::Permission};
    let allowed = super::guard_change(Permission::SettingsWrite, confirm.as_deref()).await?;
    let edit = providers::ProviderEdit {
        display_name: provider.display_name,
        client_id: provider.client_id,
        client_secret: Some(provider.client_secret).filter(|s| !s.trim().is_empty()),
        scopes: provider.scopes,
    };
    let found = providers::update(
        &allowed.state.db,
        &allowed.state.secrets,
        provider.id.trim(),
        &edit,
        allowed.actor(),
    )
    .await
    .map_err(refused)?;
    found.then_some(()).ok_or(AppError::NotFound)
}

/// Turns a provider on or off.
#[server(prefix = "/api", endpoint = "console/social/enabled")]
pub async fn set_provider_enabled(
    id: String,
    enabled: bool,
    confirm: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::{error::AccountError, social::providers, staff::Permission};
    let allowed = super::guard_change(Permission::SettingsWrite, confirm.as_deref()).await?;
    providers::set_enabled(&allowed.state.db, id.trim(), enabled, allowed.actor())
        .await
        .map_err(AccountError::from)?
        .then_some(())
        .ok_or(AppError::NotFound)
}

/// Removes a provider and every identity linked through it.
#[server(prefix = "/api", endpoint = "console/social/remove")]
pub async fn remove_provider(id: String, confirm: Option<String>) -> Result<(), AppError> {
    use crate::domain::{error::AccountError, social::providers, staff::Permission};
    let allowed = super::guard_change(Permission::SettingsWrite, confirm.as_deref()).await?;
    providers::remove(&allowed.state.db, id.trim(), allowed.actor())
        .await
        .map_err(AccountError::from)?
        .then_some(())
        .ok_or(AppError::NotFound)
}

/// Tries a provider's issuer now: its discovery document and keys. Answers what was found,
/// or why it failed.
#[server(prefix = "/api", endpoint = "console/social/test")]
pub async fn test_provider(id: String) -> Result<String, AppError> {
    use crate::domain::{error::AccountError, social::providers, staff::Permission};
    let allowed = super::guard(Permission::SettingsRead).await?;
    let provider = providers::summary(&allowed.state.db, id.trim())
        .await
        .map_err(AccountError::from)?
        .ok_or(AppError::NotFound)?;
    let Some(issuer) = provider.issuer else {
        return Ok(format!(
            "{} has no discovery document to test; sign in with it to try it.",
            provider.display_name
        ));
    };
    Ok(match allowed.state.upstream.check(&issuer).await {
        Ok((doc, keys)) => format!(
            "Reached {issuer}: signs people in at {}, with {keys} signing key(s).",
            doc.authorization_endpoint
        ),
        Err(e) => format!("{issuer} failed the test: {e}"),
    })
}

//! Partner apps in the console: the list with each app's recent token activity, registering
//! one (its secret shown once), enabling or disabling, rotating the secret, and a link that
//! tries a sign-in through the app's settings.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::error::AppError;

/// One app as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRow {
    pub client_id: String,
    pub name: String,
    pub client_type: String,
    pub redirect_uris: Vec<String>,
    pub first_party: bool,
    pub enabled: bool,
    pub has_secret: bool,
    /// "3 codes today, 12 this week; 2 refresh tokens today, 9 this week; 5 live".
    pub activity: String,
    /// An authorization request that tries a sign-in through this app's settings.
    pub try_sign_in: Option<String>,
}

/// Every registered app.
#[server(prefix = "/api", endpoint = "console/apps")]
pub async fn list_apps() -> Result<Vec<AppRow>, AppError> {
    use crate::domain::{
        error::AccountError,
        oidc::{client_admin, clients},
        staff::Permission,
    };
    let allowed = super::guard(Permission::AppsRead).await?;
    let db = &allowed.state.db;
    let mut rows = Vec::new();
    for app in clients::list(db).await.map_err(AccountError::from)? {
        let a = client_admin::activity(db, &app.id).await?;
        let try_sign_in = (app.enabled && app.client_type != clients::ClientType::Service)
            .then(|| app.redirect_uris.first().map(|uri| try_link(&app.id, uri)))
            .flatten();
        rows.push(AppRow {
            activity: format!(
                "{} code(s) today, {} this week; {} refresh token(s) today, {} this week; {} live{}",
                a.codes_day,
                a.codes_week,
                a.refresh_tokens_day,
                a.refresh_tokens_week,
                a.live_refresh_tokens,
                a.last_code_at
                    .map(|at| format!("; last sign-in {}", super::moment(at)))
                    .unwrap_or_default()
            ),
            client_id: app.id,
            name: app.name,
            client_type: app.client_type.to_string(),
            redirect_uris: app.redirect_uris,
            first_party: app.first_party,
            enabled: app.enabled,
            has_secret: app.has_secret,
            try_sign_in,
        });
    }
    Ok(rows)
}

/// The authorization request of a trial sign-in: the app's first redirect URI, PKCE with a
/// fixed challenge (the trial ends at the app, which holds no verifier for it).
#[cfg(feature = "ssr")]
fn try_link(client_id: &str, redirect_uri: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", "openid profile email")
        .append_pair("state", "console-trial")
        .append_pair("nonce", "console-trial")
        .append_pair(
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        )
        .append_pair("code_challenge_method", "S256")
        .append_pair("prompt", "login")
        .finish();
    format!("/oauth2/authorize?{query}")
}

/// What registering an app gave: its id and, once, its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApp {
    pub client_id: String,
    pub client_secret: Option<String>,
}

/// The registration form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppForm {
    #[serde(default)]
    pub name: String,
    /// confidential, public or service.
    #[serde(default)]
    pub client_type: String,
    /// One per line.
    #[serde(default)]
    pub redirect_uris: String,
    #[serde(default)]
    pub post_logout_redirect_uris: String,
    #[serde(default)]
    pub backchannel_logout_uri: String,
    #[serde(default)]
    pub first_party: Option<String>,
    #[serde(default)]
    pub pairwise: Option<String>,
    #[serde(default)]
    pub require_par: Option<String>,
    #[serde(default)]
    pub require_dpop: Option<String>,
    #[serde(default)]
    pub require_mfa: Option<String>,
}

/// Registers an app; its secret is in the answer and nowhere else.
#[server(prefix = "/api", endpoint = "console/apps/create")]
pub async fn create_app(app: AppForm, confirm: Option<String>) -> Result<NewApp, AppError> {
    use crate::domain::{
        oidc::{
            clients::ClientType,
            registration::{self, ClientConfigError, NewClient},
        },
        staff::Permission,
    };
    let allowed = super::guard_change(Permission::AppsWrite, confirm.as_deref()).await?;
    use super::lines;
    let on = |v: &Option<String>| v.as_deref().is_some_and(|v| v == "on" || v == "yes");
    let new = NewClient {
        name: app.name.trim().to_owned(),
        client_type: ClientType::parse(app.client_type.trim())
            .ok_or_else(|| AppError::field("client_type", "Choose a kind of app."))?,
        redirect_uris: lines(&app.redirect_uris),
        first_party: on(&app.first_party),
        post_logout_redirect_uris: lines(&app.post_logout_redirect_uris),
        backchannel_logout_uri: Some(app.backchannel_logout_uri.trim().to_owned())
            .filter(|u| !u.is_empty()),
        require_par: on(&app.require_par),
        pairwise: on(&app.pairwise),
        require_dpop: on(&app.require_dpop),
        require_mfa: on(&app.require_mfa),
        ..Default::default()
    };
    let registered = registration::create(
        &allowed.state.db,
        &allowed.state.client_key,
        &new,
        allowed.actor(),
    )
    .await
    .map_err(|e| match e.downcast_ref::<ClientConfigError>() {
        Some(config) => AppError::Refused(config.to_string()),
        None => {
            tracing::error!(error = ?e, "registering an app failed");
            AppError::Internal
        }
    })?;
    Ok(NewApp {
        client_id: registered.client_id,
        client_secret: registered.client_secret,
    })
}

/// Enables or disables an app.
#[server(prefix = "/api", endpoint = "console/apps/enabled")]
pub async fn set_app_enabled(
    client_id: String,
    enabled: bool,
    confirm: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::{oidc::client_admin, staff::Permission};
    let allowed = super::guard_change(Permission::AppsWrite, confirm.as_deref()).await?;
    client_admin::set_enabled(
        &allowed.state,
        &allowed.client,
        allowed.actor(),
        client_id.trim(),
        enabled,
    )
    .await?;
    Ok(())
}

/// Gives an app a new secret, shown once; the old one stops working.
#[server(prefix = "/api", endpoint = "console/apps/rotate")]
pub async fn rotate_app_secret(
    client_id: String,
    confirm: Option<String>,
) -> Result<String, AppError> {
    use crate::domain::{oidc::client_admin, staff::Permission};
    let allowed = super::guard_change(Permission::AppsWrite, confirm.as_deref()).await?;
    client_admin::rotate_secret(
        &allowed.state,
        &allowed.client,
        allowed.actor(),
        client_id.trim(),
    )
    .await?
    .ok_or_else(|| AppError::Refused("This app has no secret to rotate.".into()))
}

//! Editing a partner app in the console: its settings as the form shows them, and saving the
//! form (checked as a registration is; each changed field audited with before and after).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::error::AppError;

/// The ID token signing algorithms an app may choose.
pub const ALGORITHMS: [&str; 3] = ["RS256", "ES256", "EdDSA"];

/// An app's editable settings, as the form shows and sends them (URIs one per line, switches
/// present as "on" when ticked).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppEditForm {
    pub name: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub backchannel_logout_uri: String,
    pub frontchannel_logout_uri: String,
    pub first_party: Option<String>,
    pub require_par: Option<String>,
    pub require_dpop: Option<String>,
    pub require_mfa: Option<String>,
    pub refresh_tokens: Option<String>,
    pub id_token_alg: String,
    pub access_token_ttl_secs: String,
    pub refresh_token_ttl_secs: String,
}

/// An app as its edit page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppConfig {
    pub client_id: String,
    pub client_type: String,
    /// "pairwise (sector shop.example)" or "public".
    pub subjects: String,
    pub form: AppEditForm,
}

/// The settings of app `client_id`.
#[server(prefix = "/api", endpoint = "console/app")]
pub async fn app_settings(client_id: String) -> Result<AppConfig, AppError> {
    use crate::domain::{
        oidc::{client_edit, clients::SubjectType},
        staff::Permission,
    };
    let allowed = super::guard(Permission::AppsRead).await?;
    let current = client_edit::current(&allowed.state.db, client_id.trim()).await?;
    let edit = current.edit();
    let on = |b: bool| b.then(|| "on".to_owned());
    Ok(AppConfig {
        client_id: current.id.clone(),
        client_type: current.client_type.to_string(),
        subjects: match (current.subject_type, &current.sector_identifier) {
            (SubjectType::Pairwise, Some(sector)) => format!("pairwise (sector {sector})"),
            _ => "public (the account id)".into(),
        },
        form: AppEditForm {
            name: edit.name,
            redirect_uris: edit.redirect_uris.join("\n"),
            post_logout_redirect_uris: edit.post_logout_redirect_uris.join("\n"),
            backchannel_logout_uri: edit.backchannel_logout_uri.unwrap_or_default(),
            frontchannel_logout_uri: edit.frontchannel_logout_uri.unwrap_or_default(),
            first_party: on(edit.first_party),
            require_par: on(edit.require_par),
            require_dpop: on(edit.require_dpop),
            require_mfa: on(edit.require_mfa),
            refresh_tokens: on(edit.refresh_tokens),
            id_token_alg: edit.id_token_alg.to_string(),
            access_token_ttl_secs: edit.access_token_ttl_secs.to_string(),
            refresh_token_ttl_secs: edit.refresh_token_ttl_secs.to_string(),
        },
    })
}

/// Saves the edit form of app `client_id`; answers how many settings changed.
#[server(prefix = "/api", endpoint = "console/app/save")]
pub async fn update_app(
    client_id: String,
    app: AppEditForm,
    confirm: Option<String>,
) -> Result<usize, AppError> {
    use crate::domain::{
        oidc::{
            client_edit::{self, ClientEdit, EditError},
            key_pairs::Alg,
        },
        staff::Permission,
    };
    let allowed = super::guard_change(Permission::AppsWrite, confirm.as_deref()).await?;
    use super::lines;
    let optional = |raw: &str| Some(raw.trim().to_owned()).filter(|u| !u.is_empty());
    let on = |v: &Option<String>| v.as_deref().is_some_and(|v| v == "on");
    let seconds = |raw: &str, field: &str| {
        raw.trim()
            .parse::<i32>()
            .map_err(|_| AppError::field(field, "A number of seconds."))
    };
    let edit = ClientEdit {
        name: app.name.trim().to_owned(),
        redirect_uris: lines(&app.redirect_uris),
        post_logout_redirect_uris: lines(&app.post_logout_redirect_uris),
        backchannel_logout_uri: optional(&app.backchannel_logout_uri),
        frontchannel_logout_uri: optional(&app.frontchannel_logout_uri),
        first_party: on(&app.first_party),
        require_par: on(&app.require_par),
        require_dpop: on(&app.require_dpop),
        require_mfa: on(&app.require_mfa),
        refresh_tokens: on(&app.refresh_tokens),
        id_token_alg: Alg::parse(app.id_token_alg.trim())
            .ok_or_else(|| AppError::field("id_token_alg", "Choose RS256, ES256 or EdDSA."))?,
        access_token_ttl_secs: seconds(&app.access_token_ttl_secs, "access_token_ttl_secs")?,
        refresh_token_ttl_secs: seconds(&app.refresh_token_ttl_secs, "refresh_token_ttl_secs")?,
    };
    let changed = client_edit::update(
        &allowed.state,
        &allowed.client,
        allowed.actor(),
        client_id.trim(),
        &edit,
    )
    .await?
    .map_err(|e| match e {
        EditError::AccessLifetime => AppError::field("access_token_ttl_secs", e.to_string()),
        EditError::RefreshLifetime => AppError::field("refresh_token_ttl_secs", e.to_string()),
        EditError::Config(e) => AppError::Refused(e.to_string()),
    })?;
    Ok(changed.len())
}

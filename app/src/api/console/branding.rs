//! Brands in the console: the default and each app's, their fields, saving them (each change
//! audited with before and after), and an app's own brand dropped for the default. The logo
//! upload and the live preview are plain HTTP routes of the server (a file upload, a page in a
//! frame).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::error::AppError;
pub use crate::model::branding::{BrandSettings, FONTS};

/// An app and whether it has a brand of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrandedApp {
    pub client_id: String,
    pub name: String,
    pub own: bool,
}

/// One brand as the brand page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrandPage {
    /// The app it is for; empty for the default.
    pub app: String,
    /// Whose brand it is, in words.
    pub title: String,
    /// For an app: whether it has its own brand (else the form starts from the default).
    pub own: bool,
    pub settings: BrandSettings,
    pub logo_path: String,
    pub apps: Vec<BrandedApp>,
}

/// The brand of `app` (empty: the default), with the list of apps to choose from.
#[server(prefix = "/api", endpoint = "console/brand")]
pub async fn brand_view(app: String) -> Result<BrandPage, AppError> {
    use crate::domain::{branding, error::AccountError, staff::Permission};
    let allowed = super::guard(Permission::SettingsRead).await?;
    let db = &allowed.state.db;
    let apps = branding::apps(db).await.map_err(AccountError::from)?;
    let app = app.trim().to_owned();
    let (title, own) = if app.is_empty() {
        ("The default brand".to_owned(), true)
    } else {
        let entry = apps
            .iter()
            .find(|a| a.client_id == app)
            .ok_or(AppError::NotFound)?;
        (format!("The brand of {}", entry.name), entry.own)
    };
    let brand = if app.is_empty() {
        branding::default_brand(db).await
    } else {
        branding::for_app(db, &app).await
    }
    .map_err(AccountError::from)?;
    Ok(BrandPage {
        app,
        title,
        own,
        settings: brand.settings(),
        logo_path: brand.logo_path(),
        apps: apps
            .into_iter()
            .map(|a| BrandedApp {
                client_id: a.client_id,
                name: a.name,
                own: a.own,
            })
            .collect(),
    })
}

/// Saves the brand of `app` (empty: the default); answers how many fields changed.
#[server(prefix = "/api", endpoint = "console/brand/save")]
pub async fn save_brand(
    app: String,
    brand: BrandSettings,
    confirm: Option<String>,
) -> Result<usize, AppError> {
    use crate::domain::{branding::edit, error::AccountError, staff::Permission};
    let allowed = super::guard_change(Permission::SettingsWrite, confirm.as_deref()).await?;
    let draft = edit::check(&brand).map_err(|e| AppError::field(e.field, e.message))?;
    let app = app.trim();
    let app = (!app.is_empty()).then_some(app);
    let changed = edit::save(&allowed.state.db, app, &draft, allowed.actor())
        .await
        .map_err(AccountError::from)?
        .map_err(|e| AppError::field(e.field, e.message))?;
    // This node's next page wears the change; the others' as their notice arrives.
    allowed.state.brands.clear();
    Ok(changed.len())
}

/// Drops `app`'s own brand: it wears the default again.
#[server(prefix = "/api", endpoint = "console/brand/reset")]
pub async fn reset_brand(app: String, confirm: Option<String>) -> Result<bool, AppError> {
    use crate::domain::{branding::edit, error::AccountError, staff::Permission};
    let allowed = super::guard_change(Permission::SettingsWrite, confirm.as_deref()).await?;
    let reset = edit::reset(&allowed.state.db, app.trim(), allowed.actor())
        .await
        .map_err(AccountError::from)?;
    allowed.state.brands.clear();
    Ok(reset)
}

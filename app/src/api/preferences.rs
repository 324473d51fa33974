//! The signed-in person's language and time zone setting.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// One language the product speaks: its tag and its name in itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Language {
    pub tag: String,
    pub name: String,
}

/// The setting as it stands and what may be chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreferenceOptions {
    /// The language pages and mail use now.
    pub locale: String,
    /// The zone moments are shown in now.
    pub time_zone: String,
    pub languages: Vec<Language>,
    pub time_zones: Vec<String>,
}

/// The signed-in person's language and zone, with the choices.
#[server(prefix = "/api", endpoint = "preferences")]
pub async fn my_preferences() -> Result<PreferenceOptions, AppError> {
    use super::context;
    use crate::domain::preferences;

    let state = context::state()?;
    let session = context::session().await?;
    let user = context::signed_in_account(&state, &session).await?;
    let reading = context::client().reading;
    Ok(PreferenceOptions {
        locale: user.locale.clone().unwrap_or(reading.locale),
        time_zone: user.zone().to_owned(),
        languages: preferences::spoken()
            .map(|tag| Language {
                tag: tag.to_owned(),
                name: preferences::own_name(tag).to_owned(),
            })
            .collect(),
        time_zones: preferences::time_zones(),
    })
}

/// Changes the signed-in person's language and zone; the profile then reloads in the new
/// language.
#[server(prefix = "/api", endpoint = "update-preferences")]
pub async fn update_preferences(locale: String, time_zone: String) -> Result<(), AppError> {
    use super::context;
    use crate::domain::preferences;

    let setting = preferences::check(locale.trim(), time_zone.trim())
        .map_err(|e| AppError::field(e.field(), e.to_string()))?;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    preferences::update(&state, &context::client(), user_id, &setting)
        .await
        .map_err(|e| {
            tracing::error!(error = ?e, "preferences not saved");
            AppError::Internal
        })?;
    leptos_axum::redirect(SAVED_PAGE);
    Ok(())
}

/// Where a saved setting goes: the profile, read again in the new language.
pub const SAVED_PAGE: &str = "/profile?preferences_saved=1";

//! The portal's branding as the UI reads it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// Product name, colours and logo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Branding {
    pub product_name: String,
    pub primary_color: String,
    pub accent_color: String,
    pub logo_path: String,
}

impl Default for Branding {
    fn default() -> Self {
        Self {
            product_name: "Keyhaven".into(),
            primary_color: "#3a4fd8".into(),
            accent_color: "#0f9d8a".into(),
            logo_path: "/logo.svg".into(),
        }
    }
}

/// The current branding.
#[server(prefix = "/api", endpoint = "branding")]
pub async fn get_branding() -> Result<Branding, AppError> {
    let state = super::context::state()?;
    crate::domain::branding::load(&state.db).await.map_err(|e| {
        tracing::error!(error = %e, "loading branding failed");
        AppError::Internal
    })
}

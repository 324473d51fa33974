//! The portal's branding as the UI reads it.

use leptos::prelude::*;

use super::error::AppError;
pub use crate::model::branding::Branding;

/// The current branding.
#[server(prefix = "/api", endpoint = "branding")]
pub async fn get_branding() -> Result<Branding, AppError> {
    let state = super::context::state()?;
    crate::domain::branding::load(&state.db).await.map_err(|e| {
        tracing::error!(error = %e, "loading branding failed");
        AppError::Internal
    })
}

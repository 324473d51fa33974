//! The brand a page wears, as the UI reads it: the brand of the partner app whose sign-in
//! flow this browser is in, else the default.

use leptos::prelude::*;

use super::error::AppError;
pub use crate::model::branding::Branding;

/// The brand this page wears.
#[server(prefix = "/api", endpoint = "branding")]
pub async fn get_branding() -> Result<Branding, AppError> {
    let state = super::context::state()?;
    let client = super::context::client();
    crate::domain::branding::worn(&state, &client)
        .await
        .map(|brand| brand.page())
        .map_err(|e| {
            tracing::error!(error = %e, "loading branding failed");
            AppError::Internal
        })
}

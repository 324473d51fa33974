//! The signed-in person's own data: asking for an export of it and following its progress (the
//! files themselves are downloaded from `/profile/data/download`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// The person's newest export, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportView {
    /// "queued", "building", "ready", "expired" or "failed".
    pub state: String,
    pub tables_done: i32,
    pub tables_total: i32,
    pub requested_at: String,
    /// Until when a ready export can be downloaded.
    pub expires_at: Option<String>,
}

/// The signed-in person's newest export, if any.
#[server(prefix = "/api", endpoint = "my-data/export")]
pub async fn data_export() -> Result<Option<ExportView>, AppError> {
    use super::context;
    use crate::domain::{error::AccountError, privacy::export};
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    let status = export::latest(&state.db, user_id)
        .await
        .map_err(AccountError::from)?;
    Ok(status.map(|s| ExportView {
        state: if s.state == export::ExportState::Ready && !s.downloadable() {
            "expired".to_owned()
        } else {
            s.state.as_str().to_owned()
        },
        tables_done: s.tables_done,
        tables_total: s.tables_total,
        requested_at: context::moment(s.requested_at),
        expires_at: s.expires_at.map(context::moment),
    }))
}

/// Asks for an export of everything held about the signed-in person (a recent sign-in first).
#[server(prefix = "/api", endpoint = "my-data/export/request")]
pub async fn request_data_export() -> Result<(), AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    crate::domain::privacy::export::request(&state, &context::client(), &session, user_id).await?;
    Ok(())
}

//! Admin console endpoints (so far: the development mail and SMS outboxes).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// One queued or sent mail, as the development outbox shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct OutboxMail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub created_at: String,
    pub delivered: bool,
    pub attempts: i32,
}

/// One queued or sent text, as the development outbox shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct OutboxText {
    pub recipient: String,
    pub body: String,
    pub created_at: String,
    /// "delivered", "pending" or "abandoned".
    pub status: String,
    pub attempts: i32,
}

/// The state of the signed-in administrator's request, or why it is refused.
#[cfg(feature = "ssr")]
async fn admin_state() -> Result<crate::state::AppState, AppError> {
    use super::context;
    let state = context::state()?;
    let session = context::session().await?;
    let user = context::signed_in_account(&state, &session).await?;
    if !user.is_admin() {
        return Err(AppError::Forbidden);
    }
    Ok(state)
}

#[cfg(feature = "ssr")]
fn read_failed(e: sqlx::Error) -> AppError {
    tracing::error!(error = %e, "reading the outbox failed");
    AppError::Internal
}

/// The 50 newest texts of the SMS outbox. Administrators only.
#[server(prefix = "/api", endpoint = "admin/sms-outbox")]
pub async fn recent_texts() -> Result<Vec<OutboxText>, AppError> {
    let state = admin_state().await?;
    sqlx::query_as(
        "SELECT recipient, body,
                to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS created_at,
                CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
                     WHEN abandoned_at IS NOT NULL THEN 'abandoned' ELSE 'pending' END AS status,
                attempts
         FROM sms_outbox ORDER BY created_at DESC LIMIT 50",
    )
    .fetch_all(&state.db)
    .await
    .map_err(read_failed)
}

/// The 50 newest mails of the outbox. Administrators only.
#[server(prefix = "/api", endpoint = "admin/outbox")]
pub async fn recent_mail() -> Result<Vec<OutboxMail>, AppError> {
    let state = admin_state().await?;
    sqlx::query_as(
        "SELECT id, recipient, subject, body_text,
                to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS created_at,
                delivered_at IS NOT NULL AS delivered, attempts
         FROM mail_outbox ORDER BY id DESC LIMIT 50",
    )
    .fetch_all(&state.db)
    .await
    .map_err(read_failed)
}

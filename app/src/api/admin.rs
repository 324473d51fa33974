//! Admin console endpoints (so far: the development mail and SMS outboxes, which exist only in
//! development delivery).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// One queued or sent mail, as the development outbox shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct OutboxText {
    pub recipient: String,
    pub body: String,
    pub created_at: String,
    /// "delivered", "pending" or "abandoned".
    pub status: String,
    pub attempts: i32,
}

/// The state of the signed-in administrator's request, or why it is refused. An outbox page
/// exists only in development delivery of what it shows (`dev`: no real sender configured);
/// elsewhere it is not found.
#[cfg(feature = "ssr")]
async fn admin_state(
    dev: fn(&crate::state::Settings) -> bool,
) -> Result<crate::state::AppState, AppError> {
    use super::context;
    let state = context::state()?;
    if !dev(&state.settings) {
        return Err(AppError::NotFound);
    }
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

#[cfg(feature = "ssr")]
fn utc(at: time::OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    at.format(&format).unwrap_or_default()
}

/// What a delivered message's row shows once its text is gone.
#[cfg(feature = "ssr")]
const DELIVERED: &str = "[delivered; the text is no longer kept]";

/// The 50 newest texts of the SMS outbox. Administrators only, in development.
#[server(prefix = "/api", endpoint = "admin/sms-outbox")]
pub async fn recent_texts() -> Result<Vec<OutboxText>, AppError> {
    let state = admin_state(|s| s.dev_sms).await?;
    let texts = crate::domain::sms::outbox::recent_texts(&state.db)
        .await
        .map_err(read_failed)?;
    Ok(texts
        .into_iter()
        .map(|t| OutboxText {
            recipient: t.recipient,
            body: t.body.unwrap_or_else(|| DELIVERED.into()),
            created_at: utc(t.created_at),
            status: t.status,
            attempts: t.attempts,
        })
        .collect())
}

/// The 50 newest mails of the outbox. Administrators only, in development.
#[server(prefix = "/api", endpoint = "admin/outbox")]
pub async fn recent_mail() -> Result<Vec<OutboxMail>, AppError> {
    let state = admin_state(|s| s.dev_mail).await?;
    let mail = crate::domain::mail::recent(&state.db)
        .await
        .map_err(read_failed)?;
    Ok(mail
        .into_iter()
        .map(|m| OutboxMail {
            id: m.id,
            recipient: m.recipient,
            subject: m.subject.unwrap_or_else(|| m.kind.clone()),
            body_text: m.body_text.unwrap_or_else(|| DELIVERED.into()),
            created_at: utc(m.created_at),
            delivered: m.delivered,
            attempts: m.attempts,
        })
        .collect())
}

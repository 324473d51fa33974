//! The SMS outbox as the development outbox page reads it: the newest texts and how far each
//! got.

use sqlx::PgExecutor;
use time::OffsetDateTime;

/// One text of the outbox, as the development outbox page shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxText {
    pub recipient: String,
    /// `None` once delivered to the gateway or given up.
    pub body: Option<String>,
    pub created_at: OffsetDateTime,
    /// "delivered", "pending" or "abandoned".
    pub status: String,
    pub attempts: i32,
}

/// The 50 newest texts of the outbox.
pub async fn recent_texts(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<OutboxText>> {
    sqlx::query_as(
        "SELECT recipient, body, created_at,
                CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
                     WHEN abandoned_at IS NOT NULL THEN 'abandoned' ELSE 'pending' END AS status,
                attempts
         FROM sms_outbox ORDER BY created_at DESC LIMIT 50",
    )
    .fetch_all(db)
    .await
}

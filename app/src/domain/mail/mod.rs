//! Outgoing mail: the messages the product sends and the outbox they are queued in. Delivery
//! is the mail worker's job; here a message is only ever written in the caller's transaction.
//! A message's text (its links and codes) stays in the outbox only until it is delivered; in
//! development the outbox page is where it is delivered to, and the rows are purged after a
//! week either way.

use sqlx::PgExecutor;
use time::OffsetDateTime;

mod factor_change;
mod templates;

pub use self::{factor_change::FactorChange, templates::Templates};
use crate::domain::privacy::{Erasure, Export, Table};

/// A message ready to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Which message it is (the template), kept after its text is gone.
    pub kind: &'static str,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The sender's display name (the brand's), else the configured one.
    pub sender: Option<String>,
}

/// Queues `mail` in the outbox (inside the caller's transaction when given one).
pub async fn enqueue(db: impl PgExecutor<'_>, mail: &OutgoingMail) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO mail_outbox (kind, recipient, subject, body_text, sender_name)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(mail.kind)
    .bind(&mail.to)
    .bind(&mail.subject)
    .bind(&mail.body)
    .bind(&mail.sender)
    .execute(db)
    .await?;
    Ok(())
}

/// The kind of the last message to an erased person: its row is deleted as soon as it is
/// delivered, so the address is not left behind in the outbox.
pub const ERASED_KIND: &str = "account_erased";

/// One outbox row, as the development outbox page shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxEntry {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    /// `None` once delivered to a real mail server.
    pub subject: Option<String>,
    pub body_text: Option<String>,
    pub created_at: OffsetDateTime,
    pub delivered: bool,
    pub attempts: i32,
}

/// The 50 newest messages of the outbox.
pub async fn recent(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<OutboxEntry>> {
    sqlx::query_as(
        "SELECT id, kind, recipient, subject, body_text, created_at,
                delivered_at IS NOT NULL AS delivered, attempts
         FROM mail_outbox ORDER BY id DESC LIMIT 50",
    )
    .fetch_all(db)
    .await
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "mail_outbox",
    person: None,
    personal: &["recipient", "subject", "body_text", "sender_name"],
    other: &[
        "id",
        "created_at",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_error",
        "kind",
    ],
    export: Export::Not("mail on its way; it is the person's own inbox that holds it"),
    erasure: Erasure::DeleteNaming("recipient = ANY($1)"),
}];

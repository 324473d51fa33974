//! The webhook outbox's bookkeeping: claiming due messages (each taken by one node for a while,
//! `FOR UPDATE SKIP LOCKED`, so the posting happens outside any transaction), recording every
//! attempt in the log and on its message (delivered; or retried with backoff — 5 s, 1 min,
//! 10 min, 1 h, 3 h, then every 6 h — until a day after the event, then given up), giving up
//! messages that waited a day (a disabled subscription's), forgetting old rows, and reading a
//! subscription's log. A message's body is forgotten once it is delivered or given up.

use std::time::Duration;

use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::WebhookError;

/// How long a node holds the messages it claimed: a batch is claimed at once and posted in
/// parallel, so this covers the slowest post of the batch with room to spare. (The mail, SMS and
/// logout workers claim one row at a time, each for 60 s.)
pub const LEASE: Duration = Duration::from_secs(120);

/// How long after its event a message is retried.
pub const RETRY_FOR: Duration = Duration::from_secs(24 * 3600);

/// How long delivered and given-up messages and the log are kept.
const KEEP_FOR_DAYS: i32 = 30;

/// The longest error text kept.
const MAX_ERROR_CHARS: usize = 500;

/// The wait before the next attempt after `failures` failed ones.
pub fn backoff(failures: i32) -> Duration {
    Duration::from_secs(match failures {
        i32::MIN..=1 => 5,
        2 => 60,
        3 => 600,
        4 => 3600,
        5 => 3 * 3600,
        _ => 6 * 3600,
    })
}

/// A message claimed for delivery, with where it goes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Due {
    pub id: i64,
    pub subscription_id: Uuid,
    pub message_id: String,
    pub event_type: String,
    /// `None` only for a message forgotten meanwhile (never claimed so).
    pub body: Option<String>,
    /// Attempts before this one.
    pub attempts: i32,
    pub url: String,
    pub allow_private_targets: bool,
}

/// How an attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The target answered 2xx.
    Delivered { status: u16 },
    /// Another status, or no answer (`status` `None`), and why.
    Failed { status: Option<u16>, error: String },
}

/// Claims up to `limit` due messages of enabled subscriptions for [`LEASE`].
pub async fn claim(db: &PgPool, limit: i64) -> sqlx::Result<Vec<Due>> {
    sqlx::query_as(
        "WITH due AS (
             SELECT d.id FROM webhook_deliveries d
             JOIN webhook_subscriptions s ON s.id = d.subscription_id
             WHERE d.delivered_at IS NULL AND d.failed_at IS NULL AND d.next_attempt_at <= now()
               AND s.enabled AND d.body IS NOT NULL
             ORDER BY d.next_attempt_at, d.id LIMIT $1
             FOR UPDATE OF d SKIP LOCKED
         )
         UPDATE webhook_deliveries d SET next_attempt_at = now() + make_interval(secs => $2)
         FROM due, webhook_subscriptions s
         WHERE d.id = due.id AND s.id = d.subscription_id
         RETURNING d.id, d.subscription_id, d.message_id, d.event_type, d.body, d.attempts,
                   s.url, s.allow_private_targets",
    )
    .bind(limit)
    .bind(LEASE.as_secs_f64())
    .fetch_all(db)
    .await
}

/// Records an attempt at `due` that took `duration`: a log row, and on the message its
/// delivery, its next attempt, or (a day after the event) its end.
pub async fn record(
    db: &PgPool,
    due: &Due,
    outcome: &Outcome,
    duration: Duration,
) -> sqlx::Result<()> {
    let attempt = due.attempts + 1;
    let (status, error) = match outcome {
        Outcome::Delivered { status } => (Some(i32::from(*status)), None),
        Outcome::Failed { status, error } => (
            status.map(i32::from),
            Some(error.chars().take(MAX_ERROR_CHARS).collect::<String>()),
        ),
    };
    let mut tx = db.begin().await?;
    // Nothing is logged for a message removed meanwhile (with its subscription).
    sqlx::query(
        "INSERT INTO webhook_attempts
           (subscription_id, delivery_id, event_type, attempt, status, error, duration_ms)
         SELECT subscription_id, id, event_type, $2, $3, $4, $5
         FROM webhook_deliveries WHERE id = $1",
    )
    .bind(due.id)
    .bind(attempt)
    .bind(status)
    .bind(&error)
    .bind(i32::try_from(duration.as_millis()).unwrap_or(i32::MAX))
    .execute(&mut *tx)
    .await?;
    match outcome {
        Outcome::Delivered { .. } => {
            sqlx::query(
                "UPDATE webhook_deliveries SET attempts = $2, delivered_at = now(), body = NULL,
                     last_error = NULL
                 WHERE id = $1",
            )
            .bind(due.id)
            .bind(attempt)
            .execute(&mut *tx)
            .await?;
        }
        Outcome::Failed { .. } => {
            tracing::warn!(
                delivery = due.id,
                attempt,
                error = error.as_deref().unwrap_or_default(),
                "webhook delivery failed"
            );
            // The last retry falls exactly a day after the event; failing then, it ends.
            sqlx::query(
                "UPDATE webhook_deliveries SET attempts = $2, last_error = $3,
                     next_attempt_at = LEAST(now() + make_interval(secs => $4),
                                             created_at + make_interval(secs => $5)),
                     failed_at = CASE WHEN now() >= created_at + make_interval(secs => $5)
                                      THEN now() END,
                     body = CASE WHEN now() >= created_at + make_interval(secs => $5)
                                 THEN NULL ELSE body END
                 WHERE id = $1",
            )
            .bind(due.id)
            .bind(attempt)
            .bind(&error)
            .bind(backoff(attempt).as_secs_f64())
            .bind(RETRY_FOR.as_secs_f64())
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await
}

/// Gives up the messages still waiting a day after their event (those of a disabled
/// subscription, or of nodes that were down), forgetting their body; returns how many.
pub async fn give_up_expired(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    // The lease's margin leaves the last retry, due exactly then, its chance.
    Ok(sqlx::query(
        "UPDATE webhook_deliveries SET failed_at = now(), body = NULL,
             last_error = coalesce(last_error, 'not delivered within a day')
         WHERE delivered_at IS NULL AND failed_at IS NULL
           AND created_at + make_interval(secs => $1) < now()",
    )
    .bind((RETRY_FOR + 2 * LEASE).as_secs_f64())
    .execute(db)
    .await?
    .rows_affected())
}

/// Deletes delivered and given-up messages and log rows older than 30 days.
pub async fn forget_old(db: &PgPool) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM webhook_deliveries
         WHERE (delivered_at IS NOT NULL OR failed_at IS NOT NULL)
           AND created_at < now() - make_interval(days => $1)",
    )
    .bind(KEEP_FOR_DAYS)
    .execute(db)
    .await?;
    sqlx::query("DELETE FROM webhook_attempts WHERE at < now() - make_interval(days => $1)")
        .bind(KEEP_FOR_DAYS)
        .execute(db)
        .await?;
    Ok(())
}

/// One line of a subscription's delivery log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoggedAttempt {
    pub at: OffsetDateTime,
    pub event_type: String,
    /// The message (gone once it is forgotten, or its person erased).
    pub delivery_id: Option<i64>,
    pub message_id: Option<String>,
    pub attempt: i32,
    /// The HTTP status the target answered, if it answered.
    pub status: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// The newest `limit` (1 to 1000) attempts of subscription `id`, newest first.
pub async fn log(db: &PgPool, id: Uuid, limit: i64) -> Result<Vec<LoggedAttempt>, WebhookError> {
    if !(1..=1000).contains(&limit) {
        return Err(WebhookError::BadLimit);
    }
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM webhook_subscriptions WHERE id = $1)")
            .bind(id)
            .fetch_one(db)
            .await?;
    if !exists {
        return Err(WebhookError::NotFound(id));
    }
    Ok(sqlx::query_as(
        "SELECT a.at, a.event_type, a.delivery_id, d.message_id, a.attempt, a.status, a.error,
                a.duration_ms
         FROM webhook_attempts a LEFT JOIN webhook_deliveries d ON d.id = a.delivery_id
         WHERE a.subscription_id = $1 ORDER BY a.id DESC LIMIT $2",
    )
    .bind(id)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_every_six_hours() {
        let waits: Vec<u64> = (1..=8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(
            waits,
            [5, 60, 600, 3600, 10800, 21600, 21600, 21600],
            "5 s, 1 min, 10 min, 1 h, 3 h, then 6 h"
        );
    }
}

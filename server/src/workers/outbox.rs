//! What the mail, SMS and logout workers share: the delivery loop (a round, then wait for a
//! wake-up, a second, or shutdown), the round itself (claim one row, send it, record the attempt,
//! and again), the retry backoff, and recording each attempt on its outbox row, which forgets a
//! message's text once it is delivered or given up.

use std::{fmt::Display, future::Future, sync::Arc, time::Duration};

use sqlx::{PgPool, Postgres};
use tokio::sync::{watch, Notify};

/// The outbox tables (named here, never taken from input).
#[derive(Debug, Clone, Copy)]
pub enum Outbox {
    Mail,
    Sms,
    Logout,
}

impl Outbox {
    fn table(self) -> &'static str {
        match self {
            Self::Mail => "mail_outbox",
            Self::Sms => "sms_outbox",
            Self::Logout => "logout_outbox",
        }
    }

    /// What a row no longer needs once delivered or given up: the text, with its links and
    /// codes (`col = NULL, ...`), or nothing.
    fn forget_text(self) -> &'static str {
        match self {
            Self::Mail => ", subject = NULL, body_text = NULL",
            Self::Sms => ", body = NULL",
            Self::Logout => "",
        }
    }
}

/// What happens to a delivered message's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    /// Delivered for real: the text (its links and codes) is forgotten at once.
    ForgetText,
    /// Development delivery: the outbox page is where it is read, so it stays until purged.
    KeepForOutboxPage,
}

/// How long a claimed row is left to the worker that claimed it: longer than one delivery may
/// take (every sender gives up within 15 seconds). A node that dies mid-delivery leaves the row
/// to the others after this; each row is claimed, sent and recorded on its own, so such a death
/// can repeat at most the one message it was sending.
pub const LEASE: Duration = Duration::from_secs(60);

/// How many rows one round delivers, one after another, before it looks for a wake-up.
pub const ROUND: usize = 20;

/// How long to wait before retry `attempt` (1-based): 2^attempt seconds, at most an hour.
pub fn backoff(attempt: i32) -> Duration {
    Duration::from_secs(2u64.saturating_pow(attempt.clamp(1, 12) as u32).min(3600))
}

/// Runs delivery `round`s until `shutdown` turns true: straight on while a round found work,
/// otherwise after a wake-up or a second.
pub async fn run<F, Fut>(
    what: &str,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<usize>>,
{
    loop {
        match round().await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::error!(error = ?e, "{what} delivery round failed"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

/// What sending one claimed row came to.
pub struct Attempt<Id> {
    pub id: Id,
    /// The row's attempts before this one.
    pub attempts: i32,
    pub result: anyhow::Result<()>,
}

/// One round of `outbox`: up to [`ROUND`] rows one after another, each claimed by `claim` (for
/// [`LEASE`], committed at once), sent by `send`, and its attempt recorded at once; returns how
/// many were attempted.
pub async fn deliver_round<Row, Id, C, CF, S, SF>(
    db: &PgPool,
    outbox: Outbox,
    delivered: Delivered,
    mut claim: C,
    mut send: S,
) -> anyhow::Result<usize>
where
    C: FnMut() -> CF,
    CF: Future<Output = sqlx::Result<Option<Row>>>,
    S: FnMut(Row) -> SF,
    SF: Future<Output = Attempt<Id>>,
    Id: for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Display + Send + Copy + 'static,
{
    let mut attempted = 0;
    while attempted < ROUND {
        let Some(row) = claim().await? else {
            break;
        };
        attempted += 1;
        let attempt = send(row).await;
        record_attempt(
            db,
            outbox,
            attempt.id,
            attempt.attempts,
            &attempt.result,
            delivered,
        )
        .await?;
    }
    Ok(attempted)
}

/// Gives up the rows of `outbox` (one with an `expires_at`) that were not delivered in time,
/// forgetting their text.
pub async fn abandon_expired(db: &PgPool, outbox: Outbox) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "UPDATE {} SET abandoned_at = now(){}
         WHERE delivered_at IS NULL AND abandoned_at IS NULL AND expires_at <= now()",
        outbox.table(),
        outbox.forget_text()
    ))
    .execute(db)
    .await?;
    Ok(())
}

/// Records one delivery attempt of row `id` (which had `attempts` before), at once and on its
/// own: delivered (its text forgotten unless `delivered` says to keep it; the last mail to an
/// erased person deleted), or to be retried after [`backoff`] with the error kept (which ends
/// the claim's lease).
pub async fn record_attempt<Id>(
    db: &PgPool,
    outbox: Outbox,
    id: Id,
    attempts: i32,
    result: &anyhow::Result<()>,
    delivered: Delivered,
) -> sqlx::Result<()>
where
    Id: for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Display + Send + Copy + 'static,
{
    let table = outbox.table();
    match result {
        Ok(()) => {
            let forget = match delivered {
                Delivered::ForgetText => outbox.forget_text(),
                Delivered::KeepForOutboxPage => "",
            };
            sqlx::query(&format!(
                "UPDATE {table} SET delivered_at = now(), attempts = attempts + 1,
                 last_error = NULL{forget} WHERE id = $1"
            ))
            .bind(id)
            .execute(db)
            .await?;
            if let Outbox::Mail = outbox {
                // The last message to an erased person leaves no address behind once delivered.
                sqlx::query("DELETE FROM mail_outbox WHERE id = $1 AND kind = $2")
                    .bind(id)
                    .bind(app::domain::mail::ERASED_KIND)
                    .execute(db)
                    .await?;
            }
        }
        Err(e) => {
            let attempt = attempts + 1;
            tracing::warn!(%id, attempt, error = %e, "{table}: delivery failed; will retry");
            sqlx::query(&format!(
                "UPDATE {table} SET attempts = $2, last_error = $3,
                 next_attempt_at = now() + make_interval(secs => $4) WHERE id = $1"
            ))
            .bind(id)
            .bind(attempt)
            .bind(format!("{e:#}"))
            .bind(backoff(attempt).as_secs_f64())
            .execute(db)
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(2), Duration::from_secs(4));
        assert_eq!(backoff(5), Duration::from_secs(32));
        assert_eq!(backoff(40), Duration::from_secs(3600));
    }
}

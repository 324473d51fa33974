//! Delivers the mail outbox: claims due messages with `FOR UPDATE SKIP LOCKED` (so any number of
//! nodes can run it), sends them through lettre, and retries failures with exponential backoff.

use std::time::Duration;

use anyhow::Context;
use lettre::{message::Mailbox, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;
use std::sync::Arc;
use tokio::sync::{watch, Notify};

/// Where mail goes.
#[derive(Clone)]
pub enum MailTransport {
    /// A real SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Development: the message is logged, and stays readable in the admin's outbox page.
    Console,
}

impl MailTransport {
    /// SMTP when `smtp_url` is set (`smtp://host:port`, `smtps://…`, `?tls=required`),
    /// development mail otherwise.
    pub fn from_url(smtp_url: Option<&str>) -> anyhow::Result<Self> {
        match smtp_url {
            None => Ok(Self::Console),
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .context("CIAM_SMTP_URL is not a valid SMTP URL")?
                    .timeout(Some(Duration::from_secs(15)))
                    .build();
                Ok(Self::Smtp(transport))
            }
        }
    }
}

/// A message claimed for delivery.
#[derive(Debug, sqlx::FromRow)]
struct Pending {
    id: i64,
    recipient: String,
    subject: String,
    body_text: String,
    attempts: i32,
}

/// How long to wait before retry `attempt` (1-based): 2^attempt seconds, at most an hour.
pub fn backoff(attempt: i32) -> Duration {
    Duration::from_secs(2u64.saturating_pow(attempt.clamp(1, 12) as u32).min(3600))
}

/// The delivery loop; returns when `shutdown` turns true.
pub async fn run(
    db: PgPool,
    transport: MailTransport,
    from: Mailbox,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        match deliver_due(&db, &transport, &from).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::error!(error = ?e, "mail delivery round failed"),
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

/// Sends up to 20 due messages; returns how many were attempted.
pub async fn deliver_due(
    db: &PgPool,
    transport: &MailTransport,
    from: &Mailbox,
) -> anyhow::Result<usize> {
    let mut tx = db.begin().await?;
    let due: Vec<Pending> = sqlx::query_as(
        "SELECT id, recipient, subject, body_text, attempts FROM mail_outbox
         WHERE delivered_at IS NULL AND next_attempt_at <= now()
         ORDER BY id LIMIT 20 FOR UPDATE SKIP LOCKED",
    )
    .fetch_all(&mut *tx)
    .await?;
    for mail in &due {
        match send(transport, from, mail).await {
            Ok(()) => {
                sqlx::query(
                    "UPDATE mail_outbox SET delivered_at = now(), attempts = attempts + 1,
                     last_error = NULL WHERE id = $1",
                )
                .bind(mail.id)
                .execute(&mut *tx)
                .await?;
            }
            Err(e) => {
                let attempt = mail.attempts + 1;
                tracing::warn!(id = mail.id, attempt, error = %e, "mail delivery failed; will retry");
                sqlx::query(
                    "UPDATE mail_outbox SET attempts = $2, last_error = $3,
                     next_attempt_at = now() + make_interval(secs => $4) WHERE id = $1",
                )
                .bind(mail.id)
                .bind(attempt)
                .bind(format!("{e:#}"))
                .bind(backoff(attempt).as_secs_f64())
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(due.len())
}

async fn send(transport: &MailTransport, from: &Mailbox, mail: &Pending) -> anyhow::Result<()> {
    match transport {
        MailTransport::Console => {
            tracing::info!(
                to = %mail.recipient,
                subject = %mail.subject,
                "development mail (set CIAM_SMTP_URL to send it):\n{}",
                mail.body_text
            );
            Ok(())
        }
        MailTransport::Smtp(smtp) => {
            let to: Mailbox = mail
                .recipient
                .parse()
                .context("the recipient address is not deliverable")?;
            let message = Message::builder()
                .from(from.clone())
                .to(to)
                .subject(&mail.subject)
                .header(lettre::message::header::ContentType::TEXT_PLAIN)
                .body(mail.body_text.clone())
                .context("building the message")?;
            smtp.send(message).await.context("SMTP delivery")?;
            Ok(())
        }
    }
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

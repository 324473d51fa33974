//! Delivers the mail outbox: claims one due message at a time for a lease (`FOR UPDATE SKIP
//! LOCKED`, so any number of nodes can run it), sends it through lettre, records the outcome at
//! once, and retries failures with exponential backoff.

use std::time::Duration;

use anyhow::Context;
use lettre::{message::Mailbox, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;
use std::sync::Arc;
use tokio::sync::{watch, Notify};

use super::outbox::{self, Attempt, Delivered, Outbox};

/// Where mail goes.
#[derive(Clone)]
pub enum MailTransport {
    /// A real SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Development: the message stays readable in the admin's outbox page (only its recipient
    /// and kind are logged: never a link or a code).
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
    kind: String,
    recipient: String,
    subject: String,
    body_text: String,
    /// The brand's sender name, shown with the configured address.
    sender_name: Option<String>,
    attempts: i32,
    created_at: time::OffsetDateTime,
}

/// The delivery loop; returns when `shutdown` turns true.
pub async fn run(
    db: PgPool,
    transport: MailTransport,
    from: Mailbox,
    wake: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
) {
    outbox::run("mail", wake, shutdown, || {
        deliver_due(&db, &transport, &from)
    })
    .await;
}

/// Sends up to [`outbox::ROUND`] due messages, each claimed, sent and recorded on its own;
/// returns how many were attempted.
pub async fn deliver_due(
    db: &PgPool,
    transport: &MailTransport,
    from: &Mailbox,
) -> anyhow::Result<usize> {
    let delivered = match transport {
        MailTransport::Smtp(_) => Delivered::ForgetText,
        MailTransport::Console => Delivered::KeepForOutboxPage,
    };
    outbox::deliver_round(
        db,
        Outbox::Mail,
        delivered,
        || claim(db),
        |mail: Pending| async move {
            let result = send(transport, from, &mail).await;
            Attempt {
                id: mail.id,
                attempts: mail.attempts,
                result,
            }
        },
    )
    .await
}

/// Claims the oldest due message for [`outbox::LEASE`].
async fn claim(db: &PgPool) -> sqlx::Result<Option<Pending>> {
    sqlx::query_as(
        "WITH due AS (
             SELECT id FROM mail_outbox
             WHERE delivered_at IS NULL AND next_attempt_at <= now() AND body_text IS NOT NULL
             ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
         )
         UPDATE mail_outbox m SET next_attempt_at = now() + make_interval(secs => $1)
         FROM due WHERE m.id = due.id
         RETURNING m.id, m.kind, m.recipient, m.subject, m.body_text, m.sender_name, m.attempts,
                   m.created_at",
    )
    .bind(outbox::LEASE.as_secs_f64())
    .fetch_optional(db)
    .await
}

async fn send(transport: &MailTransport, from: &Mailbox, mail: &Pending) -> anyhow::Result<()> {
    match transport {
        MailTransport::Console => {
            tracing::info!(
                to = %mail.recipient,
                kind = %mail.kind,
                "development mail: read it on /admin/outbox (set CIAM_SMTP_URL to send mail)"
            );
            Ok(())
        }
        MailTransport::Smtp(smtp) => {
            let to: Mailbox = mail
                .recipient
                .parse()
                .context("the recipient address is not deliverable")?;
            let from = match &mail.sender_name {
                Some(name) => Mailbox::new(Some(name.clone()), from.email.clone()),
                None => from.clone(),
            };
            // The same id on every attempt: a message sent again after a crash (see
            // `outbox::LEASE`) is the same message to the recipient's mail system.
            let message_id = format!(
                "<outbox.{}.{}@{}>",
                mail.id,
                mail.created_at.unix_timestamp_nanos() / 1000,
                from.email.domain()
            );
            let message = Message::builder()
                .message_id(Some(message_id))
                .from(from)
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
    fn development_mail_never_logs_its_link_or_code() {
        let mail = Pending {
            id: 1,
            kind: "sign_in_link".into(),
            recipient: "ada@example.com".into(),
            subject: "Your Keyhaven sign-in code is 493817".into(),
            body_text: "your code: 493817, or https://id.example/signin/email?token=SECRET-LINK"
                .into(),
            sender_name: None,
            attempts: 0,
            created_at: time::OffsetDateTime::now_utc(),
        };
        let from: Mailbox = "Keyhaven <no-reply@example.com>".parse().unwrap();
        let logged = super::super::logged_while(send(&MailTransport::Console, &from, &mail));
        assert!(logged.contains("ada@example.com"), "{logged}");
        assert!(!logged.contains("493817"), "{logged}");
        assert!(!logged.contains("SECRET-LINK"), "{logged}");
    }
}

//! Delivers the SMS outbox: claims one due text at a time for a lease (`FOR UPDATE SKIP
//! LOCKED`), hands it to the configured sender (the console in development, or an HTTP
//! gateway), retries failures with backoff, and gives a text up once the code it carries has
//! expired.

use std::{sync::Arc, time::Duration};

use anyhow::{bail, Context};
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::{watch, Notify};
use uuid::Uuid;

use super::outbox::{self, Attempt, Delivered, Outbox};

/// Where texts go.
#[derive(Clone)]
pub enum SmsSender {
    /// Development: the text stays readable in the admin's outbox page (only its recipient is
    /// logged, never the code).
    Console,
    /// No gateway outside development: no text can be sent (the SMS features say so).
    Unconfigured,
    /// Any SMS gateway: each text is POSTed as JSON `{"id", "to", "body"}` to `url`, with
    /// `Authorization: Bearer <token>` when a token is configured. A 2xx answer means sent.
    Http {
        client: reqwest::Client,
        url: String,
        token: Option<String>,
    },
}

impl SmsSender {
    /// The HTTP sender when `url` is set, else the console in development delivery (`dev`).
    pub fn new(url: Option<&str>, token: Option<&str>, dev: bool) -> anyhow::Result<Self> {
        let Some(url) = url else {
            return Ok(if dev {
                Self::Console
            } else {
                Self::Unconfigured
            });
        };
        let parsed = url::Url::parse(url).context("CIAM_SMS_WEBHOOK_URL is not a valid URL")?;
        if !matches!(parsed.scheme(), "http" | "https") {
            bail!("CIAM_SMS_WEBHOOK_URL must be an http(s) URL");
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .context("building the SMS HTTP client")?;
        Ok(Self::Http {
            client,
            url: url.to_owned(),
            token: token.map(str::to_owned),
        })
    }
}

/// A text claimed for delivery.
#[derive(Debug, sqlx::FromRow)]
struct Pending {
    id: Uuid,
    recipient: String,
    body: String,
    attempts: i32,
}

/// The delivery loop; returns when `shutdown` turns true.
pub async fn run(
    db: PgPool,
    sender: SmsSender,
    wake: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
) {
    outbox::run("SMS", wake, shutdown, || deliver_due(&db, &sender)).await;
}

/// Gives up expired texts, then sends up to [`outbox::ROUND`] due ones, each claimed, sent and
/// recorded on its own; returns how many were attempted.
pub async fn deliver_due(db: &PgPool, sender: &SmsSender) -> anyhow::Result<usize> {
    outbox::abandon_expired(db, Outbox::Sms).await?;
    let delivered = match sender {
        SmsSender::Console => Delivered::KeepForOutboxPage,
        _ => Delivered::ForgetText,
    };
    outbox::deliver_round(
        db,
        Outbox::Sms,
        delivered,
        || claim(db),
        |text: Pending| async move {
            let result = send(sender, &text).await;
            Attempt {
                id: text.id,
                attempts: text.attempts,
                result,
            }
        },
    )
    .await
}

/// Claims the oldest due text for [`outbox::LEASE`].
async fn claim(db: &PgPool) -> sqlx::Result<Option<Pending>> {
    sqlx::query_as(
        "WITH due AS (
             SELECT id FROM sms_outbox
             WHERE delivered_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= now()
               AND body IS NOT NULL
             ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED
         )
         UPDATE sms_outbox t SET next_attempt_at = now() + make_interval(secs => $1)
         FROM due WHERE t.id = due.id
         RETURNING t.id, t.recipient, t.body, t.attempts",
    )
    .bind(outbox::LEASE.as_secs_f64())
    .fetch_optional(db)
    .await
}

async fn send(sender: &SmsSender, text: &Pending) -> anyhow::Result<()> {
    match sender {
        SmsSender::Console => {
            tracing::info!(
                to = %text.recipient,
                "development SMS: read it on /admin/outbox (set CIAM_SMS_WEBHOOK_URL to send texts)"
            );
            Ok(())
        }
        SmsSender::Unconfigured => bail!("no SMS gateway is configured (CIAM_SMS_WEBHOOK_URL)"),
        SmsSender::Http { client, url, token } => {
            let mut request = client.post(url).json(&json!({
                "id": text.id,
                "to": text.recipient,
                "body": text.body,
            }));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.context("reaching the SMS gateway")?;
            let status = response.status();
            if !status.is_success() {
                bail!("the SMS gateway answered {status}");
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn development_texts_never_log_their_code() {
        let text = Pending {
            id: Uuid::new_v4(),
            recipient: "+14155550123".into(),
            body: "493817 is your Keyhaven code.\n\n@id.example #493817".into(),
            attempts: 0,
        };
        let logged = super::super::logged_while(send(&SmsSender::Console, &text));
        assert!(logged.contains("+14155550123"), "{logged}");
        assert!(!logged.contains("493817"), "{logged}");
    }

    #[test]
    fn the_sender_is_the_gateway_or_in_development_the_console() {
        assert!(matches!(
            SmsSender::new(None, None, true).unwrap(),
            SmsSender::Console
        ));
        assert!(matches!(
            SmsSender::new(None, None, false).unwrap(),
            SmsSender::Unconfigured
        ));
        assert!(matches!(
            SmsSender::new(Some("https://sms.example.com/send"), Some("t"), false).unwrap(),
            SmsSender::Http { .. }
        ));
        assert!(SmsSender::new(Some("ftp://sms.example.com"), None, true).is_err());
        assert!(SmsSender::new(Some("not a url"), None, true).is_err());
    }
}

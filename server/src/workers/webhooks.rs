//! Delivers webhook messages (Standard Webhooks 1.0): claims due rows of the webhook outbox,
//! checks the target's address again (DNS rebinding) and connects to exactly that address,
//! POSTs the JSON body with `webhook-id`, `webhook-timestamp` and `webhook-signature` (signed
//! with every valid secret of the subscription), no redirects followed, 10 seconds at most; a
//! 2xx answer delivers it, anything else is retried with backoff for a day (`deliveries`).
//! Woken by the `webhook_queued` notice a queuing transaction sends at commit, else every
//! second.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use app::{
    domain::webhooks::{
        self,
        deliveries::{self, Due, Outcome},
        signing::{self, WebhookSecret},
        targets,
    },
    state::AppState,
};
use sqlx::postgres::PgListener;
use time::OffsetDateTime;
use tokio::sync::{watch, Mutex, Notify};

use super::outbox;

/// The notice a transaction that queued messages sends at commit.
pub const CHANNEL: &str = "webhook_queued";

/// How many messages a round takes (posted concurrently).
const BATCH: i64 = 10;

/// How often messages waiting a day are given up and old rows forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// What the worker needs.
pub struct WebhookSender {
    state: AppState,
    last_sweep: Mutex<Option<Instant>>,
}

impl WebhookSender {
    pub fn new(state: AppState) -> Self {
        Self {
            state,
            last_sweep: Mutex::new(None),
        }
    }

    /// At most every [`SWEEP_EVERY`]: gives up what waited a day, forgets old rows.
    async fn sweep(&self) -> anyhow::Result<()> {
        let mut last = self.last_sweep.lock().await;
        if last.is_some_and(|at| at.elapsed() < SWEEP_EVERY) {
            return Ok(());
        }
        *last = Some(Instant::now());
        deliveries::give_up_expired(&self.state.db).await?;
        deliveries::forget_old(&self.state.db).await?;
        Ok(())
    }
}

/// Sends one message; how it went.
async fn post(state: &AppState, due: &Due) -> Outcome {
    match try_post(state, due).await {
        Ok(outcome) => outcome,
        Err(e) => Outcome::Failed {
            status: None,
            error: format!("{e:#}"),
        },
    }
}

async fn try_post(state: &AppState, due: &Due) -> anyhow::Result<Outcome> {
    let body = due.body.as_deref().context("the message was forgotten")?;
    let target = targets::resolve(&due.url, due.allow_private_targets).await?;
    let secrets =
        webhooks::signing_secrets(&state.db, webhooks::secret_box(state), due.subscription_id)
            .await?;
    anyhow::ensure!(
        !secrets.is_empty(),
        "the subscription has no signing secret"
    );
    let client = pinned_client(&target)?;
    let response = send(&client, &target, due, body, &secrets).await?;
    let status = response.status();
    Ok(if status.is_success() {
        Outcome::Delivered {
            status: status.as_u16(),
        }
    } else {
        Outcome::Failed {
            status: Some(status.as_u16()),
            error: format!("the target answered {status}"),
        }
    })
}

/// A client that connects to `target`'s checked address only: no proxy, no redirects,
/// 10 seconds in all.
fn pinned_client(target: &targets::Target) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .user_agent("Keyhaven-Webhooks/1");
    if let Some(domain) = &target.domain {
        builder = builder.resolve(domain, target.addr);
    }
    builder.build().context("building the webhook HTTP client")
}

async fn send(
    client: &reqwest::Client,
    target: &targets::Target,
    due: &Due,
    body: &str,
    secrets: &[WebhookSecret],
) -> anyhow::Result<reqwest::Response> {
    let timestamp = OffsetDateTime::now_utc().unix_timestamp();
    let signature = signing::signature_header(secrets, &due.message_id, timestamp, body.as_bytes());
    client
        .post(target.url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(signing::ID_HEADER, &due.message_id)
        .header(signing::TIMESTAMP_HEADER, timestamp.to_string())
        .header(signing::SIGNATURE_HEADER, signature)
        .body(body.to_owned())
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("no answer: {}", without_url(&e)))
}

/// A request error's words, without the URL (the log shows which subscription it was).
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    let mut source = std::error::Error::source(error);
    let mut detail = String::new();
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind} ({detail})")
    }
}

/// The delivery loop; returns when `shutdown` turns true.
pub async fn run(state: AppState, shutdown: watch::Receiver<bool>) {
    let wake = Arc::new(Notify::new());
    tokio::spawn(listen(state.clone(), wake.clone(), shutdown.clone()));
    let sender = WebhookSender::new(state);
    outbox::run("webhook", wake, shutdown, || deliver_due(&sender)).await;
}

/// Wakes the loop whenever a queuing transaction commits (on any node); reconnects after a
/// second when the connection fails (the loop still runs every second meanwhile).
async fn listen(state: AppState, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            result = listen_once(&state, &wake) => {
                if let Err(e) = result {
                    tracing::warn!(error = %e, "webhook notices interrupted");
                }
            }
            _ = shutdown.changed() => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

async fn listen_once(state: &AppState, wake: &Notify) -> sqlx::Result<()> {
    let mut listener = PgListener::connect_with(&state.db).await?;
    listener.listen(CHANNEL).await?;
    loop {
        listener.recv().await?;
        wake.notify_one();
    }
}

/// Posts up to [`BATCH`] due messages at once; returns how many were attempted.
pub async fn deliver_due(sender: &WebhookSender) -> anyhow::Result<usize> {
    sender.sweep().await?;
    let due = deliveries::claim(&sender.state.db, BATCH).await?;
    let mut attempts = tokio::task::JoinSet::new();
    for message in due.iter().cloned() {
        let state = sender.state.clone();
        attempts.spawn(async move {
            let started = Instant::now();
            let outcome = post(&state, &message).await;
            (message, outcome, started.elapsed())
        });
    }
    while let Some(done) = attempts.join_next().await {
        let (message, outcome, took) = done.context("a webhook delivery task failed")?;
        deliveries::record(&sender.state.db, &message, &outcome, took).await?;
    }
    Ok(due.len())
}

//! The partner's side in the webhook tests: an endpoint on 127.0.0.1 that records what it is
//! sent, and the `server webhook` command as an operator runs it.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU16, Ordering},
        Arc,
    },
    time::Duration,
};

use app::domain::webhooks::{signing::WebhookSecret, EventType};
use axum::{extract::State, http::HeaderMap, http::StatusCode, routing::post, Router};
use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::{mpsc, Mutex};
use uuid::Uuid;

use crate::support::cli::server_command;

/// One message as the receiver got it.
#[derive(Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header"))
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// Whether `secret` signed this message (as a subscriber checks it).
    pub fn signed_by(&self, secret: &WebhookSecret) -> bool {
        let timestamp: i64 = self.header("webhook-timestamp").parse().unwrap();
        secret.verify(
            self.header("webhook-id"),
            timestamp,
            self.body.as_bytes(),
            self.header("webhook-signature"),
        )
    }
}

/// A partner's endpoint on 127.0.0.1: records what it is sent, answers `status`.
pub struct Receiver {
    pub url: String,
    /// What arrived, and what was passed over by [`Receiver::next_of`] (messages arrive in
    /// any order).
    got: Mutex<(mpsc::UnboundedReceiver<Received>, Vec<Received>)>,
}

impl Receiver {
    pub async fn start(status: u16) -> Self {
        type Shared = (Arc<AtomicU16>, mpsc::UnboundedSender<Received>);
        async fn hook(
            State((status, got)): State<Shared>,
            headers: HeaderMap,
            body: String,
        ) -> StatusCode {
            let _ = got.send(Received { headers, body });
            StatusCode::from_u16(status.load(Ordering::SeqCst)).unwrap()
        }
        let status = Arc::new(AtomicU16::new(status));
        let (tx, rx) = mpsc::unbounded_channel();
        let app = Router::new()
            .route("/hook", post(hook))
            .with_state((status, tx));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://127.0.0.1:{}/hook", addr.port()),
            got: Mutex::new((rx, Vec::new())),
        }
    }

    /// The next message, within 15 seconds.
    pub async fn next(&self) -> Received {
        let mut got = self.got.lock().await;
        if !got.1.is_empty() {
            return got.1.remove(0);
        }
        tokio::time::timeout(Duration::from_secs(15), got.0.recv())
            .await
            .expect("a webhook arrives within 15 s")
            .unwrap()
    }

    /// The next message of `kind` (others are kept for later).
    pub async fn next_of(&self, kind: EventType) -> Received {
        let mut got = self.got.lock().await;
        if let Some(i) = got.1.iter().position(|r| r.json()["type"] == kind.as_str()) {
            return got.1.remove(i);
        }
        loop {
            let next = tokio::time::timeout(Duration::from_secs(15), got.0.recv())
                .await
                .unwrap_or_else(|_| panic!("a {} webhook arrives within 15 s", kind.as_str()))
                .unwrap();
            if next.json()["type"] == kind.as_str() {
                return next;
            }
            got.1.push(next);
        }
    }

    /// Whether nothing (more) arrives for `wait`.
    pub async fn quiet_for(&self, wait: Duration) -> bool {
        let mut got = self.got.lock().await;
        got.1.is_empty() && tokio::time::timeout(wait, got.0.recv()).await.is_err()
    }
}

/// `server webhook add` for `url`, private targets allowed; the id and the secret printed.
pub async fn subscribe(db: &PgPool, url: &str, events: &[&str]) -> (Uuid, WebhookSecret) {
    let mut args = vec![
        "webhook",
        "add",
        "--name",
        "CRM",
        "--url",
        url,
        "--allow-private",
    ];
    for event in events {
        args.extend(["--event", event]);
    }
    let out = server_command(db, &args).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let line = |prefix: &str| -> String {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in {stdout}"))
            .trim()
            .to_owned()
    };
    (
        line("id: ").parse().unwrap(),
        WebhookSecret::parse(&line("secret: ")).unwrap(),
    )
}

/// Runs `server webhook <args>`; its stdout on success, its stderr on failure.
pub async fn webhook(db: &PgPool, args: &[&str]) -> Result<String, String> {
    let mut all = vec!["webhook"];
    all.extend_from_slice(args);
    let out = server_command(db, &all).await;
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap())
    } else {
        Err(String::from_utf8(out.stderr).unwrap())
    }
}

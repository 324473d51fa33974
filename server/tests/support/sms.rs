//! A stand-in SMS gateway for tests: receives the HTTP sender's JSON posts, checks the bearer
//! token, keeps the texts, and can be told to fail the next posts (to exercise retries).

use std::{
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc,
    },
    time::Duration,
};

use axum::{extract::State, http::HeaderMap, http::StatusCode, routing::post, Json, Router};
use serde_json::Value;
use tokio::sync::{Mutex, Notify};

use super::{Browser, TestApp};

/// One text as the gateway received it.
#[derive(Debug, Clone)]
pub struct Text {
    pub id: String,
    pub to: String,
    pub body: String,
}

#[derive(Default)]
struct Inner {
    texts: Mutex<Vec<Text>>,
    arrived: Notify,
    fail_next: AtomicU32,
    posts: AtomicU32,
}

pub struct SmsSink {
    pub port: u16,
    inner: Arc<Inner>,
}

impl SmsSink {
    /// The bearer token the app is configured with.
    pub const TOKEN: &'static str = "test-gateway-token";

    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/send", post(receive))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { port, inner }
    }

    /// Answers the next `n` posts with 503.
    pub fn fail_next(&self, n: u32) {
        self.inner.fail_next.store(n, Ordering::SeqCst);
    }

    /// How many posts arrived, failed ones included.
    pub fn posts(&self) -> u32 {
        self.inner.posts.load(Ordering::SeqCst)
    }

    /// Every text received so far.
    pub async fn all(&self) -> Vec<Text> {
        self.inner.texts.lock().await.clone()
    }

    /// Waits (up to 15 s) for the `n`th text (1-based) to `to`.
    pub async fn wait_for_nth(&self, to: &str, n: usize) -> Text {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let notified = self.inner.arrived.notified();
            if let Some(text) = self
                .inner
                .texts
                .lock()
                .await
                .iter()
                .filter(|t| t.to == to)
                .nth(n - 1)
            {
                return text.clone();
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("no text #{n} to {to} within 15 s");
            }
        }
    }

    /// Waits for the first text to `to`.
    pub async fn wait_for(&self, to: &str) -> Text {
        self.wait_for_nth(to, 1).await
    }

    /// The 6-digit code in `text`.
    pub fn code_in(text: &Text) -> String {
        text.body.chars().take(6).collect()
    }
}

async fn receive(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Json(payload): Json<Value>,
) -> StatusCode {
    inner.posts.fetch_add(1, Ordering::SeqCst);
    let expected = format!("Bearer {}", SmsSink::TOKEN);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return StatusCode::UNAUTHORIZED;
    }
    if inner
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let field = |name: &str| payload[name].as_str().unwrap_or_default().to_owned();
    inner.texts.lock().await.push(Text {
        id: field("id"),
        to: field("to"),
        body: field("body"),
    });
    inner.arrived.notify_waiters();
    StatusCode::OK
}

/// Proves `phone` for the signed-in `browser` as a person would: the profile asks for a code,
/// the text arrives, the code is typed.
pub async fn prove_phone(app: &TestApp, browser: &Browser, phone: &str) {
    let before = app.sms.all().await.iter().filter(|t| t.to == phone).count();
    let res = browser.call("phone", &[("phone", phone)]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let text = app.sms.wait_for_nth(phone, before + 1).await;
    let res = browser
        .call("phone/confirm", &[("code", &SmsSink::code_in(&text))])
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

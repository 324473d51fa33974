//! `/metrics`: not served unless configured; on the main listener only to its bearer token; on
//! a listener of its own when one is configured. What it serves parses as the Prometheus text
//! format and carries the sign-in counters, the request latency by route template (never a
//! path), the outbox, pool and password hashing gauges. The recorder is the process's, shared
//! by every test: counters are compared before and after, never read as absolute values.

use std::net::SocketAddr;

use prometheus_parse::{Scrape, Value};
use reqwest::{header, Response};
use sqlx::PgPool;

use crate::support::TestApp;

/// The token the tests configure (long enough for the configuration's check).
const TOKEN: &str = "0123456789abcdef0123456789abcdef-metrics";
const CONTENT_TYPE: &str = "text/plain; version=0.0.4";
const SIGN_INS: &str = "ciam_sign_ins_total";
const LATENCY_COUNT: &str = "ciam_http_request_duration_seconds_count";

async fn get(url: &str, authorization: Option<&str>) -> Response {
    let mut request = reqwest::Client::new().get(url);
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    request.send().await.unwrap()
}

/// The page at `url`, checked (200, its content type) and parsed.
async fn scrape(url: &str, authorization: Option<&str>) -> Scrape {
    let res = get(url, authorization).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::CONTENT_TYPE], CONTENT_TYPE);
    let text = res.text().await.unwrap();
    Scrape::parse(
        text.lines()
            .map(|line| Ok::<_, std::io::Error>(line.to_owned())),
    )
    .unwrap()
}

/// The main listener's page, with the token.
async fn scrape_with_token(app: &TestApp) -> Scrape {
    let bearer = format!("Bearer {TOKEN}");
    scrape(
        &format!("http://{}/metrics", app.addr),
        Some(bearer.as_str()),
    )
    .await
}

fn matches(sample: &prometheus_parse::Sample, metric: &str, labels: &[(&str, &str)]) -> bool {
    sample.metric == metric
        && labels
            .iter()
            .all(|(name, value)| sample.labels.get(name) == Some(*value))
}

/// The sum of the samples of `metric` with all of `labels` (0 when there is none).
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| matches(s, metric, labels))
        .map(|s| match s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

/// Whether the page has a sample of `metric` with all of `labels`.
fn has(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> bool {
    scrape.samples.iter().any(|s| matches(s, metric, labels))
}

/// A port nobody listens on just now.
fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

#[sqlx::test(migrations = "../migrations")]
async fn without_configuration_there_is_no_metrics_page(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let url = format!("http://{}/metrics", app.addr);
    assert_eq!(get(&url, None).await.status(), 404);
    let guess = format!("Bearer {TOKEN}");
    assert_eq!(get(&url, Some(guess.as_str())).await.status(), 404);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_main_listener_shows_the_page_only_to_its_token(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.metrics.token = Some(TOKEN.into())).await;
    let url = format!("http://{}/metrics", app.addr);
    let one_off = format!("Bearer {}x", &TOKEN[..TOKEN.len() - 1]);
    let prefix = format!("Bearer {}", &TOKEN[..16]);
    let longer = format!("Bearer {TOKEN}0");
    let basic = format!("Basic {TOKEN}");
    let refused: [Option<&str>; 7] = [
        None,
        Some("Bearer"),
        Some("Bearer "),
        Some(one_off.as_str()),
        Some(prefix.as_str()),
        Some(longer.as_str()),
        Some(basic.as_str()),
    ];
    for authorization in refused {
        let res = get(&url, authorization).await;
        assert_eq!(res.status(), 401, "{authorization:?}");
        let challenge = res.headers()[header::WWW_AUTHENTICATE].to_str().unwrap();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        let body = res.text().await.unwrap();
        assert!(!body.contains(SIGN_INS), "nothing of the page leaks");
    }
    // The token in the query string is not the token.
    let res = get(&format!("{url}?access_token={TOKEN}"), None).await;
    assert_eq!(res.status(), 401);
    // The scheme's name is case-insensitive (RFC 7235 §2.1).
    let lower = format!("bearer {TOKEN}");
    let res = get(&url, Some(lower.as_str())).await;
    assert_eq!(res.status(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_page_counts_sign_ins_and_requests_and_shows_outboxes_and_the_pool(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.metrics.token = Some(TOKEN.into())).await;
    let before = scrape_with_token(&app).await;
    let password = |outcome| [("method", "password"), ("outcome", outcome)];

    let email = "metered@example.com";
    app.signed_in_customer(email).await;
    let res = app
        .browser()
        .call(
            "sign-in",
            &[("email", email), ("password", "not the password at all")],
        )
        .await;
    assert_eq!(res.status(), 401);
    assert_eq!(app.browser().get("/healthz").await.status(), 200);
    let lost = "/no/such/page/4f9a2c71-metered@example.com";
    assert_eq!(app.browser().get(lost).await.status(), 404);

    let after = scrape_with_token(&app).await;
    for outcome in ["success", "failure"] {
        let (was, is) = (
            value(&before, SIGN_INS, &password(outcome)),
            value(&after, SIGN_INS, &password(outcome)),
        );
        assert!(is >= was + 1.0, "{outcome}: {was} then {is}");
    }
    let decisions = "ciam_risk_decisions_total";
    assert!(value(&after, decisions, &[]) > value(&before, decisions, &[]));

    // Latency by route template, method and status class.
    let healthz = [("route", "/healthz"), ("method", "GET"), ("status", "2xx")];
    assert!(value(&after, LATENCY_COUNT, &healthz) >= 1.0);
    let sign_in = [
        ("route", "/api/sign-in"),
        ("method", "POST"),
        ("status", "4xx"),
    ];
    assert!(value(&after, LATENCY_COUNT, &sign_in) >= 1.0);
    let unmatched = [("route", "unmatched"), ("status", "4xx")];
    assert!(value(&after, LATENCY_COUNT, &unmatched) >= 1.0);
    let routes: Vec<&str> = after
        .samples
        .iter()
        .filter(|s| s.metric.starts_with("ciam_http_request_duration_seconds"))
        .filter_map(|s| s.labels.get("route"))
        .collect();
    assert!(!routes.is_empty());
    for route in routes {
        assert!(route == "unmatched" || route.starts_with('/'), "{route}");
        assert!(
            !route.contains("no/such") && !route.contains('@'),
            "{route}"
        );
    }

    // The gauges read at scrape time.
    for outbox in ["mail", "sms", "logout"] {
        assert!(
            has(&after, "ciam_outbox_pending", &[("outbox", outbox)]),
            "{outbox}"
        );
        let oldest = value(&after, "ciam_outbox_oldest_seconds", &[("outbox", outbox)]);
        assert!(oldest >= 0.0, "{outbox}: {oldest}");
        assert!(has(
            &after,
            "ciam_outbox_oldest_seconds",
            &[("outbox", outbox)]
        ));
    }
    for state in ["in_use", "idle"] {
        assert!(
            has(&after, "ciam_db_pool_connections", &[("state", state)]),
            "{state}"
        );
    }
    assert!(value(&after, "ciam_db_pool_max_connections", &[]) > 0.0);
    assert!(has(&after, "ciam_password_hashing_in_progress", &[]));
    assert!(has(&after, "ciam_password_hashing_waiting", &[]));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_listener_of_its_own_serves_only_the_page(db: PgPool) {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let app = TestApp::spawn_with(db, |c| c.metrics.listen = Some(addr)).await;
    let page = scrape(&format!("http://{addr}/metrics"), None).await;
    assert!(has(&page, "ciam_db_pool_connections", &[("state", "idle")]));
    assert!(has(&page, "ciam_outbox_pending", &[("outbox", "mail")]));
    // Nothing else is served there, and the main listener, without a token, has no page.
    assert_eq!(
        get(&format!("http://{addr}/healthz"), None).await.status(),
        404
    );
    let main = format!("http://{}/metrics", app.addr);
    assert_eq!(get(&main, None).await.status(), 404);
}

//! The operators' page `/metrics`, in the Prometheus text format (version 0.0.4): the recorder
//! (installed once per process), the HTTP latency histogram by route template, the gauges read
//! when the page is asked for (outbox depth and age, the database pool, the password hashing
//! queue), and the two ways to reach it: a listener of its own (`CIAM_METRICS_LISTEN`, no
//! authentication) and `/metrics` on the main listener behind a bearer token
//! (`CIAM_METRICS_TOKEN`). The counters are kept by the domain (`app::domain::measures`).

use std::{
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use anyhow::Context;
use app::{
    domain::{measures, tokens::same_secret},
    state::AppState,
};
use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, HeaderMap, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use metrics::{describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;
use tokio::{net::TcpListener, sync::watch};

use crate::config::Config;

/// The content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";
/// The path of the page.
pub const PATH: &str = "/metrics";
/// The `route` of a request no route matched (its path is never a label).
const UNMATCHED: &str = "unmatched";
/// The request latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// How often recorded latencies are folded into their histograms between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process's recorder, installed the first time it is asked for: the metrics facade has
/// one recorder per process, however many apps it runs (the tests start many).
pub fn recorder() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE
        .get_or_init(install)
        .clone()
        .map_err(|e| anyhow::anyhow!("installing the metrics recorder: {e}"))
}

fn install() -> Result<PrometheusHandle, String> {
    let matcher = Matcher::Full(measures::HTTP_REQUEST_DURATION.to_owned());
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(matcher, &LATENCY_BUCKETS)
        .map_err(|e| e.to_string())?
        .install_recorder()
        .map_err(|e| e.to_string())?;
    describe();
    Ok(handle)
}

/// The `# HELP` lines.
fn describe() {
    describe_counter!(
        measures::SIGN_INS,
        "Sign-in attempts by method and outcome."
    );
    describe_counter!(
        measures::MFA_CHALLENGES,
        "Second-factor challenges by factor and outcome (issued, passed, failed)."
    );
    describe_counter!(
        measures::RISK_DECISIONS,
        "The risk engine's decisions (allow, challenge, block)."
    );
    describe_counter!(measures::TOKENS_ISSUED, "Token responses by grant type.");
    describe_histogram!(
        measures::HTTP_REQUEST_DURATION,
        metrics::Unit::Seconds,
        "Time to answer a request, by method, route template and status class."
    );
    describe_gauge!(
        measures::OUTBOX_PENDING,
        "Rows waiting for delivery, by outbox."
    );
    describe_gauge!(
        measures::OUTBOX_OLDEST,
        metrics::Unit::Seconds,
        "Age of the oldest row waiting for delivery, by outbox (0 when none waits)."
    );
    describe_gauge!(
        measures::DB_POOL_CONNECTIONS,
        "The database pool's open connections, in use or idle."
    );
    describe_gauge!(
        measures::DB_POOL_MAX,
        "The most connections the pool opens."
    );
    describe_gauge!(
        measures::PASSWORD_HASHING_IN_PROGRESS,
        "Password hashes running now."
    );
    describe_gauge!(
        measures::PASSWORD_HASHING_WAITING,
        "Password hashes waiting for a free slot."
    );
}

/// What the page is rendered from.
#[derive(Clone)]
struct Page {
    handle: PrometheusHandle,
    state: AppState,
    /// The bearer token asked for; `None` on the page's own listener.
    token: Option<Arc<str>>,
}

/// Installs the recorder when `/metrics` is configured, keeps the histograms folded until
/// `stop`, and serves the page on its own listener when `CIAM_METRICS_LISTEN` is set; returns
/// that listener's address.
pub async fn start(
    state: &AppState,
    config: &Config,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<Option<SocketAddr>> {
    if !config.metrics.enabled() {
        return Ok(None);
    }
    let handle = recorder()?;
    let upkeep = handle.clone();
    let mut stop_upkeep = stop.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(UPKEEP_EVERY) => upkeep.run_upkeep(),
                _ = stop_upkeep.wait_for(|stop| *stop) => return,
            }
        }
    });
    let Some(addr) = config.metrics.listen else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("CIAM_METRICS_LISTEN: binding {addr}"))?;
    let bound = listener.local_addr()?;
    let page = Page {
        handle,
        state: state.clone(),
        token: None,
    };
    let app: Router = Router::new().route(PATH, get(open)).with_state(page);
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|stop| *stop).await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "serving /metrics on its own listener failed");
        }
    });
    Ok(Some(bound))
}

/// `/metrics` on the main listener, behind the bearer token, when `CIAM_METRICS_TOKEN` is set;
/// otherwise no route (the path is not found).
pub fn routes(state: &AppState, config: &Config) -> Router {
    let Some(token) = &config.metrics.token else {
        return Router::new();
    };
    match recorder() {
        Ok(handle) => Router::new()
            .route(PATH, get(behind_token))
            .with_state(Page {
                handle,
                state: state.clone(),
                token: Some(Arc::from(token.as_str())),
            }),
        Err(e) => {
            tracing::error!(error = %e, "/metrics is not served");
            Router::new()
        }
    }
}

/// The page on its own listener.
async fn open(State(page): State<Page>) -> Response {
    render(&page).await
}

/// The page on the main listener: only for `Authorization: Bearer <token>` (RFC 6750 §2.1),
/// compared in constant time; anything else is 401.
async fn behind_token(State(page): State<Page>, headers: HeaderMap) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("Bearer"))
        .map(|(_, token)| token.trim());
    let allowed = match (&page.token, presented) {
        (Some(expected), Some(presented)) => same_secret(presented, expected),
        _ => false,
    };
    if !allowed {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
            "The metrics page needs its bearer token.",
        )
            .into_response();
    }
    render(&page).await
}

async fn render(page: &Page) -> Response {
    observe(&page.state).await;
    (
        [
            (header::CONTENT_TYPE, CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        page.handle.render(),
    )
        .into_response()
}

/// Sets the gauges read at scrape time: the pool (before the outbox query takes a connection),
/// the password hashing queue and the outboxes. An outbox that cannot be read keeps its last
/// values; the rest of the page is still served.
async fn observe(state: &AppState) {
    let pool = &state.db;
    let open = f64::from(pool.size());
    let idle = (pool.num_idle() as f64).min(open);
    gauge!(measures::DB_POOL_CONNECTIONS, "state" => "in_use").set(open - idle);
    gauge!(measures::DB_POOL_CONNECTIONS, "state" => "idle").set(idle);
    gauge!(measures::DB_POOL_MAX).set(f64::from(pool.options().get_max_connections()));
    let hashing = state.passwords.load();
    gauge!(measures::PASSWORD_HASHING_IN_PROGRESS).set(hashing.in_progress as f64);
    gauge!(measures::PASSWORD_HASHING_WAITING).set(hashing.waiting as f64);
    match outboxes(pool).await {
        Ok(depths) => {
            for depth in depths {
                let oldest = depth.oldest.unwrap_or(0.0).max(0.0);
                gauge!(measures::OUTBOX_PENDING, "outbox" => depth.outbox.clone())
                    .set(depth.pending as f64);
                gauge!(measures::OUTBOX_OLDEST, "outbox" => depth.outbox).set(oldest);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: the outboxes could not be read"),
    }
}

/// One outbox's rows waiting for delivery.
#[derive(Debug, sqlx::FromRow)]
struct Depth {
    outbox: String,
    pending: i64,
    /// Seconds since the oldest waiting row was written; `None` when none waits.
    oldest: Option<f64>,
}

/// Every outbox: what its worker still has to deliver (as the worker selects it, mail
/// without text excepted; given-up texts and notices are not waiting).
async fn outboxes(db: &PgPool) -> sqlx::Result<Vec<Depth>> {
    sqlx::query_as(
        "SELECT 'mail'::text AS outbox, count(*) AS pending,
                extract(epoch FROM now() - min(created_at))::float8 AS oldest
         FROM mail_outbox WHERE delivered_at IS NULL AND body_text IS NOT NULL
         UNION ALL
         SELECT 'sms'::text, count(*), extract(epoch FROM now() - min(created_at))::float8
         FROM sms_outbox WHERE delivered_at IS NULL AND abandoned_at IS NULL
         UNION ALL
         SELECT 'logout'::text, count(*), extract(epoch FROM now() - min(created_at))::float8
         FROM logout_outbox WHERE delivered_at IS NULL AND abandoned_at IS NULL",
    )
    .fetch_all(db)
    .await
}

/// The route template `request` matched (`/people/{id}`), never its path; [`UNMATCHED`] when
/// none did. Names a request in latencies and in traces.
pub fn route_of(request: &Request) -> &str {
    request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
}

/// Measures every request that reaches a route (or the fallback) into
/// [`measures::HTTP_REQUEST_DURATION`], until its response's head is ready. The route is the
/// matched template (`/signin/social/{provider}/callback`), never the path: no ids or tokens in
/// labels.
pub async fn measure(request: Request, next: Next) -> Response {
    let route = route_of(&request).to_owned();
    let method = method_label(request.method().as_str());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = status_class(response.status());
    histogram!(
        measures::HTTP_REQUEST_DURATION,
        "method" => method,
        "route" => route,
        "status" => status
    )
    .record(started.elapsed());
    response
}

/// The method as a label: the standard ones, else `other`.
fn method_label(method: &str) -> &'static str {
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("other")
}

/// The status as a label: its class.
fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_fixed_sets() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("PROPFIND"), "other");
        assert_eq!(status_class(StatusCode::NO_CONTENT), "2xx");
        assert_eq!(status_class(StatusCode::SEE_OTHER), "3xx");
        assert_eq!(status_class(StatusCode::TOO_MANY_REQUESTS), "4xx");
        assert_eq!(status_class(StatusCode::BAD_GATEWAY), "5xx");
    }
}

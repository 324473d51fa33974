//! Builds the application from configuration: database pool, shared state, the axum `Router`
//! with every layer, and the background workers. Tests call the same functions.

use std::{
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::Duration,
};

use anyhow::Context;
use app::{shell, state::AppState, App};
use axum::{
    extract::State,
    http::{header, StatusCode},
    middleware,
    response::IntoResponse,
    routing::get,
    Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use sqlx::{postgres::PgPoolOptions, PgPool};
use tokio::{net::TcpListener, sync::watch};
use tower_http::{
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};

use crate::{
    config::Config,
    security::{
        api_status::api_error_status,
        client_address::{resolve_client_address, ClientAddressPolicy},
        device::{device_cookie, DevicePolicy},
        form_errors::strip_foreign_form_errors,
        headers::{security_headers, CspNonce, HeaderPolicy},
        input::refuse_control_characters,
        origin::{require_same_origin, AllowedOrigin},
    },
    workers,
};

pub use crate::security::MAX_BODY_BYTES;

/// Connects to Postgres. Pooled connections are not pinged before each use (sqlx's default
/// would add a round trip to every query): a connection Postgres has dropped fails the one
/// query that finds out, and is then discarded.
pub async fn connect(database_url: &str) -> anyhow::Result<PgPool> {
    pool_options()
        .connect(database_url)
        .await
        .with_context(|| "connecting to the database (is Postgres running? see DATABASE_URL)")
}

/// The pool the server runs with: 20 connections, a request waits at most 5 seconds for one.
pub fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(20)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
}

/// Applies the migrations under `migrations/`.
pub async fn migrate(db: &PgPool) -> anyhow::Result<()> {
    sqlx::migrate!("../migrations")
        .run(db)
        .await
        .context("applying database migrations")
}

/// Refuses a master key other than the one the database was set up with (recording it on the
/// first run). Every command checks this before it touches anything.
pub async fn check_master_key(db: &PgPool, config: &Config) -> anyhow::Result<()> {
    app::domain::master_key::check(db, &config.master_key.0)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// The shared state over `db`.
pub fn app_state(db: PgPool, config: &Config) -> anyhow::Result<AppState> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    // An overload is shed early: by default no more hashes wait than run, so an admitted
    // sign-in waits at most about one hash for its slot.
    let passwords = app::domain::hashing::PasswordHasher::new(cores)?
        .with_queue(config.hashing_queue.unwrap_or(cores));
    let mut settings = app::state::Settings::new(config.public_url.clone());
    settings.refresh_family_lifetime = config.refresh_family_lifetime;
    settings.dev_mail = config.dev_mail();
    settings.dev_sms = config.dev_sms();
    settings.sms_available = config.sms_webhook_url.is_some() || config.dev_sms();
    settings.sms_countries = config.sms_countries.clone();
    let mut state = AppState::new(db, settings, passwords, &config.master_key.0)?;
    state.risk = Arc::new(crate::risk_sources::load(config)?);
    if let Some(url) = &config.replica_url {
        state.replica = Some(Arc::new(app::domain::replica::Replica::new(replica_pool(
            url,
        )?)));
    }
    Ok(state)
}

/// The pool of the streaming replica: connected on first use (a replica that is down does not
/// keep a node from starting; its reads go to the primary meanwhile), and quick to give up
/// waiting, since a read it cannot serve is served by the primary.
fn replica_pool(url: &str) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(1))
        .test_before_acquire(false)
        .connect_lazy(url)
        .context("CIAM_DATABASE_REPLICA_URL is not a valid database URL")
}

fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("ciam")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.listen)
        .build()
}

/// The app's routes, listed once per process. Listing renders the app with resource loading
/// suppressed process-wide (leptos_server's `SuppressResourceLoad`): a second router built while
/// another in the same process renders a page would leave that page's resources pending for
/// ever, and its response unfinished.
fn app_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The whole HTTP application.
pub fn router(state: AppState, config: &Config) -> Router {
    let options = leptos_options(config);
    let routes = app_routes();

    let context_state = state.clone();
    let context = move || {
        provide_context(context_state.clone());
        if let Some(parts) = use_context::<http::request::Parts>() {
            // Replace the renderer's own nonce with the one the CSP header names.
            if let Some(CspNonce(nonce)) = parts.extensions.get::<CspNonce>() {
                provide_context(leptos::nonce::Nonce::from_value(nonce.clone()));
            }
            // A page, not a server function called on its own: its parts share their reads.
            if !parts.uri.path().starts_with("/api/") {
                provide_context(app::api::PageReads::default());
            }
        }
    };

    let sessions =
        SessionManagerLayer::new(app::domain::sessions::PgSessionStore::new(state.db.clone()))
            .with_name(if config.is_https() {
                "__Host-session"
            } else {
                "session"
            })
            .with_secure(config.is_https())
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_path("/")
            .with_expiry(Expiry::OnInactivity(app::domain::sessions::IDLE_TIMEOUT));

    let probes = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/.well-known/jwks.json", get(jwks))
        .with_state(state.clone())
        .merge(crate::metrics::routes(&state, config))
        .merge(crate::branding::asset_routes(state.clone()))
        .merge(crate::oidc::api_routes(state.clone(), &config.public_url))
        .merge(crate::directory::api_routes(
            state.clone(),
            config.api_rate_limit,
        ));

    let site = Router::new()
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(
            context, shell,
        ))
        .with_state(options)
        .merge(crate::social::routes(state.clone()))
        .merge(crate::step_up::routes(state.clone()))
        .merge(crate::audit_export::routes(state.clone()))
        .merge(crate::data_export::routes(state.clone()))
        .merge(crate::branding::console_routes(state.clone()))
        .merge(crate::oidc::browser_routes(state.clone()))
        .layer(middleware::from_fn(api_error_status))
        .layer(middleware::from_fn(strip_foreign_form_errors))
        .layer(middleware::from_fn(crate::languages::reading))
        .layer(middleware::from_fn(crate::branding::flow_app))
        .layer(sessions.clone())
        .layer(middleware::from_fn_with_state(
            DevicePolicy {
                https: config.is_https(),
            },
            device_cookie,
        ));

    // Every request body is small, but for the routes that take a logo or a customer file
    // (each with a limit of its own).
    let uploads = crate::branding::upload_routes(state.clone())
        .layer(RequestBodyLimitLayer::new(
            crate::branding::MAX_UPLOAD_BYTES,
        ))
        .merge(crate::customer_import::routes(state.clone()))
        .layer(sessions);
    let app = probes
        .merge(site)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .merge(uploads)
        .layer(middleware::from_fn_with_state(
            AllowedOrigin(Arc::from(config.public_origin())),
            require_same_origin,
        ))
        // Provisioning clients authenticate with a bearer token, never a browser's cookies.
        .merge(crate::scim::routes(state.clone()))
        .layer(middleware::from_fn(refuse_control_characters));
    // Behind no trusted proxy, the peer the listener saw is the client: nothing to resolve.
    let app = if config.trusted_proxies.is_empty() {
        app
    } else {
        app.layer(middleware::from_fn_with_state(
            ClientAddressPolicy {
                proxies: Arc::new(config.trusted_proxies.clone()),
                https_origin: config.is_https().then(|| Arc::from(config.public_origin())),
            },
            resolve_client_address,
        ))
    };
    let app = app
        .layer(middleware::from_fn_with_state(
            HeaderPolicy {
                https: config.is_https(),
            },
            security_headers,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(
                    |response: &axum::response::Response,
                     latency: std::time::Duration,
                     span: &tracing::Span| {
                        span.record(
                            "http.response.status_code",
                            i64::from(response.status().as_u16()),
                        );
                        tracing::debug!(?latency, status = response.status().as_u16(), "answered");
                    },
                ),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));
    // Outermost, so the latency covers every layer; applied route by route, so each request
    // knows its route's template.
    if config.metrics.enabled() {
        app.layer(middleware::from_fn(crate::metrics::measure))
    } else {
        app
    }
}

/// The span each request runs in: its route template names it (so traces group by route), and a
/// W3C `traceparent` the caller sent makes it part of the caller's trace.
fn request_span(request: &axum::extract::Request) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let route = crate::metrics::route_of(request);
    let method = request.method();
    let span = tracing::info_span!(
        "request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        method = %method,
        path = %request.uri().path(),
        http.route = route,
        http.response.status_code = tracing::field::Empty,
        request_id = %id,
    );
    if request.headers().contains_key("traceparent") {
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        let _ = span.set_parent(crate::telemetry::remote_parent(request.headers()));
    }
    span
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    // A database that answers but cannot write (a replica, or read-only after a full disk)
    // cannot serve sign-ins either.
    let writable = sqlx::query_scalar::<_, bool>(
        "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'",
    )
    .fetch_one(&state.db)
    .await;
    match writable {
        // A full disk still answers, and reads: only a refused write tells.
        Ok(true) if app::domain::disk_full::seen_lately(std::time::Instant::now()) => {
            tracing::warn!("the database's disk is full");
            (StatusCode::SERVICE_UNAVAILABLE, "database disk full")
        }
        Ok(true) => (StatusCode::OK, "ready"),
        Ok(false) => {
            tracing::warn!("the database is read-only");
            (StatusCode::SERVICE_UNAVAILABLE, "database read-only")
        }
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

/// The OpenID provider's public keys (next, current, previous), serialised once per key change.
async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        axum::body::Bytes::from_owner(state.keys.jwks()),
    )
}

/// A running server: its address (and that of its metrics listener, when it has one) and the
/// switch that stops it.
pub struct Running {
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    pub shutdown: watch::Sender<bool>,
    pub handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Starts the HTTP server and the workers on `listener`; they stop when `shutdown` is sent.
pub async fn start(
    listener: TcpListener,
    state: AppState,
    config: &Config,
) -> anyhow::Result<Running> {
    let addr = listener.local_addr()?;
    check_master_key(&state.db, config).await?;
    app::domain::oidc::keys::ensure(&state.db, &state.key_secrets)
        .await
        .context("creating the signing keys")?;
    state
        .keys
        .reload(&state.db, &state.key_secrets)
        .await
        .context("loading the signing keys")?;
    let (shutdown, stop) = watch::channel(false);
    let transport = workers::mail::MailTransport::from_url(config.smtp_url.as_deref())?;
    let from = config
        .mail_from
        .parse()
        .context("CIAM_MAIL_FROM must be a mailbox like 'Keyhaven <no-reply@example.com>'")?;
    tokio::spawn(workers::mail::run(
        state.db.clone(),
        transport,
        from,
        state.mail_queued.clone(),
        stop.clone(),
    ));
    let sms = workers::sms::SmsSender::new(
        config.sms_webhook_url.as_deref(),
        config.sms_webhook_token.as_deref(),
        config.dev_sms(),
    )?;
    tokio::spawn(workers::sms::run(
        state.db.clone(),
        sms,
        state.sms_queued.clone(),
        stop.clone(),
    ));
    let logout = workers::logout::LogoutSender::new(
        state.db.clone(),
        state.keys.clone(),
        state.subjects.clone(),
        state.settings.public_url.clone(),
    )?;
    tokio::spawn(workers::logout::run(
        logout,
        state.logout_queued.clone(),
        stop.clone(),
    ));
    tokio::spawn(workers::webhooks::run(state.clone(), stop.clone()));
    tokio::spawn(workers::notices::run(state.clone(), stop.clone()));
    tokio::spawn(workers::audit_seal::run(
        state.db.clone(),
        state.audit_chain.clone(),
        stop.clone(),
    ));
    tokio::spawn(workers::breach::run(state.clone(), stop.clone()));
    tokio::spawn(workers::imports::run(state.clone(), stop.clone()));
    tokio::spawn(workers::exports::run(state.clone(), stop.clone()));
    tokio::spawn(workers::erasure::run(state.clone(), stop.clone()));
    tokio::spawn(workers::reports::run(state.db.clone(), stop.clone()));
    tokio::spawn(workers::replica_lag::run(state.clone(), stop.clone()));
    tokio::spawn(workers::cleanup::run(
        state.db.clone(),
        state.settings.public_url.clone(),
        stop.clone(),
    ));
    tokio::spawn(workers::keys::run(
        state.clone(),
        config.key_rotation,
        stop.clone(),
    ));

    let metrics_addr = crate::metrics::start(&state, config, stop.clone()).await?;
    let app = router(state, config);
    let mut stop_http = stop;
    let handle = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop_http.wait_for(|stop| *stop).await;
        })
        .await
        .context("serving HTTP")
    });
    Ok(Running {
        addr,
        metrics_addr,
        shutdown,
        handle,
    })
}

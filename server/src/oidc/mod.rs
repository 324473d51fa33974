//! The OpenID provider's HTTP endpoints, one file each: discovery, the authorization endpoint
//! with its continuation and consent answer, PAR, the token endpoint, userinfo, revocation,
//! introspection and logout. What they share about forms, client credentials and answers is
//! `form`. The logic behind each is in `app::domain::oidc`.

mod authorize;
mod discovery;
pub(crate) mod form;
mod introspect;
mod logout;
mod par;
mod revoke;
mod token;
mod userinfo;

use std::sync::Arc;

use app::{model::oauth::AuthorizeProblem, state::AppState};
use axum::{
    http::{header, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};

pub use discovery::discovery_document;

/// Endpoints that use the browser session (authorization, consent, logout).
pub fn browser_routes(state: AppState) -> Router {
    Router::new()
        .route("/oauth2/authorize", get(authorize::start))
        .route("/oauth2/authorize/continue", get(authorize::resume))
        .route("/oauth2/consent", post(authorize::consent))
        .route(
            "/oauth2/logout",
            get(logout::by_query).post(logout::by_form),
        )
        .route("/oauth2/logout/confirm", post(logout::confirm))
        .route("/signed-out", get(logout::signed_out))
        .with_state(state)
}

/// Endpoints called by apps, not browsers: no session, no cookies.
pub fn api_routes(state: AppState, issuer: &str) -> Router {
    let discovery: Arc<[u8]> = Arc::from(discovery_document(issuer));
    let document = move || {
        let discovery = discovery.clone();
        async move {
            (
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::CACHE_CONTROL, "public, max-age=300"),
                ],
                axum::body::Bytes::from_owner(discovery),
            )
        }
    };
    Router::new()
        .route("/.well-known/openid-configuration", get(document.clone()))
        .route("/.well-known/oauth-authorization-server", get(document))
        .route("/oauth2/token", post(token::token))
        .route(
            "/oauth2/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route("/oauth2/revoke", post(revoke::revoke))
        .route("/oauth2/introspect", post(introspect::introspect))
        .route("/oauth2/par", post(par::push))
        .with_state(state)
}

/// Our own page saying why an app's request stopped (never the app's address).
fn error_page(problem: AuthorizeProblem) -> Response {
    Redirect::to(&format!("/oauth2/error?reason={}", problem.code())).into_response()
}

/// A browser endpoint's answer to a failure on our side (details in the log).
fn failed(e: app::domain::error::AccountError) -> Response {
    tracing::error!(error = ?e, "authorization request failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "The request could not be completed.",
    )
        .into_response()
}

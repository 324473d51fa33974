//! Brands over HTTP: each brand's stylesheet and logo (`/brand/{id}/…`, cached by version),
//! the middleware that finds which partner app's flow a browser is in (so its pages and mail
//! wear that app's brand), and the console's live preview (`preview`) and logo upload
//! (`upload`).

mod preview;
mod upload;

use app::{
    domain::{branding, client::FlowApp, oidc::pending_requests},
    state::AppState,
};
use axum::{
    extract::{Path, Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use tower_sessions::Session;
use uuid::Uuid;

pub use upload::MAX_UPLOAD_BYTES;

/// The brands' stylesheets and logos: public, and cached for a day (their addresses change
/// with every edit).
pub fn asset_routes(state: AppState) -> Router {
    Router::new()
        .route("/brand/{id}/style.css", get(stylesheet))
        .route("/brand/{id}/logo", get(logo))
        .with_state(state)
}

/// The console's preview of a brand (framed by the brand page).
pub fn console_routes(state: AppState) -> Router {
    Router::new()
        .route("/admin/branding/preview", get(preview::page))
        .route("/admin/branding/preview.css", get(preview::stylesheet))
        .with_state(state)
}

/// The logo upload, which takes a larger body than any other request.
pub fn upload_routes(state: AppState) -> Router {
    upload::routes(state)
}

const CACHED: &str = "public, max-age=86400";

async fn stylesheet(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match branding::by_id(&state.db, id).await {
        Ok(Some(brand)) => (
            [
                (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                (header::CACHE_CONTROL, CACHED),
            ],
            brand.stylesheet(),
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "loading a brand failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

async fn logo(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match branding::logo::get(&state.db, id).await {
        Ok(Some((bytes, content_type))) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, CACHED.to_owned()),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "loading a logo failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Marks a request with the partner app whose sign-in flow the browser is in, read from its
/// session, so the page and any mail it sends wear that app's brand. Static files skip it.
pub async fn flow_app(session: Session, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !path.starts_with("/pkg/") && !path.starts_with("/brand/") {
        match pending_requests::flow_app(&session).await {
            Ok(Some(flow)) => {
                request
                    .extensions_mut()
                    .insert(FlowApp(flow.client_id.clone()));
                // The languages middleware after this one reads the app's `ui_locales` here.
                request.extensions_mut().insert(flow);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "reading the waiting app requests failed"),
        }
    }
    next.run(request).await
}

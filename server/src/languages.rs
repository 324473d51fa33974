//! Chooses the language and time zone of each request (see `app::domain::preferences`): the
//! signed-in person's setting kept in the session, then the `ui_locales` of the app whose
//! sign-in flow the browser is in (read by `branding::flow_app`), then `Accept-Language`.
//! Pages, server functions and mail read the choice from the request's `Reading` extension.

use app::domain::{
    oidc::pending_requests::FlowRequest,
    preferences::{self, Reading},
};
use axum::{extract::Request, http::header::ACCEPT_LANGUAGE, middleware::Next, response::Response};
use tower_sessions::Session;

/// Marks the request with its `Reading`. Static files skip it.
pub async fn reading(session: Session, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !path.starts_with("/pkg/") && !path.starts_with("/brand/") {
        let setting = preferences::remembered(&session).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "reading the session's language failed");
            None
        });
        // The flow's request, as `branding::flow_app` (the layer before this one) found it.
        let app_locales = request
            .extensions()
            .get::<FlowRequest>()
            .and_then(|flow| flow.ui_locales.clone());
        let accept_language = request
            .headers()
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        let chosen = Reading::choose(setting.as_ref(), app_locales.as_deref(), accept_language);
        request.extensions_mut().insert(chosen);
    }
    next.run(request).await
}

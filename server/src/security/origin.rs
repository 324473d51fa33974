//! Refuses state-changing requests that a browser did not send from this site's own pages
//! (cross-site request forgery), by `Sec-Fetch-Site` or, failing that, `Origin`.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{header::ORIGIN, Method, StatusCode};
use std::sync::Arc;

/// The origin state changes must come from.
#[derive(Debug, Clone)]
pub struct AllowedOrigin(pub Arc<str>);

/// Whether a request with these headers may change state.
pub fn is_same_origin(
    method: &Method,
    sec_fetch_site: Option<&str>,
    origin: Option<&str>,
    allowed: &str,
) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    if let Some(site) = sec_fetch_site {
        return site == "same-origin";
    }
    origin == Some(allowed)
}

/// Upstream providers answering with `response_mode=form_post` (Apple) post to the social
/// callback from their own site. That handler changes nothing: it only turns the post into a
/// same-site GET of the callback, which checks the flow's `state` as usual.
fn is_social_form_post(path: &str) -> bool {
    path.strip_prefix("/signin/social/")
        .and_then(|rest| rest.strip_suffix("/callback"))
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// Endpoints apps call with their own credentials (client authentication, bearer tokens), never
/// with the browser's cookies: cross-site requests cannot ride on a session there. The whole
/// management API (`/api/v1/`) is such (the site's own server functions live beside it under
/// `/api/`, never under `/api/v1/`).
fn is_app_endpoint(path: &str) -> bool {
    matches!(
        path,
        "/oauth2/token"
            | "/oauth2/userinfo"
            | "/oauth2/revoke"
            | "/oauth2/introspect"
            | "/oauth2/par"
    ) || path.starts_with(crate::directory::API_PREFIX)
}

pub async fn require_same_origin(
    State(allowed): State<AllowedOrigin>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let sec_fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    if is_same_origin(request.method(), sec_fetch_site, origin, &allowed.0)
        || is_social_form_post(request.uri().path())
        || is_app_endpoint(request.uri().path())
    {
        return next.run(request).await;
    }
    tracing::warn!(?sec_fetch_site, ?origin, path = %request.uri().path(), "cross-origin state change refused");
    (
        StatusCode::FORBIDDEN,
        "This request did not come from this site's own pages, so it was refused.",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: &str = "http://localhost:3000";

    #[test]
    fn only_the_social_callback_is_open_to_cross_site_posts() {
        assert!(is_social_form_post("/signin/social/apple/callback"));
        assert!(!is_social_form_post("/signin/social//callback"));
        assert!(!is_social_form_post("/signin/social/a/b/callback"));
        assert!(!is_social_form_post("/api/sign-in"));
        assert!(!is_social_form_post("/signin/social/apple"));
    }

    #[test]
    fn reads_are_always_allowed() {
        assert!(is_same_origin(&Method::GET, Some("cross-site"), None, SITE));
    }

    #[test]
    fn a_post_from_the_site_itself_is_allowed() {
        assert!(is_same_origin(
            &Method::POST,
            Some("same-origin"),
            None,
            SITE
        ));
        assert!(is_same_origin(&Method::POST, None, Some(SITE), SITE));
    }

    #[test]
    fn a_post_from_elsewhere_or_from_nowhere_is_refused() {
        assert!(!is_same_origin(
            &Method::POST,
            Some("cross-site"),
            Some(SITE),
            SITE
        ));
        assert!(!is_same_origin(
            &Method::POST,
            Some("same-site"),
            None,
            SITE
        ));
        assert!(!is_same_origin(
            &Method::POST,
            None,
            Some("https://evil.example"),
            SITE
        ));
        assert!(!is_same_origin(&Method::POST, None, None, SITE));
    }
}

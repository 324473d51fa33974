//! Security headers on every response, with a fresh CSP nonce per request for the page's
//! inline scripts.

use axum::{extract::Request, middleware::Next, response::Response};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use http::{
    header::{
        CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY,
        STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
    },
    HeaderName, HeaderValue,
};
use rand::RngCore;

/// The nonce of this request's inline scripts; the renderer puts it on every script it emits.
#[derive(Debug, Clone)]
pub struct CspNonce(pub String);

/// Origins a response may show in frames (the apps' front-channel logout pages); every other
/// response allows none beyond its own.
#[derive(Debug, Clone)]
pub struct FrameSources(pub Vec<String>);

/// Origins a response's forms may post to beyond this site (the app a `form_post` answer goes
/// back to); every other response's forms post only to this site.
#[derive(Debug, Clone)]
pub struct FormTargets(pub Vec<String>);

/// Marks a response that this site's own pages may frame (the console's brand preview); every
/// other response may be framed by nobody.
#[derive(Debug, Clone, Copy)]
pub struct FramedBySelf;

/// Settings of the header middleware.
#[derive(Debug, Clone, Copy)]
pub struct HeaderPolicy {
    pub https: bool,
}

fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The Content-Security-Policy for a response whose scripts carry `nonce`.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Adds the nonce to the request and the security headers to the response.
pub async fn security_headers(
    axum::extract::State(policy): axum::extract::State<HeaderPolicy>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = new_nonce();
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let mut csp = content_security_policy(&nonce);
    let framed_by_self = response.extensions().get::<FramedBySelf>().is_some();
    if framed_by_self {
        csp = csp.replace("frame-ancestors 'none'", "frame-ancestors 'self'");
    }
    if let Some(FrameSources(origins)) = response.extensions().get::<FrameSources>() {
        csp.push_str("; frame-src ");
        csp.push_str(&origins.join(" "));
    }
    if let Some(FormTargets(origins)) = response.extensions().get::<FormTargets>() {
        if !origins.is_empty() {
            let widened = format!("form-action 'self' {}", origins.join(" "));
            csp = csp.replace("form-action 'self'", &widened);
        }
    }
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&csp) {
        headers.insert(CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        X_FRAME_OPTIONS,
        HeaderValue::from_static(if framed_by_self { "SAMEORIGIN" } else { "DENY" }),
    );
    // Same-origin requests keep the full Referer (form posts without JavaScript need it to
    // come back to their page); nothing leaks to other sites.
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    if policy.https {
        headers.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    let personal = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"));
    if personal && !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

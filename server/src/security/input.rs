//! Refuses, at the boundary, characters no endpoint has a use for: NUL and the other control
//! characters in the path, the query or a form body (tab and line breaks are let through in form
//! values only). Postgres cannot store NUL in text, and a control character in an address, a
//! name, a code or a token is never meant; the request ends here with a 400 saying which part
//! was wrong, before any handler, server function or database sees it.

use axum::{
    body::Body,
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use http::{header::CONTENT_TYPE, StatusCode};
use serde_json::json;

use super::MAX_BODY_BYTES;

/// Which part of the request held a control character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Path,
    Query,
    Form,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Self::Path => "address",
            Self::Query => "query",
            Self::Form => "form",
        }
    }
}

/// Whether `text` holds a control character; `lenient` lets tab, line feed and carriage return
/// through (the values of a form may be multi-line text).
fn has_control(text: &str, lenient: bool) -> bool {
    text.chars()
        .any(|c| c.is_control() && !(lenient && matches!(c, '\t' | '\n' | '\r')))
}

/// Whether the form-encoded `pairs` hold a control character (values leniently).
fn form_has_control(pairs: &[u8], lenient_values: bool) -> bool {
    url::form_urlencoded::parse(pairs)
        .any(|(k, v)| has_control(&k, false) || has_control(&v, lenient_values))
}

/// The percent-decoded path holds a control character. (The raw request line cannot carry
/// one, so only a percent-escape can: without one nothing is decoded.)
fn path_has_control(path: &str) -> bool {
    if !path.contains('%') {
        return false;
    }
    has_control(
        &percent_encoding::percent_decode_str(path).decode_utf8_lossy(),
        false,
    )
}

/// The answer to a refused request, in the form its endpoint speaks: a server function's error
/// JSON, an OAuth error (RFC 6749 §5.2), or plain text for pages.
fn refused(path: &str, part: Part) -> Response {
    let description = format!(
        "The request's {} contains a control character (such as NUL), which is never accepted.",
        part.name()
    );
    if path.starts_with(crate::directory::API_PREFIX) {
        return crate::directory::problem::Problem::bad_request(description).into_response();
    }
    if path.starts_with("/api/") {
        return (
            StatusCode::BAD_REQUEST,
            [("serverfnerror", "true")],
            Json(json!({ "BadRequest": description })),
        )
            .into_response();
    }
    if path.starts_with("/oauth2/") && !path.starts_with("/oauth2/authorize") {
        return (
            StatusCode::BAD_REQUEST,
            [(http::header::CACHE_CONTROL, "no-store")],
            Json(json!({ "error": "invalid_request", "error_description": description })),
        )
            .into_response();
    }
    (StatusCode::BAD_REQUEST, description).into_response()
}

fn is_form(request: &Request) -> bool {
    const FORM: &[u8] = b"application/x-www-form-urlencoded";
    request.headers().get(CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes().trim_ascii_start();
        v.len() >= FORM.len() && v[..FORM.len()].eq_ignore_ascii_case(FORM)
    })
}

pub async fn refuse_control_characters(request: Request, next: Next) -> Response {
    let uri = request.uri();
    if path_has_control(uri.path()) {
        return refused(uri.path(), Part::Path);
    }
    // As in the path, only a percent-escape can put a control character in the query.
    if let Some(query) = uri.query().filter(|q| q.contains('%')) {
        if form_has_control(query.as_bytes(), false) {
            return refused(uri.path(), Part::Query);
        }
    }
    if !is_form(&request) {
        return next.run(request).await;
    }
    let path = uri.path().to_owned();
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is larger than this site accepts.",
            )
                .into_response()
        }
    };
    if form_has_control(&bytes, true) {
        return refused(&path, Part::Form);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_control_characters_are_found_wherever_they_are_encoded() {
        assert!(path_has_control("/signin/social/%00"));
        assert!(path_has_control("/a%1fb"));
        assert!(!path_has_control("/signin/social/google"));
        assert!(!path_has_control("/a%zz"));
        assert!(form_has_control(b"client_id=a%00b", true));
        assert!(form_has_control(b"a%00=1", true));
        assert!(form_has_control(b"x=%7f", true));
        assert!(form_has_control(b"x=%C2%85", true), "C1 controls too");
        assert!(!form_has_control(b"name=Ada+Lovelace&x=%C3%A9", true));
        assert!(!form_has_control(b"text=line%0Aline%09tab", true));
        assert!(form_has_control(b"text=line%0Aline", false));
    }
}

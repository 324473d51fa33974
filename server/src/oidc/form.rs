//! What the app-facing endpoints share: reading a form body (a repeated parameter is refused,
//! RFC 6749 §3.2), `Authorization: Basic` and `DPoP` headers, the client a request
//! authenticates as, and answers that are never cached, errors as the RFC's JSON, fresh DPoP
//! nonces in `DPoP-Nonce` (RFC 9449 §8, §9).

use std::sync::Arc;

use app::{
    domain::oidc::{
        client_auth::{self, ClientAuthForm},
        clients::Client,
        dpop,
        token::TokenError,
    },
    state::AppState,
};
use axum::{
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use base64::{engine::general_purpose::STANDARD, Engine};

use crate::security::api_status::RETRY_AFTER_SECS;

/// `Authorization: Basic` credentials, each part form-urlencoded (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| -> Option<String> {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// `Authorization: Basic` credentials, if sent; a malformed header fails client authentication.
pub fn client_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, TokenError> {
    if !headers.contains_key(header::AUTHORIZATION) {
        return Ok(None);
    }
    basic_credentials(headers)
        .map(Some)
        .ok_or(TokenError::InvalidClient)
}

/// The request's `DPoP` proof header, if any (RFC 9449 §4.3: at most one).
pub fn dpop_proof(headers: &HeaderMap) -> Result<Option<&str>, TokenError> {
    let mut proofs = headers.get_all("dpop").iter();
    let bad = TokenError::Refused {
        error: "invalid_dpop_proof",
        description: "Send exactly one DPoP header.",
    };
    match (proofs.next(), proofs.next()) {
        (None, _) => Ok(None),
        (Some(proof), None) => proof.to_str().map(Some).map_err(|_| bad),
        _ => Err(bad),
    }
}

/// The client a request to an app endpoint authenticates as (Basic header, the fields of its
/// `form`, or an assertion).
pub async fn authenticated_client(
    state: &AppState,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Arc<Client>, TokenError> {
    let fields: ClientAuthForm = form.fields()?;
    client_auth::authenticate(state, client_credentials(headers)?, &fields).await
}

/// A form body, read once: each endpoint takes the fields it knows from it.
pub struct Form(serde_json::Value);

impl Form {
    /// The fields of type `T` (others are ignored).
    pub fn fields<T: serde::de::DeserializeOwned>(&self) -> Result<T, TokenError> {
        T::deserialize(&self.0).map_err(|_| TokenError::InvalidRequest("The body must be a form."))
    }
}

/// Reads a form body of text fields. A parameter sent twice is refused (RFC 6749 §3.2), and
/// so is a body that is not a form.
pub fn read_form(headers: &HeaderMap, body: &str) -> Result<Form, TokenError> {
    let not_a_form = TokenError::InvalidRequest("The body must be a form.");
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(not_a_form);
    }
    let mut fields = serde_json::Map::new();
    for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
        if fields
            .insert(k.into_owned(), serde_json::Value::String(v.into_owned()))
            .is_some()
        {
            return Err(TokenError::InvalidRequest("A parameter is repeated."));
        }
    }
    Ok(Form(serde_json::Value::Object(fields)))
}

/// `response` with a fresh server nonce in `DPoP-Nonce` (RFC 9449 §8.1, §9), for the client's
/// next proof.
pub fn with_dpop_nonce(state: &AppState, mut response: Response) -> Response {
    if let Ok(nonce) = HeaderValue::try_from(dpop::fresh_nonce(&state.dpop_nonces)) {
        response.headers_mut().insert("dpop-nonce", nonce);
    }
    response
}

pub fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// An app endpoint's answer: the JSON with `status`, or the RFC's error JSON; never cached.
pub fn json_answer(result: Result<serde_json::Value, TokenError>, status: StatusCode) -> Response {
    match result {
        Ok(answer) => no_store((status, axum::Json(answer)).into_response()),
        Err(e) => token_error(e),
    }
}

/// The RFC's error JSON (RFC 6749 §5.2), with a Basic challenge for a failed client
/// authentication and `Retry-After` while the database cannot serve.
pub fn token_error(error: TokenError) -> Response {
    match error {
        TokenError::InvalidClient => no_store(
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Basic realm=\"token\"")],
                axum::Json(error.body()),
            )
                .into_response(),
        ),
        TokenError::Unavailable => no_store(
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, RETRY_AFTER_SECS)],
                axum::Json(error.body()),
            )
                .into_response(),
        ),
        error => {
            let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
            no_store((status, axum::Json(error.body())).into_response())
        }
    }
}

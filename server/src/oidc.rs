//! The OpenID provider's HTTP endpoints: discovery (pre-serialised), the authorization endpoint
//! and its continuation after sign-in or consent, the token endpoint and userinfo.

use std::sync::Arc;

use app::{
    api::oauth::AuthorizeProblem,
    domain::{
        client::ClientInfo,
        oidc::{
            assertion,
            authorize::{self, AuthorizeParams, Next},
            clients, dpop,
            logout::{self, Exit, LogoutNext, LogoutParams},
            revocation, subjects,
            token::{self, TokenError, TokenForm},
        },
    },
    state::AppState,
};
use axum::{
    extract::{Form, Query, State},
    http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

/// The discovery document of `issuer`, listing exactly what is implemented.
pub fn discovery_document(issuer: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
        "token_endpoint": format!("{issuer}/oauth2/token"),
        "userinfo_endpoint": format!("{issuer}/oauth2/userinfo"),
        "end_session_endpoint": format!("{issuer}/oauth2/logout"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "scopes_supported": ["openid", "profile", "email", "phone", "offline_access"],
        "revocation_endpoint": format!("{issuer}/oauth2/revoke"),
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "revocation_endpoint_auth_signing_alg_values_supported": assertion::ALGORITHMS,
        "introspection_endpoint": format!("{issuer}/oauth2/introspect"),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "introspection_endpoint_auth_signing_alg_values_supported": assertion::ALGORITHMS,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": assertion::ALGORITHMS,
        "code_challenge_methods_supported": ["S256"],
        "dpop_signing_alg_values_supported": dpop::ALGORITHMS,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "name", "email",
            "email_verified", "phone_number", "phone_number_verified", "sid"
        ],
        "authorization_response_iss_parameter_supported": true,
        "pushed_authorization_request_endpoint": format!("{issuer}/oauth2/par"),
        "require_pushed_authorization_requests": false,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": true,
        "frontchannel_logout_session_supported": true,
        "request_parameter_supported": false,
        "claims_parameter_supported": false
    }))
    .expect("JSON values serialise")
}

/// Endpoints that use the browser session (authorization, consent).
pub fn browser_routes(state: AppState) -> Router {
    Router::new()
        .route("/oauth2/authorize", get(authorize_start))
        .route("/oauth2/authorize/continue", get(authorize_continue))
        .route("/oauth2/consent", post(consent_answer))
        .route("/oauth2/logout", get(logout).post(logout_form))
        .route("/oauth2/logout/confirm", post(logout_confirm))
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
        .route("/oauth2/token", post(token_endpoint))
        .route("/oauth2/userinfo", get(userinfo).post(userinfo))
        .route("/oauth2/revoke", post(revoke))
        .route("/oauth2/introspect", post(introspect))
        .route("/oauth2/par", post(pushed_request))
        .with_state(state)
}

fn respond(next: Next) -> Response {
    match next {
        Next::Redirect(url) => Redirect::to(&url).into_response(),
        Next::SignIn(None) => Redirect::to("/signin").into_response(),
        Next::SignIn(Some(hint)) => {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("login_hint", &hint)
                .finish();
            Redirect::to(&format!("/signin?{query}")).into_response()
        }
        Next::Consent => Redirect::to("/oauth2/consent").into_response(),
        Next::Continue => Redirect::to("/oauth2/continue").into_response(),
        Next::ErrorPage(problem) => error_page(problem),
    }
}

/// Our own page saying why an app's request stopped (never the app's address).
fn error_page(problem: AuthorizeProblem) -> Response {
    Redirect::to(&format!("/oauth2/error?reason={}", problem.code())).into_response()
}

fn failed(e: app::domain::error::AccountError) -> Response {
    tracing::error!(error = ?e, "authorization request failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "The request could not be completed.",
    )
        .into_response()
}

async fn authorize_start(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<AuthorizeParams>,
    parts: Parts,
) -> Response {
    match authorize::begin(&state, &ClientInfo::from_parts(&parts), &session, &params).await {
        Ok(next) => respond(next),
        Err(e) => failed(e),
    }
}

async fn authorize_continue(
    State(state): State<AppState>,
    session: Session,
    parts: Parts,
) -> Response {
    match authorize::proceed(&state, &ClientInfo::from_parts(&parts), &session).await {
        Ok(next) => respond(next),
        Err(e) => failed(e),
    }
}

#[derive(Debug, Deserialize)]
struct ConsentForm {
    decision: String,
}

async fn consent_answer(
    State(state): State<AppState>,
    session: Session,
    parts: Parts,
    Form(form): Form<ConsentForm>,
) -> Response {
    let approve = form.decision == "approve";
    match authorize::answer_consent(&state, &ClientInfo::from_parts(&parts), &session, approve)
        .await
    {
        Ok(next) => respond(next),
        Err(e) => failed(e),
    }
}

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

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

async fn token_endpoint(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let result = async {
        let form: TokenForm = read_form(&headers, &body)?;
        let proof = dpop_proof(&headers)?;
        token::token(&state, client_credentials(&headers)?, &form, proof).await
    }
    .await;
    json_answer(result, StatusCode::OK)
}

/// The pushed authorization request endpoint (RFC 9126 §2): the app authenticates as at the
/// token endpoint and gets a `request_uri` (201) or the error JSON.
async fn pushed_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let result = async {
        let params: AuthorizeParams = read_form(&headers, &body)?;
        let client = authenticated_client(&state, &headers, &body).await?;
        app::domain::oidc::par::push(&state, &client, &params).await
    }
    .await;
    json_answer(result, StatusCode::CREATED)
}

/// The request's `DPoP` proof header, if any (RFC 9449 §4.3: at most one).
fn dpop_proof(headers: &HeaderMap) -> Result<Option<&str>, TokenError> {
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

/// `Authorization: Basic` credentials, if sent; a malformed header fails client authentication.
fn client_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, TokenError> {
    if !headers.contains_key(header::AUTHORIZATION) {
        return Ok(None);
    }
    basic_credentials(headers)
        .map(Some)
        .ok_or(TokenError::InvalidClient)
}

fn invalid_client(error: token::TokenError) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Basic realm=\"token\"")],
        axum::Json(error.body()),
    )
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
struct UserinfoForm {
    access_token: Option<String>,
}

/// Userinfo (OpenID Connect Core §5.3): the bearer token from the header, or (POST) the body.
async fn userinfo(
    State(state): State<AppState>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Result<Form<UserinfoForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    // `DPoP <token>` for a token bound to a key (RFC 9449 §7.1), `Bearer <token>` otherwise.
    let (scheme, from_header) = match authorization {
        Some(v) if v.starts_with("DPoP ") => ("DPoP", Some(v[5..].to_owned())),
        Some(v) if v.starts_with("Bearer ") => ("Bearer", Some(v[7..].to_owned())),
        _ => ("Bearer", None),
    };
    let token = from_header.or_else(|| body.ok().and_then(|Form(f)| f.access_token));
    let unauthorized = |error: &str| {
        (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                format!("{scheme} error=\"{error}\""),
            )],
        )
            .into_response()
    };
    let Some(token) = token else {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer".to_owned())],
        )
            .into_response();
    };
    // The signature here; revocation and the person below (from memory while notices arrive).
    let Some(claims) = state
        .keys
        .verify_access_token(&token, &state.settings.public_url)
    else {
        return unauthorized("invalid_token");
    };
    let Some(jti) = claims["jti"].as_str().and_then(|j| j.parse().ok()) else {
        return unauthorized("invalid_token");
    };
    // A DPoP-bound token needs the DPoP scheme and a proof with its key; a bearer token the
    // Bearer scheme.
    match (claims["cnf"]["jkt"].as_str(), scheme) {
        (None, "Bearer") => {}
        (Some(jkt), "DPoP") => {
            let Ok(Some(proof)) = dpop_proof(&headers) else {
                return unauthorized("invalid_dpop_proof");
            };
            let url = format!("{}/oauth2/userinfo", state.settings.public_url);
            match dpop::check(&state.db, proof, method.as_str(), &url, Some(&token)).await {
                Ok(Ok(proven)) if proven == jkt => {}
                Ok(_) => return unauthorized("invalid_dpop_proof"),
                Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        _ => return unauthorized("invalid_token"),
    }
    let scopes: Vec<String> = claims["scope"]
        .as_str()
        .unwrap_or_default()
        .split(' ')
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return unauthorized("insufficient_scope");
    }
    let (Some(sub), Some(client_id)) = (claims["sub"].as_str(), claims["client_id"].as_str())
    else {
        return unauthorized("invalid_token");
    };
    let user_id = match sub.parse() {
        Ok(user_id) => Some(user_id),
        // A pairwise subject: the app's sector says whose it is.
        Err(_) => match state.clients.get(&state.db, client_id).await {
            Ok(Some(client)) => subjects::account(&state.db, &client, sub)
                .await
                .ok()
                .flatten(),
            _ => None,
        },
    };
    let Some(user_id) = user_id else {
        return unauthorized("invalid_token");
    };
    match token::userinfo_claims(&state, user_id, sub, &scopes, Some(jti)).await {
        Ok(Some(claims)) => no_store(axum::Json(claims).into_response()),
        Ok(None) => unauthorized("invalid_token"),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "The request could not be completed.",
        )
            .into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
struct TokenParam {
    token: Option<String>,
}

/// The client a request to an app endpoint authenticates as (Basic header, form fields or
/// assertion).
async fn authenticated_client(
    state: &AppState,
    headers: &HeaderMap,
    body: &str,
) -> Result<Arc<clients::Client>, TokenError> {
    let form: TokenForm = read_form(headers, body)?;
    token::authenticate_client(state, client_credentials(headers)?, &form).await
}

/// Authenticates the client of a revocation or introspection request and reads its `token`.
async fn client_and_token(
    state: &AppState,
    headers: &HeaderMap,
    body: &str,
) -> Result<(Arc<clients::Client>, String), TokenError> {
    let param: TokenParam = read_form(headers, body)?;
    let client = authenticated_client(state, headers, body).await?;
    let token = param
        .token
        .filter(|t| !t.is_empty())
        .ok_or(TokenError::InvalidRequest("token is missing."))?;
    Ok((client, token))
}

/// Reads a form body of optional text fields. A parameter sent twice is refused (RFC 6749
/// §3.2), and so is a body that is not a form.
fn read_form<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &str,
) -> Result<T, TokenError> {
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
    serde_json::from_value(serde_json::Value::Object(fields)).map_err(|_| not_a_form)
}

/// An app endpoint's answer: the JSON with `status`, or the RFC's error JSON; never cached.
fn json_answer(result: Result<serde_json::Value, TokenError>, status: StatusCode) -> Response {
    match result {
        Ok(answer) => no_store((status, axum::Json(answer)).into_response()),
        Err(e) => token_error(e),
    }
}

fn token_error(error: TokenError) -> Response {
    match error {
        TokenError::InvalidClient => no_store(invalid_client(error)),
        error => {
            let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
            no_store((status, axum::Json(error.body())).into_response())
        }
    }
}

/// RFC 7009: always 200 once the client is authenticated, whatever the token was.
async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let result = async {
        let (client, token) = client_and_token(&state, &headers, &body).await?;
        revocation::revoke(&state, &client, &token).await
    }
    .await;
    match result {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(e) => token_error(e),
    }
}

/// RFC 7662, for clients with credentials.
async fn introspect(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let result = async {
        let (client, token) = client_and_token(&state, &headers, &body).await?;
        revocation::introspect(&state, &client, &token).await
    }
    .await;
    json_answer(result, StatusCode::OK)
}

async fn logout(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<LogoutParams>,
    parts: Parts,
) -> Response {
    logout_request(state, session, params, parts).await
}

/// The end-session endpoint also takes its parameters as a form post.
async fn logout_form(
    State(state): State<AppState>,
    session: Session,
    parts: Parts,
    Form(params): Form<LogoutParams>,
) -> Response {
    logout_request(state, session, params, parts).await
}

async fn logout_request(
    state: AppState,
    session: Session,
    params: LogoutParams,
    parts: Parts,
) -> Response {
    match logout::begin(&state, &ClientInfo::from_parts(&parts), &session, &params).await {
        Ok(LogoutNext::Done(exit)) => leave_for(&exit),
        Ok(LogoutNext::Confirm) => Redirect::to("/oauth2/signout").into_response(),
        Ok(LogoutNext::ErrorPage(problem)) => error_page(problem),
        Err(e) => failed(e),
    }
}

async fn logout_confirm(State(state): State<AppState>, session: Session, parts: Parts) -> Response {
    match logout::confirm(&state, &ClientInfo::from_parts(&parts), &session).await {
        Ok(exit) => leave_for(&exit),
        Err(e) => failed(e),
    }
}

/// Sends the browser on through a small page that refreshes there: after a form post, a
/// redirect to the app's origin would be stopped by the CSP's `form-action 'self'`. The page
/// first loads the apps' front-channel logout URLs in hidden frames (and allows exactly their
/// origins as frame sources), waiting a moment for them.
fn leave_for(exit: &Exit) -> Response {
    fn escape(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }
    let to = escape(&exit.to);
    let frames: String = exit
        .front_channel
        .iter()
        .map(|u| {
            format!(
                "<iframe src=\"{}\" hidden title=\"logout\"></iframe>",
                escape(u)
            )
        })
        .collect();
    let delay = if frames.is_empty() { 0 } else { 2 };
    let mut response = axum::response::Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{delay};url={to}\"><title>Signed out</title></head>\
         <body><p>You are signed out. <a href=\"{to}\">Continue</a></p>{frames}</body></html>"
    ))
    .into_response();
    let origins: Vec<String> = exit
        .front_channel
        .iter()
        .filter_map(|u| url::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
        .collect();
    if !origins.is_empty() {
        response
            .extensions_mut()
            .insert(crate::security::headers::FrameSources(origins));
    }
    response
}

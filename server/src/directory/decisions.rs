//! `POST /api/v1/decisions`: an app asks whether one of its people may do something to a
//! resource, authenticated with its client credentials as at the token and introspection
//! endpoints (`Authorization: Basic`, or `client_id` with `client_secret`, or a
//! `client_assertion`, as members of the JSON body). Answers `{"decision", "policies",
//! "errors"}`; every refusal is an RFC 9457 problem (`application/problem+json`).

use app::{
    domain::{
        directory::policies::{self, DecisionRequest, PolicyError},
        oidc::{client_auth::ClientAuthForm, token::TokenError},
    },
    state::AppState,
};
use axum::{
    body::Bytes,
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{json, Value};

use super::problem::Problem;
use crate::oidc::form::{client_credentials, no_store};

/// Where apps ask.
pub const DECISIONS_PATH: &str = "/api/v1/decisions";
/// The largest request body.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

impl From<TokenError> for Problem {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::InvalidClient => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid-client",
                "Client authentication failed",
                "Client authentication failed.",
            )
            .header(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"decisions\""),
            ),
            TokenError::InvalidRequest(why) => Self::bad_request(why),
            TokenError::Unavailable => Problem::unavailable(),
            error if error.status() >= 500 => {
                tracing::error!(error = ?error, "decision request failed");
                Problem::failed()
            }
            error => Self::bad_request(
                error.body()["error_description"]
                    .as_str()
                    .unwrap_or("The request is not valid.")
                    .to_owned(),
            ),
        }
    }
}

impl From<PolicyError> for Problem {
    fn from(error: PolicyError) -> Self {
        match error {
            PolicyError::BadRequest(why) => Self::bad_request(why),
            PolicyError::UnknownSubject => Self::new(
                StatusCode::NOT_FOUND,
                "unknown-subject",
                "Unknown subject",
                "This app knows no person by this subject.",
            ),
            PolicyError::NoPolicies => Self::new(
                StatusCode::CONFLICT,
                "no-policies",
                "No policies defined",
                "This app has no policies to decide by: set them first.",
            ),
            error @ (PolicyError::Stale(_) | PolicyError::Conflict) => Self::new(
                StatusCode::CONFLICT,
                "policies-unusable",
                "The policies cannot decide",
                error.to_string(),
            ),
            error => {
                tracing::error!(error = ?error, "decision request failed");
                Problem::failed()
            }
        }
    }
}

/// Whether the request says its body is JSON.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// Whether a person may do something.
///
/// Answers "may person P do action A on resource R, in context C?" by the app's Cedar
/// policies: `{"decision": "allow"|"deny", "policies": [ids that decided], "errors": []}`. The
/// body is JSON: `subject` (the app's `sub` for the person), `action`, `resource` and
/// optional `context`, beside the client credentials when they are not sent as HTTP Basic.
#[utoipa::path(post, path = "/api/v1/decisions", tag = "decisions",
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "The decision and the policies that made it"),
        (status = 400, body = super::problem::ProblemDoc),
        (status = 401, body = super::problem::ProblemDoc),
        (status = 404, body = super::problem::ProblemDoc, description = "The app knows no person by this subject"),
        (status = 409, body = super::problem::ProblemDoc, description = "The app has no usable policies")),
    security(("client" = [])))]
pub async fn decide(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match answer(&state, &headers, &body).await {
        Ok(answer) => no_store((StatusCode::OK, axum::Json(answer)).into_response()),
        Err(problem) => problem.into_response(),
    }
}

async fn answer(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Value, Problem> {
    if body.len() > MAX_REQUEST_BYTES {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Request too large",
            format!("The body may hold at most {MAX_REQUEST_BYTES} bytes."),
        ));
    }
    if !is_json(headers) {
        return Err(Problem::bad_request(
            "The body must be JSON (Content-Type: application/json).",
        ));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Problem::bad_request(format!("The body is not valid JSON: {e}")))?;
    let Value::Object(mut fields) = value else {
        return Err(Problem::bad_request("The body must be a JSON object."));
    };
    // The client's credentials travel beside the question, as a form's would.
    let mut credentials = serde_json::Map::new();
    for name in [
        "client_id",
        "client_secret",
        "client_assertion_type",
        "client_assertion",
    ] {
        if let Some(value) = fields.remove(name) {
            credentials.insert(name.into(), value);
        }
    }
    let credentials: ClientAuthForm = serde_json::from_value(Value::Object(credentials))
        .map_err(|_| Problem::bad_request("Client credentials must be strings."))?;
    let client = app::domain::oidc::client_auth::authenticate(
        state,
        client_credentials(headers)?,
        &credentials,
    )
    .await?;
    if client.is_public() {
        // Without credentials anyone could ask in the app's name.
        return Err(TokenError::InvalidClient.into());
    }
    let request: DecisionRequest = serde_json::from_value(Value::Object(fields))
        .map_err(|e| Problem::bad_request(format!("The request is not valid: {e}")))?;
    let decision = policies::decide(state, &client, &request).await?;
    Ok(json!({
        "decision": if decision.allow { "allow" } else { "deny" },
        "policies": decision.policies,
        "errors": decision.errors,
    }))
}

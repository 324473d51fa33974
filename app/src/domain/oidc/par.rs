//! Pushed authorization requests (RFC 9126): an authenticated app posts its authorization
//! request to `/oauth2/par`, which checks it as the authorization endpoint would and answers
//! with a single-use, 60-second `request_uri`; the browser then brings only that reference.
//! The request may come as a signed request object (`request`, RFC 9126 §3 and RFC 9101),
//! whose claims are then the whole request.

use serde_json::{json, Value};

use super::{
    authorize::{self, AuthorizeParams, Refusal},
    clients::Client,
    error::TokenError,
    request_object,
};
use crate::{
    domain::{
        error::AccountError,
        tokens::{random_token, token_hash},
    },
    model::oauth::AuthorizeProblem,
    state::AppState,
};

/// How long a pushed request may wait for the browser.
pub const REQUEST_URI_LIFETIME_SECS: i64 = 60;
/// What every request_uri this provider hands out starts with (RFC 9126 §2.2).
const PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// Checks and stores the request `params` that the authenticated `client` pushed; answers
/// with its `request_uri` (RFC 9126 §2.2) or the error the endpoint returns (§2.3).
pub async fn push(
    state: &AppState,
    client: &Client,
    params: &AuthorizeParams,
) -> Result<Value, TokenError> {
    if params.request_uri.is_some() {
        return Err(TokenError::InvalidRequest(
            "request_uri cannot be pushed (RFC 9126 §2.1).",
        ));
    }
    if params
        .client_id
        .as_deref()
        .is_some_and(|id| id != client.id)
    {
        return Err(TokenError::InvalidRequest(
            "client_id does not match the authenticated client.",
        ));
    }
    let mut params = params.clone();
    params.client_id = Some(client.id.clone());
    let unpacked = request_object::unpack(state, &params).await;
    match unpacked {
        Ok(None) => {}
        Ok(Some(Ok(signed))) => params = signed,
        Ok(Some(Err(refused))) => return Err(refused.into()),
        Err(e) => {
            tracing::error!(error = ?e, "reading a pushed request object failed");
            return Err(TokenError::ServerError);
        }
    }
    match authorize::check(state, &params, true).await {
        Ok(Ok(_)) => {}
        Ok(Err(Refusal::Untrusted(AuthorizeProblem::BadRedirectUri))) => {
            return Err(TokenError::InvalidRequest(
                "redirect_uri is missing or not registered for this client.",
            ))
        }
        Ok(Err(Refusal::Untrusted(_))) => return Err(TokenError::UnauthorizedClient),
        Ok(Err(Refusal::ToApp {
            error, description, ..
        })) => return Err(TokenError::Refused { error, description }),
        Err(e) => {
            tracing::error!(error = ?e, "checking a pushed request failed");
            return Err(TokenError::ServerError);
        }
    }
    let handle = random_token();
    sqlx::query(
        "INSERT INTO pushed_requests (handle_hash, client_id, params, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
    )
    .bind(token_hash(&handle))
    .bind(&client.id)
    .bind(sqlx::types::Json(&params))
    .bind(REQUEST_URI_LIFETIME_SECS as f64)
    .execute(&state.db)
    .await?;
    Ok(json!({
        "request_uri": format!("{PREFIX}{handle}"),
        "expires_in": REQUEST_URI_LIFETIME_SECS,
    }))
}

/// Whether `request_uri` is a reference this provider handed out. No other is accepted: a
/// request object by reference (RFC 9101 §5.2) is never fetched.
pub fn is_ours(request_uri: &str) -> bool {
    request_uri.starts_with(PREFIX)
}

/// For an authorization request that names a `request_uri`: the pushed parameters (used up
/// now), or why there are none. `None` when the request carries its parameters itself.
pub async fn take(
    state: &AppState,
    params: &AuthorizeParams,
) -> Result<Option<Result<AuthorizeParams, AuthorizeProblem>>, AccountError> {
    let Some(request_uri) = params.request_uri.as_deref() else {
        return Ok(None);
    };
    let (Some(handle), Some(client_id)) = (
        request_uri.strip_prefix(PREFIX),
        params.client_id.as_deref(),
    ) else {
        return Ok(Some(Err(AuthorizeProblem::BadPushedRequest)));
    };
    let stored: Option<sqlx::types::Json<AuthorizeParams>> = sqlx::query_scalar(
        "DELETE FROM pushed_requests
         WHERE handle_hash = $1 AND client_id = $2 AND expires_at > now()
         RETURNING params",
    )
    .bind(token_hash(handle))
    .bind(client_id)
    .fetch_optional(&state.db)
    .await?;
    Ok(Some(
        stored
            .map(|s| s.0)
            .ok_or(AuthorizeProblem::BadPushedRequest),
    ))
}

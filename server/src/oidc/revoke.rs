//! Token revocation (RFC 7009): always 200 once the client is authenticated, whatever the token
//! was.

use std::sync::Arc;

use app::{
    domain::oidc::{clients::Client, revocation, token::TokenError},
    state::AppState,
};
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::form::{authenticated_client, no_store, read_form, token_error};

#[derive(Debug, Default, Deserialize)]
struct TokenParam {
    token: Option<String>,
}

/// Authenticates the client of a revocation or introspection request and reads its `token`.
pub(super) async fn client_and_token(
    state: &AppState,
    headers: &HeaderMap,
    body: &str,
) -> Result<(Arc<Client>, String), TokenError> {
    let form = read_form(headers, body)?;
    let param: TokenParam = form.fields()?;
    let client = authenticated_client(state, headers, &form).await?;
    let token = param
        .token
        .filter(|t| !t.is_empty())
        .ok_or(TokenError::InvalidRequest("token is missing."))?;
    Ok((client, token))
}

pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
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

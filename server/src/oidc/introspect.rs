//! Token introspection (RFC 7662), for clients with credentials.

use app::{domain::oidc::revocation, state::AppState};
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};

use super::{form::json_answer, revoke::client_and_token};

pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let result = async {
        let (client, token) = client_and_token(&state, &headers, &body).await?;
        revocation::introspect(&state, &client, &token).await
    }
    .await;
    json_answer(result, StatusCode::OK)
}

//! The pushed authorization request endpoint (RFC 9126 §2): the app authenticates as at the
//! token endpoint and gets a `request_uri` (201) or the error JSON. Its parameters may come as
//! a signed request object in `request` (RFC 9126 §3), refused with `invalid_request_object`.

use app::{
    domain::oidc::{authorize::AuthorizeParams, par},
    state::AppState,
};
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};

use super::form::{authenticated_client, json_answer, read_form};

/// `POST /oauth2/par`: the form's parameters (or its request object) checked and stored.
pub async fn push(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let result = async {
        let form = read_form(&headers, &body)?;
        let params: AuthorizeParams = form.fields()?;
        let client = authenticated_client(&state, &headers, &form).await?;
        par::push(&state, &client, &params).await
    }
    .await;
    json_answer(result, StatusCode::CREATED)
}

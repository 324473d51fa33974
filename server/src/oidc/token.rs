//! The token endpoint (RFC 6749 §3.2): the form, the client's credentials and the DPoP proof go
//! to `app::domain::oidc::token`.

use app::{
    domain::oidc::{
        client_auth::ClientAuthForm,
        token::{self, TokenForm},
    },
    state::AppState,
};
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};

use super::form::{client_credentials, dpop_proof, json_answer, read_form};

pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let result = async {
        let body = read_form(&headers, &body)?;
        let form: TokenForm = body.fields()?;
        let auth: ClientAuthForm = body.fields()?;
        let proof = dpop_proof(&headers)?;
        token::token(&state, client_credentials(&headers)?, &auth, &form, proof).await
    }
    .await;
    json_answer(result, StatusCode::OK)
}

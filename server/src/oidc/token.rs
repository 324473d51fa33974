//! The token endpoint (RFC 6749 §3.2): the form, the client's credentials and the DPoP proof go
//! to `app::domain::oidc::token`. A request that carried a proof is answered with a fresh
//! server nonce in `DPoP-Nonce` when it succeeds or was refused for its nonce
//! (`use_dpop_nonce`, RFC 9449 §8).

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

use super::form::{client_credentials, dpop_proof, json_answer, read_form, with_dpop_nonce};

pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let proof = dpop_proof(&headers);
    let proof_sent = matches!(proof, Ok(Some(_)));
    let result = async {
        let body = read_form(&headers, &body)?;
        let form: TokenForm = body.fields()?;
        let auth: ClientAuthForm = body.fields()?;
        let proof = proof?;
        token::token(&state, client_credentials(&headers)?, &auth, &form, proof).await
    }
    .await;
    let nonce_due = match &result {
        Ok(_) => proof_sent,
        Err(e) => token::wants_dpop_nonce(e),
    };
    let response = json_answer(result, StatusCode::OK);
    if nonce_due {
        with_dpop_nonce(&state, response)
    } else {
        response
    }
}

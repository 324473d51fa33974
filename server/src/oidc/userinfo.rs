//! Userinfo (OpenID Connect Core §5.3): the token from the `Authorization` header or (POST) the
//! form body, and the proof from the `DPoP` header, go to `app::domain::oidc::userinfo`; its
//! refusals become `WWW-Authenticate` challenges (RFC 6750 §3, RFC 9449 §7.1). A request that
//! carried a proof is answered with a fresh server nonce in `DPoP-Nonce` when it succeeds or
//! was refused for its nonce (`use_dpop_nonce`, RFC 9449 §9).

use app::{
    domain::oidc::userinfo::{self, UserinfoError, UserinfoRequest},
    state::AppState,
};
use axum::{
    extract::{Form, State},
    http::{header, HeaderMap, Method, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::form::{dpop_proof, no_store, with_dpop_nonce};
use crate::security::api_status::RETRY_AFTER_SECS;

#[derive(Debug, Default, Deserialize)]
pub struct UserinfoForm {
    access_token: Option<String>,
}

pub async fn userinfo(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    body: Result<Form<UserinfoForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let request = UserinfoRequest {
        method: method.as_str(),
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        dpop_proof: dpop_proof(&headers).map_err(|_| ()),
        form_token: body.ok().and_then(|Form(f)| f.access_token),
    };
    let proof_sent = matches!(request.dpop_proof, Ok(Some(_)));
    match userinfo::userinfo(&state, request).await {
        Ok(claims) if proof_sent => {
            with_dpop_nonce(&state, no_store(axum::Json(claims).into_response()))
        }
        Ok(claims) => no_store(axum::Json(claims).into_response()),
        Err(UserinfoError::UseDpopNonce(description)) => with_dpop_nonce(
            &state,
            (
                StatusCode::UNAUTHORIZED,
                [(
                    header::WWW_AUTHENTICATE,
                    format!("DPoP error=\"use_dpop_nonce\", error_description=\"{description}\""),
                )],
            )
                .into_response(),
        ),
        Err(UserinfoError::NoToken) => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer".to_owned())],
        )
            .into_response(),
        Err(UserinfoError::Refused { scheme, error }) => (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                format!("{scheme} error=\"{error}\""),
            )],
        )
            .into_response(),
        Err(UserinfoError::Unavailable) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, RETRY_AFTER_SECS)],
            app::domain::error::UNAVAILABLE_TEXT,
        )
            .into_response(),
        Err(UserinfoError::Server) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "The request could not be completed.",
        )
            .into_response(),
    }
}

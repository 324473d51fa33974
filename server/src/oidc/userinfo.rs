//! Userinfo (OpenID Connect Core §5.3): the token from the `Authorization` header or (POST) the
//! form body, and the proof from the `DPoP` header, go to `app::domain::oidc::userinfo`; its
//! refusals become `WWW-Authenticate` challenges (RFC 6750 §3, RFC 9449 §7.1).

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

use super::form::{dpop_proof, no_store};

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
    match userinfo::userinfo(&state, request).await {
        Ok(claims) => no_store(axum::Json(claims).into_response()),
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
        Err(UserinfoError::Server) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "The request could not be completed.",
        )
            .into_response(),
    }
}

//! The provisioning client behind a request: `Authorization: Bearer <token>`, looked up by the
//! token's SHA-256 (`domain::scim::clients`). Anything else is a 401 with a SCIM error and
//! `WWW-Authenticate: Bearer`; the client found goes into the request's extensions.

use app::{domain::scim::clients, state::AppState};
use axum::{
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::error::Problem;

pub async fn require_client(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        });
    let Some(token) = token else {
        return Problem::unauthorized().into_response();
    };
    match clients::authenticate(&state.db, &token).await {
        Ok(Some(client)) => {
            request.extensions_mut().insert(client);
            next.run(request).await
        }
        Ok(None) => {
            tracing::warn!("SCIM request with an unknown or revoked token refused");
            Problem::unauthorized().into_response()
        }
        Err(error) => Problem::from(app::domain::scim::ScimError::from(error)).into_response(),
    }
}

//! The console's checks for its plain HTTP handlers (the audit export, the brand's logo
//! upload and preview), as `api::console::guard` does for server functions: a signed-in staff
//! member whose role grants the permission (a refusal is audited), and for a change or a bulk
//! read a second factor proven in the last minutes. A refusal comes back as the response.

use app::{
    domain::{
        client::ClientInfo,
        error::AccountError,
        mfa::freshness,
        sessions,
        staff::{self, Permission},
    },
    state::AppState,
};
use axum::{
    http::{header, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use tower_sessions::Session;
use uuid::Uuid;

/// A plain-text answer.
pub fn plain(status: StatusCode, text: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.into(),
    )
        .into_response()
}

/// The staff member allowed `permission`; with `fresh`, only after a recent second factor
/// (else the answer names the step-up page, which comes back to `return_to`).
pub async fn allow(
    state: &AppState,
    session: &Session,
    client: &ClientInfo,
    permission: Permission,
    fresh: Option<&str>,
) -> Result<Uuid, Response> {
    let user_id = match sessions::current_user(session).await {
        Ok(Some(id)) => id,
        Ok(None) => return Err(Redirect::to("/signin").into_response()),
        Err(e) => {
            tracing::error!(error = %e, "reading the session failed");
            return Err(plain(StatusCode::INTERNAL_SERVER_ERROR, "try again"));
        }
    };
    match staff::authorize(&state.db, client, user_id, permission).await {
        Ok(_) => {}
        Err(AccountError::Forbidden) => {
            return Err(plain(
                StatusCode::FORBIDDEN,
                "Your staff role does not allow this.",
            ))
        }
        Err(e) => {
            tracing::error!(error = ?e, "authorizing a console request failed");
            return Err(plain(StatusCode::INTERNAL_SERVER_ERROR, "try again"));
        }
    }
    if let Some(return_to) = fresh {
        match freshness::ensure(&state.db, session, user_id).await {
            Ok(()) => {}
            Err(AccountError::StepUp) => {
                return Err(plain(
                    StatusCode::FORBIDDEN,
                    format!(
                        "For your security, confirm it's you first: \
                         /signin/step-up?return_to={return_to}"
                    ),
                ))
            }
            Err(e) => {
                tracing::error!(error = ?e, "checking the second factor's freshness failed");
                return Err(plain(StatusCode::INTERNAL_SERVER_ERROR, "try again"));
            }
        }
    }
    Ok(user_id)
}

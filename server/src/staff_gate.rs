//! The console's checks for its plain HTTP handlers (the audit export, the brand's logo
//! upload and preview, the customer import's upload), as `api::console::guard` does for server functions: a signed-in staff
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
    extract::{FromRequest, Multipart, Request},
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

/// A console upload form: the staff member allowed `permission`, who is calling, and the
/// multipart body (a second factor is checked once the form is read, by [`fresh`]).
pub async fn upload_form(
    state: &AppState,
    session: &Session,
    request: Request,
    permission: Permission,
) -> Result<(Uuid, ClientInfo, Multipart), Response> {
    let (parts, body) = request.into_parts();
    let client = ClientInfo::from_parts(&parts);
    let request = Request::from_parts(parts, body);
    let user_id = allow(state, session, &client, permission, None).await?;
    let Ok(multipart) = Multipart::from_request(request, &()).await else {
        return Err(plain(
            StatusCode::BAD_REQUEST,
            "Send the form as multipart/form-data.",
        ));
    };
    Ok((user_id, client, multipart))
}

/// Passes when `user_id` proved a second factor recently; else sends the browser to the
/// step-up page, which comes back to `return_to`.
pub async fn fresh(
    state: &AppState,
    session: &Session,
    user_id: Uuid,
    return_to: &str,
) -> Result<(), Response> {
    match freshness::ensure(&state.db, session, user_id).await {
        Ok(()) => Ok(()),
        Err(AccountError::StepUp) => {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("return_to", return_to)
                .finish();
            Err(Redirect::to(&format!("/signin/step-up?{query}")).into_response())
        }
        Err(e) => {
            tracing::error!(error = ?e, "checking the second factor's freshness failed");
            Err(plain(StatusCode::INTERNAL_SERVER_ERROR, "try again"))
        }
    }
}

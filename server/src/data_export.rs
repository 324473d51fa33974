//! `GET /profile/data/download?format=json|html`: the signed-in person's newest data export,
//! as a file to save (never shown as a page of this site), while it is within its 24 hours,
//! to a recent sign-in (else the person confirms it is them first, and comes back to
//! `/profile/data`). Each download is audited (`privacy::export::download`).

use app::{
    domain::{
        client::ClientInfo,
        error::AccountError,
        privacy::export::{self, Format},
        sessions,
    },
    state::AppState,
};
use axum::{
    extract::{Query, Request, State},
    http::{header, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::get,
    Router,
};
use serde::Deserialize;
use time::OffsetDateTime;
use tower_sessions::Session;

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/profile/data/download", get(download))
        .with_state(state)
}

#[derive(Debug, Deserialize)]
struct DownloadQuery {
    #[serde(default)]
    format: String,
}

fn plain(status: StatusCode, message: &str) -> Response {
    (status, message.to_owned()).into_response()
}

async fn download(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<DownloadQuery>,
    request: Request,
) -> Response {
    let format = match query.format.as_str() {
        "json" => Format::Json,
        "html" => Format::Html,
        _ => return plain(StatusCode::BAD_REQUEST, "format: json or html"),
    };
    let client = ClientInfo::from_parts(&request.into_parts().0);
    let user_id = match sessions::current_user(&session).await {
        Ok(Some(id)) => id,
        Ok(None) => return Redirect::to("/signin").into_response(),
        Err(_) => return plain(StatusCode::SERVICE_UNAVAILABLE, "Try again."),
    };
    let file = match export::download(&state, &client, &session, user_id, format).await {
        Ok(file) => file,
        Err(AccountError::StepUp) => {
            return Redirect::to("/signin/step-up?return_to=%2Fprofile%2Fdata").into_response()
        }
        Err(AccountError::Export(refusal)) => {
            return plain(StatusCode::NOT_FOUND, &refusal.to_string())
        }
        Err(e) => {
            tracing::error!(error = %e, "a data export download failed");
            return plain(StatusCode::SERVICE_UNAVAILABLE, "Try again.");
        }
    };
    let (kind, extension) = match format {
        Format::Json => ("application/json", "json"),
        Format::Html => ("text/html; charset=utf-8", "html"),
    };
    let date = OffsetDateTime::now_utc().date();
    (
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"my-data-{date}.{extension}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        file,
    )
        .into_response()
}

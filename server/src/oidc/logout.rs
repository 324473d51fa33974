//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the end-session endpoint by
//! query or form, the person's confirmation, and the small page that loads the apps'
//! front-channel logout pages and goes back to the app.

use app::{
    domain::{
        client::ClientInfo,
        oidc::logout::{self, Exit, LogoutNext, LogoutParams},
    },
    state::AppState,
};
use axum::{
    extract::{Form, Query, State},
    http::request::Parts,
    response::{IntoResponse, Redirect, Response},
};
use tower_sessions::Session;

use super::{error_page, failed};
use crate::pages::{escape, refresh_to};

pub async fn by_query(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<LogoutParams>,
    parts: Parts,
) -> Response {
    logout_request(state, session, params, parts).await
}

/// The end-session endpoint also takes its parameters as a form post.
pub async fn by_form(
    State(state): State<AppState>,
    session: Session,
    parts: Parts,
    Form(params): Form<LogoutParams>,
) -> Response {
    logout_request(state, session, params, parts).await
}

async fn logout_request(
    state: AppState,
    session: Session,
    params: LogoutParams,
    parts: Parts,
) -> Response {
    match logout::begin(&state, &ClientInfo::from_parts(&parts), &session, &params).await {
        Ok(LogoutNext::Done(exit)) => leave_for(&exit),
        Ok(LogoutNext::Confirm) => Redirect::to("/oauth2/signout").into_response(),
        Ok(LogoutNext::ErrorPage(problem)) => error_page(problem),
        Err(e) => failed(e),
    }
}

pub async fn confirm(State(state): State<AppState>, session: Session, parts: Parts) -> Response {
    match logout::confirm(&state, &ClientInfo::from_parts(&parts), &session).await {
        Ok(exit) => leave_for(&exit),
        Err(e) => failed(e),
    }
}

/// Sends the browser on through a small page that refreshes there: after a form post, a
/// redirect to the app's origin would be stopped by the CSP's `form-action 'self'`. The page
/// first loads the apps' front-channel logout URLs in hidden frames (and allows exactly their
/// origins as frame sources), waiting a moment for them.
fn leave_for(exit: &Exit) -> Response {
    let frames: String = exit
        .front_channel
        .iter()
        .map(|u| {
            format!(
                "<iframe src=\"{}\" hidden title=\"logout\"></iframe>",
                escape(u)
            )
        })
        .collect();
    let delay = if frames.is_empty() { 0 } else { 2 };
    let mut response = refresh_to(
        &exit.to,
        delay,
        "Signed out",
        "You are signed out.",
        &frames,
    )
    .into_response();
    let origins: Vec<String> = exit
        .front_channel
        .iter()
        .filter_map(|u| url::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
        .collect();
    if !origins.is_empty() {
        response
            .extensions_mut()
            .insert(crate::security::headers::FrameSources(origins));
    }
    response
}

//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the end-session endpoint by
//! query or form, the person's confirmation, and the small page that loads the apps'
//! front-channel logout pages (OpenID Connect Front-Channel Logout 1.0) and goes back to the
//! app; the same page after the portal's own sign-out (`/signed-out`).

use app::{
    domain::{
        client::ClientInfo,
        oidc::logout::{self, Exit, LogoutNext, LogoutParams},
        sign_out,
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
    let client = ClientInfo::from_parts(&parts);
    match logout::begin(&state, &client, &session, &params).await {
        Ok(LogoutNext::Done(exit)) => leave_for(&exit, &client),
        Ok(LogoutNext::Confirm) => Redirect::to("/oauth2/signout").into_response(),
        Ok(LogoutNext::ErrorPage(problem)) => error_page(problem),
        Err(e) => failed(e),
    }
}

pub async fn confirm(State(state): State<AppState>, session: Session, parts: Parts) -> Response {
    let client = ClientInfo::from_parts(&parts);
    match logout::confirm(&state, &client, &session).await {
        Ok(exit) => leave_for(&exit, &client),
        Err(e) => failed(e),
    }
}

/// The page the portal's own sign-out goes to when apps of the ended sign-in have front-channel
/// logout pages (Front-Channel Logout 1.0 §2, the OP's page rendering them): it loads them,
/// kept for this one load in the browser's new session, then goes home. Loaded again, or
/// without a sign-out just before, it goes home at once.
pub async fn signed_out(session: Session, parts: Parts) -> Response {
    match sign_out::take_front_channel(&session).await {
        Ok(front_channel) if front_channel.is_empty() => Redirect::to("/").into_response(),
        Ok(front_channel) => leave_for(
            &Exit {
                to: "/".into(),
                front_channel,
            },
            &ClientInfo::from_parts(&parts),
        ),
        Err(e) => failed(e),
    }
}

/// Sends the browser on through a small page that refreshes there: after a form post, a
/// redirect to the app's origin would be stopped by the CSP's `form-action 'self'`. The page
/// first loads the apps' front-channel logout URLs in hidden frames (and allows exactly their
/// origins as frame sources), waiting a moment for them.
fn leave_for(exit: &Exit, client: &ClientInfo) -> Response {
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
    let (title, message) = sign_out::signed_out_words(&client.reading);
    let mut response = refresh_to(&exit.to, delay, title, message, &frames).into_response();
    let mut origins: Vec<String> = Vec::new();
    for origin in exit
        .front_channel
        .iter()
        .filter_map(|u| url::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
    {
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    if !origins.is_empty() {
        response
            .extensions_mut()
            .insert(crate::security::headers::FrameSources(origins));
    }
    response
}

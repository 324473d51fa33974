//! The authorization endpoint (RFC 6749 §3.1) and its two continuations: after a sign-in or the
//! continuation page, and the consent form's answer. Each names the waiting request it is about.
//! An answer for the app goes back as a redirect, or (`response_mode=form_post`) as a page that
//! posts it.

use app::{
    domain::{
        authentication::{consent_step, second_step},
        client::ClientInfo,
        oidc::{
            answer::{Answer, ResponseMode},
            authorize::AuthorizeParams,
            pending_requests::{self, Next},
        },
        sessions,
    },
    state::AppState,
};
use axum::{
    extract::{Form, Query, State},
    http::{header, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{error_page, failed};
use crate::{
    pages::post_to,
    security::headers::{CspNonce, FormTargets},
};

/// The answer for the app at its redirect URI: a redirect with it in the query, or a page whose
/// form the browser posts there at once (OAuth 2.0 Form Post Response Mode §2), never stored,
/// with the CSP's `form-action` widened to exactly the redirect URI's origin.
fn to_app(answer: &Answer, parts: &Parts) -> Response {
    if answer.mode == ResponseMode::Query {
        return Redirect::to(&answer.query_url()).into_response();
    }
    let nonce = parts.extensions.get::<CspNonce>().map(|n| n.0.as_str());
    let page = post_to(
        &answer.redirect_uri,
        &answer.params,
        nonce,
        "Back to the app",
        "Returning you to the app.",
    );
    let mut response = ([(header::CACHE_CONTROL, "no-store")], page).into_response();
    let origin = url::Url::parse(&answer.redirect_uri)
        .ok()
        .map(|u| u.origin().ascii_serialization());
    response
        .extensions_mut()
        .insert(FormTargets(origin.into_iter().collect()));
    response
}

/// Where the browser goes for `next`. A step-up starts here: the second step's page, then back
/// through the continuation to the same request; so does a person behind on a required policy,
/// through the consent step's page.
async fn respond(state: &AppState, session: &Session, parts: &Parts, next: Next) -> Response {
    let with_request = |path: &str, id: &str| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("request", id)
            .finish();
        Redirect::to(&format!("{path}?{query}")).into_response()
    };
    match next {
        Next::ToApp(answer) => to_app(&answer, parts),
        Next::SignIn(None) => Redirect::to("/signin").into_response(),
        Next::SignIn(Some(hint)) => {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("login_hint", &hint)
                .finish();
            Redirect::to(&format!("/signin?{query}")).into_response()
        }
        Next::StepUp(id) => {
            let back = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("request", &id)
                .finish();
            let back = format!("/oauth2/continue?{back}");
            let user = match sessions::current_user(session).await {
                Ok(Some(user)) => user,
                Ok(None) => return Redirect::to("/signin").into_response(),
                Err(e) => return failed(e.into()),
            };
            match second_step::begin_step_up(state, session, user, &back, true).await {
                Ok(_) => Redirect::to(second_step::PAGE).into_response(),
                Err(e) => failed(e),
            }
        }
        Next::Policies(id) => {
            let back = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("request", &id)
                .finish();
            match second_step::set_return(session, &format!("/oauth2/continue?{back}")).await {
                Ok(()) => Redirect::to(consent_step::PAGE).into_response(),
                Err(e) => failed(e),
            }
        }
        Next::Consent(id) => with_request("/oauth2/consent", &id),
        Next::Continue(id) => with_request("/oauth2/continue", &id),
        Next::ErrorPage(problem) => error_page(problem),
    }
}

pub async fn start(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<AuthorizeParams>,
    parts: Parts,
) -> Response {
    let client = ClientInfo::from_parts(&parts);
    match pending_requests::begin(&state, &client, &session, &params).await {
        Ok(next) => respond(&state, &session, &parts, next).await,
        Err(e) => failed(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RequestId {
    request: Option<String>,
}

/// Goes on with the waiting request the query names (or, after a sign-in, the newest).
pub async fn resume(
    State(state): State<AppState>,
    session: Session,
    Query(id): Query<RequestId>,
    parts: Parts,
) -> Response {
    let client = ClientInfo::from_parts(&parts);
    let id = id.request.as_deref();
    match pending_requests::proceed(&state, &client, &session, id).await {
        Ok(next) => respond(&state, &session, &parts, next).await,
        Err(e) => failed(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    request: String,
    decision: String,
}

/// The consent form's answer, about the request whose screen it was.
pub async fn consent(
    State(state): State<AppState>,
    session: Session,
    parts: Parts,
    Form(form): Form<ConsentForm>,
) -> Response {
    let approve = form.decision == "approve";
    let client = ClientInfo::from_parts(&parts);
    match pending_requests::answer_consent(&state, &client, &session, &form.request, approve).await
    {
        Ok(next) => respond(&state, &session, &parts, next).await,
        Err(e) => failed(e),
    }
}

//! The browser-facing redirects of social sign-in: out to the upstream provider (a GET to sign
//! in; linking to the signed-in account only by a POST from the profile page, so no link or
//! image elsewhere can start one), and back from it to the callback, which signs in, registers,
//! links or explains why not.

use app::{
    domain::{
        client::ClientInfo,
        error::AccountError,
        sessions,
        social::{
            flow::{self, CallbackParams, Purpose},
            identities::{self, Arrival},
            SocialError,
        },
    },
    state::AppState,
};
use axum::{
    extract::{Form, Path, Query, State},
    http::request::Parts,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use serde::Deserialize;
use tower_sessions::Session;

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/signin/social/{provider}", get(start))
        .route("/signin/social/{provider}/link", post(start_link))
        .route(
            "/signin/social/{provider}/callback",
            get(callback).post(form_post_callback),
        )
        .with_state(state)
}

#[derive(Debug, Deserialize)]
struct StartQuery {
    /// Set by pages from before linking became a POST: such a request links nothing.
    link: Option<String>,
}

/// Where a failed flow sends the browser: the page that started it, with the reason's code.
fn failed(error: AccountError, linking: bool) -> Response {
    let error = match error {
        AccountError::Social(e) => e,
        AccountError::RiskBlocked(_) => SocialError::RiskBlocked,
        AccountError::StepUp => {
            return Redirect::to("/profile?social_error=sign_in_again").into_response()
        }
        other => {
            tracing::error!(error = ?other, "social sign-in failed");
            SocialError::Unavailable
        }
    };
    let page = if linking { "/profile" } else { "/signin" };
    Redirect::to(&format!("{page}?social_error={}", error.code())).into_response()
}

/// A sign-in (or sign-up) through the provider. A `?link` left over from an old page does
/// not link anything: linking starts only from the profile's form.
async fn start(
    State(state): State<AppState>,
    session: Session,
    Path(provider): Path<String>,
    Query(query): Query<StartQuery>,
) -> Response {
    if query.link.is_some() {
        return Redirect::to("/profile").into_response();
    }
    match flow::start(&state, &session, &provider, Purpose::SignIn).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => failed(e, false),
    }
}

/// Linking the provider to the signed-in account: a POST from the profile page (the
/// same-origin check has passed), after a recent sign-in.
async fn start_link(
    State(state): State<AppState>,
    session: Session,
    Path(provider): Path<String>,
) -> Response {
    let purpose = match sessions::current_user(&session).await {
        Ok(Some(user_id)) => {
            if let Err(e) = identities::may_start_link(&state.db, &session, user_id).await {
                return failed(e, true);
            }
            Purpose::Link(user_id)
        }
        _ => return Redirect::to("/signin").into_response(),
    };
    match flow::start(&state, &session, &provider, purpose).await {
        Ok(url) => crate::pages::refresh_to(
            &url,
            0,
            "Linking",
            "Taking you to the provider to link your account.",
            "",
        )
        .into_response(),
        Err(e) => failed(e, true),
    }
}

async fn callback(
    State(state): State<AppState>,
    session: Session,
    Path(provider): Path<String>,
    Query(params): Query<CallbackParams>,
    parts: Parts,
) -> Response {
    let client = ClientInfo::from_parts(&parts);
    let (upstream, purpose, person) = match flow::finish(&state, &session, &provider, &params).await
    {
        Ok(done) => done,
        Err(e) => return failed(e, false),
    };
    let linking = matches!(purpose, Purpose::Link(_));
    match identities::arrive(&state, &client, &session, &upstream, purpose, &person).await {
        Ok(Arrival::SignedIn | Arrival::Registered) => {
            Redirect::to(&app::domain::authentication::landing(&session).await).into_response()
        }
        Ok(Arrival::LinkPending) => Redirect::to("/signin?link=pending").into_response(),
        Ok(Arrival::Linked) => Redirect::to("/profile?linked=1").into_response(),
        Err(e) => failed(e, linking),
    }
}

/// A provider's `form_post` answer, turned into a same-site GET of the callback (so the
/// SameSite=Lax session cookie comes along and `state` is checked there).
async fn form_post_callback(
    Path(provider): Path<String>,
    Form(params): Form<Vec<(String, String)>>,
) -> Response {
    let kept: Vec<(String, String)> = params
        .into_iter()
        .filter(|(k, _)| matches!(k.as_str(), "code" | "state" | "error"))
        .collect();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .finish();
    Redirect::to(&format!("/signin/social/{provider}/callback?{query}")).into_response()
}

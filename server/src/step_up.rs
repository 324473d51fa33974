//! `GET /signin/step-up?return_to=<path>`: where a sensitive change that needs a recent proof
//! sends the browser. A signed-in person with a second factor is asked for it on the second
//! step's page; one without is asked to sign in again. Either way they come back to the path
//! (a path on this site only).

use app::{
    domain::{
        authentication::second_step::{self, StepUp},
        sessions,
    },
    state::AppState,
};
use axum::{
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::get,
    Router,
};
use serde::Deserialize;
use tower_sessions::Session;

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/signin/step-up", get(step_up))
        .with_state(state)
}

#[derive(Debug, Deserialize)]
struct StepUpQuery {
    return_to: Option<String>,
}

async fn step_up(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<StepUpQuery>,
) -> Response {
    let return_to = query
        .return_to
        .filter(|p| second_step::is_local_path(p))
        .unwrap_or_else(|| "/profile".to_owned());
    let user = match sessions::current_user(&session).await {
        Ok(user) => user,
        Err(e) => {
            tracing::error!(error = %e, "reading the session failed");
            return Redirect::to("/signin").into_response();
        }
    };
    let Some(user_id) = user else {
        let _ = second_step::set_return(&session, &return_to).await;
        return Redirect::to("/signin").into_response();
    };
    match second_step::begin_step_up(&state, &session, user_id, &return_to, false).await {
        Ok(StepUp::SecondStep) => Redirect::to(second_step::PAGE).into_response(),
        Ok(StepUp::SignInAgain) => Redirect::to("/signin?again=1").into_response(),
        Err(e) => {
            tracing::error!(error = ?e, "starting a step-up failed");
            Redirect::to("/signin").into_response()
        }
    }
}

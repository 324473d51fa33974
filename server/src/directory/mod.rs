//! The directory's endpoints for partner back ends, all under `/api/v1`: the management API
//! (`people`, `person_parts`, `groups`, `records` for apps and the audit trail), behind the
//! bearer-token gate and per-app rate limit of `caller`, in the conventions of `wire`
//! (problems from `problem`); the policy decision endpoint (`decisions`, client credentials);
//! and the OpenAPI document of all of them with its browsable page (`openapi`). Every route
//! is registered through `utoipa_axum`'s `routes!`, so a route cannot exist without its entry
//! in the document. The logic is in `app::domain::directory` and the account services.

pub mod caller;
mod decisions;
mod groups;
pub mod openapi;
mod people;
mod person_parts;
pub mod problem;
mod records;
mod wire;

use std::sync::Arc;

use app::state::AppState;
use axum::{
    http::{header, HeaderValue},
    middleware,
    response::{Html, IntoResponse},
    routing::get,
    Router,
};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

pub use decisions::{DECISIONS_PATH, MAX_REQUEST_BYTES};

/// Where the directory's endpoints live: apps' back ends only, with their own credentials.
pub const API_PREFIX: &str = "/api/v1/";

/// The API's routes and their OpenAPI document.
pub fn parts(state: AppState, rate_limit: u32) -> (Router, utoipa::openapi::OpenApi) {
    let gate = caller::Gate {
        state: state.clone(),
        limiter: Arc::new(caller::Limiter::new(rate_limit)),
    };
    let (managed, mut doc) = OpenApiRouter::with_openapi(openapi::Frame::openapi())
        .routes(routes!(people::search_people, people::create_person))
        .routes(routes!(
            people::read_person,
            people::update_person,
            people::delete_person
        ))
        .routes(routes!(person_parts::deactivate))
        .routes(routes!(person_parts::reactivate))
        .routes(routes!(person_parts::sessions, person_parts::end_sessions))
        .routes(routes!(person_parts::identities))
        .routes(routes!(person_parts::factors))
        .routes(routes!(person_parts::consents))
        .routes(routes!(person_parts::person_roles))
        .routes(routes!(groups::list_groups, groups::create_group))
        .routes(routes!(
            groups::read_group,
            groups::update_group,
            groups::delete_group
        ))
        .routes(routes!(groups::members))
        .routes(routes!(groups::add_member, groups::remove_member))
        .routes(routes!(records::list_apps))
        .routes(routes!(records::read_app, records::update_app))
        .routes(routes!(records::audit_events))
        .split_for_parts();
    let managed = managed
        .layer(middleware::from_fn_with_state(gate, caller::authenticate))
        .with_state(state.clone());
    let (decided, decisions_doc) = OpenApiRouter::new()
        .routes(routes!(decisions::decide))
        .split_for_parts();
    doc.merge(decisions_doc);
    (managed.merge(decided.with_state(state)), doc)
}

/// Endpoints called by apps' back ends: no session, no cookies. Beside them, the document
/// and its page.
pub fn api_routes(state: AppState, rate_limit: u32) -> Router {
    let (routes, doc) = parts(state, rate_limit);
    let json: Arc<str> = doc.to_pretty_json().unwrap_or_default().into();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    let html: Arc<str> = openapi::page(&value).into();
    routes
        .route(
            openapi::DOCUMENT_PATH,
            get(move || {
                let json = json.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/json"),
                        )],
                        json.to_string(),
                    )
                        .into_response()
                }
            }),
        )
        .route(
            openapi::PAGE_PATH,
            get(move || {
                let html = html.clone();
                async move { Html(html.to_string()) }
            }),
        )
}

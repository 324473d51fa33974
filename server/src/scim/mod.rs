//! SCIM 2.0 provisioning endpoints under `/scim/v2` (RFC 7644): discovery (`discovery`,
//! `schemas`), `Users` (`users`), `Groups` (`groups`) and both at once (`search`), behind a
//! provisioning client's bearer token (`auth`); every refusal is SCIM error JSON (`error`);
//! what the resource endpoints share is in `response`. The logic is in `app::domain::scim`.

mod auth;
mod discovery;
mod error;
mod groups;
mod response;
mod schemas;
mod search;
mod users;

use app::state::AppState;
use axum::{
    http::{header, StatusCode},
    middleware,
    response::{IntoResponse, Response},
    routing::{any, get, post, MethodRouter},
    Router,
};
use tower_http::limit::RequestBodyLimitLayer;

use error::Problem;

/// Where the endpoints live.
pub const PREFIX: &str = "/scim/v2";
/// The largest request body (a group's members can be many).
pub const MAX_REQUEST_BYTES: usize = 512 * 1024;

async fn no_such_endpoint() -> Response {
    Problem::not_found("No SCIM endpoint here.").into_response()
}

async fn method_not_allowed() -> Response {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        "This endpoint does not take that method.",
    )
    .into_response()
}

/// Refusals made before a handler (a body over the limit, a body the framework could not
/// read) as SCIM errors too.
async fn as_scim_error(response: Response) -> Response {
    let status = response.status();
    let is_scim = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == error::SCIM_JSON.as_bytes());
    if (status.is_client_error() || status.is_server_error()) && !is_scim {
        let detail = status
            .canonical_reason()
            .unwrap_or("The request was refused.");
        return Problem::new(status, None, detail).into_response();
    }
    response
}

fn route(method: MethodRouter<AppState>) -> MethodRouter<AppState> {
    method.fallback(method_not_allowed)
}

/// The provisioning endpoints: bearer tokens, never cookies, so no session layer and no
/// same-origin check; a body limit of their own.
pub fn routes(state: AppState) -> Router {
    let p = |path: &str| format!("{PREFIX}{path}");
    Router::new()
        .route(
            &p("/ServiceProviderConfig"),
            route(get(discovery::service_provider_config)),
        )
        .route(
            &p("/ResourceTypes"),
            route(get(discovery::list_resource_types)),
        )
        .route(
            &p("/ResourceTypes/{id}"),
            route(get(discovery::resource_type)),
        )
        .route(&p("/Schemas"), route(get(discovery::list_schemas)))
        .route(&p("/Schemas/{id}"), route(get(discovery::schema)))
        .route(&p("/Users"), route(get(users::list).post(users::create)))
        .route(&p("/Users/.search"), route(post(users::search)))
        .route(
            &p("/Users/{id}"),
            route(
                get(users::get)
                    .put(users::replace)
                    .patch(users::modify)
                    .delete(users::delete),
            ),
        )
        .route(&p("/Groups"), route(get(groups::list).post(groups::create)))
        .route(&p("/Groups/.search"), route(post(groups::search)))
        .route(
            &p("/Groups/{id}"),
            route(
                get(groups::get)
                    .put(groups::replace)
                    .patch(groups::modify)
                    .delete(groups::delete),
            ),
        )
        .route(&p("/.search"), route(post(search::search)))
        .route(&p("/{*rest}"), any(no_such_endpoint))
        .route(PREFIX, any(no_such_endpoint))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_client,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BYTES))
        .layer(middleware::map_response(as_scim_error))
        .with_state(state)
}

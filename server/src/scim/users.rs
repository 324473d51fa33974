//! `/scim/v2/Users`: list (filter, sort, page), `/.search`, create, read, replace, modify
//! (PATCH) and delete customers. The logic is `app::domain::scim::{users, user_writes}`.

use std::collections::HashMap;

use app::{
    domain::scim::{
        clients::ProvisioningClient,
        user_writes,
        users::{self, ScimUser, COLUMNS},
    },
    state::AppState,
};
use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Extension,
};

use super::{
    error::Problem,
    response::{base, fetched, header_text, json_body, list_response, resource, Params},
};

type Answer = Result<Response, Problem>;

async fn find(
    state: &AppState,
    client: &ProvisioningClient,
    id: &str,
) -> Result<ScimUser, Problem> {
    users::get(&state.db, client.id, id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("No User has the id {id:?}.")))
}

async fn listed(state: &AppState, client: &ProvisioningClient, params: &Params) -> Answer {
    let request = params.list_request(COLUMNS)?;
    let (total, found) = users::list(&state.db, client.id, &request).await?;
    let (base, projection) = (base(state), params.projection());
    let docs = found
        .iter()
        .map(|u| projection.apply(u.to_json(&base)))
        .collect();
    Ok(list_response(total, request.start_index, docs))
}

pub async fn list(
    State(state): State<AppState>,
    Extension(client): Extension<ProvisioningClient>,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    listed(&state, &client, &Params::from_query(query)).await
}

pub async fn search(
    State(state): State<AppState>,
    Extension(client): Extension<ProvisioningClient>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let params = Params::from_search(&json_body(&headers, &body)?)?;
    listed(&state, &client, &params).await
}

pub async fn create(
    State(state): State<AppState>,
    Extension(client): Extension<ProvisioningClient>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let body = json_body(&headers, &body)?;
    let created = user_writes::create(&state, &client, &body).await?;
    let projection = Params::from_query(query).projection();
    Ok(resource(
        StatusCode::CREATED,
        created.to_json(&base(&state)),
        &projection,
    ))
}

pub async fn get(
    State(state): State<AppState>,
    Extension(client): Extension<ProvisioningClient>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Answer {
    let user = find(&state, &client, &id).await?;
    let projection = Params::from_query(query).projection();
    Ok(fetched(&headers, user.to_json(&base(&state)), &projection))
}

/// The user `id`, refused when `If-Match` names another version.
async fn current(
    state: &AppState,
    client: &ProvisioningClient,
    id: &str,
    headers: &HeaderMap,
) -> Result<ScimUser, Problem> {
    let user = find(state, client, id).await?;
    let if_match = header_text(headers, header::IF_MATCH);
    user_writes::check_version(if_match, &user.version(&base(state)))?;
    Ok(user)
}

pub async fn replace(
    State(state): State<AppState>,
    Extension(client): Extension<ProvisioningClient>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let body = json_body(&headers, &body)?;
    let user = current(&state, &client, &id, &headers).await?;
    let input = user_writes::parse_input(&body)?;
    let replaced = user_writes::apply(&state, &client, &user, &input).await?;
    let projection = Params::from_query(query).projection();
    Ok(resource(
        StatusCode::OK,
        replaced.to_json(&base(&state)),
        &projection,
    ))
}

pub async fn modify(
    State(state): State<AppState>,
    Extension(client): Extension<ProvisioningClient>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let body = json_body(&headers, &body)?;
    let user = current(&state, &client, &id, &headers).await?;
    let base = base(&state);
    let modified = user_writes::modify(&state, &client, &user, &base, &body).await?;
    let projection = Params::from_query(query).projection();
    Ok(resource(
        StatusCode::OK,
        modified.to_json(&base),
        &projection,
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(client): Extension<ProvisioningClient>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let user = current(&state, &client, &id, &headers).await?;
    user_writes::delete(&state, &client, &user).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

//! `/scim/v2/Groups`: list (filter, sort, page), `/.search`, create, read, replace, modify
//! (PATCH, members included) and delete the directory's groups. The logic is
//! `app::domain::scim::groups`.

use std::collections::HashMap;

use app::{
    domain::scim::{
        clients::ProvisioningClient,
        groups::{self, ScimGroup, COLUMNS},
        user_writes::check_version,
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
) -> Result<ScimGroup, Problem> {
    groups::get(&state.db, client.id, id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("No Group has the id {id:?}.")))
}

async fn listed(state: &AppState, client: &ProvisioningClient, params: &Params) -> Answer {
    let request = params.list_request(COLUMNS)?;
    let (total, found) = groups::list(&state.db, client.id, &request).await?;
    let (base, projection) = (base(state), params.projection());
    let docs = found
        .iter()
        .map(|g| projection.apply(g.to_json(&base)))
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
    let created = groups::create(&state.db, &client, &body).await?;
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
    let group = find(&state, &client, &id).await?;
    let projection = Params::from_query(query).projection();
    Ok(fetched(&headers, group.to_json(&base(&state)), &projection))
}

/// The group `id`, refused when `If-Match` names another version.
async fn current(
    state: &AppState,
    client: &ProvisioningClient,
    id: &str,
    headers: &HeaderMap,
) -> Result<ScimGroup, Problem> {
    let group = find(state, client, id).await?;
    let if_match = header_text(headers, header::IF_MATCH);
    check_version(if_match, &group.version(&base(state)))?;
    Ok(group)
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
    let group = current(&state, &client, &id, &headers).await?;
    let input = groups::parse_input(&state.db, &body).await?;
    let replaced = groups::apply(&state.db, &client, &group, &input).await?;
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
    let group = current(&state, &client, &id, &headers).await?;
    let base = base(&state);
    let modified = groups::modify(&state.db, &client, &group, &base, &body).await?;
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
    let group = current(&state, &client, &id, &headers).await?;
    groups::delete(&state.db, &client, &group).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

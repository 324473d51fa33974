//! Discovery (RFC 7644 §4): `/ServiceProviderConfig` (what is supported: PATCH, filters up to
//! `MAX_RESULTS`, sorting and ETags; no bulk, no password changes), `/ResourceTypes` (User,
//! Group) and `/Schemas`, each also by id.

use app::{
    domain::scim::{GROUP_SCHEMA, MAX_RESULTS, USER_SCHEMA},
    state::AppState,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use serde_json::{json, Value};

use super::{
    error::{scim_json, Problem},
    response::{base, list_response},
    schemas::{self, RESOURCE_TYPE_SCHEMA, SPC_SCHEMA},
};

pub async fn service_provider_config(State(state): State<AppState>) -> Response {
    let base = base(&state);
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [SPC_SCHEMA],
            "patch": { "supported": true },
            "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
            "filter": { "supported": true, "maxResults": MAX_RESULTS },
            "changePassword": { "supported": false },
            "sort": { "supported": true },
            "etag": { "supported": true },
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "The provisioning client's token (server scim-client add), \
                                sent as Authorization: Bearer.",
                "primary": true,
            }],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": format!("{base}/ServiceProviderConfig"),
            },
        }),
    )
}

fn resource_types(base: &str) -> Vec<Value> {
    [
        ("User", "/Users", "Customer accounts", USER_SCHEMA),
        (
            "Group",
            "/Groups",
            "The directory's groups of people",
            GROUP_SCHEMA,
        ),
    ]
    .into_iter()
    .map(|(name, endpoint, description, schema)| {
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": name,
            "name": name,
            "endpoint": endpoint,
            "description": description,
            "schema": schema,
            "schemaExtensions": [],
            "meta": {
                "resourceType": "ResourceType",
                "location": format!("{base}/ResourceTypes/{name}"),
            },
        })
    })
    .collect()
}

pub async fn list_resource_types(State(state): State<AppState>) -> Response {
    let all = resource_types(&base(&state));
    list_response(all.len() as i64, 1, all)
}

pub async fn resource_type(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    resource_types(&base(&state))
        .into_iter()
        .find(|t| t["id"] == id.as_str())
        .map(|t| scim_json(StatusCode::OK, &t))
        .ok_or_else(|| Problem::not_found(format!("No resource type {id:?}.")))
}

pub async fn list_schemas(State(state): State<AppState>) -> Response {
    let all = schemas::all(&base(&state));
    list_response(all.len() as i64, 1, all)
}

pub async fn schema(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    schemas::all(&base(&state))
        .into_iter()
        .find(|s| s["id"] == id.as_str())
        .map(|s| scim_json(StatusCode::OK, &s))
        .ok_or_else(|| Problem::not_found(format!("No schema {id:?}.")))
}

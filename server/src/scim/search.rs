//! `POST /scim/v2/.search` (RFC 7644 §3.4.3): one query over Users and then Groups. A filter
//! that does not parse is `invalidFilter`; one naming an attribute a resource type lacks finds
//! none of that type. Pages run over Users first, then Groups.

use app::{
    domain::scim::{
        clients::ProvisioningClient, groups, query::UNKNOWN_ATTRIBUTE, users, ScimError,
    },
    state::AppState,
};
use axum::{body::Bytes, extract::State, http::HeaderMap, response::Response, Extension};

use super::{
    error::Problem,
    response::{base, json_body, list_response, Params},
};

/// A type's page, or none when the request names what the type lacks.
fn lacking<T>(result: Result<(i64, Vec<T>), ScimError>) -> Result<(i64, Vec<T>), Problem> {
    match result {
        Err(ScimError::Invalid { detail, .. }) if detail.contains(UNKNOWN_ATTRIBUTE) => {
            Ok((0, Vec::new()))
        }
        other => Ok(other?),
    }
}

pub async fn search(
    State(state): State<AppState>,
    Extension(client): Extension<ProvisioningClient>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let params = Params::from_search(&json_body(&headers, &body)?)?;
    if let Some(filter) = params.get("filter").filter(|f| !f.trim().is_empty()) {
        app::domain::scim::filter::parse(filter).map_err(ScimError::from)?;
    }
    let on_users = params.list_request(users::COLUMNS);
    let on_groups = params.list_request(groups::COLUMNS);
    let (on_users, on_groups) = match (on_users, on_groups) {
        (Err(e), Err(_)) => return Err(e),
        pair => pair,
    };
    let (start, count) = match (&on_users, &on_groups) {
        (Ok(r), _) | (_, Ok(r)) => (r.start_index, r.count),
        _ => (1, 0),
    };
    let (base, projection) = (base(&state), params.projection());
    let mut docs = Vec::new();
    let mut total = 0;
    let mut users_total = 0;
    if let Ok(request) = on_users {
        let (n, found) = lacking(users::list(&state.db, client.id, &request).await)?;
        users_total = n;
        total += n;
        docs.extend(found.iter().map(|u| projection.apply(u.to_json(&base))));
    }
    if let Ok(mut request) = on_groups {
        request.start_index = (start - users_total).max(1);
        request.count = (count - docs.len() as i64).max(0);
        let (n, found) = lacking(groups::list(&state.db, client.id, &request).await)?;
        total += n;
        docs.extend(found.iter().map(|g| projection.apply(g.to_json(&base))));
    }
    Ok(list_response(total, start, docs))
}

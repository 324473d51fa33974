//! `/api/v1/groups`: list (cursor pages by name), create (`Idempotency-Key`), read (with an
//! `ETag`), update (`If-Match` required), delete, and members (list, add, remove). Scopes
//! `groups:read` and `groups:write`; changes audited by `directory::groups` with the app as
//! actor.

use app::{
    domain::directory::{
        group_edits::{self, EditError, GroupChanges},
        groups::{self, Group},
        DirectoryError,
    },
    state::AppState,
};
use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{header, request::Parts, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Extension,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    caller::Caller,
    person_parts::Items,
    problem::{answer, Problem, ProblemDoc},
    wire::{self, Page},
};

/// A group as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct GroupDoc {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub members: i64,
    pub created_at: String,
}

impl From<&Group> for GroupDoc {
    fn from(g: &Group) -> Self {
        Self {
            id: g.id,
            name: g.name.clone(),
            description: g.description.clone(),
            members: g.members,
            created_at: wire::moment(g.created_at),
        }
    }
}

/// A group to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroupDoc {
    pub name: String,
    pub description: Option<String>,
}

/// What to change; absent fields stay, a null description clears it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupChangesDoc {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

/// A field that is present (perhaps null) as `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// One member.
#[derive(Serialize, ToSchema)]
pub struct MemberDoc {
    pub person: Uuid,
    pub email: String,
    pub added_at: String,
}

/// A page of groups.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    /// 1 to 100; 50 by default.
    limit: Option<i64>,
}

fn directory_problem(error: DirectoryError) -> Problem {
    match error {
        DirectoryError::GroupName => Problem::invalid_field("name", error.to_string()),
        DirectoryError::Description => Problem::invalid_field("description", error.to_string()),
        DirectoryError::GroupExists(_) => {
            Problem::conflict("group-exists", "Name in use", error.to_string())
        }
        DirectoryError::UnknownGroup(_) => Problem::not_found("group"),
        DirectoryError::UnknownPerson(_) => Problem::not_found("person"),
        DirectoryError::Database(e) => e.into(),
        e => Problem::bad_request(e.to_string()),
    }
}

fn versioned(status: StatusCode, group: &Group) -> Response {
    wire::reply_versioned(status, &GroupDoc::from(group), &group.version())
}

async fn group(state: &AppState, id: &str) -> Result<Group, Problem> {
    let id = wire::parse_id(id, "group")?;
    group_edits::by_id(&state.db, id)
        .await?
        .ok_or_else(|| Problem::not_found("group"))
}

/// List groups by name, a page at a time.
#[utoipa::path(get, path = "/api/v1/groups", tag = "groups", params(ListQuery),
    responses((status = 200, body = Page<GroupDoc>), (status = 400, body = ProblemDoc)),
    security(("bearer" = ["groups:read"])))]
pub async fn list_groups(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    parts: Parts,
) -> Response {
    answer(
        async {
            caller.require("groups:read")?;
            let asked: ListQuery = wire::query(&parts.uri)?;
            let limit = wire::limit(asked.limit, 50, 100)?;
            let after = match asked.cursor.as_deref() {
                None | Some("") => None,
                Some(c) => Some(
                    c.parse()
                        .map_err(|_| Problem::bad_request("That cursor is not valid."))?,
                ),
            };
            let mut rows = group_edits::page(&state.db, after, limit + 1).await?;
            let next_cursor = if rows.len() as i64 > limit {
                rows.truncate(limit as usize);
                rows.last().map(|g| g.id.to_string())
            } else {
                None
            };
            let items = rows.iter().map(GroupDoc::from).collect();
            Ok(wire::reply(StatusCode::OK, &Page { items, next_cursor }))
        }
        .await,
    )
}

/// Create a group.
#[utoipa::path(post, path = "/api/v1/groups", tag = "groups", request_body = NewGroupDoc,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = GroupDoc), (status = 409, body = ProblemDoc),
        (status = 422, body = ProblemDoc)),
    security(("bearer" = ["groups:write"])))]
pub async fn create_group(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    parts: Parts,
    body: Bytes,
) -> Response {
    answer(
        async {
            caller.require("groups:write")?;
            let retry = wire::Retry::of(&parts.headers, parts.uri.path(), &body)?;
            let input: NewGroupDoc = wire::json_body(&parts.headers, &body)?;
            let mut tx = state.db.begin().await?;
            if let Some(done) = retry.earlier(&mut tx, &caller.client_id).await? {
                tx.rollback().await?;
                let group = match wire::created_id(&done) {
                    Some(id) => group_edits::by_id(&state.db, id).await?,
                    None => None,
                };
                let group = group.ok_or_else(|| Problem::gone_since("group"))?;
                let status =
                    StatusCode::from_u16(done.status as u16).unwrap_or(StatusCode::CREATED);
                return Ok(with_location(versioned(status, &group), &done.location));
            }
            let id = groups::create_in(
                &mut tx,
                &input.name,
                input.description.as_deref(),
                caller.actor(),
            )
            .await
            .map_err(directory_problem)?;
            let location = format!("/api/v1/groups/{id}");
            retry
                .remember(&mut tx, &caller.client_id, &location, None)
                .await?;
            let created = group_edits::by_id(&mut *tx, id)
                .await?
                .ok_or_else(Problem::failed)?;
            tx.commit().await?;
            Ok(with_location(
                versioned(StatusCode::CREATED, &created),
                &location,
            ))
        }
        .await,
    )
}

fn with_location(mut response: Response, location: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Read a group, with its version as ETag.
#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = "groups", params(("id" = Uuid, Path)),
    responses((status = 200, body = GroupDoc, headers(("ETag" = String))),
        (status = 404, body = ProblemDoc)),
    security(("bearer" = ["groups:read"])))]
pub async fn read_group(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    answer(
        async {
            caller.require("groups:read")?;
            Ok(versioned(StatusCode::OK, &group(&state, &id).await?))
        }
        .await,
    )
}

/// Rename or describe a group, if unchanged since the version read (If-Match).
#[utoipa::path(patch, path = "/api/v1/groups/{id}", tag = "groups",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    request_body = GroupChangesDoc,
    responses((status = 200, body = GroupDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc), (status = 412, body = ProblemDoc),
        (status = 428, body = ProblemDoc)),
    security(("bearer" = ["groups:write"])))]
pub async fn update_group(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    parts: Parts,
    body: Bytes,
) -> Response {
    answer(
        async {
            caller.require("groups:write")?;
            let id = wire::parse_id(&id, "group")?;
            let expected = wire::if_match(&parts.headers)?;
            let input: GroupChangesDoc = wire::json_body(&parts.headers, &body)?;
            let changes = GroupChanges {
                name: input.name,
                description: input.description,
            };
            match group_edits::update(&state.db, id, &expected, &changes, caller.actor()).await {
                Ok(group) => Ok(versioned(StatusCode::OK, &group)),
                Err(EditError::NotFound) => Err(Problem::not_found("group")),
                Err(EditError::Stale(now)) => Err(Problem::stale(
                    "group",
                    GroupDoc::from(now.as_ref()),
                    &now.version(),
                )),
                Err(EditError::Directory(e)) => Err(directory_problem(e)),
            }
        }
        .await,
    )
}

/// Delete a group, its memberships and the roles assigned to it.
#[utoipa::path(delete, path = "/api/v1/groups/{id}", tag = "groups", params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted, with its memberships and role assignments"),
        (status = 404, body = ProblemDoc)),
    security(("bearer" = ["groups:write"])))]
pub async fn delete_group(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    answer(
        async {
            caller.require("groups:write")?;
            let group = group(&state, &id).await?;
            // By id: the name is matched whatever its case, and names are unique.
            groups::delete(&state.db, &group.name, caller.actor())
                .await
                .map_err(directory_problem)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}

/// The members of a group.
#[utoipa::path(get, path = "/api/v1/groups/{id}/members", tag = "groups",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Items<MemberDoc>), (status = 404, body = ProblemDoc)),
    security(("bearer" = ["groups:read"])))]
pub async fn members(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    answer(
        async {
            caller.require("groups:read")?;
            let group = group(&state, &id).await?;
            let items = groups::members(&state.db, &group.name)
                .await
                .map_err(directory_problem)?
                .into_iter()
                .map(|m| MemberDoc {
                    person: m.user_id,
                    email: m.email,
                    added_at: wire::moment(m.added_at),
                })
                .collect();
            Ok(wire::reply(StatusCode::OK, &Items { items }))
        }
        .await,
    )
}

/// Add a person to a group.
#[utoipa::path(put, path = "/api/v1/groups/{id}/members/{person}", tag = "groups",
    params(("id" = Uuid, Path), ("person" = Uuid, Path)),
    responses((status = 204, description = "A member (already, or now)"),
        (status = 404, body = ProblemDoc)),
    security(("bearer" = ["groups:write"])))]
pub async fn add_member(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, person)): Path<(String, String)>,
) -> Response {
    answer(
        async {
            caller.require("groups:write")?;
            let group = group(&state, &id).await?;
            let person = wire::parse_id(&person, "person")?;
            groups::add_member(&state.db, &group.name, person, caller.actor())
                .await
                .map_err(directory_problem)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}

/// Remove a person from a group.
#[utoipa::path(delete, path = "/api/v1/groups/{id}/members/{person}", tag = "groups",
    params(("id" = Uuid, Path), ("person" = Uuid, Path)),
    responses((status = 204, description = "Not a member (any more)"),
        (status = 404, body = ProblemDoc)),
    security(("bearer" = ["groups:write"])))]
pub async fn remove_member(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, person)): Path<(String, String)>,
) -> Response {
    answer(
        async {
            caller.require("groups:write")?;
            let group = group(&state, &id).await?;
            let person = wire::parse_id(&person, "person")?;
            groups::remove_member(&state.db, &group.name, person, caller.actor())
                .await
                .map_err(directory_problem)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}

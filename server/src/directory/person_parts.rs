//! What hangs on one person under `/api/v1/people/{id}`: deactivating and reactivating the
//! account, its live sessions (listed, and ended all at once with every app told), linked
//! social identities, second factors (never a secret), current consents, and roles for an app.

use app::{
    domain::{
        client::ClientInfo,
        consents::ledger,
        customers::{actions, record},
        directory::{people, roles, DirectoryError},
    },
    state::AppState,
};
use axum::{
    extract::{Path, State},
    http::{request::Parts, StatusCode},
    response::Response,
    Extension,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    caller::Caller,
    people::PersonDoc,
    problem::{account_problem, answer, Problem, ProblemDoc},
    wire,
};

/// Locks (`deactivate`) or unlocks the person, then shows them.
async fn set_active(
    state: &AppState,
    caller: &Caller,
    id: &str,
    parts: &Parts,
    active: bool,
) -> Result<Response, Problem> {
    caller.require("users:write")?;
    let id = wire::parse_id(id, "person")?;
    let client = ClientInfo::from_parts(parts);
    let reason = people::default_reason(&caller.client_id);
    let request = actions::Request {
        actor: caller.actor(),
        client: &client,
        user_id: id,
        reason: &reason,
    };
    let done = if active {
        actions::unlock(state, &request).await
    } else {
        actions::lock(state, &request).await
    };
    done.map_err(account_problem)?;
    let person = people::read(&state.db, id)
        .await?
        .ok_or_else(|| Problem::not_found("person"))?;
    Ok(wire::reply_versioned(
        StatusCode::OK,
        &PersonDoc::from(&person),
        &person.version(),
    ))
}

/// Deactivate a person: no sign-in by any method, every session ends.
#[utoipa::path(post, path = "/api/v1/people/{id}/deactivate", tag = "people",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PersonDoc, description = "No sign-in any more; every session ended"),
        (status = 404, body = ProblemDoc)),
    security(("bearer" = ["users:write"])))]
pub async fn deactivate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    parts: Parts,
) -> Response {
    answer(set_active(&state, &caller, &id, &parts, false).await)
}

/// Reactivate a person (also lifts a lockout after failed passwords).
#[utoipa::path(post, path = "/api/v1/people/{id}/reactivate", tag = "people",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PersonDoc), (status = 404, body = ProblemDoc)),
    security(("bearer" = ["users:write"])))]
pub async fn reactivate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    parts: Parts,
) -> Response {
    answer(set_active(&state, &caller, &id, &parts, true).await)
}

/// One live browser session.
#[derive(Serialize, ToSchema)]
pub struct SessionDoc {
    pub signed_in_at: Option<String>,
    pub last_seen_at: Option<String>,
    /// How the person signed in (`password`, `passkey`, …).
    pub method: Option<String>,
    pub expires_at: String,
}

/// A linked social identity.
#[derive(Serialize, ToSchema)]
pub struct IdentityDoc {
    pub provider: String,
    pub provider_name: String,
    pub email: Option<String>,
    pub linked_at: String,
    pub last_used_at: Option<String>,
}

/// A passkey (its public id and name; never key material).
#[derive(Serialize, ToSchema)]
pub struct PasskeyDoc {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// The person's second factors.
#[derive(Serialize, ToSchema)]
pub struct FactorsDoc {
    pub totp: bool,
    pub passkeys: Vec<PasskeyDoc>,
    pub recovery_codes_left: i64,
}

/// The person's newest choice for one consent purpose.
#[derive(Serialize, ToSchema)]
pub struct ConsentDoc {
    pub purpose: String,
    pub granted: bool,
    pub policy_version: i32,
    pub at: String,
}

/// Roles and the permissions they grant, for one app.
#[derive(Serialize, ToSchema)]
pub struct RolesDoc {
    pub app: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
}

/// Everything about the person the API shows beside the person.
#[derive(Serialize, ToSchema)]
pub struct Items<T: ToSchema> {
    pub items: Vec<T>,
}

async fn record_of(state: &AppState, caller: &Caller, id: &str) -> Result<record::Record, Problem> {
    caller.require("users:read")?;
    let id = wire::parse_id(id, "person")?;
    record::load(&state.db, id).await.map_err(account_problem)
}

/// The person's live browser sessions.
#[utoipa::path(get, path = "/api/v1/people/{id}/sessions", tag = "people",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Items<SessionDoc>), (status = 404, body = ProblemDoc)),
    security(("bearer" = ["users:read"])))]
pub async fn sessions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    answer(
        async {
            let record = record_of(&state, &caller, &id).await?;
            let items = record
                .sessions
                .iter()
                .map(|s| SessionDoc {
                    signed_in_at: s.signed_in_at.map(wire::moment),
                    last_seen_at: s.last_seen_at.map(wire::moment),
                    method: s.method.clone(),
                    expires_at: wire::moment(s.expires_at),
                })
                .collect();
            Ok(wire::reply(StatusCode::OK, &Items { items }))
        }
        .await,
    )
}

/// How many sign-ins an end ended.
#[derive(Serialize, ToSchema)]
pub struct EndedDoc {
    pub ended: serde_json::Value,
}

/// End every session and app grant of the person.
#[utoipa::path(delete, path = "/api/v1/people/{id}/sessions", tag = "people",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = EndedDoc, description = "Every session and app grant ended; apps told by back-channel logout"),
        (status = 404, body = ProblemDoc)),
    security(("bearer" = ["users:write"])))]
pub async fn end_sessions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    parts: Parts,
) -> Response {
    answer(
        async {
            caller.require("users:write")?;
            let id = wire::parse_id(&id, "person")?;
            let client = ClientInfo::from_parts(&parts);
            let reason = people::default_reason(&caller.client_id);
            let request = actions::Request {
                actor: caller.actor(),
                client: &client,
                user_id: id,
                reason: &reason,
            };
            let ended = actions::end_sessions(&state, &request)
                .await
                .map_err(account_problem)?;
            Ok(wire::reply(
                StatusCode::OK,
                &EndedDoc {
                    ended: ended.detail(),
                },
            ))
        }
        .await,
    )
}

/// The social accounts linked to the person.
#[utoipa::path(get, path = "/api/v1/people/{id}/identities", tag = "people",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Items<IdentityDoc>), (status = 404, body = ProblemDoc)),
    security(("bearer" = ["users:read"])))]
pub async fn identities(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    answer(
        async {
            let record = record_of(&state, &caller, &id).await?;
            let items = record
                .identities
                .iter()
                .map(|i| IdentityDoc {
                    provider: i.provider_id.clone(),
                    provider_name: i.provider_name.clone(),
                    email: i.email.clone(),
                    linked_at: wire::moment(i.created_at),
                    last_used_at: i.last_used_at.map(wire::moment),
                })
                .collect();
            Ok(wire::reply(StatusCode::OK, &Items { items }))
        }
        .await,
    )
}

/// The person's second factors (never a secret).
#[utoipa::path(get, path = "/api/v1/people/{id}/factors", tag = "people",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = FactorsDoc), (status = 404, body = ProblemDoc)),
    security(("bearer" = ["users:read"])))]
pub async fn factors(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    answer(
        async {
            let record = record_of(&state, &caller, &id).await?;
            let doc = FactorsDoc {
                totp: record.factors.totp,
                passkeys: record
                    .passkeys
                    .iter()
                    .map(|p| PasskeyDoc {
                        id: p.public_id(),
                        name: p.name.clone(),
                        created_at: wire::moment(p.created_at),
                        last_used_at: p.last_used_at.map(wire::moment),
                    })
                    .collect(),
                recovery_codes_left: record.factors.recovery_codes_left,
            };
            Ok(wire::reply(StatusCode::OK, &doc))
        }
        .await,
    )
}

/// The person's current consent choices.
#[utoipa::path(get, path = "/api/v1/people/{id}/consents", tag = "people",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Items<ConsentDoc>), (status = 404, body = ProblemDoc)),
    security(("bearer" = ["users:read"])))]
pub async fn consents(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    answer(
        async {
            caller.require("users:read")?;
            let id = wire::parse_id(&id, "person")?;
            people::read(&state.db, id)
                .await?
                .ok_or_else(|| Problem::not_found("person"))?;
            let items = ledger::current(&state.db, id)
                .await?
                .into_iter()
                .map(|c| ConsentDoc {
                    purpose: c.purpose,
                    granted: c.granted,
                    policy_version: c.policy_version,
                    at: wire::moment(c.at),
                })
                .collect();
            Ok(wire::reply(StatusCode::OK, &Items { items }))
        }
        .await,
    )
}

/// Which app's roles.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RolesQuery {
    /// The client id of an app that signs people in.
    app: String,
}

/// The person's roles and permissions for one app.
#[utoipa::path(get, path = "/api/v1/people/{id}/roles", tag = "people",
    params(("id" = Uuid, Path), RolesQuery),
    responses((status = 200, body = RolesDoc), (status = 404, body = ProblemDoc)),
    security(("bearer" = ["users:read"])))]
pub async fn person_roles(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    parts: Parts,
) -> Response {
    answer(
        async {
            caller.require("users:read")?;
            let id = wire::parse_id(&id, "person")?;
            let asked: RolesQuery = wire::query(&parts.uri)?;
            people::read(&state.db, id)
                .await?
                .ok_or_else(|| Problem::not_found("person"))?;
            let granted = roles::of(&state.db, &asked.app, id)
                .await
                .map_err(|e| match e {
                    DirectoryError::Database(e) => e.into(),
                    e => Problem::bad_request(e.to_string()),
                })?;
            Ok(wire::reply(
                StatusCode::OK,
                &RolesDoc {
                    app: asked.app,
                    roles: granted.roles,
                    permissions: granted.permissions,
                },
            ))
        }
        .await,
    )
}

//! `/api/v1/apps` (the partner apps: list, read, switch on and off; `clients:read`,
//! `clients:write`) and `/api/v1/audit-events` (the audit trail, filtered, newest first behind
//! a cursor; `audit:read`).

use app::{
    domain::{
        audit::query::{self, ActorFilter, Filter},
        client::ClientInfo,
        error::AccountError,
        oidc::{client_admin, clients},
        replica,
    },
    state::AppState,
};
use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{request::Parts, StatusCode},
    response::Response,
    Extension,
};
use serde::{Deserialize, Serialize};
use time::{macros::format_description, Date};
use utoipa::{IntoParams, ToSchema};

use super::{
    caller::Caller,
    problem::{answer, Problem, ProblemDoc},
    wire::{self, Page},
};

/// A partner app (never a secret).
#[derive(Serialize, ToSchema)]
pub struct AppDoc {
    pub client_id: String,
    pub name: String,
    /// `confidential`, `public` or `service`.
    pub client_type: String,
    pub redirect_uris: Vec<String>,
    pub first_party: bool,
    pub enabled: bool,
}

impl From<&clients::ClientSummary> for AppDoc {
    fn from(c: &clients::ClientSummary) -> Self {
        Self {
            client_id: c.id.clone(),
            name: c.name.clone(),
            client_type: c.client_type.to_string(),
            redirect_uris: c.redirect_uris.clone(),
            first_party: c.first_party,
            enabled: c.enabled,
        }
    }
}

/// A page of apps.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppsQuery {
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    /// 1 to 100; 50 by default.
    limit: Option<i64>,
}

/// List partner apps.
#[utoipa::path(get, path = "/api/v1/apps", tag = "apps", params(AppsQuery),
    responses((status = 200, body = Page<AppDoc>)),
    security(("bearer" = ["clients:read"])))]
pub async fn list_apps(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    parts: Parts,
) -> Response {
    answer(
        async {
            caller.require("clients:read")?;
            let asked: AppsQuery = wire::query(&parts.uri)?;
            let limit = wire::limit(asked.limit, 50, 100)? as usize;
            let mut all = clients::list(&state.db).await?;
            all.sort_by(|a, b| a.id.cmp(&b.id));
            let after = asked.cursor.unwrap_or_default();
            let rest: Vec<_> = all.iter().filter(|c| c.id > after).collect();
            let next_cursor = (rest.len() > limit).then(|| rest[limit - 1].id.clone());
            let items = rest.into_iter().take(limit).map(AppDoc::from).collect();
            Ok(wire::reply(StatusCode::OK, &Page { items, next_cursor }))
        }
        .await,
    )
}

async fn app_doc(state: &AppState, client_id: &str) -> Result<AppDoc, Problem> {
    clients::list(&state.db)
        .await?
        .iter()
        .find(|c| c.id == client_id)
        .map(AppDoc::from)
        .ok_or_else(|| Problem::not_found("app"))
}

/// Read a partner app (never a secret).
#[utoipa::path(get, path = "/api/v1/apps/{client_id}", tag = "apps",
    params(("client_id" = String, Path)),
    responses((status = 200, body = AppDoc), (status = 404, body = ProblemDoc)),
    security(("bearer" = ["clients:read"])))]
pub async fn read_app(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(client_id): Path<String>,
) -> Response {
    answer(
        async {
            caller.require("clients:read")?;
            Ok(wire::reply(
                StatusCode::OK,
                &app_doc(&state, &client_id).await?,
            ))
        }
        .await,
    )
}

/// Whether the app may be used.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppChanges {
    pub enabled: bool,
}

/// Switch a partner app on or off.
#[utoipa::path(patch, path = "/api/v1/apps/{client_id}", tag = "apps",
    params(("client_id" = String, Path)), request_body = AppChanges,
    responses((status = 200, body = AppDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "An app cannot switch itself off")),
    security(("bearer" = ["clients:write"])))]
pub async fn update_app(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(client_id): Path<String>,
    parts: Parts,
    body: Bytes,
) -> Response {
    answer(
        async {
            caller.require("clients:write")?;
            let input: AppChanges = wire::json_body(&parts.headers, &body)?;
            if client_id == *caller.client_id && !input.enabled {
                return Err(Problem::conflict(
                    "self-disable",
                    "An app cannot switch itself off",
                    "Switch this app off from the console or the command line.",
                ));
            }
            let client = ClientInfo::from_parts(&parts);
            client_admin::set_enabled(&state, &client, caller.actor(), &client_id, input.enabled)
                .await
                .map_err(|e| match e {
                    AccountError::NotFound | AccountError::NoSuchAccount => {
                        Problem::not_found("app")
                    }
                    e => super::problem::account_problem(e),
                })?;
            Ok(wire::reply(
                StatusCode::OK,
                &app_doc(&state, &client_id).await?,
            ))
        }
        .await,
    )
}

/// One audit event.
#[derive(Serialize, ToSchema)]
pub struct AuditEventDoc {
    pub id: i64,
    pub at: String,
    /// The actor's address, `cli`, `system`, `app:<client id>`, or an id whose account is gone.
    pub actor: Option<String>,
    /// The address of the person concerned, or their id when the account is gone.
    pub subject: Option<String>,
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    pub ip: Option<String>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// Which events.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// An action (`signin.failed`) or an area (`signin.`).
    action: Option<String>,
    /// The id of the person concerned.
    subject: Option<String>,
    /// A person's id, or `cli`, `system`, `app:<client id>`.
    actor: Option<String>,
    /// `success` or `failure`.
    outcome: Option<String>,
    /// An address or a CIDR network.
    network: Option<String>,
    /// From this day (YYYY-MM-DD, UTC).
    from: Option<String>,
    /// To this day, inclusive.
    to: Option<String>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
}

fn day(raw: Option<&str>, name: &str) -> Result<Option<Date>, Problem> {
    raw.filter(|r| !r.is_empty())
        .map(|r| {
            Date::parse(r, format_description!("[year]-[month]-[day]"))
                .map_err(|_| Problem::bad_request(format!("{name} must be a day like 2026-12-01.")))
        })
        .transpose()
}

/// The audit trail, filtered, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/audit-events", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Page<AuditEventDoc>), (status = 400, body = ProblemDoc)),
    security(("bearer" = ["audit:read"])))]
pub async fn audit_events(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    parts: Parts,
) -> Response {
    answer(
        async {
            caller.require("audit:read")?;
            let asked: AuditQuery = wire::query(&parts.uri)?;
            let bad = |e: query::FilterError| Problem::bad_request(e.to_string());
            let filter = Filter {
                actor: match asked.actor.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(raw) => Some(match raw.parse() {
                        Ok(id) => ActorFilter::Person(id),
                        Err(_) => ActorFilter::Label(raw.to_owned()),
                    }),
                },
                subject: match asked.subject.as_deref() {
                    None | Some("") => None,
                    Some(raw) => Some(
                        raw.parse()
                            .map_err(|_| Problem::bad_request("subject must be a person's id."))?,
                    ),
                },
                action: match asked.action.as_deref() {
                    None => None,
                    Some(raw) => query::action(raw).map_err(bad)?,
                },
                failures_only: match asked.outcome.as_deref() {
                    None | Some("") => None,
                    Some("failure") => Some(true),
                    Some("success") => Some(false),
                    Some(_) => {
                        return Err(Problem::bad_request("outcome must be success or failure."))
                    }
                },
                network: match asked.network.as_deref() {
                    None => None,
                    Some(raw) => query::network(raw).map_err(bad)?,
                },
                from: day(asked.from.as_deref(), "from")?,
                to: day(asked.to.as_deref(), "to")?,
            };
            let before = match asked.cursor.as_deref() {
                None | Some("") => None,
                Some(raw) => Some(
                    raw.parse::<i64>()
                        .map_err(|_| Problem::bad_request("That cursor is not valid."))?,
                ),
            };
            // The trail may lag by the replica's lag (`domain::replica`).
            let unavailable = query::FilterError::is_unavailable;
            let (rows, next) =
                replica::read(&state, unavailable, |db| query::page(db, &filter, before))
                    .await
                    .map_err(|e| match e {
                        query::FilterError::Failed => Problem::failed(),
                        query::FilterError::Unavailable => Problem::unavailable(),
                        e => Problem::bad_request(e.to_string()),
                    })?;
            let items = rows
                .into_iter()
                .map(|e| AuditEventDoc {
                    id: e.id,
                    at: wire::moment(e.at),
                    actor: e.actor,
                    subject: e.subject,
                    action: e.action,
                    outcome: e.outcome,
                    ip: e.ip,
                    detail: e.detail,
                })
                .collect();
            Ok(wire::reply(
                StatusCode::OK,
                &Page {
                    items,
                    next_cursor: next.map(|id| id.to_string()),
                },
            ))
        }
        .await,
    )
}

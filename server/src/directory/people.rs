//! `/api/v1/people`: search (cursor pages), create (`Idempotency-Key`), read (with an `ETag`),
//! update (`If-Match` required; a stale version answers 412 with what the person is now), and
//! delete. Scopes `users:read` and `users:write`; every change is audited with the app as actor
//! by the domain operation that makes it (`directory::people`, `customers::actions`).

use app::{
    domain::{
        client::ClientInfo,
        customers::{actions, search},
        directory::{
            idempotency::Done,
            people::{self, Changes, NewPerson, Person, UpdateError},
        },
        email::Email,
        names::DisplayName,
        replica,
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
    problem::{account_problem, answer, Problem, ProblemDoc},
    wire::{self, Page},
};

/// A person as the API shows them.
#[derive(Serialize, ToSchema)]
pub struct PersonDoc {
    pub id: Uuid,
    pub email: String,
    pub email_verified: bool,
    pub display_name: String,
    /// A proven phone number (E.164).
    pub phone: Option<String>,
    /// False once deactivated: no sign-in by any method.
    pub active: bool,
    /// The password is locked after too many failed attempts.
    pub password_locked: bool,
    pub has_password: bool,
    pub locale: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    pub last_sign_in_at: Option<String>,
}

impl From<&Person> for PersonDoc {
    fn from(p: &Person) -> Self {
        Self {
            id: p.id,
            email: p.email.clone(),
            email_verified: p.email_verified,
            display_name: p.display_name.clone(),
            phone: p.phone.clone(),
            active: !p.locked,
            password_locked: p.password_locked,
            has_password: p.has_password,
            locale: p.locale.clone(),
            created_at: wire::moment(p.created_at),
            last_sign_in_at: p.last_sign_in_at.map(wire::moment),
        }
    }
}

/// A person in a search's results.
#[derive(Serialize, ToSchema)]
pub struct PersonSummary {
    pub id: Uuid,
    pub email: String,
    pub email_verified: bool,
    pub display_name: String,
    pub phone: Option<String>,
    pub active: bool,
    pub mfa: bool,
    pub created_at: String,
    pub last_sign_in_at: Option<String>,
}

/// What a search looks for.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Part of an address or a name, a phone prefix, or an id.
    q: Option<String>,
    /// `active`, `locked` or `password_locked`.
    status: Option<String>,
    /// `newest` (the default), `oldest` or `email`.
    sort: Option<String>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    /// 1 to 100; 50 by default.
    limit: Option<i64>,
}

/// A person to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPersonDoc {
    pub email: String,
    pub display_name: String,
    /// Whether the app checked that the person holds the address; false by default (they
    /// prove it at their first sign-in).
    #[serde(default)]
    pub email_verified: bool,
    /// A language tag the product speaks (`en`, `de`).
    pub locale: Option<String>,
}

/// What to change; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonChanges {
    pub display_name: Option<String>,
    /// A new address the app has checked; the old one is told.
    pub email: Option<String>,
}

/// Search people, a page at a time.
#[utoipa::path(get, path = "/api/v1/people", tag = "people",
    params(SearchQuery),
    responses((status = 200, body = Page<PersonSummary>), (status = 400, body = ProblemDoc)),
    security(("bearer" = ["users:read"])))]
pub async fn search_people(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    parts: Parts,
) -> Response {
    answer(
        async {
            caller.require("users:read")?;
            let asked: SearchQuery = wire::query(&parts.uri)?;
            let filters = search::Filters {
                text: asked.q.unwrap_or_default(),
                status: match asked.status.as_deref() {
                    None => None,
                    Some(s) => Some(search::Status::parse(s).ok_or_else(|| {
                        Problem::bad_request("status must be active, locked or password_locked.")
                    })?),
                },
                ..Default::default()
            };
            let sort = match asked.sort.as_deref() {
                None => search::Sort::default(),
                Some(s) => search::Sort::parse(s)
                    .ok_or_else(|| Problem::bad_request("sort must be newest, oldest or email."))?,
            };
            let limit = wire::limit(asked.limit, 50, search::MAX_PAGE)?;
            let unavailable = |e: &search::SearchError| *e == search::SearchError::Unavailable;
            let page = replica::read(&state, unavailable, |db| {
                search::search(db, &filters, sort, asked.cursor.as_deref(), limit)
            })
            .await
            .map_err(|e| match e {
                search::SearchError::Failed => Problem::failed(),
                search::SearchError::Unavailable => Problem::unavailable(),
                e => Problem::bad_request(e.to_string()),
            })?;
            let items = page
                .rows
                .iter()
                .map(|r| PersonSummary {
                    id: r.id,
                    email: r.email.clone(),
                    email_verified: r.verified,
                    display_name: r.display_name.clone(),
                    phone: r.phone.clone(),
                    active: !r.locked,
                    mfa: r.mfa,
                    created_at: wire::moment(r.created_at),
                    last_sign_in_at: r.last_sign_in_at.map(wire::moment),
                })
                .collect();
            Ok(wire::reply(
                StatusCode::OK,
                &Page {
                    items,
                    next_cursor: page.next,
                },
            ))
        }
        .await,
    )
}

/// The person a create made before, as the answer to the same create made again.
async fn replay(state: &AppState, done: &Done) -> Result<Response, Problem> {
    let person = match wire::created_id(done) {
        Some(id) => people::read(&state.db, id).await?,
        None => None,
    };
    let person = person.ok_or_else(|| Problem::gone_since("person"))?;
    created(&person, done.status)
}

fn created(person: &Person, status: i16) -> Result<Response, Problem> {
    let status = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::CREATED);
    let mut response = wire::reply_versioned(status, &PersonDoc::from(person), &person.version());
    let location = format!("/api/v1/people/{}", person.id);
    response.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&location).expect("a path"),
    );
    Ok(response)
}

/// Create a person (no password: they sign in by link, code, passkey or social account).
#[utoipa::path(post, path = "/api/v1/people", tag = "people",
    request_body = NewPersonDoc,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Sent again with the same body, answers as the first time and creates nothing")),
    responses((status = 201, body = PersonDoc), (status = 409, body = ProblemDoc),
        (status = 422, body = ProblemDoc)),
    security(("bearer" = ["users:write"])))]
pub async fn create_person(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    parts: Parts,
    body: Bytes,
) -> Response {
    answer(
        async {
            caller.require("users:write")?;
            let retry = wire::Retry::of(&parts.headers, parts.uri.path(), &body)?;
            let input: NewPersonDoc = wire::json_body(&parts.headers, &body)?;
            let new = NewPerson {
                email: Email::parse(&input.email)
                    .map_err(|e| Problem::invalid_field("email", e.to_string()))?,
                display_name: DisplayName::parse(&input.display_name)
                    .map_err(|e| Problem::invalid_field("display_name", e.to_string()))?,
                email_verified: input.email_verified,
                locale: match input.locale.as_deref() {
                    None => None,
                    Some(tag) => Some(
                        app::domain::preferences::locale_of(tag)
                            .ok_or_else(|| {
                                Problem::invalid_field(
                                    "locale",
                                    "not a language the product speaks",
                                )
                            })?
                            .to_owned(),
                    ),
                },
            };
            let mut tx = state.db.begin().await?;
            if let Some(done) = retry.earlier(&mut tx, &caller.client_id).await? {
                tx.rollback().await?;
                return replay(&state, &done).await;
            }
            let client = ClientInfo::from_parts(&parts);
            let id = people::create(&mut tx, &caller.actor(), &client, &new)
                .await
                .map_err(account_problem)?;
            retry
                .remember(
                    &mut tx,
                    &caller.client_id,
                    &format!("/api/v1/people/{id}"),
                    Some(id),
                )
                .await?;
            let person = people::read(&mut *tx, id)
                .await?
                .ok_or_else(Problem::failed)?;
            tx.commit().await?;
            created(&person, 201)
        }
        .await,
    )
}

/// Read a person, with their version as ETag.
#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "people",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PersonDoc, headers(("ETag" = String))),
        (status = 404, body = ProblemDoc)),
    security(("bearer" = ["users:read"])))]
pub async fn read_person(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    answer(
        async {
            caller.require("users:read")?;
            let id = wire::parse_id(&id, "person")?;
            let person = people::read(&state.db, id)
                .await?
                .ok_or_else(|| Problem::not_found("person"))?;
            Ok(wire::reply_versioned(
                StatusCode::OK,
                &PersonDoc::from(&person),
                &person.version(),
            ))
        }
        .await,
    )
}

/// Change a person's name or address, if unchanged since the version read (If-Match).
#[utoipa::path(patch, path = "/api/v1/people/{id}", tag = "people",
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "The ETag read")),
    request_body = PersonChanges,
    responses((status = 200, body = PersonDoc), (status = 404, body = ProblemDoc),
        (status = 412, body = ProblemDoc, description = "Changed since: `current` holds what the person is now"),
        (status = 428, body = ProblemDoc)),
    security(("bearer" = ["users:write"])))]
pub async fn update_person(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    parts: Parts,
    body: Bytes,
) -> Response {
    answer(
        async {
            caller.require("users:write")?;
            let id = wire::parse_id(&id, "person")?;
            let expected = wire::if_match(&parts.headers)?;
            let input: PersonChanges = wire::json_body(&parts.headers, &body)?;
            let changes = Changes {
                display_name: input
                    .display_name
                    .as_deref()
                    .map(DisplayName::parse)
                    .transpose()
                    .map_err(|e| Problem::invalid_field("display_name", e.to_string()))?,
                email: input
                    .email
                    .as_deref()
                    .map(Email::parse)
                    .transpose()
                    .map_err(|e| Problem::invalid_field("email", e.to_string()))?,
            };
            let client = ClientInfo::from_parts(&parts);
            let reason = people::default_reason(&caller.client_id);
            let request = actions::Request {
                actor: caller.actor(),
                client: &client,
                user_id: id,
                reason: &reason,
            };
            match people::update(&state, &request, &expected, &changes).await {
                Ok(person) => {
                    state.mail_queued.notify_one();
                    Ok(wire::reply_versioned(
                        StatusCode::OK,
                        &PersonDoc::from(&person),
                        &person.version(),
                    ))
                }
                Err(UpdateError::NotFound) => Err(Problem::not_found("person")),
                Err(UpdateError::Stale(now)) => Err(Problem::stale(
                    "person",
                    PersonDoc::from(now.as_ref()),
                    &now.version(),
                )),
                Err(UpdateError::Account(e)) => Err(account_problem(e)),
            }
        }
        .await,
    )
}

/// Delete a person: every sign-in ends, apps are told, the account and all that hangs on it go.
#[utoipa::path(delete, path = "/api/v1/people/{id}", tag = "people",
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted: every sign-in ended, apps told"),
        (status = 404, body = ProblemDoc)),
    security(("bearer" = ["users:write"])))]
pub async fn delete_person(
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
            actions::delete(&state, &request)
                .await
                .map_err(account_problem)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}

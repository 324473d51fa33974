//! RFC 9457 problem details (`application/problem+json`), the one error shape of `/api/v1`:
//! a `type` URN per kind of problem, a title, the status, a detail in words, and for some
//! kinds extra members (the current version of what a stale `If-Match` missed, the fields a
//! body got wrong). Never cached.

use axum::{
    http::{header, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use app::domain::{
    email::EmailError,
    error::{database_unavailable, sqlx_unavailable, AccountError},
};

use crate::{oidc::form::no_store, security::api_status::RETRY_AFTER_SECS};

/// An RFC 9457 problem (small, so that results carrying it stay cheap to move).
#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub kind: &'static str,
    pub title: &'static str,
    more: Box<More>,
}

/// What a problem says beyond its kind.
#[derive(Debug)]
struct More {
    detail: String,
    /// Members beyond the standard ones.
    extra: Map<String, Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// The problem document, as the OpenAPI document describes it.
#[derive(Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct ProblemDoc {
    /// `urn:keyhaven:problem:<kind>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            kind,
            title,
            more: Box::new(More {
                detail: detail.into(),
                extra: Map::new(),
                headers: Vec::new(),
            }),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "Invalid request",
            detail,
        )
    }

    /// A body field that is missing or wrong: 422, naming the field.
    pub fn invalid_field(field: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "A field is not valid",
            format!("{field}: {detail}"),
        )
        .with("errors", json!([{ "field": field, "detail": detail }]))
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!("No {what} has this id."),
        )
    }

    pub fn conflict(kind: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, kind, title, detail)
    }

    /// 412: `what` changed since the version in `If-Match`; `current` (with its `ETag`) is what
    /// it is now, so the caller can redo the change without another read.
    pub fn stale(what: &str, current: impl Serialize, version: &str) -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "stale-version",
            "Changed since you read it",
            format!(
                "The {what} changed since the version in If-Match; read it again and redo the change."
            ),
        )
        .with(
            "current",
            serde_json::to_value(current).unwrap_or_default(),
        )
        .header(header::ETAG, super::wire::etag(version))
    }

    /// 422: an `Idempotency-Key` sent again with another request.
    pub fn key_reused() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency-key-reused",
            "Idempotency-Key already used",
            "This key was used for a different request; use a new key.",
        )
    }

    /// 409: a create sent again after what it created was deleted.
    pub fn gone_since(what: &str) -> Self {
        Self::conflict(
            "gone-since",
            "Created, then deleted",
            format!("The {what} this key created has been deleted since."),
        )
    }

    /// Something failed on our side (already logged by the caller).
    pub fn failed() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server-error",
            "The request could not be completed",
            "Something went wrong on our side; try again.",
        )
    }

    /// 503 with `Retry-After`: the database cannot serve right now (down, restarting,
    /// read-only); the same request may succeed in a moment.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Briefly unavailable",
            app::domain::error::UNAVAILABLE_TEXT,
        )
        .header(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECS),
        )
    }

    /// Adds the member `name`.
    pub fn with(mut self, name: &str, value: Value) -> Self {
        self.more.extra.insert(name.into(), value);
        self
    }

    /// Adds a response header.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.more.headers.push((name, value));
        self
    }
}

impl From<sqlx::Error> for Problem {
    fn from(e: sqlx::Error) -> Self {
        if sqlx_unavailable(&e) {
            tracing::warn!(error = %e, "management API: the database cannot serve");
            return Self::unavailable();
        }
        tracing::error!(error = %e, "management API database error");
        Self::failed()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": format!("urn:keyhaven:problem:{}", self.kind),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.more.detail,
        });
        if let Value::Object(members) = &mut body {
            members.extend(self.more.extra);
        }
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        for (name, value) in self.more.headers {
            headers.insert(name, value);
        }
        no_store(response)
    }
}

/// Problems of the account operations.
pub fn account_problem(error: AccountError) -> Problem {
    match error {
        AccountError::Email(EmailError::InUse) => Problem::conflict(
            "email-taken",
            "Address in use",
            "Another account uses this address.",
        ),
        AccountError::Email(e) => Problem::invalid_field("email", e.to_string()),
        AccountError::DisplayName(e) => Problem::invalid_field("display_name", e.to_string()),
        AccountError::NoSuchAccount | AccountError::NotFound => Problem::not_found("person"),
        AccountError::ReasonNeeded => {
            Problem::invalid_field("reason", "give a reason of 1 to 500 characters")
        }
        AccountError::Unexpected(e) if database_unavailable(&e) => {
            tracing::warn!(error = ?e, "management API: the database cannot serve");
            Problem::unavailable()
        }
        e => {
            tracing::error!(error = ?e, "management API account operation failed");
            Problem::failed()
        }
    }
}

/// The answer `result` makes.
pub fn answer(result: Result<Response, Problem>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

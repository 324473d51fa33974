//! SCIM error responses (RFC 7644 §3.12): `{"schemas": [Error], "status": "400", "scimType",
//! "detail"}` as `application/scim+json`; a 401 also says `WWW-Authenticate: Bearer`.
//! Unexpected failures are logged and answered 500 without detail; a database that cannot
//! serve, 503 with `Retry-After`.

use app::domain::{
    error::{database_unavailable, sqlx_unavailable},
    scim::ScimError,
};
use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{json, Value};

use crate::security::api_status::RETRY_AFTER_SECS;

/// The error message schema.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// What every SCIM body is.
pub const SCIM_JSON: &str = "application/scim+json";

/// A refusal, as the client reads it.
#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            None,
            "A valid provisioning token is required (Authorization: Bearer).",
        )
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, detail)
    }

    /// The database cannot serve right now; answered with `Retry-After`.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            app::domain::error::UNAVAILABLE_TEXT,
        )
    }

    pub fn syntax(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidSyntax"), detail)
    }

    pub fn body(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = json!(scim_type);
        }
        body
    }
}

/// `body` as `application/scim+json`.
pub fn scim_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = scim_json(self.status, &self.body());
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"scim\""),
            );
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        response
    }
}

impl From<ScimError> for Problem {
    fn from(error: ScimError) -> Self {
        match error {
            ScimError::Invalid { scim_type, detail } => {
                Self::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
            }
            ScimError::NotFound(detail) => Self::not_found(detail),
            ScimError::Conflict(detail) => {
                Self::new(StatusCode::CONFLICT, Some("uniqueness"), detail)
            }
            ScimError::Changed => Self::new(
                StatusCode::PRECONDITION_FAILED,
                None,
                "The resource changed since the version named in If-Match.",
            ),
            ScimError::Database(e) if sqlx_unavailable(&e) => {
                tracing::warn!(error = %e, "SCIM: the database cannot serve");
                Self::unavailable()
            }
            ScimError::Other(e) if database_unavailable(&e) => {
                tracing::warn!(error = ?e, "SCIM: the database cannot serve");
                Self::unavailable()
            }
            error => {
                tracing::error!(error = ?error, "SCIM request failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    None,
                    "Something went wrong on our side; try again.",
                )
            }
        }
    }
}

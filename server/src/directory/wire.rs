//! The management API's conventions on the wire, shared by its resources: JSON bodies read
//! into problems rather than bare rejections, ids in paths, versions as `ETag` and their
//! `If-Match` preconditions, `Idempotency-Key`, cursors, timestamps (RFC 3339), and answers that
//! are never cached.

use app::domain::directory::idempotency::{self, Done, Seen};
use axum::{
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::{de::DeserializeOwned, Serialize};
use sqlx::PgConnection;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use super::problem::Problem;
use crate::oidc::form::no_store;

/// The largest body taken.
pub const MAX_BODY: usize = 64 * 1024;

/// `body` as a `T`, or the problem saying what is wrong with it.
pub fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, Problem> {
    if body.len() > MAX_BODY {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Request too large",
            format!("The body may hold at most {MAX_BODY} bytes."),
        ));
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v == "application/json" || v == "application/merge-patch+json");
    if !json {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "The body must be JSON (Content-Type: application/json).",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-field",
                "A field is not valid",
                e.to_string(),
            )
        } else {
            Problem::bad_request(format!("The body is not valid JSON: {e}"))
        }
    })
}

/// The id in a path, or 404 naming `what` (an id that cannot be one names nothing).
pub fn parse_id(raw: &str, what: &str) -> Result<Uuid, Problem> {
    raw.parse().map_err(|_| Problem::not_found(what))
}

/// A version as an `ETag` value (strong: it changes with every byte the representation shows).
pub fn etag(version: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("a version is hex")
}

/// The version an update is made against (`If-Match`), required: without it a concurrent
/// change would be lost (RFC 6585 §3, 428).
pub fn if_match(headers: &HeaderMap) -> Result<String, Problem> {
    let raw = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            Problem::new(
                StatusCode::PRECONDITION_REQUIRED,
                "precondition-required",
                "If-Match required",
                "Send the ETag of the version you read as If-Match.",
            )
        })?;
    let raw = raw.trim();
    let raw = raw.strip_prefix("W/").unwrap_or(raw);
    Ok(raw.trim_matches('"').to_owned())
}

/// A create's `Idempotency-Key` (if sent; refused when malformed) and what identifies the
/// request it came with. Claimed in the create's own transaction: see
/// `app::domain::directory::idempotency`.
pub struct Retry {
    /// The key and the fingerprint of the request it came with; `None` without a key.
    keyed: Option<(String, Vec<u8>)>,
}

impl Retry {
    pub fn of(headers: &HeaderMap, path: &str, body: &[u8]) -> Result<Self, Problem> {
        let Some(raw) = headers.get("idempotency-key") else {
            return Ok(Self { keyed: None });
        };
        let key = raw
            .to_str()
            .ok()
            .and_then(idempotency::parse_key)
            .ok_or_else(|| {
                Problem::bad_request("Idempotency-Key must be 1 to 255 visible ASCII characters.")
            })?;
        let fingerprint = idempotency::fingerprint("POST", path, body);
        Ok(Self {
            keyed: Some((key, fingerprint)),
        })
    }

    /// What the same request under this key created before (answer as then), or `None` to go
    /// ahead; the key used for another request is refused. Holds the key until `tx` ends.
    pub async fn earlier(
        &self,
        tx: &mut PgConnection,
        client_id: &str,
    ) -> Result<Option<Done>, Problem> {
        let Some((key, fingerprint)) = &self.keyed else {
            return Ok(None);
        };
        match idempotency::seen(tx, client_id, key, fingerprint).await? {
            Seen::New => Ok(None),
            Seen::Again(done) => Ok(Some(done)),
            Seen::Mismatch => Err(Problem::key_reused()),
        }
    }

    /// Records, in the create's transaction, that this key created what `location` names.
    pub async fn remember(
        &self,
        tx: &mut PgConnection,
        client_id: &str,
        location: &str,
        person: Option<Uuid>,
    ) -> Result<(), Problem> {
        if let Some((key, fingerprint)) = &self.keyed {
            let done = Done {
                location: location.to_owned(),
                status: 201,
            };
            idempotency::remember(tx, client_id, key, fingerprint, &done, person).await?;
        }
        Ok(())
    }
}

/// The id at the end of a created resource's location.
pub fn created_id(done: &Done) -> Option<Uuid> {
    done.location.rsplit('/').next()?.parse().ok()
}

/// `at` in RFC 3339.
pub fn moment(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// A JSON answer with `status`, never cached.
pub fn reply<T: Serialize>(status: StatusCode, body: &T) -> Response {
    no_store((status, axum::Json(body)).into_response())
}

/// A JSON answer with its version.
pub fn reply_versioned<T: Serialize>(status: StatusCode, body: &T, version: &str) -> Response {
    let mut response = reply(status, body);
    response.headers_mut().insert(header::ETAG, etag(version));
    response
}

/// One page of a list, and the cursor of the next page when there is one.
#[derive(Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A page size asked for: 1 to `max`, `default` when not given.
pub fn limit(asked: Option<i64>, default: i64, max: i64) -> Result<i64, Problem> {
    match asked {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(Problem::bad_request(format!("limit must be 1 to {max}."))),
    }
}

/// The query string as a `T`, or the problem saying what is wrong with it.
pub fn query<T: DeserializeOwned>(uri: &axum::http::Uri) -> Result<T, Problem> {
    axum::extract::Query::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| Problem::bad_request(format!("The query is not valid: {}", e.body_text())))
}

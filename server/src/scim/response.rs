//! What the resource endpoints share: the JSON body read, the list parameters (from the query
//! or a `/.search` body), `attributes` and `excludedAttributes` applied to a representation,
//! list responses, and single resources with their `ETag` (and `304` for a matching
//! `If-None-Match`).

use std::collections::HashMap;

use app::domain::scim::{
    filter::strip_urn,
    query::{Column, ListRequest},
    LIST_SCHEMA,
};
use axum::{
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{json, Map, Value};

use super::error::{scim_json, Problem};

/// The service's `/scim/v2` URL, as resources' locations name it.
pub fn base(state: &app::state::AppState) -> String {
    format!(
        "{}{}",
        state.settings.public_url.trim_end_matches('/'),
        super::PREFIX
    )
}

/// The request's JSON body (`application/scim+json`, or plain JSON).
pub fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, Problem> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if let Some(kind) = kind {
        if kind != "application/scim+json" && kind != "application/json" {
            return Err(Problem::syntax("The body must be application/scim+json."));
        }
    }
    serde_json::from_slice(body).map_err(|e| Problem::syntax(format!("The body is not JSON: {e}")))
}

/// The header `name` as text.
pub fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Which attributes to return.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    attributes: Vec<String>,
    excluded: Vec<String>,
}

fn names(raw: Option<&str>) -> Vec<String> {
    raw.unwrap_or_default()
        .split(',')
        .map(|n| strip_urn(n.trim()).to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect()
}

impl Projection {
    pub fn new(attributes: Option<&str>, excluded: Option<&str>) -> Self {
        Self {
            attributes: names(attributes),
            excluded: names(excluded),
        }
    }

    /// `doc` with only the attributes asked for (`id` and `schemas` always), less those
    /// excluded.
    pub fn apply(&self, doc: Value) -> Value {
        let Value::Object(fields) = doc else {
            return doc;
        };
        let mut out = Map::new();
        for (key, value) in fields {
            let k = key.to_ascii_lowercase();
            let always = k == "id" || k == "schemas";
            if !always && self.excluded.contains(&k) {
                continue;
            }
            if always || self.attributes.is_empty() || self.attributes.contains(&k) {
                out.insert(key, value);
                continue;
            }
            // `name.givenName` asks for that part of `name` only.
            let subs: Vec<&str> = self
                .attributes
                .iter()
                .filter_map(|a| a.strip_prefix(&format!("{k}.")))
                .collect();
            if subs.is_empty() {
                continue;
            }
            let keep = |v: &Value| -> Value {
                match v {
                    Value::Object(o) => Value::Object(
                        o.iter()
                            .filter(|(s, _)| subs.contains(&s.to_ascii_lowercase().as_str()))
                            .map(|(s, v)| (s.clone(), v.clone()))
                            .collect(),
                    ),
                    other => other.clone(),
                }
            };
            let kept = match &value {
                Value::Array(items) => Value::Array(items.iter().map(keep).collect()),
                other => keep(other),
            };
            out.insert(key, kept);
        }
        Value::Object(out)
    }
}

/// A list request's parameters, from the query string (names ignoring case).
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn from_query(query: HashMap<String, String>) -> Self {
        Self(
            query
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
        )
    }

    /// From a `/.search` body: strings, numbers and arrays of names.
    pub fn from_search(body: &Value) -> Result<Self, Problem> {
        let Value::Object(fields) = body else {
            return Err(Problem::syntax("A search request is a JSON object."));
        };
        let mut params = HashMap::new();
        for (key, value) in fields {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
                _ => continue,
            };
            params.insert(key.to_ascii_lowercase(), text);
        }
        Ok(Self(params))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    pub fn list_request(&self, columns: &[Column]) -> Result<ListRequest, Problem> {
        Ok(ListRequest::parse(
            self.get("filter"),
            self.get("sortBy"),
            self.get("sortOrder"),
            self.get("startIndex"),
            self.get("count"),
            columns,
        )?)
    }

    pub fn projection(&self) -> Projection {
        Projection::new(self.get("attributes"), self.get("excludedAttributes"))
    }
}

/// A ListResponse (RFC 7644 §3.4.2).
pub fn list_response(total: i64, start: i64, resources: Vec<Value>) -> Response {
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }),
    )
}

/// One resource with its `ETag` (and its `Location` when created).
pub fn resource(status: StatusCode, doc: Value, projection: &Projection) -> Response {
    let version = doc["meta"]["version"].as_str().map(str::to_owned);
    let location = doc["meta"]["location"].as_str().map(str::to_owned);
    let mut response = scim_json(status, &projection.apply(doc));
    let headers = response.headers_mut();
    if let Some(tag) = version.and_then(|v| HeaderValue::from_str(&v).ok()) {
        headers.insert(header::ETAG, tag);
    }
    if status == StatusCode::CREATED {
        if let Some(at) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(header::LOCATION, at);
        }
    }
    response
}

/// A GET's answer: `304` when `If-None-Match` names the current version.
pub fn fetched(headers: &HeaderMap, doc: Value, projection: &Projection) -> Response {
    let current = doc["meta"]["version"].as_str().unwrap_or_default();
    let unchanged = header_text(headers, header::IF_NONE_MATCH).is_some_and(|tags| {
        tags.split(',')
            .any(|t| t.trim() == current || t.trim() == "*")
    });
    if unchanged {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(tag) = HeaderValue::from_str(current) {
            response.headers_mut().insert(header::ETAG, tag);
        }
        return response;
    }
    resource(StatusCode::OK, doc, projection)
}

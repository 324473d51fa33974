//! `GET /admin/audit/export?format=csv|json&<the viewer's filter>`: the audit viewer's filtered
//! view as a file. Staff with `audit.export` only, after a recent second factor (a bulk read of
//! personal data); every export is itself audited with its filter and row count.

use app::{
    api::console::audit::{filter, AuditQuery},
    domain::{
        audit::{self, query, Actor, AuditEvent, Outcome},
        client::ClientInfo,
        error::UNAVAILABLE_TEXT,
        replica,
        staff::Permission,
    },
    state::AppState,
};
use axum::{
    extract::{Query, Request, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use crate::staff_gate::{allow, plain};

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/admin/audit/export", get(export))
        .with_state(state)
}

#[derive(Debug, Deserialize)]
struct ExportQuery {
    #[serde(default)]
    format: String,
    #[serde(flatten)]
    filter: AuditQuery,
}

async fn export(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<ExportQuery>,
    request: Request,
) -> Response {
    let client = ClientInfo::from_parts(&request.into_parts().0);
    let json_wanted = match query.format.as_str() {
        "" | "csv" => false,
        "json" => true,
        _ => return plain(StatusCode::BAD_REQUEST, "format: csv or json"),
    };
    let user_id = match allow(
        &state,
        &session,
        &client,
        Permission::AuditExport,
        Some("/admin/audit"),
    )
    .await
    {
        Ok(id) => id,
        Err(refused) => return refused,
    };
    let filter = match filter(&state.db, &query.filter).await {
        Ok(filter) => filter,
        Err(e) => return plain(StatusCode::BAD_REQUEST, e.to_string()),
    };
    // The trail may lag by the replica's lag (`domain::replica`).
    let unavailable = query::FilterError::is_unavailable;
    let entries = match replica::read(&state, unavailable, |db| query::all(db, &filter)).await {
        Ok(entries) => entries,
        Err(query::FilterError::Unavailable) => {
            let mut busy = plain(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE_TEXT);
            busy.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from_static(crate::security::api_status::RETRY_AFTER_SECS),
            );
            return busy;
        }
        Err(_) => return plain(StatusCode::INTERNAL_SERVER_ERROR, "try again"),
    };
    let event = AuditEvent::new("audit.exported", Outcome::Success)
        .by_actor(Actor::Person(user_id))
        .detail(json!({
            "format": if json_wanted { "json" } else { "csv" },
            "rows": entries.len(),
            "filter": serde_json::to_value(&query.filter).unwrap_or_default(),
        }));
    if let Err(e) = audit::record(&state.db, &client, event).await {
        tracing::error!(error = %e, "auditing an export failed");
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "try again");
    }
    let (body, kind, name) = if json_wanted {
        (
            serde_json::to_string(&entries).unwrap_or_default(),
            "application/json",
            "audit.json",
        )
    } else {
        (query::csv(&entries), "text/csv; charset=utf-8", "audit.csv")
    };
    (
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

//! The audit viewer: the trail filtered by actor, customer, action, outcome, network and time,
//! a page at a time. The export of the same view is served by the server (`/admin/audit/export`)
//! through [`filter`] and audited there.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::error::AppError;

/// The viewer's filter form; every field may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// An address, an id, `cli` or `system`.
    #[serde(default)]
    pub actor: String,
    /// The customer's address or id.
    #[serde(default)]
    pub customer: String,
    /// `signin.failed`, or an area: `signin.`.
    #[serde(default)]
    pub action: String,
    /// `success`, `failure`, or empty.
    #[serde(default)]
    pub outcome: String,
    /// An address or a CIDR network.
    #[serde(default)]
    pub network: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// The last id of the previous page.
    #[serde(default)]
    pub before: String,
}

/// One row of the viewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub subject: String,
    pub action: String,
    pub outcome: String,
    pub ip: String,
    pub detail: String,
}

/// A page of the viewer, and the cursor of the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub next: Option<i64>,
}

/// The domain's filter for the form, or the field that is wrong.
#[cfg(feature = "ssr")]
pub async fn filter(
    db: &sqlx::PgPool,
    q: &AuditQuery,
) -> Result<crate::domain::audit::query::Filter, AppError> {
    use crate::domain::audit::query::{self, ActorFilter, Filter, FilterError};
    let field = |name: &'static str| {
        move |e: FilterError| match e {
            FilterError::Failed => AppError::Internal,
            FilterError::Unavailable => AppError::Unavailable,
            other => AppError::field(name, other.to_string()),
        }
    };
    let day = |raw: &str, name: &str| -> Result<Option<time::Date>, AppError> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        match raw.trim() {
            "" => Ok(None),
            other => time::Date::parse(other, &format)
                .map(Some)
                .map_err(|_| AppError::field(name, "Give a day as YYYY-MM-DD.")),
        }
    };
    let actor = match q.actor.trim() {
        label @ ("cli" | "system") => Some(ActorFilter::Label(label.to_owned())),
        other => query::person(db, other, "actor")
            .await
            .map_err(field("actor"))?
            .map(ActorFilter::Person),
    };
    Ok(Filter {
        actor,
        subject: query::person(db, &q.customer, "customer")
            .await
            .map_err(field("customer"))?,
        action: query::action(&q.action).map_err(field("action"))?,
        failures_only: match q.outcome.trim() {
            "" | "any" => None,
            "failure" => Some(true),
            "success" => Some(false),
            _ => return Err(AppError::field("outcome", "Choose success or failure.")),
        },
        network: query::network(&q.network).map_err(field("network"))?,
        from: day(&q.from, "from")?,
        to: day(&q.to, "to")?,
    })
}

/// A page of the audit trail, filtered.
#[server(prefix = "/api", endpoint = "console/audit")]
pub async fn read_audit(query: AuditQuery) -> Result<AuditPage, AppError> {
    use crate::domain::{
        audit::query::{self, FilterError},
        replica,
        staff::Permission,
    };
    let allowed = super::guard(Permission::AuditRead).await?;
    let filter = filter(&allowed.state.db, &query).await?;
    let before = match query.before.trim() {
        "" => None,
        raw => Some(
            raw.parse::<i64>()
                .map_err(|_| AppError::Refused("That page link is not valid.".into()))?,
        ),
    };
    // The trail may lag by the replica's lag (`domain::replica`).
    let (entries, next) = replica::read(&allowed.state, FilterError::is_unavailable, |db| {
        query::page(db, &filter, before)
    })
    .await
    .map_err(|e| match e {
        FilterError::Unavailable => AppError::Unavailable,
        _ => AppError::Internal,
    })?;
    Ok(AuditPage {
        rows: entries
            .into_iter()
            .map(|e| AuditRow {
                id: e.id,
                at: super::moment(e.at),
                actor: e.actor.unwrap_or_default(),
                subject: e.subject.unwrap_or_default(),
                action: e.action,
                outcome: e.outcome,
                ip: e.ip.unwrap_or_default(),
                detail: e.detail.to_string(),
            })
            .collect(),
        next,
    })
}

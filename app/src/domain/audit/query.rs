//! Reading the audit trail: filter by actor, customer, action, outcome, network and time;
//! a page at a time by id (newest first, cursor = the last id seen); and the filtered view as
//! CSV or JSON for export (the export itself is audited by its caller).

use serde::Serialize;
use sqlx::{PgPool, Postgres, QueryBuilder};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::domain::{email::Email, users};

/// Most rows one export holds.
pub const EXPORT_LIMIT: i64 = 100_000;
/// Most rows on a page.
pub const PAGE: i64 = 50;

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorFilter {
    Person(Uuid),
    /// `cli` or `system`.
    Label(String),
}

/// What to keep. `None` keeps everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub actor: Option<ActorFilter>,
    pub subject: Option<Uuid>,
    /// An action (`signin.failed`), or every action of an area (`signin.`).
    pub action: Option<String>,
    pub failures_only: Option<bool>,
    /// A network in CIDR notation, or one address.
    pub network: Option<String>,
    pub from: Option<Date>,
    pub to: Option<Date>,
}

/// Why a filter was refused, with the field it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("No account uses that address.")]
    UnknownPerson(&'static str),
    #[error("Give an address like 203.0.113.7 or a network like 203.0.113.0/24.")]
    BadNetwork,
    #[error("Give an action like signin.failed, or an area like signin.")]
    BadAction,
    #[error("the audit trail could not be read")]
    Failed,
    /// The database cannot serve right now (`error::sqlx_unavailable`).
    #[error("the audit trail is briefly unavailable")]
    Unavailable,
}

impl FilterError {
    /// Whether the database could not serve (what `replica::read` falls back on).
    pub fn is_unavailable(&self) -> bool {
        *self == Self::Unavailable
    }
}

/// A person named by id or address, as typed into a filter.
pub async fn person(
    db: &PgPool,
    raw: &str,
    field: &'static str,
) -> Result<Option<Uuid>, FilterError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    if let Ok(id) = Uuid::parse_str(raw) {
        return Ok(Some(id));
    }
    let email = Email::parse(raw).map_err(|_| FilterError::UnknownPerson(field))?;
    let user = users::find_by_email(db, &email).await.map_err(|e| {
        tracing::error!(error = %e, "audit filter lookup failed");
        FilterError::Failed
    })?;
    user.map(|u| Some(u.id))
        .ok_or(FilterError::UnknownPerson(field))
}

/// `raw` as a network (CIDR) when it is one; a bare address is a /32 or /128.
pub fn network(raw: &str) -> Result<Option<String>, FilterError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let (addr, len) = raw.split_once('/').unwrap_or((raw, ""));
    let addr: std::net::IpAddr = addr.parse().map_err(|_| FilterError::BadNetwork)?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len: u8 = if len.is_empty() {
        max
    } else {
        len.parse().map_err(|_| FilterError::BadNetwork)?
    };
    if len > max {
        return Err(FilterError::BadNetwork);
    }
    Ok(Some(format!("{addr}/{len}")))
}

/// `raw` as an action filter: lower-case letters, digits, `_` and dots.
pub fn action(raw: &str) -> Result<Option<String>, FilterError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let fine = raw.len() <= 80
        && raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
    if !fine {
        return Err(FilterError::BadAction);
    }
    Ok(Some(raw.to_owned()))
}

/// One audit row as the viewer and the export show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The actor's address, `cli`, `system`, or an id whose account is gone.
    pub actor: Option<String>,
    /// The address of the person concerned, or their id when the account is gone.
    pub subject: Option<String>,
    pub action: String,
    pub outcome: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: serde_json::Value,
}

fn query<'a>(filter: &'a Filter, before: Option<i64>) -> QueryBuilder<'a, Postgres> {
    let mut q = QueryBuilder::new(
        "SELECT e.id, e.at, COALESCE(a.email, e.actor, e.actor_id::text) AS actor,
                COALESCE(s.email, e.subject_id::text) AS subject, e.action, e.outcome, e.ip,
                e.user_agent, e.detail
         FROM audit_events e
         LEFT JOIN users a ON a.id = e.actor_id
         LEFT JOIN users s ON s.id = e.subject_id
         WHERE true",
    );
    match &filter.actor {
        Some(ActorFilter::Person(id)) => {
            q.push(" AND e.actor_id = ").push_bind(*id);
        }
        Some(ActorFilter::Label(label)) => {
            q.push(" AND e.actor = ").push_bind(label.clone());
        }
        None => {}
    }
    if let Some(id) = filter.subject {
        q.push(" AND e.subject_id = ").push_bind(id);
    }
    if let Some(action) = &filter.action {
        if action.ends_with('.') {
            q.push(" AND e.action LIKE ")
                .push_bind(format!("{}%", action.replace('_', "\\_")));
        } else {
            q.push(" AND e.action = ").push_bind(action.clone());
        }
    }
    match filter.failures_only {
        Some(true) => {
            q.push(" AND e.outcome = 'failure'");
        }
        Some(false) => {
            q.push(" AND e.outcome = 'success'");
        }
        None => {}
    }
    if let Some(network) = &filter.network {
        // Addresses are written by the service from parsed IPs, so each casts to inet.
        q.push(" AND e.ip IS NOT NULL AND e.ip::inet <<= ")
            .push_bind(network.clone())
            .push("::cidr");
    }
    if let Some(day) = filter.from {
        q.push(" AND e.at >= ")
            .push_bind(day.midnight().assume_utc());
    }
    if let Some(day) = filter.to.and_then(Date::next_day) {
        q.push(" AND e.at < ")
            .push_bind(day.midnight().assume_utc());
    }
    if let Some(id) = before {
        q.push(" AND e.id < ").push_bind(id);
    }
    q.push(" ORDER BY e.id DESC");
    q
}

fn failed(e: sqlx::Error) -> FilterError {
    if crate::domain::error::sqlx_unavailable(&e) {
        return FilterError::Unavailable;
    }
    tracing::error!(error = %e, "reading the audit trail failed");
    FilterError::Failed
}

/// A page of entries matching `filter`, newest first, older than `before`; and the cursor of
/// the next page.
pub async fn page(
    db: &PgPool,
    filter: &Filter,
    before: Option<i64>,
) -> Result<(Vec<Entry>, Option<i64>), FilterError> {
    let mut q = query(filter, before);
    q.push(" LIMIT ").push_bind(PAGE + 1);
    let mut rows: Vec<Entry> = q.build_query_as().fetch_all(db).await.map_err(failed)?;
    let next = if rows.len() as i64 > PAGE {
        rows.truncate(PAGE as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok((rows, next))
}

/// Every entry matching `filter`, newest first, at most [`EXPORT_LIMIT`].
pub async fn all(db: &PgPool, filter: &Filter) -> Result<Vec<Entry>, FilterError> {
    let mut q = query(filter, None);
    q.push(" LIMIT ").push_bind(EXPORT_LIMIT);
    q.build_query_as().fetch_all(db).await.map_err(failed)
}

/// One CSV cell: quoted when it must be, and a leading `=`, `+`, `-` or `@` defused so that a
/// spreadsheet does not run it as a formula (OWASP CSV injection).
fn cell(value: &str) -> String {
    let value = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The entries as CSV, with a header line.
pub fn csv(entries: &[Entry]) -> String {
    let mut out = String::from("id,at,actor,subject,action,outcome,ip,user_agent,detail\n");
    for e in entries {
        let at =
            e.at.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
        let fields = [
            e.id.to_string(),
            at,
            e.actor.clone().unwrap_or_default(),
            e.subject.clone().unwrap_or_default(),
            e.action.clone(),
            e.outcome.clone(),
            e.ip.clone().unwrap_or_default(),
            e.user_agent.clone().unwrap_or_default(),
            e.detail.to_string(),
        ];
        let line: Vec<String> = fields.iter().map(|f| cell(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_is_an_address_or_a_cidr() {
        assert_eq!(
            network("203.0.113.0/24").unwrap().as_deref(),
            Some("203.0.113.0/24")
        );
        assert_eq!(
            network("203.0.113.7").unwrap().as_deref(),
            Some("203.0.113.7/32")
        );
        assert_eq!(
            network("2001:db8::/32").unwrap().as_deref(),
            Some("2001:db8::/32")
        );
        assert!(network("203.0.113.0/33").is_err());
        assert!(network("'; DROP TABLE").is_err());
        assert_eq!(network(" ").unwrap(), None);
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
    }

    #[test]
    fn an_action_filter_is_a_name() {
        assert_eq!(action("signin.").unwrap().as_deref(), Some("signin."));
        assert!(action("signin%").is_err());
    }
}

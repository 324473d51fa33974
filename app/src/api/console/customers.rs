//! Customers in the console: search, and one customer's record. Reads need `customers.read`;
//! the actions on an account are `customer_actions`'.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::error::AppError;

/// One customer in the search results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRow {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub created: String,
    pub last_sign_in: Option<String>,
    pub verified: bool,
    pub locked: bool,
    pub password_locked: bool,
    pub mfa: bool,
}

/// A page of results; `next` is the cursor of the following page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerPage {
    pub rows: Vec<CustomerRow>,
    pub next: Option<String>,
}

/// What the search form asks for; every field may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub verified: String,
    #[serde(default)]
    pub mfa: String,
    #[serde(default)]
    pub way_in: String,
    #[serde(default)]
    pub created_from: String,
    #[serde(default)]
    pub created_to: String,
    #[serde(default)]
    pub signed_in_from: String,
    #[serde(default)]
    pub signed_in_to: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub cursor: String,
}

#[cfg(feature = "ssr")]
fn filters(query: &CustomerQuery) -> Result<crate::domain::customers::search::Filters, AppError> {
    use crate::domain::customers::search::{Filters, Status, WayIn};
    fn choice<T>(
        raw: &str,
        field: &str,
        parse: fn(&str) -> Option<T>,
    ) -> Result<Option<T>, AppError> {
        match raw.trim() {
            "" | "any" => Ok(None),
            other => parse(other)
                .map(Some)
                .ok_or_else(|| AppError::field(field, "Choose one of the listed values.")),
        }
    }
    fn yes_no(raw: &str) -> Option<bool> {
        match raw {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        }
    }
    fn day(raw: &str, field: &str) -> Result<Option<time::Date>, AppError> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        match raw.trim() {
            "" => Ok(None),
            other => time::Date::parse(other, &format)
                .map(Some)
                .map_err(|_| AppError::field(field, "Give a day as YYYY-MM-DD.")),
        }
    }
    Ok(Filters {
        text: query.q.clone(),
        status: choice(&query.status, "status", Status::parse)?,
        verified: choice(&query.verified, "verified", yes_no)?,
        mfa: choice(&query.mfa, "mfa", yes_no)?,
        way_in: choice(&query.way_in, "way_in", WayIn::parse)?,
        created_from: day(&query.created_from, "created_from")?,
        created_to: day(&query.created_to, "created_to")?,
        signed_in_from: day(&query.signed_in_from, "signed_in_from")?,
        signed_in_to: day(&query.signed_in_to, "signed_in_to")?,
    })
}

/// Customers matching `query`, a page of 50 at a time.
#[server(prefix = "/api", endpoint = "console/customers")]
pub async fn search_customers(query: CustomerQuery) -> Result<CustomerPage, AppError> {
    use crate::domain::{
        customers::search::{self, SearchError, Sort},
        replica,
        staff::Permission,
    };
    let allowed = super::guard(Permission::CustomersRead).await?;
    let filters = filters(&query)?;
    let sort = match query.sort.trim() {
        "" => Sort::default(),
        other => {
            Sort::parse(other).ok_or_else(|| AppError::field("sort", "Choose a listed order."))?
        }
    };
    let unavailable = |e: &SearchError| *e == SearchError::Unavailable;
    let page = replica::read(&allowed.state, unavailable, |db| {
        search::search(db, &filters, sort, Some(&query.cursor), 50)
    })
    .await
    .map_err(|e| match e {
        SearchError::TextTooLong => AppError::field("q", e.to_string()),
        SearchError::BadCursor => AppError::Refused(e.to_string()),
        SearchError::Failed => AppError::Internal,
        SearchError::Unavailable => AppError::Unavailable,
    })?;
    Ok(CustomerPage {
        rows: page
            .rows
            .into_iter()
            .map(|r| CustomerRow {
                id: r.id.to_string(),
                email: r.email,
                display_name: r.display_name,
                phone: r.phone,
                created: super::moment(r.created_at),
                last_sign_in: r.last_sign_in_at.map(super::moment),
                verified: r.verified,
                locked: r.locked,
                password_locked: r.password_locked,
                mfa: r.mfa,
            })
            .collect(),
        next: page.next,
    })
}

/// One line of a list on the customer page: a title and what to say about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// An id an action can name (a passkey's), when there is one.
    pub id: Option<String>,
    pub title: String,
    pub detail: String,
}

/// Everything the customer page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerDetail {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub verified: bool,
    pub locked: bool,
    pub password_locked: bool,
    pub reset_required: bool,
    pub mfa_required: bool,
    pub has_password: bool,
    pub created: String,
    pub last_sign_in: Option<String>,
    pub totp: bool,
    pub recovery_codes_left: i64,
    pub passkeys: Vec<Line>,
    pub identities: Vec<Line>,
    pub sessions: Vec<Line>,
    pub apps: Vec<Line>,
    pub risk: Vec<Line>,
    pub audit: Vec<Line>,
}

#[cfg(feature = "ssr")]
pub(super) fn customer_id(raw: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(raw.trim()).map_err(|_| AppError::NotFound)
}

/// The record of one customer.
#[server(prefix = "/api", endpoint = "console/customer")]
pub async fn customer_record(id: String) -> Result<CustomerDetail, AppError> {
    use super::moment;
    use crate::domain::{customers::record, staff::Permission};
    let allowed = super::guard(Permission::CustomersRead).await?;
    let r = record::load(&allowed.state.db, customer_id(&id)?).await?;
    let when = |at: Option<time::OffsetDateTime>| at.map_or_else(|| "never".to_owned(), moment);
    Ok(CustomerDetail {
        id: r.user.id.to_string(),
        verified: r.user.is_verified(),
        locked: r.user.locked_at.is_some(),
        password_locked: r.user.password_locked_at.is_some(),
        reset_required: r.user.password_reset_required,
        mfa_required: r.user.mfa_required,
        has_password: r.user.password_hash.is_some(),
        created: moment(r.user.created_at),
        last_sign_in: r.user.last_sign_in_at.map(moment),
        totp: r.factors.totp,
        recovery_codes_left: r.factors.recovery_codes_left,
        passkeys: r
            .passkeys
            .iter()
            .map(|p| Line {
                id: Some(p.public_id()),
                title: p.name.clone(),
                detail: format!(
                    "added {}, last used {}",
                    moment(p.created_at),
                    when(p.last_used_at)
                ),
            })
            .collect(),
        identities: r
            .identities
            .into_iter()
            .map(|i| Line {
                id: None,
                title: i.provider_name,
                detail: format!(
                    "{} · linked {} · last used {}",
                    i.email.unwrap_or_default(),
                    moment(i.created_at),
                    when(i.last_used_at)
                ),
            })
            .collect(),
        sessions: r
            .sessions
            .into_iter()
            .map(|s| Line {
                id: None,
                title: s.method.unwrap_or_else(|| "signed in".into()),
                detail: format!(
                    "since {} · last seen {} · ends by {}",
                    when(s.signed_in_at),
                    when(s.last_seen_at),
                    moment(s.expires_at)
                ),
            })
            .collect(),
        apps: r
            .apps
            .into_iter()
            .map(|a| Line {
                id: None,
                title: a.client_name,
                detail: format!("{} · since {}", a.scopes.join(" "), moment(a.since)),
            })
            .collect(),
        risk: r
            .risk
            .into_iter()
            .map(|e| Line {
                id: None,
                title: format!("{} (score {})", e.decision, e.score),
                detail: format!(
                    "{} · {} {} · {}{}",
                    moment(e.created_at),
                    e.ip.unwrap_or_default(),
                    e.country.unwrap_or_default(),
                    reasons(&e.reasons),
                    if e.completed { " · signed in" } else { "" }
                ),
            })
            .collect(),
        audit: r
            .audit
            .into_iter()
            .map(|e| Line {
                id: None,
                title: format!("{} ({})", e.action, e.outcome),
                detail: format!(
                    "{} · by {} · {} · {}",
                    moment(e.at),
                    e.actor.unwrap_or_else(|| "them".into()),
                    e.ip.unwrap_or_default(),
                    e.detail
                ),
            })
            .collect(),
        email: r.user.email,
        display_name: r.user.display_name,
        phone: r.user.phone,
    })
}

/// The plain words of a risk assessment's signals.
#[cfg(feature = "ssr")]
fn reasons(value: &serde_json::Value) -> String {
    value
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|r| r.get("words").and_then(|w| w.as_str()))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

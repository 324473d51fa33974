//! The dashboard: sign-ups and sign-ins per day by method, failures and blocks, second factors
//! set up, risk decisions, and the gauges, over 7, 30 or 90 days; the charts come as SVG drawn
//! on the server.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::error::AppError;

/// One chart: its title and its SVG.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chart {
    pub title: String,
    pub svg: String,
}

/// The dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardView {
    pub days: i64,
    pub charts: Vec<Chart>,
    pub customers: i64,
    pub customers_with_second_factor: i64,
    /// Percent of customers with a second factor.
    pub mfa_adoption: String,
    pub live_sessions: i64,
    /// Failed and blocked sign-ins as a percent of all attempts in the range.
    pub failure_rate: String,
    pub block_rate: String,
    pub measured_at: Option<String>,
}

/// The dashboard over the last `days` (7, 30 or 90).
#[server(prefix = "/api", endpoint = "console/dashboard")]
pub async fn dashboard(days: i64) -> Result<DashboardView, AppError> {
    use crate::domain::{
        error::{sqlx_unavailable, AccountError},
        replica,
        reports::{chart::stacked_bars, dashboard},
        staff::Permission,
    };
    let allowed = super::guard(Permission::ReportsRead).await?;
    // Counts and gauges a minute old at best: the replica's lag does no harm.
    let d = replica::read(&allowed.state, sqlx_unavailable, |db| {
        dashboard::load(db, days)
    })
    .await
    .map_err(AccountError::from)?;
    let total = |series: &[dashboard::Series], name: Option<&str>| -> i64 {
        series
            .iter()
            .filter(|s| name.is_none_or(|n| s.name == n))
            .flat_map(|s| s.counts.iter())
            .sum()
    };
    let successes = total(&d.signins, None);
    let failed = total(&d.failures, Some("failures"));
    let blocked = total(&d.failures, Some("blocks"));
    let attempts = (successes + failed + blocked).max(1) as f64;
    let percent = |part: i64, whole: f64| format!("{:.1} %", part as f64 * 100.0 / whole);
    let chart = |title: &str, series: &[dashboard::Series]| Chart {
        title: title.to_owned(),
        svg: stacked_bars(title, &d.days, series),
    };
    Ok(DashboardView {
        days: d.days.len() as i64,
        charts: vec![
            chart("Sign-ups by method", &d.signups),
            chart("Sign-ins by method", &d.signins),
            chart("Failed and blocked sign-ins", &d.failures),
            chart("Second factors set up", &d.mfa_set_up),
            chart("Risk decisions", &d.risk),
        ],
        customers: d.customers,
        customers_with_second_factor: d.customers_with_second_factor,
        mfa_adoption: percent(d.customers_with_second_factor, d.customers.max(1) as f64),
        live_sessions: d.live_sessions,
        failure_rate: percent(failed, attempts),
        block_rate: percent(blocked, attempts),
        measured_at: d.measured_at.map(super::moment),
    })
}

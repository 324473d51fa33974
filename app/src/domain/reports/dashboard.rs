//! The dashboard's figures over the last 7, 30 or 90 days: series per day from
//! `daily_counts`, and the gauges. One indexed range read of the counts, whatever the number
//! of customers.

use std::collections::BTreeMap;

use sqlx::PgPool;
use time::{Date, Duration, OffsetDateTime};

/// One line of a chart: a name and a count per day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub name: String,
    pub counts: Vec<i64>,
}

/// The dashboard's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    pub days: Vec<Date>,
    pub signups: Vec<Series>,
    pub signins: Vec<Series>,
    /// Failed sign-ins and blocked ones (risk, proof of work, a locked account).
    pub failures: Vec<Series>,
    pub mfa_set_up: Vec<Series>,
    pub risk: Vec<Series>,
    pub customers: i64,
    pub customers_with_second_factor: i64,
    pub live_sessions: i64,
    pub measured_at: Option<OffsetDateTime>,
}

/// The ranges offered.
pub const RANGES: [i64; 3] = [7, 30, 90];

fn series(
    days: &[Date],
    rows: &[(Date, String, String, i64)],
    metric: &str,
    by_dimension: bool,
) -> Vec<Series> {
    let mut named: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (day, m, dimension, count) in rows.iter().filter(|r| r.1 == metric) {
        let name = if by_dimension && !dimension.is_empty() {
            dimension.clone()
        } else {
            m.clone()
        };
        let counts = named.entry(name).or_insert_with(|| vec![0; days.len()]);
        if let Some(i) = days.iter().position(|d| d == day) {
            counts[i] += count;
        }
    }
    named
        .into_iter()
        .map(|(name, counts)| Series { name, counts })
        .collect()
}

/// The figures of the last `range` days (7, 30 or 90; anything else is 30), today included.
pub async fn load(db: &PgPool, range: i64) -> sqlx::Result<Dashboard> {
    let range = if RANGES.contains(&range) { range } else { 30 };
    let today = OffsetDateTime::now_utc().date();
    let first = today - Duration::days(range - 1);
    let days: Vec<Date> = (0..range).map(|i| first + Duration::days(i)).collect();
    let rows: Vec<(Date, String, String, i64)> = sqlx::query_as(
        "SELECT day, metric, dimension, count FROM daily_counts
         WHERE day >= $1 AND day <= $2",
    )
    .bind(first)
    .bind(today)
    .fetch_all(db)
    .await?;
    let gauges: Vec<(String, i64, OffsetDateTime)> =
        sqlx::query_as("SELECT name, value, measured_at FROM report_gauges")
            .fetch_all(db)
            .await?;
    let gauge = |name: &str| gauges.iter().find(|g| g.0 == name).map_or(0, |g| g.1);
    let mut failures = series(&days, &rows, "failures", false);
    failures.extend(series(&days, &rows, "blocks", false));
    Ok(Dashboard {
        signups: series(&days, &rows, "signups", true),
        signins: series(&days, &rows, "signins", true),
        failures,
        mfa_set_up: series(&days, &rows, "mfa_set_up", false),
        risk: series(&days, &rows, "risk", true),
        customers: gauge("customers"),
        customers_with_second_factor: gauge("customers_with_second_factor"),
        live_sessions: gauge("live_sessions"),
        measured_at: gauges.iter().map(|g| g.2).max(),
        days,
    })
}

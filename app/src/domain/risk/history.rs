//! The `risk_assessments` table: each weighed attempt, and what an account's completed
//! sign-ins say about it (its devices, networks and countries, and where it last signed in).

use sqlx::PgExecutor;
use uuid::Uuid;

use super::score::Assessment;
use crate::domain::privacy::{Erasure, Export, Table};

/// What the account's completed sign-ins say.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct History {
    /// Any completed sign-in at all.
    pub any: bool,
    pub device_known: bool,
    pub network_known: bool,
    pub countries: Vec<String>,
    /// The last completed sign-in: its country, coordinates and how long ago (minutes).
    pub last_country: Option<String>,
    pub last_latitude: Option<f64>,
    pub last_longitude: Option<f64>,
    pub last_minutes_ago: Option<i64>,
}

/// The history of `user_id` as seen from this attempt's device and network.
pub async fn of(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    device_hash: Option<&[u8]>,
    network: Option<&str>,
) -> sqlx::Result<History> {
    sqlx::query_as(
        "WITH done AS (
             SELECT * FROM risk_assessments WHERE user_id = $1 AND completed
         ), last AS (
             SELECT country, latitude, longitude,
                    (extract(epoch FROM now() - created_at) / 60)::bigint AS minutes_ago
             FROM done ORDER BY created_at DESC LIMIT 1
         )
         SELECT EXISTS (SELECT 1 FROM done) AS any,
                EXISTS (SELECT 1 FROM done WHERE device_hash = $2) AS device_known,
                EXISTS (SELECT 1 FROM done WHERE network = $3) AS network_known,
                ARRAY(SELECT DISTINCT country FROM done WHERE country IS NOT NULL) AS countries,
                (SELECT country FROM last) AS last_country,
                (SELECT latitude FROM last) AS last_latitude,
                (SELECT longitude FROM last) AS last_longitude,
                (SELECT minutes_ago FROM last) AS last_minutes_ago",
    )
    .bind(user_id)
    .bind(device_hash)
    .bind(network)
    .fetch_one(db)
    .await
}

/// Where an attempt came from.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub network: Option<String>,
    pub country: Option<String>,
    pub coordinates: Option<(f64, f64)>,
    pub device_hash: Option<Vec<u8>>,
}

/// Stores one weighed attempt (`completed` when it is a sign-in that went through); its id.
pub async fn store(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    origin: &Origin,
    assessment: &Assessment,
    completed: bool,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO risk_assessments
           (user_id, ip, network, country, latitude, longitude, device_hash, score, decision,
            reasons, completed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(user_id)
    .bind(&origin.ip)
    .bind(&origin.network)
    .bind(&origin.country)
    .bind(origin.coordinates.map(|c| c.0))
    .bind(origin.coordinates.map(|c| c.1))
    .bind(&origin.device_hash)
    .bind(assessment.score)
    .bind(assessment.decision)
    .bind(serde_json::to_value(&assessment.reasons).unwrap_or_default())
    .bind(completed)
    .fetch_one(db)
    .await
}

/// Marks attempt `id` as a completed sign-in: it is history now.
pub async fn completed(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE risk_assessments SET completed = true WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "risk_assessments",
    person: Some("user_id"),
    personal: &[
        "user_id",
        "ip",
        "network",
        "country",
        "latitude",
        "longitude",
        "device_hash",
        "reasons",
    ],
    other: &["id", "created_at", "score", "decision", "completed"],
    export: Export::Rows,
    erasure: Erasure::Delete,
}];

//! One customer's whole record, as the console's customer page shows it: the account, its
//! ways in and second factors, live sessions, linked identities, connected apps, recent risk
//! decisions and the newest entries of their audit trail. Secrets never leave here.

use serde_json::Value;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{
    error::AccountError,
    mfa::factors::{self, Factors},
    oidc::connected_apps::{self, ConnectedApp},
    passkeys::{self, PasskeyRecord},
    social::identities::{self, LinkedIdentity},
    users::{self, Role, User},
};

/// How many risk decisions and audit entries the page shows.
const RECENT: i64 = 50;

/// One live browser session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LiveSession {
    pub signed_in_at: Option<OffsetDateTime>,
    pub last_seen_at: Option<OffsetDateTime>,
    pub method: Option<String>,
    pub expires_at: OffsetDateTime,
}

/// One weighed sign-in attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RiskEntry {
    pub created_at: OffsetDateTime,
    pub ip: Option<String>,
    pub country: Option<String>,
    pub score: i32,
    pub decision: String,
    pub reasons: Value,
    pub completed: bool,
}

/// One audit entry about the customer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEntry {
    pub at: OffsetDateTime,
    pub action: String,
    pub outcome: String,
    pub actor: Option<String>,
    pub ip: Option<String>,
    pub detail: Value,
}

/// Everything the customer page shows.
#[derive(Debug, Clone)]
pub struct Record {
    pub user: User,
    pub factors: Factors,
    pub passkeys: Vec<PasskeyRecord>,
    pub identities: Vec<LinkedIdentity>,
    pub sessions: Vec<LiveSession>,
    pub apps: Vec<ConnectedApp>,
    pub risk: Vec<RiskEntry>,
    pub audit: Vec<AuditEntry>,
}

/// The record of customer `user_id` (staff accounts are not customers: not found).
pub async fn load(db: &PgPool, user_id: Uuid) -> Result<Record, AccountError> {
    let user = users::find_by_id(db, user_id)
        .await?
        .filter(|u| u.role == Role::Customer)
        .ok_or(AccountError::NotFound)?;
    let sessions = sqlx::query_as(
        "SELECT to_timestamp((data->>'auth_at')::bigint) AS signed_in_at,
                to_timestamp((data->>'seen_at')::bigint) AS last_seen_at,
                data->>'auth_method' AS method, expires_at
         FROM sessions WHERE user_id = $1 AND expires_at > now()
         ORDER BY updated_at DESC",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?;
    let risk = sqlx::query_as(
        "SELECT created_at, ip, country, score, decision, reasons, completed
         FROM risk_assessments WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(RECENT)
    .fetch_all(db)
    .await?;
    let audit = sqlx::query_as(
        "SELECT e.at, e.action, e.outcome,
                COALESCE(a.email, e.actor, e.actor_id::text) AS actor,
                e.ip, e.detail
         FROM audit_events e LEFT JOIN users a ON a.id = e.actor_id
         WHERE e.subject_id = $1 ORDER BY e.at DESC, e.id DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(RECENT)
    .fetch_all(db)
    .await?;
    Ok(Record {
        factors: factors::of(db, user_id).await?,
        passkeys: passkeys::list(db, user_id).await?,
        identities: identities::list(db, user_id).await?,
        apps: connected_apps::list(db, user_id).await?,
        user,
        sessions,
        risk,
        audit,
    })
}

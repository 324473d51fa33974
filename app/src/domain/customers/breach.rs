//! Breach response in one action: for one customer, a selection, everyone who signed in from a
//! network in a time window, or every account whose stored password hash starts with a given
//! prefix (say, the hashes imported from a breached system), end every sign-in and app token
//! (apps told by back-channel logout), require a password reset and a second factor at the
//! next sign-in, and mail the business's notice. First a preview (how many, a sample); then a
//! background job (`run_batch`, driven by a worker) with progress, and one audit row naming
//! everyone touched. The same target and notice, started twice, is one response.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::privacy::{Erasure, Export, Table};
use crate::{
    domain::{
        audit::{self, Actor, AuditEvent, Outcome},
        client::ClientInfo,
        error::AccountError,
        mail, sign_out,
        users::{self, Role},
    },
    state::AppState,
};

/// Customers handled per transaction.
const BATCH: i64 = 100;
/// Shortest password hash prefix taken (a shorter one would match a whole scheme by mistake).
pub const MIN_HASH_PREFIX: usize = 4;
/// Longest notice.
pub const MAX_NOTICE: usize = 4000;

/// Whom a response targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Target {
    /// One customer or a selection.
    Customers { ids: Vec<Uuid> },
    /// Everyone who signed in from `network` (CIDR) between `from` and `to`.
    SignedInFrom {
        network: String,
        #[serde(with = "time::serde::rfc3339")]
        from: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        to: OffsetDateTime,
    },
    /// Every account whose stored password hash starts with `prefix`.
    PasswordHashPrefix { prefix: String },
}

/// Why a response was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BreachError {
    #[error("The target matches no customer.")]
    NobodyTargeted,
    #[error("Write the notice the customers will be mailed (at most {MAX_NOTICE} characters).")]
    BadNotice,
    #[error("The window must end after it starts.")]
    BadWindow,
    #[error("Give at least {MIN_HASH_PREFIX} characters of the hash.")]
    ShortPrefix,
}

/// The customers a target matches, in the caller's transaction.
async fn resolve(conn: &mut PgConnection, target: &Target) -> Result<Vec<Uuid>, AccountError> {
    let ids = match target {
        Target::Customers { ids } => {
            sqlx::query_scalar(
                "SELECT id FROM users WHERE id = ANY($1) AND role = 'customer' ORDER BY id",
            )
            .bind(ids)
            .fetch_all(&mut *conn)
            .await?
        }
        Target::SignedInFrom { network, from, to } => {
            if to <= from {
                return Err(BreachError::BadWindow.into());
            }
            // Addresses are written by the service from parsed IPs, so each casts to inet.
            sqlx::query_scalar(
                "SELECT DISTINCT e.subject_id FROM audit_events e
                 JOIN users u ON u.id = e.subject_id AND u.role = 'customer'
                 WHERE e.action = 'signin.succeeded' AND e.at >= $2 AND e.at < $3
                   AND e.ip IS NOT NULL AND e.ip::inet <<= $1::cidr
                 ORDER BY 1",
            )
            .bind(network)
            .bind(from)
            .bind(to)
            .fetch_all(&mut *conn)
            .await?
        }
        Target::PasswordHashPrefix { prefix } => {
            if prefix.chars().count() < MIN_HASH_PREFIX {
                return Err(BreachError::ShortPrefix.into());
            }
            let pattern = format!(
                "{}%",
                prefix
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            sqlx::query_scalar(
                "SELECT id FROM users WHERE role = 'customer' AND password_hash LIKE $1
                 ORDER BY id",
            )
            .bind(pattern)
            .fetch_all(&mut *conn)
            .await?
        }
    };
    Ok(ids)
}

/// What a response would touch: how many, and a sample of addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub count: usize,
    pub sample: Vec<String>,
}

/// How many customers `target` matches, and up to ten of their addresses.
pub async fn preview(db: &PgPool, target: &Target) -> Result<Preview, AccountError> {
    let mut conn = db.acquire().await?;
    let ids = resolve(&mut conn, target).await?;
    let sample_ids: Vec<Uuid> = ids.iter().take(10).copied().collect();
    let sample = sqlx::query_scalar("SELECT email FROM users WHERE id = ANY($1) ORDER BY email")
        .bind(&sample_ids)
        .fetch_all(&mut *conn)
        .await?;
    Ok(Preview {
        count: ids.len(),
        sample,
    })
}

fn check_notice(notice: &str) -> Result<String, BreachError> {
    let notice = notice.trim();
    if notice.is_empty() || notice.chars().count() > MAX_NOTICE {
        return Err(BreachError::BadNotice);
    }
    Ok(notice.replace("\r\n", "\n"))
}

/// Starts a response (or finds the same one started before); returns its id. The worker does
/// the rest.
pub async fn start(
    state: &AppState,
    client: &ClientInfo,
    actor: Actor,
    target: &Target,
    notice: &str,
) -> Result<i64, AccountError> {
    let notice = check_notice(notice)?;
    let target_json = serde_json::to_value(target).map_err(anyhow::Error::new)?;
    let key = Sha256::digest(format!("{target_json}\n{notice}").as_bytes()).to_vec();
    let mut tx = state.db.begin().await?;
    let ids = resolve(&mut tx, target).await?;
    if ids.is_empty() {
        return Err(BreachError::NobodyTargeted.into());
    }
    let started_by = match actor {
        Actor::Person(id) => Some(id),
        _ => None,
    };
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO breach_responses (key, target, notice, started_by, total)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING RETURNING id",
    )
    .bind(&key)
    .bind(&target_json)
    .bind(&notice)
    .bind(started_by)
    .bind(ids.len() as i32)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = inserted else {
        // Started before: the same response.
        let id = sqlx::query_scalar("SELECT id FROM breach_responses WHERE key = $1")
            .bind(&key)
            .fetch_one(&mut *tx)
            .await?;
        return Ok(id);
    };
    sqlx::query(
        "INSERT INTO breach_response_members (response_id, user_id) SELECT $1, unnest($2::uuid[])",
    )
    .bind(id)
    .bind(&ids)
    .execute(&mut *tx)
    .await?;
    let event = AuditEvent::new("breach.started", Outcome::Success)
        .by_actor(actor)
        .detail(json!({ "response": id, "target": target_json, "customers": ids.len() }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    state.breach_queued.notify_one();
    Ok(id)
}

/// A response's progress.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Progress {
    pub id: i64,
    pub total: i32,
    pub done: i32,
    pub finished_at: Option<OffsetDateTime>,
}

pub async fn progress(db: &PgPool, id: i64) -> Result<Option<Progress>, AccountError> {
    Ok(
        sqlx::query_as("SELECT id, total, done, finished_at FROM breach_responses WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

/// Handles the next batch of any unfinished response; returns how many customers it handled
/// (0: nothing waits). Batches are claimed with SKIP LOCKED, so nodes share the work.
pub async fn run_batch(state: &AppState) -> Result<u64, AccountError> {
    let mut tx = state.db.begin().await?;
    let claimed: Vec<(i64, Uuid)> = sqlx::query_as(
        "SELECT response_id, user_id FROM breach_response_members
         WHERE handled_at IS NULL
         ORDER BY response_id, user_id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let mut ended = Vec::new();
    for (response, user_id) in &claimed {
        let notice: String =
            sqlx::query_scalar("SELECT notice FROM breach_responses WHERE id = $1")
                .bind(response)
                .fetch_one(&mut *tx)
                .await?;
        if let Some(user) = users::find_by_id(&mut *tx, *user_id).await? {
            if user.role == Role::Customer {
                ended.push(handle(state, &mut tx, &user, &notice).await?);
            }
        }
        sqlx::query(
            "UPDATE breach_response_members SET handled_at = now()
             WHERE response_id = $1 AND user_id = $2",
        )
        .bind(response)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE breach_responses SET done = done + 1 WHERE id = $1")
            .bind(response)
            .execute(&mut *tx)
            .await?;
    }
    let mut responses: Vec<i64> = claimed.iter().map(|(r, _)| *r).collect();
    responses.dedup();
    for response in responses {
        finish_if_done(&mut tx, response).await?;
    }
    tx.commit().await?;
    for e in &ended {
        e.after_commit(state);
    }
    state.mail_queued.notify_one();
    Ok(claimed.len() as u64)
}

/// What the response does to one customer.
async fn handle(
    state: &AppState,
    tx: &mut PgConnection,
    user: &users::User,
    notice: &str,
) -> Result<sign_out::EndedSignIns, AccountError> {
    let ended = sign_out::end_everywhere(tx, &state.settings.public_url, user.id).await?;
    sqlx::query(
        "UPDATE users SET password_reset_required = (password_hash IS NOT NULL),
                          mfa_required = true, updated_at = now()
         WHERE id = $1",
    )
    .bind(user.id)
    .execute(&mut *tx)
    .await?;
    let brand = crate::domain::branding::default_brand(&mut *tx).await?;
    let templates = mail::Templates::new(&state.settings.public_url, &brand, user.language());
    let message = templates.breach_notice(&user.email(), &user.display_name, notice);
    mail::enqueue(&mut *tx, &message).await?;
    Ok(ended)
}

/// Closes `response` when no customer waits, with one audit row naming everyone touched.
async fn finish_if_done(tx: &mut PgConnection, response: i64) -> Result<(), AccountError> {
    let waiting: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM breach_response_members
                        WHERE response_id = $1 AND handled_at IS NULL)",
    )
    .bind(response)
    .fetch_one(&mut *tx)
    .await?;
    if waiting {
        return Ok(());
    }
    let closed: Option<(Option<Uuid>, serde_json::Value)> = sqlx::query_as(
        "UPDATE breach_responses SET finished_at = now()
         WHERE id = $1 AND finished_at IS NULL RETURNING started_by, target",
    )
    .bind(response)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((started_by, target)) = closed else {
        return Ok(());
    };
    let touched: Vec<(Uuid, Option<String>)> = sqlx::query_as(
        "SELECT m.user_id, u.email FROM breach_response_members m
         LEFT JOIN users u ON u.id = m.user_id
         WHERE m.response_id = $1 ORDER BY u.email",
    )
    .bind(response)
    .fetch_all(&mut *tx)
    .await?;
    let customers: Vec<serde_json::Value> = touched
        .iter()
        .map(|(id, email)| json!({ "id": id, "email": email }))
        .collect();
    let actor = started_by.map_or(Actor::System, Actor::Person);
    let event = AuditEvent::new("breach.responded", Outcome::Success)
        .by_actor(actor)
        .detail(json!({ "response": response, "target": target, "customers": customers }));
    audit::record(&mut *tx, &ClientInfo::default(), event).await?;
    Ok(())
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[
    Table {
        name: "breach_response_members",
        person: Some("user_id"),
        personal: &["user_id"],
        other: &["response_id", "handled_at"],
        export: Export::Rows,
        erasure: Erasure::Delete,
    },
    Table {
        name: "breach_responses",
        person: None,
        personal: &["target", "started_by"],
        other: &[
            "id",
            "key",
            "notice",
            "started_at",
            "total",
            "done",
            "finished_at",
        ],
        export: Export::Not(
            "the business's record of a security response; its members are exported",
        ),
        erasure: Erasure::Keep(
            "the record of a security response names its target, not contact data",
        ),
    },
];

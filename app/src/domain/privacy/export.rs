//! "Download my data" (GDPR Articles 15 and 20, CCPA's right to know): requested from the
//! portal after a recent sign-in, built in the background from every table the inventory says
//! holds rows about the person (without the secrets it names), as a JSON file and a readable
//! HTML page, kept sealed for 24 hours (`data_exports`) and downloaded only by the person,
//! signed in. The request and every download are audited.

use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    document::{Document, Section},
    tables, Erasure, Export, Table,
};
use crate::{
    domain::{
        audit::{self, AuditEvent, Outcome},
        client::ClientInfo,
        error::AccountError,
        mfa,
    },
    state::AppState,
    text_enum,
};

/// How long a built export can be downloaded.
pub const LIFETIME: Duration = Duration::hours(24);
/// Exports one person may ask for in a day.
const DAILY_LIMIT: i64 = 5;
/// A build not heard of for this long was on a node that stopped; it is failed.
const STALE_MINUTES: i32 = 10;

/// Where an export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportState {
    Queued,
    Building,
    Ready,
    Failed,
}

text_enum!(ExportState {
    Queued => "queued",
    Building => "building",
    Ready => "ready",
    Failed => "failed",
});

/// Why an export request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ExportRefusal {
    #[error("You asked for your data five times today. Try again tomorrow.")]
    TooMany,
    #[error("There is no export ready to download. Ask for a new one.")]
    NotReady,
}

/// The person's newest export.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Status {
    pub id: Uuid,
    pub state: ExportState,
    pub tables_done: i32,
    pub tables_total: i32,
    pub requested_at: OffsetDateTime,
    pub ready_at: Option<OffsetDateTime>,
    pub expires_at: Option<OffsetDateTime>,
}

impl Status {
    /// Built, and still within its 24 hours.
    pub fn downloadable(&self) -> bool {
        self.state == ExportState::Ready
            && self
                .expires_at
                .is_some_and(|at| at > OffsetDateTime::now_utc())
    }
}

/// Asks for an export of `user_id`'s data, after a recent sign-in; an export in the making, or
/// one asked for in the last minute, is the answer to another request (two tabs, or a double
/// click, make one).
pub async fn request(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
) -> Result<Uuid, AccountError> {
    mfa::freshness::ensure(&state.db, session, user_id).await?;
    let mut tx = state.db.begin().await?;
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let open: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM data_exports
         WHERE user_id = $1 AND (state IN ('queued', 'building')
               OR (state = 'ready' AND requested_at > now() - interval '1 minute'))
         ORDER BY requested_at DESC LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = open {
        return Ok(id);
    }
    let today: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM data_exports
         WHERE user_id = $1 AND requested_at > now() - interval '1 day'",
    )
    .bind(user_id)
    .fetch_one(&mut *tx)
    .await?;
    if today >= DAILY_LIMIT {
        return Err(ExportRefusal::TooMany.into());
    }
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO data_exports (id, user_id, tables_total) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(user_id)
        .bind(exported().count() as i32)
        .execute(&mut *tx)
        .await?;
    let event = AuditEvent::new("data_export.requested", Outcome::Success)
        .by(user_id)
        .detail(json!({ "export": id }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    state.export_queued.notify_one();
    Ok(id)
}

/// `user_id`'s newest export, if any.
pub async fn latest(db: impl sqlx::PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Option<Status>> {
    sqlx::query_as(
        "SELECT id, state, tables_done, tables_total, requested_at, ready_at, expires_at
         FROM data_exports WHERE user_id = $1 ORDER BY requested_at DESC LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// The tables an export reads: those with rows about one person that the inventory exports.
fn exported() -> impl Iterator<Item = (&'static str, &'static Table)> {
    tables().filter(|(_, t)| t.person.is_some() && !matches!(t.export, Export::Not(_)))
}

/// Builds the oldest queued export, if there is one (and first fails the builds a stopped node
/// left behind). Whether there was one.
pub async fn run_next(state: &AppState) -> sqlx::Result<bool> {
    sqlx::query(
        "UPDATE data_exports SET state = 'failed', updated_at = now()
         WHERE state = 'building' AND updated_at < now() - make_interval(mins => $1)",
    )
    .bind(STALE_MINUTES)
    .execute(&state.db)
    .await?;
    let claimed: Option<(Uuid, Uuid)> = sqlx::query_as(
        "UPDATE data_exports SET state = 'building', updated_at = now()
         WHERE id = (SELECT id FROM data_exports WHERE state = 'queued'
                     ORDER BY requested_at LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING id, user_id",
    )
    .fetch_optional(&state.db)
    .await?;
    let Some((id, user_id)) = claimed else {
        return Ok(false);
    };
    if let Err(e) = build(state, id, user_id).await {
        tracing::error!(error = %e, export = %id, "a data export failed");
        sqlx::query("UPDATE data_exports SET state = 'failed', updated_at = now() WHERE id = $1")
            .bind(id)
            .execute(&state.db)
            .await?;
    }
    Ok(true)
}

/// Reads every exported table's rows about `user_id`, noting progress after each, and seals
/// the two files into the export.
async fn build(state: &AppState, id: Uuid, user_id: Uuid) -> sqlx::Result<()> {
    let mut sections = Vec::new();
    for (done, (module, table)) in exported().enumerate() {
        sections.push(Section {
            table: table.name,
            module,
            without: without(table),
            others_redacted: others_redacted(table).1,
            rows: rows_of(&state.db, table, user_id).await?,
        });
        sqlx::query(
            "UPDATE data_exports SET tables_done = $2, updated_at = now()
             WHERE id = $1 AND state = 'building'",
        )
        .bind(id)
        .bind(done as i32 + 1)
        .execute(&state.db)
        .await?;
    }
    let left_out = tables()
        .filter_map(|(_, t)| match t.export {
            Export::Not(why) if !t.personal.is_empty() => Some((t.name, why)),
            _ => None,
        })
        .collect();
    let document = Document {
        account: user_id,
        generated_at: OffsetDateTime::now_utc(),
        sections,
        left_out,
    };
    let context = |kind: &str| format!("data export {kind}:{id}");
    let json = state
        .export_secrets
        .seal(&context("json"), &document.to_json());
    let html = state
        .export_secrets
        .seal(&context("html"), &document.to_html());
    sqlx::query(
        "UPDATE data_exports
         SET state = 'ready', json_sealed = $2, html_sealed = $3, ready_at = now(),
             expires_at = now() + make_interval(secs => $4), updated_at = now()
         WHERE id = $1 AND state = 'building'",
    )
    .bind(id)
    .bind(json)
    .bind(html)
    .bind(LIFETIME.whole_seconds() as f64)
    .execute(&state.db)
    .await?;
    tracing::info!(export = %id, rows = document.row_count(), "a data export is ready");
    Ok(())
}

fn without(table: &Table) -> &'static [&'static str] {
    match table.export {
        Export::RowsWithout(columns) => columns,
        _ => &[],
    }
}

/// The column naming who acted, and the columns left out where that is someone else.
fn others_redacted(table: &Table) -> (Option<&'static str>, &'static [&'static str]) {
    match table.export {
        Export::RowsRedactedForOthers { actor, columns } => (Some(actor), columns),
        _ => (None, &[]),
    }
}

/// `table`'s rows about `user_id`, each as a JSON object without the columns the inventory
/// leaves out. The names come from the inventory's constants, never from input.
async fn rows_of(db: &sqlx::PgPool, table: &Table, user_id: Uuid) -> sqlx::Result<Vec<Value>> {
    let Some(person) = table.person else {
        return Ok(Vec::new());
    };
    let names =
        |columns: &[&str]| -> Vec<String> { columns.iter().map(|c| (*c).to_owned()).collect() };
    let (actor, redacted) = others_redacted(table);
    // Rows where someone else acted lose the redacted columns too.
    let others = match actor {
        Some(actor) => format!("t.\"{actor}\" IS DISTINCT FROM $1 AND t.\"{actor}\" IS NOT NULL"),
        None => "false".to_owned(),
    };
    let sql = format!(
        "SELECT CASE WHEN {others} THEN to_jsonb(t) - $3::text[] ELSE to_jsonb(t) END - $2::text[]
         FROM \"{}\" t WHERE \"{person}\" = $1",
        table.name
    );
    sqlx::query_scalar(&sql)
        .bind(user_id)
        .bind(names(without(table)))
        .bind(names(redacted))
        .fetch_all(db)
        .await
}

/// Which file of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Html,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Html => "html",
        }
    }
}

/// The file of `user_id`'s newest export in `format`, while it is downloadable, to a recent
/// sign-in (a session left open elsewhere does not hand it out); audited.
pub async fn download(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
    format: Format,
) -> Result<Vec<u8>, AccountError> {
    mfa::freshness::ensure(&state.db, session, user_id).await?;
    let status = latest(&state.db, user_id)
        .await?
        .filter(Status::downloadable)
        .ok_or(ExportRefusal::NotReady)?;
    let column = match format {
        Format::Json => "json_sealed",
        Format::Html => "html_sealed",
    };
    let sealed: Option<Vec<u8>> = sqlx::query_scalar(&format!(
        "SELECT {column} FROM data_exports WHERE id = $1 AND user_id = $2"
    ))
    .bind(status.id)
    .bind(user_id)
    .fetch_optional(&state.db)
    .await?
    .flatten();
    let context = format!("data export {}:{}", format.as_str(), status.id);
    let file = sealed
        .and_then(|s| state.export_secrets.open(&context, &s))
        .ok_or(ExportRefusal::NotReady)?;
    let event = AuditEvent::new("data_export.downloaded", Outcome::Success)
        .by(user_id)
        .detail(json!({ "export": status.id, "format": format.as_str() }));
    audit::record(&state.db, client, event).await?;
    Ok(file)
}

/// Deletes exports past their 24 hours, and failed ones after a day.
pub async fn delete_expired(db: impl sqlx::PgExecutor<'_>) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM data_exports
         WHERE expires_at < now() OR (state = 'failed' AND updated_at < now() - interval '1 day')",
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "data_exports",
    person: Some("user_id"),
    personal: &["user_id", "json_sealed", "html_sealed"],
    other: &[
        "id",
        "state",
        "tables_done",
        "tables_total",
        "requested_at",
        "updated_at",
        "ready_at",
        "expires_at",
    ],
    export: Export::Not("the export itself, which the person already has"),
    erasure: Erasure::Delete,
}];

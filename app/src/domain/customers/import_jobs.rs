//! Customer imports started from the console: the uploaded file waits in `customer_imports`
//! until the import worker runs it through [`import`](super::import) (a dry run or the real
//! one), keeping its progress in the row as it goes and its report (counts and the first
//! skipped lines) when it ends. The file, which may hold password hashes, is cleared the
//! moment the import ends; the report is deleted after 30 days (`workers::cleanup`).

use serde_json::json;
use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::import::{self, Format, RowError};
use crate::domain::privacy::{Erasure, Export, Table};
use crate::{
    domain::{
        audit::{self, Actor, AuditEvent, Outcome},
        client::ClientInfo,
    },
    state::AppState,
};

/// The largest file the console takes (a larger one goes through `server import`).
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;
/// Skipped lines kept in the report.
const KEPT_ERRORS: usize = 1_000;
/// A running import whose progress has not moved for this long was left by a node that died.
const STALE_MINUTES: i32 = 10;

/// Why a file was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    #[error("Choose a file to import.")]
    Empty,
    #[error("The file is larger than 32 MiB; import it with `server import`.")]
    TooLarge,
    #[error("The file is not UTF-8 text.")]
    NotText,
    #[error("The file has more rows than one import takes.")]
    TooManyRows,
}

/// Where an import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Waiting,
    Running,
    Done,
    Failed,
}

crate::text_enum!(JobState {
    Waiting => "waiting",
    Running => "running",
    Done => "done",
    Failed => "failed",
});

/// One import as the console shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub started_by: Option<String>,
    pub file_name: String,
    pub format: Format,
    pub dry_run: bool,
    pub state: JobState,
    pub total: i32,
    pub done: i32,
    pub imported: i32,
    pub skipped: i32,
    pub errors: sqlx::types::Json<Vec<RowError>>,
    pub failure: Option<String>,
    pub created_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

/// Queues `bytes` (a file named `file_name`) for import by `staff`; its id. Audited as
/// `customers.import_queued` with the file's name, size and mode.
pub async fn queue(
    state: &AppState,
    client: &ClientInfo,
    staff: Uuid,
    file_name: &str,
    format: Format,
    dry_run: bool,
    bytes: Vec<u8>,
) -> sqlx::Result<Result<i64, QueueError>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Err(QueueError::Empty));
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Ok(Err(QueueError::TooLarge));
    }
    let size = bytes.len();
    let Ok(text) = String::from_utf8(bytes) else {
        return Ok(Err(QueueError::NotText));
    };
    if text.lines().count() > import::MAX_ROWS + 1 {
        return Ok(Err(QueueError::TooManyRows));
    }
    // A name to show, not a path: the last part, printable, at most 200 characters.
    let file_name: String = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let mut tx = state.db.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO customer_imports (started_by, file_name, format, dry_run, body)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(staff)
    .bind(&file_name)
    .bind(format)
    .bind(dry_run)
    .bind(&text)
    .fetch_one(&mut *tx)
    .await?;
    let event = AuditEvent::new("customers.import_queued", Outcome::Success)
        .by_actor(Actor::Person(staff))
        .detail(json!({
            "import": id,
            "file": file_name,
            "bytes": size,
            "format": format.as_str(),
            "dry_run": dry_run,
        }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    state.import_queued.notify_one();
    Ok(Ok(id))
}

/// An import the worker took.
#[derive(sqlx::FromRow)]
struct Claimed {
    id: i64,
    started_by: Option<Uuid>,
    format: Format,
    dry_run: bool,
    body: Option<String>,
}

/// Runs the oldest waiting import, if there is one (and first fails the imports a node that
/// died left running). Whether there was one.
pub async fn run_next(state: &AppState) -> sqlx::Result<bool> {
    sqlx::query(
        "UPDATE customer_imports
         SET state = 'failed', body = NULL, finished_at = now(), updated_at = now(),
             failure = 'The import was interrupted. The rows it had imported stay: run the file \
                        again, and they show as taken.'
         WHERE state = 'running' AND updated_at < now() - make_interval(mins => $1)",
    )
    .bind(STALE_MINUTES)
    .execute(&state.db)
    .await?;
    let claimed: Option<Claimed> = sqlx::query_as(
        "UPDATE customer_imports SET state = 'running', updated_at = now()
         WHERE id = (SELECT id FROM customer_imports WHERE state = 'waiting'
                     ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING id, started_by, format, dry_run, body",
    )
    .fetch_optional(&state.db)
    .await?;
    let Some(Claimed {
        id,
        started_by: staff,
        format,
        dry_run,
        body,
    }) = claimed
    else {
        return Ok(false);
    };
    let actor = staff.map_or(Actor::System, Actor::Person);
    let outcome = run(state, id, &body.unwrap_or_default(), format, dry_run, actor).await;
    match outcome {
        Ok(report) => {
            let kept: Vec<&RowError> = report.errors.iter().take(KEPT_ERRORS).collect();
            sqlx::query(
                "UPDATE customer_imports
                 SET state = 'done', body = NULL, total = $2, done = $2, imported = $3,
                     skipped = $4, errors = $5, finished_at = now(), updated_at = now()
                 WHERE id = $1",
            )
            .bind(id)
            .bind(report.rows as i32)
            .bind(report.imported as i32)
            .bind(report.errors.len() as i32)
            .bind(sqlx::types::Json(kept))
            .execute(&state.db)
            .await?;
        }
        Err(e) => {
            tracing::error!(error = ?e, import = id, "a customer import stopped");
            sqlx::query(
                "UPDATE customer_imports
                 SET state = 'failed', body = NULL, finished_at = now(), updated_at = now(),
                     failure = 'The import stopped part-way (the server log says why). The \
                                rows it had imported stay: run the file again, and they show \
                                as taken.'
                 WHERE id = $1",
            )
            .bind(id)
            .execute(&state.db)
            .await?;
        }
    }
    Ok(true)
}

/// Imports `text`, writing the progress to row `id` after each batch.
async fn run(
    state: &AppState,
    id: i64,
    text: &str,
    format: Format,
    dry_run: bool,
    actor: Actor,
) -> anyhow::Result<import::Report> {
    let (tell, mut told) = tokio::sync::watch::channel((0usize, 0usize));
    let work = import::import(state, text, format, dry_run, actor, move |done, total| {
        let _ = tell.send((done, total));
    });
    tokio::pin!(work);
    loop {
        tokio::select! {
            report = &mut work => return report,
            Ok(()) = told.changed() => {
                let (done, total) = *told.borrow_and_update();
                sqlx::query(
                    "UPDATE customer_imports SET done = $2, total = $3, updated_at = now()
                     WHERE id = $1",
                )
                .bind(id)
                .bind(done as i32)
                .bind(total as i32)
                .execute(&state.db)
                .await?;
            }
        }
    }
}

/// The imports, with `errors` as the report's skipped lines.
fn select(errors: &str) -> String {
    format!(
        "SELECT i.id, u.email AS started_by, i.file_name, i.format, i.dry_run, i.state, i.total,
                i.done, i.imported, i.skipped, {errors} AS errors, i.failure, i.created_at,
                i.finished_at
         FROM customer_imports i LEFT JOIN users u ON u.id = i.started_by"
    )
}

/// Import `id`, with its report.
pub async fn get(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Job>> {
    sqlx::query_as(&format!("{} WHERE i.id = $1", select("i.errors")))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The latest imports, newest first (their skipped lines left out).
pub async fn recent(db: &PgPool, limit: i64) -> sqlx::Result<Vec<Job>> {
    sqlx::query_as(&format!(
        "{} ORDER BY i.id DESC LIMIT $1",
        select("'[]'::jsonb")
    ))
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "customer_imports",
    person: None,
    personal: &["started_by", "file_name", "body", "errors"],
    other: &[
        "id",
        "format",
        "dry_run",
        "state",
        "total",
        "done",
        "imported",
        "skipped",
        "failure",
        "created_at",
        "updated_at",
        "finished_at",
    ],
    export: Export::Not("a staff member's upload, not a person's record"),
    erasure: Erasure::Expires(
        "the file is cleared when its import ends; its report names lines, not people",
    ),
}];

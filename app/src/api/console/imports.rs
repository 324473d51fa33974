//! Customer imports in the console: the latest imports and, for one, its progress and report.
//! The file itself goes up through the server's upload route (`POST /admin/import`), as a
//! plain multipart form.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::error::AppError;

/// One import, as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRow {
    pub id: i64,
    pub started_by: String,
    pub file_name: String,
    pub format: String,
    pub dry_run: bool,
    /// `waiting`, `running`, `done` or `failed`.
    pub state: String,
    pub total: i32,
    pub done: i32,
    pub imported: i32,
    pub skipped: i32,
    pub failure: Option<String>,
    pub created_at: String,
    pub finished: bool,
}

/// A skipped line of an import's file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedLine {
    pub line: usize,
    pub message: String,
}

/// The import page: the latest imports, and the one asked for with its report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Imports {
    pub recent: Vec<ImportRow>,
    pub chosen: Option<ImportRow>,
    /// The first skipped lines of the chosen import.
    pub skipped_lines: Vec<SkippedLine>,
    /// The largest file taken, in MiB.
    pub max_mib: usize,
}

#[cfg(feature = "ssr")]
fn row(job: &crate::domain::customers::import_jobs::Job) -> ImportRow {
    use crate::domain::customers::import_jobs::JobState;
    ImportRow {
        id: job.id,
        started_by: job.started_by.clone().unwrap_or_else(|| "—".into()),
        file_name: job.file_name.clone(),
        format: job.format.as_str().into(),
        dry_run: job.dry_run,
        state: job.state.as_str().into(),
        total: job.total,
        done: job.done,
        imported: job.imported,
        skipped: job.skipped,
        failure: job.failure.clone(),
        created_at: super::moment(job.created_at),
        finished: matches!(job.state, JobState::Done | JobState::Failed),
    }
}

/// The latest imports, and import `job` (when given) with its report.
#[server(prefix = "/api", endpoint = "console/imports")]
pub async fn list_imports(job: Option<i64>) -> Result<Imports, AppError> {
    use crate::domain::{customers::import_jobs, error::AccountError, staff::Permission};
    let allowed = super::guard(Permission::CustomersImport).await?;
    let db = &allowed.state.db;
    let recent = import_jobs::recent(db, 20)
        .await
        .map_err(AccountError::from)?;
    let chosen = match job {
        Some(id) => Some(
            import_jobs::get(db, id)
                .await
                .map_err(AccountError::from)?
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    Ok(Imports {
        recent: recent.iter().map(row).collect(),
        skipped_lines: chosen
            .as_ref()
            .map(|job| {
                job.errors
                    .0
                    .iter()
                    .map(|e| SkippedLine {
                        line: e.line,
                        message: e.message.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        chosen: chosen.as_ref().map(row),
        max_mib: import_jobs::MAX_FILE_BYTES / (1024 * 1024),
    })
}

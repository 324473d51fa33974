//! `POST /admin/import`: a customer file from the console's import form (multipart, so it
//! works without JavaScript). Staff with `customers.import`, a recent second factor and the
//! confirmation ticked; the file is queued (`customers::import_jobs`) and the browser goes to
//! the import's page, which follows its progress and shows its report.

use app::{
    domain::{
        customers::{
            import::Format,
            import_jobs::{self, QueueError},
        },
        staff::Permission,
    },
    state::AppState,
};
use axum::{
    extract::{DefaultBodyLimit, Multipart, Request, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
    Router,
};
use tower_http::limit::RequestBodyLimitLayer;
use tower_sessions::Session;

use crate::staff_gate::{fresh, plain, upload_form};

/// The largest upload body: the largest file and the form's other fields.
const MAX_UPLOAD_BYTES: usize = import_jobs::MAX_FILE_BYTES + 64 * 1024;

/// The upload route, with a body limit of its own.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/admin/import", post(upload))
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(MAX_UPLOAD_BYTES))
        .with_state(state)
}

/// The form's fields.
#[derive(Debug, Default)]
struct ImportForm {
    /// `auto`, `csv` or `jsonl`.
    format: String,
    /// `dry_run` or `import`.
    mode: String,
    confirm: bool,
    file_name: String,
    file: Vec<u8>,
}

async fn read_form(mut multipart: Multipart) -> Option<ImportForm> {
    let mut form = ImportForm::default();
    while let Ok(Some(field)) = multipart.next_field().await {
        match field.name().unwrap_or_default() {
            "format" => form.format = field.text().await.ok()?.trim().to_owned(),
            "mode" => form.mode = field.text().await.ok()?.trim().to_owned(),
            "confirm" => form.confirm = field.text().await.ok()? == "yes",
            "file" => {
                form.file_name = field.file_name().unwrap_or_default().to_owned();
                form.file = field.bytes().await.ok()?.to_vec();
            }
            _ => {}
        }
    }
    Some(form)
}

/// The import page with `outcome` (a code it explains) for it to show.
fn back(outcome: &str) -> Response {
    Redirect::to(&format!("/admin/import?error={outcome}")).into_response()
}

async fn upload(State(state): State<AppState>, session: Session, request: Request) -> Response {
    let (user_id, client, multipart) =
        match upload_form(&state, &session, request, Permission::CustomersImport).await {
            Ok(allowed) => allowed,
            Err(refused) => return refused,
        };
    let Some(form) = read_form(multipart).await else {
        return plain(
            StatusCode::BAD_REQUEST,
            "The upload could not be read (a file is at most 32 MiB; import a larger one \
             with `server import`).",
        );
    };
    if let Err(step_up) = fresh(&state, &session, user_id, "/admin/import").await {
        return step_up;
    }
    if !form.confirm {
        return back("confirm");
    }
    let format = match form.format.as_str() {
        "" | "auto" => Format::of_file(&form.file_name),
        other => match Format::parse(other) {
            Some(format) => format,
            None => return back("format"),
        },
    };
    let dry_run = match form.mode.as_str() {
        "dry_run" => true,
        "import" => false,
        _ => return back("mode"),
    };
    match import_jobs::queue(
        &state,
        &client,
        user_id,
        &form.file_name,
        format,
        dry_run,
        form.file,
    )
    .await
    {
        Ok(Ok(id)) => Redirect::to(&format!("/admin/import?job={id}")).into_response(),
        Ok(Err(e)) => back(match e {
            QueueError::Empty => "empty",
            QueueError::TooLarge => "too_large",
            QueueError::NotText => "not_text",
            QueueError::TooManyRows => "too_many_rows",
        }),
        Err(e) => {
            tracing::error!(error = %e, "queueing a customer import failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "try again")
        }
    }
}

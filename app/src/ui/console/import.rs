//! The customer import page: upload a CSV or JSON Lines file (a plain multipart form, so it
//! works without JavaScript) for a dry run or the real import, follow its progress (the page
//! refreshes itself until it ends) and read its report; the latest imports below.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

use super::ConsoleFrame;
use crate::api::console::{
    imports::{list_imports, ImportRow, Imports, SkippedLine},
    staff::ConsoleView,
};

/// What the upload route's answer code means.
fn upload_error(code: &str) -> &'static str {
    match code {
        "confirm" => "Tick the box to confirm the upload.",
        "empty" => "Choose a file to import: the one sent was empty.",
        "too_large" => "The file is larger than the console takes; import it with `server import`.",
        "not_text" => "The file is not UTF-8 text.",
        "too_many_rows" => "The file has more rows than one import takes; split it.",
        "format" => "Choose CSV or JSON Lines.",
        "mode" => "Choose a dry run or the import.",
        _ => "The upload was refused.",
    }
}

fn state_text(row: &ImportRow) -> String {
    let what = if row.dry_run { "Dry run" } else { "Import" };
    match row.state.as_str() {
        "waiting" => format!("{what}: waiting to start"),
        "running" => format!("{what}: {} of {} rows", row.done, row.total),
        "failed" => format!("{what}: stopped"),
        _ if row.dry_run => format!(
            "Dry run finished: {} of {} rows would be imported, {} skipped. Nothing was written.",
            row.total - row.skipped,
            row.total,
            row.skipped
        ),
        _ => format!(
            "Import finished: {} of {} rows imported, {} skipped.",
            row.imported, row.total, row.skipped
        ),
    }
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let query = use_query_map();
    let job = move || query.read().get("job").and_then(|j| j.parse::<i64>().ok());
    let error = move || query.read().get("error").map(|c| upload_error(&c));
    let imports = Resource::new(job, list_imports);
    view! {
        <Title text="Import customers" />
        <section class="card card-wide console">
            <ConsoleFrame data=imports page={move |_view: ConsoleView, page: Imports| view! {
                <h1>"Import customers"</h1>
                {error().map(|e| view! { <p class="form-error" role="alert" id="import-error">{e}</p> })}
                {page.chosen.clone().map(|row| view! { <Chosen row skipped=page.skipped_lines.clone() /> })}
                <UploadForm max_mib=page.max_mib />
                <h2>"Latest imports"</h2>
                <table class="console-table" id="imports">
                    <thead><tr><th>"File"</th><th>"Started"</th><th>"By"</th><th>"State"</th></tr></thead>
                    <tbody>
                        {page.recent.into_iter().map(|row| view! {
                            <tr>
                                <td><a href=format!("/admin/import?job={}", row.id)>{row.file_name.clone()}</a></td>
                                <td>{row.created_at.clone()}</td>
                                <td>{row.started_by.clone()}</td>
                                <td>{state_text(&row)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }} />
        </section>
    }
}

/// The import asked for: its progress while it runs, its report once it ends.
#[component]
fn Chosen(row: ImportRow, skipped: Vec<SkippedLine>) -> impl IntoView {
    let more = (row.skipped as usize).saturating_sub(skipped.len());
    view! {
        <div class="notice" role="status">
            {(!row.finished).then(|| view! { <Meta http_equiv="refresh" content=format!("2;url=/admin/import?job={}", row.id) /> })}
            <p id="import-progress" data-state=row.state.clone()>{state_text(&row)}</p>
            {(!row.finished).then(|| view! { <progress max=row.total value=row.done></progress> })}
            {row.failure.clone().map(|f| view! { <p class="form-error">{f}</p> })}
        </div>
        {(!skipped.is_empty()).then(|| view! {
            <h2>"Skipped lines"</h2>
            <table class="console-table" id="import-skipped">
                <thead><tr><th>"Line"</th><th>"Why"</th></tr></thead>
                <tbody>
                    {skipped.into_iter().map(|s| view! { <tr><td>{s.line}</td><td>{s.message}</td></tr> }).collect_view()}
                </tbody>
            </table>
            {(more > 0).then(|| view! { <p>{format!("… and {more} more.")}</p> })}
        })}
    }
}

/// The upload: a multipart form to the server's upload route.
#[component]
fn UploadForm(max_mib: usize) -> impl IntoView {
    view! {
        <h2>"Upload a file"</h2>
        <p>
            "CSV with a header line, or JSON Lines, with the fields " <code>"email"</code> ", "
            <code>"display_name"</code> ", " <code>"email_verified"</code> " (true or false), "
            <code>"phone"</code> " (E.164, optional) and " <code>"password_hash"</code>
            " (argon2, bcrypt, scrypt or PBKDF2, optional: rehashed at each customer's first sign-in). "
            "A row that fails is skipped and reported by its line; no account is half-imported. "
            {format!("At most {max_mib} MiB; a larger file goes through `server import`.")}
        </p>
        <form method="post" action="/admin/import" enctype="multipart/form-data" id="import-form">
            <div class="field">
                <label for="import-file">"File"</label>
                <input id="import-file" type="file" name="file" accept=".csv,.jsonl,.ndjson,text/csv,application/x-ndjson" required />
            </div>
            <div class="field">
                <label for="import-format">"Format"</label>
                <select id="import-format" name="format">
                    <option value="auto">"By the file's name (.jsonl is JSON Lines, else CSV)"</option>
                    <option value="csv">"CSV"</option>
                    <option value="jsonl">"JSON Lines"</option>
                </select>
            </div>
            <div class="field field-check">
                <input type="radio" id="import-dry" name="mode" value="dry_run" checked=true />
                <label for="import-dry">"Dry run: check every row, write nothing"</label>
            </div>
            <div class="field field-check">
                <input type="radio" id="import-real" name="mode" value="import" />
                <label for="import-real">"Import"</label>
            </div>
            <div class="field field-check">
                <input type="checkbox" id="import-confirm" name="confirm" value="yes" required />
                <label for="import-confirm">"I confirm"</label>
            </div>
            <button type="submit">"Upload"</button>
        </form>
    }
}

//! The customer import page: upload a CSV or JSON Lines file (a plain multipart form, so it
//! works without JavaScript) for a dry run or the real import, follow its progress (the page
//! refreshes itself until it ends) and read its report; the latest imports below.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

use super::ConsoleFrame;
use crate::{
    api::console::{
        imports::{list_imports, ImportRow, Imports, SkippedLine},
        staff::ConsoleView,
    },
    i18n::{tu_string, use_i18n},
    I18n,
};

/// What the upload route's answer code means.
fn upload_error(i18n: I18n, code: &str) -> &'static str {
    match code {
        "confirm" => tu_string!(i18n, console_import.error_confirm),
        "empty" => tu_string!(i18n, console_import.error_empty),
        "too_large" => tu_string!(i18n, console_import.error_too_large),
        "not_text" => tu_string!(i18n, console_import.error_not_text),
        "too_many_rows" => tu_string!(i18n, console_import.error_too_many_rows),
        "format" => tu_string!(i18n, console_import.error_format),
        "mode" => tu_string!(i18n, console_import.error_mode),
        _ => tu_string!(i18n, console_import.error_refused),
    }
}

fn state_text(i18n: I18n, row: &ImportRow) -> String {
    let what = if row.dry_run {
        tu_string!(i18n, console_import.what_dry_run)
    } else {
        tu_string!(i18n, console_import.what_import)
    };
    match row.state.as_str() {
        "waiting" => tu_string!(i18n, console_import.state_waiting, what = what),
        "running" => tu_string!(
            i18n,
            console_import.state_running,
            what = what,
            done = row.done,
            total = row.total
        ),
        "failed" => tu_string!(i18n, console_import.state_failed, what = what),
        _ if row.dry_run => tu_string!(
            i18n,
            console_import.state_dry_run_finished,
            would = row.total - row.skipped,
            total = row.total,
            skipped = row.skipped
        ),
        _ => tu_string!(
            i18n,
            console_import.state_import_finished,
            imported = row.imported,
            total = row.total,
            skipped = row.skipped
        ),
    }
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let job = move || query.read().get("job").and_then(|j| j.parse::<i64>().ok());
    let error = move || query.read().get("error").map(|c| upload_error(i18n, &c));
    let imports = Resource::new(job, list_imports);
    view! {
        <Title text=tu_string!(i18n, console_import.title) />
        <section class="card card-wide console">
            <ConsoleFrame data=imports page={move |_view: ConsoleView, page: Imports| view! {
                <h1>{tu_string!(i18n, console_import.heading)}</h1>
                {error().map(|e| view! { <p class="form-error" role="alert" id="import-error">{e}</p> })}
                {page.chosen.clone().map(|row| view! { <Chosen row skipped=page.skipped_lines.clone() /> })}
                <UploadForm max_mib=page.max_mib />
                <h2>{tu_string!(i18n, console_import.latest_heading)}</h2>
                <table class="console-table" id="imports">
                    <thead><tr><th>{tu_string!(i18n, console_import.col_file)}</th><th>{tu_string!(i18n, console_import.col_started)}</th><th>{tu_string!(i18n, console_import.col_by)}</th><th>{tu_string!(i18n, console_import.col_state)}</th></tr></thead>
                    <tbody>
                        {page.recent.into_iter().map(|row| view! {
                            <tr>
                                <td><a href=format!("/admin/import?job={}", row.id)>{row.file_name.clone()}</a></td>
                                <td>{row.created_at.clone()}</td>
                                <td>{row.started_by.clone()}</td>
                                <td>{state_text(i18n, &row)}</td>
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
    let i18n = use_i18n();
    let more = (row.skipped as usize).saturating_sub(skipped.len());
    view! {
        <div class="notice" role="status">
            {(!row.finished).then(|| view! { <Meta http_equiv="refresh" content=format!("2;url=/admin/import?job={}", row.id) /> })}
            <p id="import-progress" data-state=row.state.clone()>{state_text(i18n, &row)}</p>
            {(!row.finished).then(|| view! { <progress max=row.total value=row.done></progress> })}
            {row.failure.clone().map(|f| view! { <p class="form-error">{f}</p> })}
        </div>
        {(!skipped.is_empty()).then(|| view! {
            <h2>{tu_string!(i18n, console_import.skipped_heading)}</h2>
            <table class="console-table" id="import-skipped">
                <thead><tr><th>{tu_string!(i18n, console_import.col_line)}</th><th>{tu_string!(i18n, console_import.col_why)}</th></tr></thead>
                <tbody>
                    {skipped.into_iter().map(|s| view! { <tr><td>{s.line}</td><td>{s.message}</td></tr> }).collect_view()}
                </tbody>
            </table>
            {(more > 0).then(|| view! { <p>{tu_string!(i18n, console_import.and_more, more = more)}</p> })}
        })}
    }
}

/// The upload: a multipart form to the server's upload route.
#[component]
fn UploadForm(max_mib: usize) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <h2>{tu_string!(i18n, console_import.upload_heading)}</h2>
        <p>
            {tu_string!(i18n, console_import.upload_fields_intro)} <code>"email"</code> ", "
            <code>"display_name"</code> ", " <code>"email_verified"</code> {tu_string!(i18n, console_import.upload_verified_note)}
            <code>"phone"</code> {tu_string!(i18n, console_import.upload_phone_note)} <code>"password_hash"</code>
            {tu_string!(i18n, console_import.upload_hash_note)}
            {tu_string!(i18n, console_import.upload_failed_rows)}
            {tu_string!(i18n, console_import.upload_limit, mib = max_mib)}
        </p>
        <form method="post" action="/admin/import" enctype="multipart/form-data" id="import-form">
            <div class="field">
                <label for="import-file">{tu_string!(i18n, console_import.file_label)}</label>
                <input id="import-file" type="file" name="file" accept=".csv,.jsonl,.ndjson,text/csv,application/x-ndjson" required />
            </div>
            <div class="field">
                <label for="import-format">{tu_string!(i18n, console_import.format_label)}</label>
                <select id="import-format" name="format">
                    <option value="auto">{tu_string!(i18n, console_import.format_auto)}</option>
                    <option value="csv">{tu_string!(i18n, console_import.format_csv)}</option>
                    <option value="jsonl">{tu_string!(i18n, console_import.format_jsonl)}</option>
                </select>
            </div>
            <div class="field field-check">
                <input type="radio" id="import-dry" name="mode" value="dry_run" checked=true />
                <label for="import-dry">{tu_string!(i18n, console_import.mode_dry_run)}</label>
            </div>
            <div class="field field-check">
                <input type="radio" id="import-real" name="mode" value="import" />
                <label for="import-real">{tu_string!(i18n, console_import.mode_import)}</label>
            </div>
            <div class="field field-check">
                <input type="checkbox" id="import-confirm" name="confirm" value="yes" required />
                <label for="import-confirm">{tu_string!(i18n, console_import.confirm)}</label>
            </div>
            <button type="submit">{tu_string!(i18n, console_import.upload)}</button>
        </form>
    }
}

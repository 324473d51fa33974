//! `server import`: existing customers from a CSV or JSON Lines file (see
//! `customers::import` for the fields); a dry run first, then the real one, each with a report
//! of every skipped line.

use std::path::PathBuf;

use app::{
    domain::{
        audit::Actor,
        customers::import::{self, Format},
    },
    state::AppState,
};

/// Imports `file`; prints progress to stderr and the report to stdout.
pub async fn run(
    state: &AppState,
    file: PathBuf,
    format: Option<String>,
    dry_run: bool,
) -> anyhow::Result<()> {
    let format = match format.as_deref() {
        Some(name) => Format::parse(name)
            .ok_or_else(|| anyhow::anyhow!("--format: csv or jsonl, not {name}"))?,
        None => Format::of_file(&file.to_string_lossy()),
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
    let started = std::time::Instant::now();
    let report = import::import(state, &text, format, dry_run, Actor::Cli, |done, total| {
        eprint!("\r{done} of {total} rows");
    })
    .await?;
    eprintln!();
    let seconds = started.elapsed().as_secs_f64();
    for error in report.errors.iter().take(100) {
        println!("line {}: {}", error.line, error.message);
    }
    if report.errors.len() > 100 {
        println!("… and {} more skipped lines", report.errors.len() - 100);
    }
    if report.dry_run {
        println!(
            "Dry run: {} of {} rows would be imported, {} skipped ({seconds:.1} s). Nothing was written.",
            report.rows - report.errors.len(),
            report.rows,
            report.errors.len()
        );
    } else {
        println!(
            "{} of {} rows imported, {} skipped, in {seconds:.1} s ({:.0} rows a second).",
            report.imported,
            report.rows,
            report.errors.len(),
            report.rows as f64 / seconds.max(0.001)
        );
    }
    Ok(())
}

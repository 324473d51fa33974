//! Bulk import of existing customers from CSV (with a header line) or JSON Lines, with the
//! fields `email`, `display_name`, `email_verified` (true/false), `phone` (E.164, optional,
//! taken as proven) and `password_hash` (argon2, bcrypt, scrypt or PBKDF2; optional; rehashed
//! to argon2id at the first sign-in, see `imported_hashes`). Every row is checked first; a dry
//! run stops there with the report. A row that fails is skipped and reported by its line; an
//! account is one row, inserted whole or not at all, so nothing is ever half-imported.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    domain::{
        audit::{self, Actor, AuditEvent, Outcome},
        client::ClientInfo,
        email::Email,
        imported_hashes,
        names::DisplayName,
        phone::Phone,
    },
    state::AppState,
};

/// Rows inserted per statement.
const BATCH: usize = 2_000;
/// Most rows one import takes.
pub const MAX_ROWS: usize = 1_000_000;

/// How the file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

crate::text_enum!(Format {
    Csv => "csv",
    JsonLines => "jsonl",
});

impl Format {
    /// The format a file's name says: JSON Lines for `.jsonl` and `.ndjson`, else CSV.
    pub fn of_file(name: &str) -> Self {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            Format::JsonLines
        } else {
            Format::Csv
        }
    }
}

#[derive(Debug, Deserialize)]
struct Raw {
    email: Option<String>,
    display_name: Option<String>,
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    password_hash: Option<String>,
}

/// A row that passed every check.
#[derive(Debug, Clone)]
struct Row {
    line: usize,
    email: Email,
    name: DisplayName,
    verified: bool,
    phone: Option<String>,
    password_hash: Option<String>,
}

/// A row that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct RowError {
    /// The line of the file (the header is line 1 of a CSV file).
    pub line: usize,
    pub message: String,
}

/// What an import did (or, dry, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub dry_run: bool,
    pub rows: usize,
    pub imported: usize,
    pub errors: Vec<RowError>,
}

fn flag(value: Option<&serde_json::Value>) -> Result<bool, String> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(false),
        Some(serde_json::Value::Bool(b)) => Ok(*b),
        Some(serde_json::Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "" | "false" | "no" | "0" => Ok(false),
            "true" | "yes" | "1" => Ok(true),
            _ => Err("email_verified: true or false".into()),
        },
        Some(_) => Err("email_verified: true or false".into()),
    }
}

fn check(line: usize, raw: Raw) -> Result<Row, String> {
    let email =
        Email::parse(raw.email.as_deref().unwrap_or("")).map_err(|e| format!("email: {e}"))?;
    let name = DisplayName::parse(raw.display_name.as_deref().unwrap_or(""))
        .map_err(|e| format!("display_name: {e}"))?;
    let verified = flag(raw.email_verified.as_ref())?;
    let phone = match raw.phone.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) => Some(
            Phone::parse(p)
                .map_err(|e| format!("phone: {e}"))?
                .as_str()
                .to_owned(),
        ),
    };
    let password_hash = match raw.password_hash.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(h) => {
            imported_hashes::scheme(h).ok_or(
                "password_hash: not an argon2, bcrypt, scrypt or PBKDF2 hash this product reads",
            )?;
            Some(h.to_owned())
        }
    };
    Ok(Row {
        line,
        email,
        name,
        verified,
        phone,
        password_hash,
    })
}

/// Reads and checks every row of `text`; the rows that pass, and the errors of those that do
/// not (a repeated address or phone is an error on its later lines).
fn read(text: &str, format: Format) -> (Vec<Row>, Vec<RowError>) {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut push = |line: usize, raw: Result<Raw, String>| match raw.and_then(|r| check(line, r)) {
        Ok(row) => rows.push(row),
        Err(message) => errors.push(RowError { line, message }),
    };
    match format {
        Format::JsonLines => {
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                push(
                    i + 1,
                    serde_json::from_str::<Raw>(line)
                        .map_err(|e| format!("not a JSON object: {e}")),
                );
            }
        }
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .trim(csv::Trim::All)
                .from_reader(text.as_bytes());
            let headers = reader.headers().cloned().unwrap_or_default();
            for record in reader.records() {
                let (line, raw) = match record {
                    Ok(record) => {
                        let line = record.position().map_or(0, |p| p.line() as usize);
                        (
                            line,
                            record
                                .deserialize::<Raw>(Some(&headers))
                                .map_err(|e| format!("{e}")),
                        )
                    }
                    Err(e) => (
                        e.position().map_or(0, |p| p.line() as usize),
                        Err(format!("not a CSV row: {e}")),
                    ),
                };
                push(line, raw);
            }
        }
    }
    // The first of a repeated address or phone stays; the later ones are errors.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows {
        let keys = std::iter::once(row.email.as_str().to_lowercase()).chain(row.phone.clone());
        let mut repeat = None;
        for key in keys {
            if let Some(first) = seen.get(&key) {
                repeat = Some(format!("{key} appears on line {first} already"));
                break;
            }
        }
        match repeat {
            Some(message) => errors.push(RowError {
                line: row.line,
                message,
            }),
            None => {
                seen.insert(row.email.as_str().to_lowercase(), row.line);
                if let Some(phone) = &row.phone {
                    seen.insert(phone.clone(), row.line);
                }
                kept.push(row);
            }
        }
    }
    (kept, errors)
}

/// Imports the customers in `text` (or, with `dry_run`, only checks them, against the
/// accounts that exist too). `progress` is told after each batch: rows done, rows in all.
/// Audited as `customers.imported` with the counts.
pub async fn import(
    state: &AppState,
    text: &str,
    format: Format,
    dry_run: bool,
    actor: Actor,
    progress: impl Fn(usize, usize),
) -> anyhow::Result<Report> {
    let (rows, mut errors) = read(text, format);
    let total = rows.len() + errors.len();
    if total > MAX_ROWS {
        anyhow::bail!("the file has {total} rows; import at most {MAX_ROWS} at a time");
    }
    let mut imported = 0;
    for batch in rows.chunks(BATCH) {
        let emails: Vec<String> = batch.iter().map(|r| r.email.as_str().to_owned()).collect();
        let phones: Vec<Option<String>> = batch.iter().map(|r| r.phone.clone()).collect();
        let stored: HashSet<String> = if dry_run {
            // What exists already is what an import would find taken.
            let taken: HashSet<String> = sqlx::query_scalar::<_, String>(
                "SELECT lower(email) FROM users WHERE lower(email) = ANY(
                     SELECT lower(e) FROM unnest($1::text[]) e)
                 UNION SELECT phone FROM users WHERE phone = ANY($2)",
            )
            .bind(&emails)
            .bind(&phones)
            .fetch_all(&state.db)
            .await?
            .into_iter()
            .collect();
            batch
                .iter()
                .filter(|r| {
                    !taken.contains(&r.email.as_str().to_lowercase())
                        && r.phone.as_ref().is_none_or(|p| !taken.contains(p))
                })
                .map(|r| r.email.as_str().to_lowercase())
                .collect()
        } else {
            let ids: Vec<Uuid> = batch.iter().map(|_| Uuid::new_v4()).collect();
            let names: Vec<String> = batch.iter().map(|r| r.name.as_str().to_owned()).collect();
            let hashes: Vec<Option<String>> =
                batch.iter().map(|r| r.password_hash.clone()).collect();
            let verified: Vec<bool> = batch.iter().map(|r| r.verified).collect();
            sqlx::query_scalar::<_, String>(
                "INSERT INTO users (id, email, display_name, password_hash, role,
                                    email_verified_at, phone, phone_verified_at)
                 SELECT id, email, name, hash, 'customer', CASE WHEN verified THEN now() END,
                        phone, CASE WHEN phone IS NOT NULL THEN now() END
                 FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bool[],
                             $6::text[]) AS r (id, email, name, hash, verified, phone)
                 ON CONFLICT DO NOTHING
                 RETURNING lower(email)",
            )
            .bind(&ids)
            .bind(&emails)
            .bind(&names)
            .bind(&hashes)
            .bind(&verified)
            .bind(&phones)
            .fetch_all(&state.db)
            .await?
            .into_iter()
            .collect()
        };
        for row in batch {
            if !stored.contains(&row.email.as_str().to_lowercase()) {
                errors.push(RowError {
                    line: row.line,
                    message: "the address or phone number belongs to an account already".into(),
                });
            }
        }
        imported += stored.len();
        progress(imported + errors.len(), total);
    }
    errors.sort_by_key(|e| e.line);
    let event = AuditEvent::new("customers.imported", Outcome::Success)
        .by_actor(actor)
        .detail(json!({
            "dry_run": dry_run,
            "rows": total,
            "imported": if dry_run { 0 } else { imported },
            "skipped": errors.len(),
            "at": OffsetDateTime::now_utc().unix_timestamp(),
        }));
    audit::record(&state.db, &ClientInfo::default(), event).await?;
    Ok(Report {
        dry_run,
        rows: total,
        imported: if dry_run { 0 } else { imported },
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_are_checked_one_by_one_and_repeats_reported() {
        let text = "email,display_name,email_verified,phone,password_hash\n\
                    ada@example.com,Ada,true,,\n\
                    not-an-address,Bob,false,,\n\
                    ADA@example.com,Ada again,false,,\n\
                    grace@example.com,Grace,maybe,,\n\
                    alan@example.com,Alan,false,,$md5$nope\n\
                    \"lin, the second\"@example.com,Lin,no,,\n";
        let (rows, errors) = read(text, Format::Csv);
        assert_eq!(rows.len(), 1, "{errors:?}");
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines.len(), 5, "{errors:?}");
        assert!(lines.contains(&3) && lines.contains(&4) && lines.contains(&5));
        assert!(errors
            .iter()
            .any(|e| e.message.contains("appears on line 2")));
    }

    #[test]
    fn json_lines_take_booleans_and_name_bad_lines() {
        let text =
            "{\"email\":\"ada@example.com\",\"display_name\":\"Ada\",\"email_verified\":true}\n\
                    \n\
                    not json\n";
        let (rows, errors) = read(text, Format::JsonLines);
        assert_eq!(rows.len(), 1);
        assert!(rows[0].verified);
        assert_eq!(errors[0].line, 3);
    }
}

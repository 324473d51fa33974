//! Every table and column in the database is answered for by the module that owns it: what it
//! holds about people, and how a person's export and erasure cover it. A migration that adds a
//! table or a column nobody answers for fails here.

use std::collections::{BTreeMap, BTreeSet};

use app::domain::privacy::{self, Erasure, Export};
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn every_column_is_answered_for_by_its_module(db: PgPool) {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let mut schema: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (table, column) in rows {
        schema.entry(table).or_default().insert(column);
    }

    let mut problems = Vec::new();
    let mut answered: BTreeMap<&str, &str> = BTreeMap::new();
    for (module, table) in privacy::tables() {
        if let Some(other) = answered.insert(table.name, module) {
            problems.push(format!(
                "{}: answered for by both {other} and {module}",
                table.name
            ));
        }
        let Some(columns) = schema.get(table.name) else {
            problems.push(format!(
                "{module} answers for {}, which does not exist",
                table.name
            ));
            continue;
        };
        let listed: Vec<&str> = table.personal.iter().chain(table.other).copied().collect();
        let unique: BTreeSet<&str> = listed.iter().copied().collect();
        if unique.len() != listed.len() {
            problems.push(format!("{}: a column is listed twice", table.name));
        }
        for column in columns {
            if !unique.contains(column.as_str()) {
                problems.push(format!(
                    "{}.{column}: no module says whether it holds personal data ({module} owns the table)",
                    table.name
                ));
            }
        }
        for column in &unique {
            if !columns.contains(*column) {
                problems.push(format!(
                    "{}.{column}: listed by {module} but not in the database",
                    table.name
                ));
            }
        }
        if let Some(person) = table.person {
            if !table.personal.contains(&person) {
                problems.push(format!(
                    "{}: the person column {person} must be listed as personal",
                    table.name
                ));
            }
        }
        let left_out: Vec<&str> = match table.export {
            Export::RowsWithout(columns) => columns.to_vec(),
            Export::RowsRedactedForOthers { actor, columns } => {
                let mut named = columns.to_vec();
                named.push(actor);
                named
            }
            _ => Vec::new(),
        };
        {
            for column in left_out {
                if !unique.contains(&column) {
                    problems.push(format!(
                        "{}: leaves out {column}, which it does not have",
                        table.name
                    ));
                }
            }
        }
        let holds_personal = !table.personal.is_empty();
        if holds_personal && table.erasure == Erasure::Nothing {
            problems.push(format!(
                "{}: holds personal data but erasure does nothing",
                table.name
            ));
        }
        if !holds_personal && table.erasure != Erasure::Nothing {
            problems.push(format!(
                "{}: holds nothing personal, so erasure has nothing to do",
                table.name
            ));
        }
        if table.person.is_none() && !matches!(table.export, Export::Not(_)) {
            problems.push(format!(
                "{}: exports rows but names no person column",
                table.name
            ));
        }
    }
    for table in schema.keys() {
        if !answered.contains_key(table.as_str()) {
            problems.push(format!("{table}: no module answers for this table"));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// `server privacy inventory` prints one row per table of the database, with its owner and how
/// export and erasure cover it.
#[sqlx::test(migrations = "../migrations")]
async fn the_inventory_command_lists_every_table(db: PgPool) {
    let out = crate::support::cli::server_command(&db, &["privacy", "inventory"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let rows: BTreeMap<&str, Vec<&str>> = text
        .lines()
        .skip(2)
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            (cells[0], cells)
        })
        .collect();
    assert_eq!(rows.len(), tables.len(), "{text}");
    for table in &tables {
        assert!(
            rows.contains_key(table.as_str()),
            "{table} missing:\n{text}"
        );
    }
    let users = &rows["users"];
    assert_eq!(users[1], "domain::users");
    assert!(users[2].contains("email"), "{users:?}");
    assert!(users[3].contains("without password_hash"), "{users:?}");
    assert_eq!(users[4], "their rows deleted");
    assert!(rows["audit_events"][4].contains("pseudonym"), "{text}");
}

//! `server privacy`: the service's record of what it holds about people, read from each
//! module's answer for its tables (`app::domain::privacy::INVENTORY`): per table, its owner, the
//! columns with personal data, and how a person's export and erasure cover it.

use app::domain::privacy;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum PrivacyCommand {
    /// Print every table, its owning module, its personal columns, and how export and erasure
    /// cover it, as a Markdown table (the basis of a record of processing, GDPR Art. 30).
    Inventory,
}

pub fn run(command: PrivacyCommand) {
    match command {
        PrivacyCommand::Inventory => print!("{}", inventory()),
    }
}

/// The inventory as a Markdown table, sorted by table name.
fn inventory() -> String {
    let mut tables: Vec<_> = privacy::tables().collect();
    tables.sort_by_key(|(_, table)| table.name);
    let mut out = String::from(
        "| table | module | personal columns | export | erasure |\n|---|---|---|---|---|\n",
    );
    for (module, table) in tables {
        let personal = if table.personal.is_empty() {
            "none".to_owned()
        } else {
            table.personal.join(", ")
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            table.name,
            module,
            personal,
            cell(&table.export.describe()),
            cell(&table.erasure.describe()),
        ));
    }
    out
}

/// `text` safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

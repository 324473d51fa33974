//! What the service holds about people, table by table: every module that owns a table says,
//! in its `TABLES`, which columns hold personal data, which column names the person a row is
//! about, and how the table is covered when that person asks for their data (export) and for
//! its erasure. `INVENTORY` gathers them; a test compares it with the database, so a migration
//! that adds a table or a column nobody answers for fails the build's tests. `export` builds a
//! person's "Download my data" from this map (`document` writes its files); `deletion` takes
//! their "Delete my account" and `erasure` carries it out from the same map.

pub mod deletion;
pub mod document;
pub mod erasure;
pub mod export;

use super::{
    audit, branding, consents, customers, directory, email_change, email_sign_in, mail, master_key,
    mfa, oidc, passkeys, postal_address, proof_of_work, reports, risk, scim, sessions, settings,
    sms, social, staff, throttle, tokens, users, webhooks,
};

/// One table and what its owner answers for.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    /// The column naming the person a row is about, if rows are about one person.
    pub person: Option<&'static str>,
    /// Columns that hold personal data (contact data, names, identifiers of the person or of
    /// their devices and networks, what they wrote or were sent), or secrets of theirs.
    pub personal: &'static [&'static str],
    /// Every other column.
    pub other: &'static [&'static str],
    pub export: Export,
    pub erasure: Erasure,
}

/// How a person's export covers a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    /// Their rows, every column.
    Rows,
    /// Their rows without these columns (secrets, or hashes of secrets).
    RowsWithout(&'static [&'static str]),
    /// Their rows; where a row's `actor` column names someone else (a staff member acting on
    /// the account), without `columns` (that someone's identity, network and browser).
    RowsRedactedForOthers {
        actor: &'static str,
        columns: &'static [&'static str],
    },
    /// Not exported, and why.
    Not(&'static str),
}

/// What erasing a person does to a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erasure {
    /// Their rows are deleted.
    Delete,
    /// Rows that name the person by their address, phone number or a network address they
    /// used (not by their id) are deleted: those `condition` (SQL over the table, with `$1` the
    /// `text[]` of those names) picks.
    DeleteNaming(&'static str),
    /// Their rows stay, the person replaced by a pseudonym and the personal columns cleared.
    Pseudonymise,
    /// Their rows stay as they are, and why that is lawful and holds no contact data.
    Keep(&'static str),
    /// Rows about people expire on their own, and when.
    Expires(&'static str),
    /// The table holds nothing about people.
    Nothing,
}

/// Every module's tables, under the module's path.
pub const INVENTORY: &[(&str, &[Table])] = &[
    ("domain::users", users::TABLES),
    ("domain::audit", audit::TABLES),
    ("domain::settings", settings::TABLES),
    ("domain::throttle", throttle::TABLES),
    ("domain::branding", branding::TABLES),
    ("domain::customers::breach", customers::breach::TABLES),
    (
        "domain::customers::import_jobs",
        customers::import_jobs::TABLES,
    ),
    ("domain::consents::ledger", consents::ledger::TABLES),
    ("domain::consents::purposes", consents::purposes::TABLES),
    ("domain::reports", reports::TABLES),
    ("domain::email_change", email_change::TABLES),
    ("domain::email_sign_in", email_sign_in::TABLES),
    ("domain::mail", mail::TABLES),
    ("domain::master_key", master_key::TABLES),
    ("domain::mfa::recovery_codes", mfa::recovery_codes::TABLES),
    ("domain::mfa::remembered", mfa::remembered::TABLES),
    ("domain::mfa::totp", mfa::totp::TABLES),
    ("domain::oidc", oidc::TABLES),
    ("domain::passkeys", passkeys::TABLES),
    ("domain::postal_address", postal_address::TABLES),
    ("domain::proof_of_work", proof_of_work::TABLES),
    ("domain::risk::history", risk::history::TABLES),
    ("domain::sessions", sessions::TABLES),
    ("domain::sms", sms::TABLES),
    ("domain::social", social::TABLES),
    ("domain::staff", staff::TABLES),
    ("domain::tokens", tokens::TABLES),
    ("domain::privacy::export", export::TABLES),
    ("domain::privacy::deletion", deletion::TABLES),
    ("domain::webhooks", webhooks::TABLES),
    ("domain::directory", directory::TABLES),
    ("domain::directory::policies", directory::policies::TABLES),
    ("domain::scim", scim::TABLES),
];

/// Every table, with the module that answers for it.
pub fn tables() -> impl Iterator<Item = (&'static str, &'static Table)> {
    INVENTORY
        .iter()
        .flat_map(|(module, tables)| tables.iter().map(move |t| (*module, t)))
}

impl Export {
    /// In words, for the record of processing (`server privacy inventory`).
    pub fn describe(&self) -> String {
        match self {
            Self::Rows => "their rows".to_owned(),
            Self::RowsWithout(columns) => format!("their rows without {}", columns.join(", ")),
            Self::RowsRedactedForOthers { actor, columns } => format!(
                "their rows; {} withheld where {actor} is someone else",
                columns.join(", ")
            ),
            Self::Not(why) => format!("not exported: {why}"),
        }
    }
}

impl Erasure {
    /// In words, for the record of processing (`server privacy inventory`).
    pub fn describe(&self) -> String {
        match self {
            Self::Delete => "their rows deleted".to_owned(),
            Self::DeleteNaming(_) => {
                "rows naming their address, phone number or network deleted".to_owned()
            }
            Self::Pseudonymise => {
                "kept, the person replaced by a pseudonym and personal columns cleared".to_owned()
            }
            Self::Keep(why) => format!("kept: {why}"),
            Self::Expires(when) => format!("expires: {when}"),
            Self::Nothing => "nothing to erase".to_owned(),
        }
    }
}

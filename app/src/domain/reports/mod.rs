//! Reports for the console's dashboard: per-day counts kept by a rollup (`rollup`), read back
//! as series over 7, 30 or 90 days (`dashboard`), and drawn as SVG on the server (`chart`).

use crate::domain::privacy::{Erasure, Export, Table};

pub mod chart;
pub mod dashboard;
pub mod rollup;

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[
    Table {
        name: "daily_counts",
        person: None,
        personal: &[],
        other: &["day", "metric", "dimension", "count"],
        export: Export::Not("holds nothing about people"),
        erasure: Erasure::Nothing,
    },
    Table {
        name: "report_gauges",
        person: None,
        personal: &[],
        other: &["name", "value", "measured_at"],
        export: Export::Not("holds nothing about people"),
        erasure: Erasure::Nothing,
    },
    Table {
        name: "report_watermarks",
        person: None,
        personal: &[],
        other: &["name", "position"],
        export: Export::Not("holds nothing about people"),
        erasure: Erasure::Nothing,
    },
];

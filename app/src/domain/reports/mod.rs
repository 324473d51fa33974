//! Reports for the console's dashboard: per-day counts kept by a rollup (`rollup`), read back
//! as series over 7, 30 or 90 days (`dashboard`), and drawn as SVG on the server (`chart`).

pub mod chart;
pub mod dashboard;
pub mod rollup;

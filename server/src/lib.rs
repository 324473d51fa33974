//! The server process: configuration, start-up, HTTP protections and background workers.
#![forbid(unsafe_code)]

pub mod audit_export;
pub mod branding;
pub mod config;
pub mod customer_import;
pub mod data_export;
pub mod directory;
pub mod languages;
pub mod metrics;
pub mod oidc;
pub mod pages;
pub mod risk_sources;
pub mod scim;
pub mod security;
pub mod social;
pub mod staff_gate;
pub mod startup;
pub mod step_up;
pub mod telemetry;
pub mod workers;

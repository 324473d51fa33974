//! The signed-in person's consents: each purpose with its policy text and their current
//! choice, the ledger's history of their choices and app approvals, and granting or
//! withdrawing one.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// One purpose as the privacy page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurposeView {
    pub key: String,
    pub name: String,
    pub required: bool,
    /// "your consent", "our contract with you", ...
    pub basis: String,
    pub region: Option<String>,
    pub version: i32,
    pub text: String,
    /// Whether the person's newest choice grants it.
    pub granted: bool,
    /// Their newest choice, in words ("Accepted version 1 on 2026-12-04 10:00 UTC"), if any.
    pub choice: Option<String>,
    /// They accepted an older version than the current one.
    pub outdated: bool,
}

/// One row of the person's consent history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub at: String,
    /// "Granted Marketing email (version 2)", "Disconnected Acme Shop".
    pub what: String,
    /// "in your account", "at registration", ...
    pub how: String,
    /// The first 8 bytes of the policy text's SHA-256, in hex.
    pub text_hash: Option<String>,
    pub device: String,
}

/// Everything the privacy page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentsView {
    pub purposes: Vec<PurposeView>,
    pub history: Vec<ConsentRecord>,
}

/// How much history the page shows.
#[cfg(feature = "ssr")]
const HISTORY: i64 = 200;

/// The signed-in person's purposes, choices and history.
#[server(prefix = "/api", endpoint = "consents")]
pub async fn consents() -> Result<ConsentsView, AppError> {
    use super::context;
    use crate::domain::{
        client::device_summary,
        consents::{ledger, purposes},
        error::AccountError,
    };

    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    let (all, choices, history) = async {
        let all = purposes::list(&state.db, false).await?;
        let choices = ledger::current(&state.db, user_id).await?;
        let history = ledger::history(&state.db, user_id, HISTORY).await?;
        Ok::<_, sqlx::Error>((all, choices, history))
    }
    .await
    .map_err(AccountError::from)?;
    let purposes = all
        .into_iter()
        .map(|p| {
            let choice = choices.iter().find(|c| c.purpose == p.key);
            PurposeView {
                granted: choice.is_some_and(|c| c.granted),
                choice: choice.map(|c| {
                    let verb = if c.granted { "Accepted" } else { "Declined" };
                    format!(
                        "{verb} version {} on {}",
                        c.policy_version,
                        context::utc(c.at)
                    )
                }),
                outdated: choice.is_some_and(|c| c.granted && c.policy_version < p.version),
                basis: p.lawful_basis.describe().to_owned(),
                key: p.key,
                name: p.name,
                required: p.required,
                region: p.region,
                version: p.version,
                text: p.body,
            }
        })
        .collect();
    let history = history
        .into_iter()
        .map(|e| {
            let name = e.name.unwrap_or_default();
            let what = match (e.client_id.is_some(), e.granted, e.policy_version) {
                (true, true, _) => format!("Allowed {name} to sign you in"),
                (true, false, _) => format!("Disconnected {name}"),
                (false, true, Some(v)) => format!("Accepted {name} (version {v})"),
                (false, false, Some(v)) => format!("Withdrew {name} (version {v})"),
                (false, _, None) => name,
            };
            ConsentRecord {
                at: context::utc(e.at),
                what,
                how: e.collected_via.describe().to_owned(),
                text_hash: e
                    .policy_hash
                    .map(|h| h.iter().take(8).map(|b| format!("{b:02x}")).collect()),
                device: device_summary(e.user_agent.as_deref()),
            }
        })
        .collect();
    Ok(ConsentsView { purposes, history })
}

/// Grants (`granted` = "true") or withdraws a purpose, on its current policy version.
#[server(prefix = "/api", endpoint = "consents/choose")]
pub async fn choose_consent(purpose: String, granted: String) -> Result<(), AppError> {
    use super::context;
    use crate::domain::consents::ledger;

    let granted = match granted.as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return Err(AppError::field(
                "granted",
                "Choose to grant or to withdraw.",
            ))
        }
    };
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    ledger::choose(&state, &context::client(), user_id, &purpose, granted).await?;
    leptos_axum::redirect("/profile/consents?saved=1");
    Ok(())
}

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
    use crate::{
        domain::{
            client::device_summary,
            consents::{ledger, purposes},
            error::AccountError,
        },
        i18n::td_string,
    };

    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    let locale = context::client().reading.language();
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
                    let when = context::moment(c.at);
                    if c.granted {
                        td_string!(
                            locale,
                            consent_words.accepted_version_on,
                            version = c.policy_version,
                            when = &when,
                        )
                    } else {
                        td_string!(
                            locale,
                            consent_words.declined_version_on,
                            version = c.policy_version,
                            when = &when,
                        )
                    }
                }),
                outdated: choice.is_some_and(|c| c.granted && c.policy_version < p.version),
                basis: basis_words(p.lawful_basis, locale).to_owned(),
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
                (true, true, _) => td_string!(locale, consent_words.app_allowed, name = &name),
                (true, false, _) => {
                    td_string!(locale, consent_words.app_disconnected, name = &name)
                }
                (false, true, Some(v)) => {
                    td_string!(locale, consent_words.accepted, name = &name, version = v)
                }
                (false, false, Some(v)) => {
                    td_string!(locale, consent_words.withdrew, name = &name, version = v)
                }
                (false, _, None) => name,
            };
            ConsentRecord {
                at: context::moment(e.at),
                what,
                how: collection_words(e.collected_via, locale).to_owned(),
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
    use crate::{domain::consents::ledger, i18n::td_string};

    let granted = match granted.as_str() {
        "true" => true,
        "false" => false,
        _ => {
            let locale = context::client().reading.language();
            return Err(AppError::field(
                "granted",
                td_string!(locale, consent_words.choose_grant_or_withdraw),
            ));
        }
    };
    let state = context::state()?;
    let session = context::session().await?;
    let user_id = context::signed_in_user(&session).await?;
    ledger::choose(&state, &context::client(), user_id, &purpose, granted).await?;
    leptos_axum::redirect("/profile/consents?saved=1");
    Ok(())
}

/// A lawful basis in plain words of `locale` ("your consent", "our contract with you", ...).
#[cfg(feature = "ssr")]
pub fn basis_words(
    basis: crate::domain::consents::LawfulBasis,
    locale: crate::i18n::Locale,
) -> &'static str {
    use crate::{domain::consents::LawfulBasis, i18n::td_string};
    match basis {
        LawfulBasis::Consent => td_string!(locale, consent_words.basis_consent),
        LawfulBasis::Contract => td_string!(locale, consent_words.basis_contract),
        LawfulBasis::LegalObligation => td_string!(locale, consent_words.basis_legal_obligation),
        LawfulBasis::VitalInterests => td_string!(locale, consent_words.basis_vital_interests),
        LawfulBasis::PublicTask => td_string!(locale, consent_words.basis_public_task),
        LawfulBasis::LegitimateInterests => {
            td_string!(locale, consent_words.basis_legitimate_interests)
        }
    }
}

/// Where a ledger entry was collected, in plain words of `locale` ("in your account", ...).
#[cfg(feature = "ssr")]
pub fn collection_words(
    how: crate::domain::consents::Collection,
    locale: crate::i18n::Locale,
) -> &'static str {
    use crate::{domain::consents::Collection, i18n::td_string};
    match how {
        Collection::Registration => td_string!(locale, consent_words.via_registration),
        Collection::Portal => td_string!(locale, consent_words.via_portal),
        Collection::Reconsent => td_string!(locale, consent_words.via_reconsent),
        Collection::Api => td_string!(locale, consent_words.via_api),
        Collection::AppAuthorization => td_string!(locale, consent_words.via_app_authorization),
        Collection::Service => td_string!(locale, consent_words.via_service),
    }
}

//! The sign-in settings in the console: which methods are on, who must use a second factor,
//! the risk engine and its thresholds, the password policy and session lifetimes. Saving changes only what changed, each change audited
//! with its before and after values (as the command line does).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::error::AppError;

/// One switch and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Switch {
    pub name: String,
    pub on: bool,
}

/// The settings as the form shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub switches: Vec<Switch>,
    pub mfa_policy: String,
    pub risk_step_up: i32,
    pub risk_block: i32,
    pub password_min_length: i32,
    pub password_min_strength: i32,
    pub session_idle_minutes: i32,
    pub session_max_hours: i32,
    pub deletion_grace_days: i32,
}

/// The sign-in settings.
#[server(prefix = "/api", endpoint = "console/settings")]
pub async fn sign_in_settings() -> Result<SettingsView, AppError> {
    use crate::domain::{error::AccountError, settings, staff::Permission};
    let allowed = super::guard(Permission::SettingsRead).await?;
    let s = settings::load(&allowed.state.db)
        .await
        .map_err(AccountError::from)?;
    let on = |name: &str| match name {
        "require_verified_email" => s.require_verified_email,
        "email_sign_in_enabled" => s.email_sign_in_enabled,
        "register_on_email_sign_in" => s.register_on_email_sign_in,
        "passkeys_enabled" => s.passkeys_enabled,
        "social_enabled" => s.social_enabled,
        "sms_enabled" => s.sms_enabled,
        "risk_engine_enabled" => s.risk_engine_enabled,
        "dpop_nonce_required" => s.dpop_nonce_required,
        _ => false,
    };
    let thresholds = s.risk_thresholds();
    Ok(SettingsView {
        switches: settings::SWITCHES
            .iter()
            .map(|name| Switch {
                name: (*name).to_owned(),
                on: on(name),
            })
            .collect(),
        mfa_policy: s.mfa_policy.to_string(),
        risk_step_up: thresholds.step_up,
        risk_block: thresholds.block,
        password_min_length: s.limits.password_min_length,
        password_min_strength: s.limits.password_min_strength,
        session_idle_minutes: s.limits.session_idle_minutes,
        session_max_hours: s.limits.session_max_hours,
        deletion_grace_days: s.limits.deletion_grace_days,
    })
}

/// The settings form: each switch is present (`on`) when ticked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub require_verified_email: Option<String>,
    #[serde(default)]
    pub email_sign_in_enabled: Option<String>,
    #[serde(default)]
    pub register_on_email_sign_in: Option<String>,
    #[serde(default)]
    pub passkeys_enabled: Option<String>,
    #[serde(default)]
    pub social_enabled: Option<String>,
    #[serde(default)]
    pub sms_enabled: Option<String>,
    #[serde(default)]
    pub risk_engine_enabled: Option<String>,
    #[serde(default)]
    pub dpop_nonce_required: Option<String>,
    #[serde(default)]
    pub mfa_policy: String,
    #[serde(default)]
    pub risk_step_up: String,
    #[serde(default)]
    pub risk_block: String,
    #[serde(default)]
    pub password_min_length: String,
    #[serde(default)]
    pub password_min_strength: String,
    #[serde(default)]
    pub session_idle_minutes: String,
    #[serde(default)]
    pub session_max_hours: String,
    /// Left out: stays as it is.
    #[serde(default)]
    pub deletion_grace_days: String,
}

impl SettingsForm {
    /// Whether the switch `name` is ticked.
    pub fn ticked(&self, name: &str) -> bool {
        let value = match name {
            "require_verified_email" => &self.require_verified_email,
            "email_sign_in_enabled" => &self.email_sign_in_enabled,
            "register_on_email_sign_in" => &self.register_on_email_sign_in,
            "passkeys_enabled" => &self.passkeys_enabled,
            "social_enabled" => &self.social_enabled,
            "sms_enabled" => &self.sms_enabled,
            "risk_engine_enabled" => &self.risk_engine_enabled,
            "dpop_nonce_required" => &self.dpop_nonce_required,
            _ => &None,
        };
        value.as_deref().is_some_and(|v| v == "on")
    }
}

/// Saves the form; answers how many settings changed.
#[server(prefix = "/api", endpoint = "console/settings/save")]
pub async fn save_settings(
    settings: SettingsForm,
    confirm: Option<String>,
) -> Result<usize, AppError> {
    use crate::domain::{
        error::AccountError, mfa::policy::MfaPolicy, settings as stored, staff::Permission,
    };
    let allowed = super::guard_change(Permission::SettingsWrite, confirm.as_deref()).await?;
    let db = &allowed.state.db;
    let policy = MfaPolicy::parse(settings.mfa_policy.trim())
        .ok_or_else(|| AppError::field("mfa_policy", "Choose who must use a second factor."))?;
    let score = |raw: &str, field: &str| {
        raw.trim()
            .parse::<i32>()
            .map_err(|_| AppError::field(field, "A score from 1 to 1000."))
    };
    let step_up = score(&settings.risk_step_up, "risk_step_up")?;
    let block = score(&settings.risk_block, "risk_block")?;
    let number = |raw: &str, field: &str| {
        raw.trim()
            .parse::<i32>()
            .map_err(|_| AppError::field(field, "A whole number."))
    };
    let current = sign_in_settings().await?;
    let limits = stored::Limits {
        password_min_length: number(&settings.password_min_length, "password_min_length")?,
        password_min_strength: number(&settings.password_min_strength, "password_min_strength")?,
        session_idle_minutes: number(&settings.session_idle_minutes, "session_idle_minutes")?,
        session_max_hours: number(&settings.session_max_hours, "session_max_hours")?,
        deletion_grace_days: match settings.deletion_grace_days.trim() {
            "" => current.deletion_grace_days,
            raw => number(raw, "deletion_grace_days")?,
        },
    };
    limits
        .check()
        .map_err(|e| AppError::field(e.field(), e.to_string()))?;
    let mut changed = 0;
    // Thresholds first: when they are refused, nothing else changes either.
    if (step_up, block) != (current.risk_step_up, current.risk_block) {
        stored::set_risk_thresholds(db, Some(step_up), Some(block), allowed.actor())
            .await
            .map_err(AccountError::from)?
            .map_err(|e| AppError::field("risk_block", format!("{e}.")))?;
        changed += 1;
    }
    changed += stored::set_limits(db, limits, allowed.actor())
        .await
        .map_err(AccountError::from)?
        .map_err(|e| AppError::field(e.field(), e.to_string()))?
        .len();
    for switch in &current.switches {
        let wanted = settings.ticked(&switch.name);
        if wanted != switch.on {
            stored::set(db, &switch.name, wanted, allowed.actor())
                .await
                .map_err(AccountError::from)?;
            changed += 1;
        }
    }
    if policy.as_str() != current.mfa_policy {
        stored::set_mfa_policy(db, policy, allowed.actor())
            .await
            .map_err(AccountError::from)?;
        changed += 1;
    }
    Ok(changed)
}

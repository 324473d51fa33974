//! The business's sign-in policy: the `auth_settings` row (edited later from the admin console):
//! the methods on offer, verified addresses, who must use a second factor, and the risk
//! engine's thresholds.

use serde_json::json;
use sqlx::{PgExecutor, PgPool};

use super::{
    audit::{self, Actor, AuditEvent, Outcome},
    client::ClientInfo,
    mfa::policy::MfaPolicy,
    risk::score::Thresholds,
};

/// Which methods are offered and how strict registration is.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthSettings {
    pub require_verified_email: bool,
    pub email_sign_in_enabled: bool,
    pub register_on_email_sign_in: bool,
    pub passkeys_enabled: bool,
    pub social_enabled: bool,
    pub sms_enabled: bool,
    /// Who must sign in with a second factor.
    pub mfa_policy: MfaPolicy,
    /// The risk engine weighs every sign-in (on unless the business turns it off).
    pub risk_engine_enabled: bool,
    /// The risk engine's thresholds, when the business set its own.
    pub risk_step_up: Option<i32>,
    pub risk_block: Option<i32>,
}

impl AuthSettings {
    /// The risk engine's thresholds: the business's, else the defaults.
    pub fn risk_thresholds(&self) -> Thresholds {
        let default = Thresholds::default();
        Thresholds {
            step_up: self.risk_step_up.unwrap_or(default.step_up),
            block: self.risk_block.unwrap_or(default.block),
        }
    }
}

pub async fn load(db: impl PgExecutor<'_>) -> sqlx::Result<AuthSettings> {
    sqlx::query_as(
        "SELECT require_verified_email, email_sign_in_enabled, register_on_email_sign_in,
                passkeys_enabled, social_enabled, sms_enabled, mfa_policy, risk_engine_enabled,
                risk_step_up, risk_block
         FROM auth_settings WHERE id",
    )
    .fetch_one(db)
    .await
}

/// The switches [`set`] may change, as named on the command line.
pub const SWITCHES: [&str; 7] = [
    "require_verified_email",
    "email_sign_in_enabled",
    "register_on_email_sign_in",
    "passkeys_enabled",
    "social_enabled",
    "sms_enabled",
    "risk_engine_enabled",
];

/// Turns one switch of the sign-in policy on or off (audited, with `actor` and the change);
/// `None` when `name` is not a switch.
pub async fn set(db: &PgPool, name: &str, on: bool, actor: Actor) -> sqlx::Result<Option<()>> {
    // The column name comes from the fixed list above, never from the input itself.
    let Some(column) = SWITCHES.iter().find(|s| **s == name) else {
        return Ok(None);
    };
    let mut tx = db.begin().await?;
    let before: bool = sqlx::query_scalar(&format!(
        "SELECT {column} FROM auth_settings WHERE id FOR UPDATE"
    ))
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(&format!("UPDATE auth_settings SET {column} = $1 WHERE id"))
        .bind(on)
        .execute(&mut *tx)
        .await?;
    let event = AuditEvent::new("settings.changed", Outcome::Success)
        .by_actor(actor)
        .detail(json!({ "setting": column, "from": before, "to": on }));
    audit::record(&mut *tx, &ClientInfo::default(), event).await?;
    tx.commit().await?;
    Ok(Some(()))
}

/// Sets who must sign in with a second factor (audited, with `actor` and the change).
pub async fn set_mfa_policy(db: &PgPool, policy: MfaPolicy, actor: Actor) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    let before: MfaPolicy =
        sqlx::query_scalar("SELECT mfa_policy FROM auth_settings WHERE id FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query("UPDATE auth_settings SET mfa_policy = $1 WHERE id")
        .bind(policy)
        .execute(&mut *tx)
        .await?;
    let event = AuditEvent::new("settings.changed", Outcome::Success)
        .by_actor(actor)
        .detail(json!({ "setting": "mfa_policy", "from": before.as_str(), "to": policy.as_str() }));
    audit::record(&mut *tx, &ClientInfo::default(), event).await?;
    tx.commit().await
}

/// Why risk thresholds were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    #[error("a threshold is a score from 1 to 1000")]
    OutOfRange,
    #[error("the block threshold must be above the step-up threshold")]
    BlockNotAboveStepUp,
}

/// Sets the risk engine's thresholds (`None` for the default), audited with `actor` and the
/// change. Refused, changing nothing, unless both are scores from 1 to 1000 and blocking
/// starts above stepping up.
pub async fn set_risk_thresholds(
    db: &PgPool,
    step_up: Option<i32>,
    block: Option<i32>,
    actor: Actor,
) -> sqlx::Result<Result<Thresholds, ThresholdError>> {
    let default = Thresholds::default();
    let wanted = Thresholds {
        step_up: step_up.unwrap_or(default.step_up),
        block: block.unwrap_or(default.block),
    };
    if !(1..=1000).contains(&wanted.step_up) || !(1..=1000).contains(&wanted.block) {
        return Ok(Err(ThresholdError::OutOfRange));
    }
    if wanted.block <= wanted.step_up {
        return Ok(Err(ThresholdError::BlockNotAboveStepUp));
    }
    let mut tx = db.begin().await?;
    let before: (Option<i32>, Option<i32>) =
        sqlx::query_as("SELECT risk_step_up, risk_block FROM auth_settings WHERE id FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query("UPDATE auth_settings SET risk_step_up = $1, risk_block = $2 WHERE id")
        .bind(step_up)
        .bind(block)
        .execute(&mut *tx)
        .await?;
    let event = AuditEvent::new("settings.changed", Outcome::Success)
        .by_actor(actor)
        .detail(json!({
            "setting": "risk_thresholds",
            "from": { "step_up": before.0, "block": before.1 },
            "to": { "step_up": step_up, "block": block },
        }));
    audit::record(&mut *tx, &ClientInfo::default(), event).await?;
    tx.commit().await?;
    Ok(Ok(wanted))
}

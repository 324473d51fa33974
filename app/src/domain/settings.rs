//! The business's sign-in policy: the `auth_settings` row (edited from the console and the
//! command line): the methods on offer, verified addresses, who must use a second factor, the
//! risk engine's thresholds, the password policy, how long a sign-in lasts, how long a
//! person's "Delete my account" waits, and whether apps' DPoP proofs must carry the server's
//! nonce. Requests read it through [`current`]: held per node while change notices arrive.

use std::sync::Arc;

use serde_json::json;
use sqlx::{PgExecutor, PgPool};
use time::Duration;

use super::{
    audit::{self, Actor, AuditEvent, Outcome},
    client::ClientInfo,
    mfa::policy::MfaPolicy,
    password::{self, PasswordPolicy},
    risk::score::Thresholds,
};
use crate::domain::oidc::notice_cache::NoticeCache;
use crate::domain::privacy::{Erasure, Export, Table};
use crate::state::AppState;

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
    /// DPoP proofs must carry the server's current nonce (RFC 9449 §8, §9); on unless the
    /// business turns it off for apps that cannot send one.
    pub dpop_nonce_required: bool,
    /// The risk engine's thresholds, when the business set its own.
    pub risk_step_up: Option<i32>,
    pub risk_block: Option<i32>,
    /// The password policy and session lifetimes.
    #[sqlx(flatten)]
    pub limits: Limits,
}

/// The numbers the business sets: what a new password must be, how long a sign-in lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Limits {
    pub password_min_length: i32,
    /// The lowest zxcvbn score a new password needs (3 or 4).
    pub password_min_strength: i32,
    /// A sign-in ends after this long without a request.
    pub session_idle_minutes: i32,
    /// A sign-in ends this long after it began, however busy.
    pub session_max_hours: i32,
    /// How long a person's "Delete my account" waits (a sign-in meanwhile can cancel it).
    pub deletion_grace_days: i32,
}

impl Limits {
    pub fn password_policy(&self) -> PasswordPolicy {
        PasswordPolicy {
            min_len: usize::try_from(self.password_min_length).unwrap_or(password::MIN_LEN),
            min_score: u8::try_from(self.password_min_strength).unwrap_or(3),
        }
    }

    pub fn session_idle(&self) -> Duration {
        Duration::minutes(self.session_idle_minutes.into())
    }

    pub fn session_max(&self) -> Duration {
        Duration::hours(self.session_max_hours.into())
    }

    pub fn deletion_grace(&self) -> Duration {
        Duration::days(self.deletion_grace_days.into())
    }

    /// Why these limits cannot be set, if they cannot (the field to fix and what to fix).
    pub fn check(&self) -> Result<(), LimitError> {
        if !(8..=64).contains(&self.password_min_length) {
            return Err(LimitError::PasswordLength);
        }
        if !(3..=4).contains(&self.password_min_strength) {
            return Err(LimitError::PasswordStrength);
        }
        if !(5..=1440).contains(&self.session_idle_minutes) {
            return Err(LimitError::Idle);
        }
        if !(1..=720).contains(&self.session_max_hours) {
            return Err(LimitError::Max);
        }
        if self.session_idle_minutes > self.session_max_hours * 60 {
            return Err(LimitError::IdleAboveMax);
        }
        if !(1..=90).contains(&self.deletion_grace_days) {
            return Err(LimitError::DeletionGrace);
        }
        Ok(())
    }

    fn fields(&self) -> [(&'static str, i32); 5] {
        [
            ("password_min_length", self.password_min_length),
            ("password_min_strength", self.password_min_strength),
            ("session_idle_minutes", self.session_idle_minutes),
            ("session_max_hours", self.session_max_hours),
            ("deletion_grace_days", self.deletion_grace_days),
        ]
    }
}

/// Why limits were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("A minimum password length from 8 to 64 characters.")]
    PasswordLength,
    #[error("A strength of 3 (hard to guess) or 4 (very hard to guess).")]
    PasswordStrength,
    #[error("An idle limit from 5 to 1440 minutes.")]
    Idle,
    #[error("A longest sign-in from 1 to 720 hours.")]
    Max,
    #[error("The idle limit must fit within the longest sign-in.")]
    IdleAboveMax,
    #[error("A grace period before an account is deleted from 1 to 90 days.")]
    DeletionGrace,
}

impl LimitError {
    /// The form field it is about.
    pub fn field(self) -> &'static str {
        match self {
            Self::PasswordLength => "password_min_length",
            Self::PasswordStrength => "password_min_strength",
            Self::Idle | Self::IdleAboveMax => "session_idle_minutes",
            Self::Max => "session_max_hours",
            Self::DeletionGrace => "deletion_grace_days",
        }
    }
}

/// Sets the limits, audited with `actor` and each changed value's before and after; answers
/// the changed names. Refused, changing nothing, when [`Limits::check`] refuses them.
pub async fn set_limits(
    db: &PgPool,
    wanted: Limits,
    actor: Actor,
) -> sqlx::Result<Result<Vec<&'static str>, LimitError>> {
    if let Err(e) = wanted.check() {
        return Ok(Err(e));
    }
    let mut tx = db.begin().await?;
    let before: Limits = sqlx::query_as(
        "SELECT password_min_length, password_min_strength, session_idle_minutes,
                session_max_hours, deletion_grace_days
         FROM auth_settings WHERE id FOR UPDATE",
    )
    .fetch_one(&mut *tx)
    .await?;
    let mut changed = Vec::new();
    let mut changes = serde_json::Map::new();
    for ((name, from), (_, to)) in before.fields().into_iter().zip(wanted.fields()) {
        if from != to {
            changed.push(name);
            changes.insert(name.into(), json!({ "from": from, "to": to }));
        }
    }
    if changed.is_empty() {
        return Ok(Ok(changed));
    }
    sqlx::query(
        "UPDATE auth_settings SET password_min_length = $1, password_min_strength = $2,
             session_idle_minutes = $3, session_max_hours = $4, deletion_grace_days = $5
         WHERE id",
    )
    .bind(wanted.password_min_length)
    .bind(wanted.password_min_strength)
    .bind(wanted.session_idle_minutes)
    .bind(wanted.session_max_hours)
    .bind(wanted.deletion_grace_days)
    .execute(&mut *tx)
    .await?;
    let event = AuditEvent::new("settings.changed", Outcome::Success)
        .by_actor(actor)
        .detail(json!({ "setting": "limits", "changes": changes }));
    audit::record(&mut *tx, &ClientInfo::default(), event).await?;
    tx.commit().await?;
    Ok(Ok(changed))
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

/// The channel a trigger notifies on any change to `auth_settings`.
pub const CHANNEL: &str = "auth_settings_changed";

/// The policy row, held in memory per node while `auth_settings_changed` notices arrive (each
/// empties it): nearly every request reads it, and it changes rarely.
pub type SettingsCache = NoticeCache<(), AuthSettings>;

impl Default for SettingsCache {
    fn default() -> Self {
        Self::new(1)
    }
}

/// The policy as it stands: from this node's memory while change notices arrive, otherwise
/// read. A transaction that must see the row as it commits reads it with [`load`] instead.
pub async fn current(state: &AppState) -> sqlx::Result<Arc<AuthSettings>> {
    state
        .auth_settings
        .get_or_load(&(), || async { load(&state.db).await.map(Some) })
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// The policy row, read now.
pub async fn load(db: impl PgExecutor<'_>) -> sqlx::Result<AuthSettings> {
    sqlx::query_as(
        "SELECT require_verified_email, email_sign_in_enabled, register_on_email_sign_in,
                passkeys_enabled, social_enabled, sms_enabled, mfa_policy, risk_engine_enabled,
                dpop_nonce_required, risk_step_up, risk_block, password_min_length,
                password_min_strength, session_idle_minutes, session_max_hours,
                deletion_grace_days
         FROM auth_settings WHERE id",
    )
    .fetch_one(db)
    .await
}

/// The switches [`set`] may change, as named on the command line.
pub const SWITCHES: [&str; 8] = [
    "require_verified_email",
    "email_sign_in_enabled",
    "register_on_email_sign_in",
    "passkeys_enabled",
    "social_enabled",
    "sms_enabled",
    "risk_engine_enabled",
    "dpop_nonce_required",
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

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "auth_settings",
    person: None,
    personal: &[],
    other: &[
        "id",
        "require_verified_email",
        "email_sign_in_enabled",
        "register_on_email_sign_in",
        "passkeys_enabled",
        "social_enabled",
        "sms_enabled",
        "mfa_policy",
        "risk_engine_enabled",
        "dpop_nonce_required",
        "risk_step_up",
        "risk_block",
        "password_min_length",
        "password_min_strength",
        "session_idle_minutes",
        "session_max_hours",
        "deletion_grace_days",
    ],
    export: Export::Not("holds nothing about people"),
    erasure: Erasure::Nothing,
}];

//! The business's sign-in policy: the `auth_settings` row (edited later from the admin console):
//! the methods on offer, verified addresses, and who must use a second factor.

use serde_json::json;
use sqlx::{PgExecutor, PgPool};

use super::{
    audit::{self, Actor, AuditEvent, Outcome},
    client::ClientInfo,
    mfa::policy::MfaPolicy,
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
}

pub async fn load(db: impl PgExecutor<'_>) -> sqlx::Result<AuthSettings> {
    sqlx::query_as(
        "SELECT require_verified_email, email_sign_in_enabled, register_on_email_sign_in,
                passkeys_enabled, social_enabled, sms_enabled, mfa_policy
         FROM auth_settings WHERE id",
    )
    .fetch_one(db)
    .await
}

/// The switches [`set`] may change, as named on the command line.
pub const SWITCHES: [&str; 6] = [
    "require_verified_email",
    "email_sign_in_enabled",
    "register_on_email_sign_in",
    "passkeys_enabled",
    "social_enabled",
    "sms_enabled",
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

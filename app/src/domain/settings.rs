//! The business's sign-in policy: the `auth_settings` row (edited later from the admin console).

use sqlx::PgExecutor;

/// Which methods are offered and how strict registration is.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthSettings {
    pub require_verified_email: bool,
    pub email_sign_in_enabled: bool,
    pub register_on_email_sign_in: bool,
    pub passkeys_enabled: bool,
    pub social_enabled: bool,
    pub sms_enabled: bool,
}

pub async fn load(db: impl PgExecutor<'_>) -> sqlx::Result<AuthSettings> {
    sqlx::query_as(
        "SELECT require_verified_email, email_sign_in_enabled, register_on_email_sign_in,
                passkeys_enabled, social_enabled, sms_enabled
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

/// Turns one switch of the sign-in policy on or off; `None` when `name` is not a switch.
pub async fn set(db: impl PgExecutor<'_>, name: &str, on: bool) -> sqlx::Result<Option<()>> {
    // The column name comes from the fixed list above, never from the input itself.
    let Some(column) = SWITCHES.iter().find(|s| **s == name) else {
        return Ok(None);
    };
    sqlx::query(&format!("UPDATE auth_settings SET {column} = $1 WHERE id"))
        .bind(on)
        .execute(db)
        .await?;
    Ok(Some(()))
}

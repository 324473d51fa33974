//! What second factors a person has: an authenticator app, recovery codes left, passkeys.

use sqlx::PgExecutor;
use uuid::Uuid;

/// A person's second factors, as counted now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Factors {
    pub totp: bool,
    pub passkeys: i64,
    pub recovery_codes_left: i64,
}

impl Factors {
    /// Whether the person has a strong second factor: an authenticator app or a passkey.
    /// Recovery codes only stand in for one.
    pub fn has_strong(&self) -> bool {
        self.totp || self.passkeys > 0
    }

    /// Whether the person turned on two-step sign-in by enrolling an authenticator app (the
    /// step is then asked for at every sign-in without a passkey; passkeys alone ask for it
    /// only where the policy requires a second factor).
    pub fn enrolled(&self) -> bool {
        self.totp
    }
}

/// The second factors of `user_id`.
pub async fn of(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Factors> {
    sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM totp_factors WHERE user_id = $1) AS totp,
                (SELECT count(*) FROM passkeys WHERE user_id = $1) AS passkeys,
                (SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL)
                  AS recovery_codes_left",
    )
    .bind(user_id)
    .fetch_one(db)
    .await
}

/// Removes the authenticator app, recovery codes and remembered devices of `user_id` (their
/// address was proven by someone other than the browser that registered it); returns how many
/// rows went.
pub async fn remove_all(conn: &mut sqlx::PgConnection, user_id: Uuid) -> sqlx::Result<u64> {
    let totp = u64::from(super::totp::remove(&mut *conn, user_id).await?);
    let codes = super::recovery_codes::remove(&mut *conn, user_id).await?;
    let devices = super::remembered::forget_all(conn, user_id).await?;
    Ok(totp + codes + devices)
}

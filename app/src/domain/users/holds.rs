//! Holding an account's row until a transaction ends: for a sign-in's last step (with the
//! account as it is then), for a change to how the account signs in, and with its ways in counted
//! so that removing one can be checked against leaving none.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{User, COLUMNS};

/// An account held for a sign-in's last step, with when its deletion comes due (if it is set
/// to be deleted).
#[derive(Debug, sqlx::FromRow)]
pub struct Held {
    #[sqlx(flatten)]
    pub user: User,
    pub deletion_due: Option<OffsetDateTime>,
}

/// Reads account `id` as a sign-in's last step finds it, marks it signed in now
/// (`last_sign_in_at`) and holds it (`FOR NO KEY UPDATE`, as any update does) until `tx` ends.
/// The hold comes with the update, in one statement: two sign-ins of one account that each took
/// a shared lock and then both updated it would deadlock. A sign-in that does not go through
/// (refused, or waiting for an answer) rolls `tx` back, and with it the mark.
pub async fn hold(tx: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Held>> {
    sqlx::query_as(&format!(
        "UPDATE users SET last_sign_in_at = now() WHERE id = $1
         RETURNING {COLUMNS},
                   (SELECT d.due_at FROM account_deletions d WHERE d.user_id = users.id)
                     AS deletion_due"
    ))
    .bind(id)
    .fetch_optional(tx)
    .await
}

/// The ways an account can sign in, counted one by one so that removing any one of them can be
/// checked against leaving none.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct WaysIn {
    pub password: bool,
    pub verified_email: bool,
    pub passkeys: i64,
    pub identities: i64,
}

impl WaysIn {
    /// How many ways in there are; a verified address counts when email sign-in is on.
    pub fn count(&self, email_sign_in: bool) -> i64 {
        i64::from(self.password)
            + i64::from(self.verified_email && email_sign_in)
            + self.passkeys
            + self.identities
    }
}

/// Locks `user_id`'s row until the transaction ends, so changes to how the account signs in
/// go one at a time.
pub async fn lock(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The account's ways in, its row locked until the transaction ends (so two removals cannot
/// both pass the check).
pub async fn ways_in_for_update(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<WaysIn> {
    sqlx::query_as(
        "SELECT u.password_hash IS NOT NULL AS password,
                u.email_verified_at IS NOT NULL AS verified_email,
                (SELECT count(*) FROM passkeys p WHERE p.user_id = u.id) AS passkeys,
                (SELECT count(*) FROM user_identities i WHERE i.user_id = u.id) AS identities
         FROM users u WHERE u.id = $1 FOR UPDATE",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await
}

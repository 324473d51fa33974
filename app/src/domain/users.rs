//! The `users` table: accounts, their verified address, display name, role, password hash and
//! password lockout.

use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{email::Email, names::DisplayName, webhooks};
use crate::domain::privacy::{Erasure, Export, Table};

mod holds;

pub use holds::{hold, lock, ways_in_for_update, Held, WaysIn};

/// What an account is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Customer,
    Admin,
}

crate::text_enum!(Role {
    Customer => "customer",
    Admin => "admin",
});

/// Consecutive failed password sign-ins (across lockout windows) that lock the password until
/// a reset or an administrator's unlock (NIST 800-63B §5.2.2 allows at most 100).
pub const MAX_CONSECUTIVE_FAILURES: i32 = 100;

/// An account as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub email_verified_at: Option<OffsetDateTime>,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub role: Role,
    /// Proven phone number (E.164), if any.
    pub phone: Option<String>,
    /// Consecutive failed password sign-ins so far.
    pub failed_sign_ins: i32,
    /// When the password was locked after too many consecutive failures.
    pub password_locked_at: Option<OffsetDateTime>,
    /// When an operator locked the account (no sign-in by any method).
    pub locked_at: Option<OffsetDateTime>,
    /// The password may not be used until it is reset.
    pub password_reset_required: bool,
    /// This person must sign in with a second factor, whatever the policy.
    pub mfa_required: bool,
    pub created_at: OffsetDateTime,
    pub last_sign_in_at: Option<OffsetDateTime>,
    /// The language the person reads (a tag the product speaks), once known.
    pub locale: Option<String>,
    /// The IANA zone their moments are shown in, once they chose one.
    pub time_zone: Option<String>,
}

impl User {
    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The language mail to this person is written in.
    pub fn language(&self) -> crate::i18n::Locale {
        super::preferences::language_of(self.locale.as_deref())
    }

    /// The zone moments are shown to this person in.
    pub fn zone(&self) -> &str {
        self.time_zone
            .as_deref()
            .unwrap_or(super::preferences::DEFAULT_TIME_ZONE)
    }

    /// The person's setting, as their sessions keep it.
    pub fn preferences(&self) -> super::preferences::Preferences {
        super::preferences::Preferences {
            locale: self.locale.clone(),
            time_zone: self.time_zone.clone(),
        }
    }

    /// The stored address (it went through `Email::parse` before it was stored).
    pub fn email(&self) -> Email {
        Email::from_stored(self.email.clone())
    }
}

const COLUMNS: &str =
    "id, email, email_verified_at, display_name, password_hash, role, phone, failed_sign_ins,
     password_locked_at, locked_at, password_reset_required, mfa_required, created_at,
     last_sign_in_at, locale, time_zone";

pub async fn find_by_email(db: impl PgExecutor<'_>, email: &Email) -> sqlx::Result<Option<User>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM users WHERE lower(email) = lower($1)"
    ))
    .bind(email.as_str())
    .fetch_optional(db)
    .await
}

pub async fn find_by_id(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<User>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// What a new account starts with.
#[derive(Debug)]
pub struct NewUser<'a> {
    pub id: Uuid,
    pub email: &'a Email,
    pub display_name: &'a DisplayName,
    pub password_hash: Option<&'a str>,
    pub role: Role,
    pub verified: bool,
    /// The hash of the registering browser's claim, for an account whose address is not proven
    /// yet (see `address_proof`).
    pub claim_hash: Option<&'a [u8]>,
    /// The language of the page the account was registered on.
    pub locale: Option<&'a str>,
}

/// Creates a customer account with a proven address and no password (its owner signs in by
/// email link, passkey or an upstream provider).
pub async fn insert_passwordless(
    conn: &mut PgConnection,
    email: &Email,
    name: &DisplayName,
    locale: &str,
) -> anyhow::Result<Uuid> {
    let new = NewUser {
        id: Uuid::new_v4(),
        email,
        display_name: name,
        password_hash: None,
        role: Role::Customer,
        verified: true,
        claim_hash: None,
        locale: Some(locale),
    };
    insert(conn, new)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the address was registered concurrently"))
}

/// Sets the person's language and zone; returns the setting it replaced.
pub async fn set_preferences(
    db: impl PgExecutor<'_>,
    id: Uuid,
    setting: &super::preferences::Preferences,
) -> sqlx::Result<super::preferences::Preferences> {
    let (locale, time_zone): (Option<String>, Option<String>) = sqlx::query_as(
        "UPDATE users u SET locale = $2, time_zone = $3, updated_at = now()
         FROM (SELECT id, locale, time_zone FROM users WHERE id = $1 FOR UPDATE) before
         WHERE u.id = before.id
         RETURNING before.locale, before.time_zone",
    )
    .bind(id)
    .bind(&setting.locale)
    .bind(&setting.time_zone)
    .fetch_one(db)
    .await?;
    Ok(super::preferences::Preferences { locale, time_zone })
}

/// Gives an account that has no language yet the one it was just used in.
pub async fn fill_locale(db: impl PgExecutor<'_>, id: Uuid, locale: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET locale = $2 WHERE id = $1 AND locale IS NULL")
        .bind(id)
        .bind(locale)
        .execute(db)
        .await?;
    Ok(())
}

/// Inserts the account unless the address is taken; `None` means it was. Every way an account
/// is made ends here, so this is where subscribers hear `person.created`.
pub async fn insert(conn: &mut PgConnection, new: NewUser<'_>) -> sqlx::Result<Option<Uuid>> {
    let id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO users
           (id, email, display_name, password_hash, role, email_verified_at, unproven_claim_hash,
            locale)
         VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN now() END, $7, $8)
         ON CONFLICT ((lower(email))) DO NOTHING
         RETURNING id",
    )
    .bind(new.id)
    .bind(new.email.as_str())
    .bind(new.display_name.as_str())
    .bind(new.password_hash)
    .bind(new.role)
    .bind(new.verified)
    .bind(new.claim_hash)
    .bind(new.locale)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = id {
        webhooks::emit(&mut *conn, &webhooks::Event::PersonCreated(id)).await?;
    }
    Ok(id)
}

/// Sets a new password hash; a new password also lifts a lockout and a required reset.
pub async fn set_password_hash(db: impl PgExecutor<'_>, id: Uuid, hash: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET password_hash = $2, failed_sign_ins = 0, password_locked_at = NULL,
                          password_reset_required = false, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(hash)
    .execute(db)
    .await?;
    Ok(())
}

/// Removes the password (its owner signs in another way from now on).
pub async fn clear_password(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET password_hash = NULL, failed_sign_ins = 0, password_locked_at = NULL,
                          password_reset_required = false, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Renames the account (`person.updated` for subscribers).
pub async fn set_display_name(
    conn: &mut PgConnection,
    id: Uuid,
    name: &DisplayName,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET display_name = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(name.as_str())
        .execute(&mut *conn)
        .await?;
    webhooks::emit(&mut *conn, &webhooks::Event::PersonUpdated(id)).await?;
    Ok(())
}

/// Re-hashes the password after its hashing parameters changed (nothing else changes).
pub async fn rehash_password(db: impl PgExecutor<'_>, id: Uuid, hash: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(id)
        .bind(hash)
        .execute(db)
        .await?;
    Ok(())
}

/// Counts one more consecutive failed password sign-in; at [`MAX_CONSECUTIVE_FAILURES`] the
/// password is locked (`person.locked` for subscribers, once). Returns whether it is locked now.
pub async fn count_failed_sign_in(db: &PgPool, id: Uuid) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    // `now()` is the transaction's start: a lock set by this statement, not an earlier one.
    let counted: Option<(bool, bool)> = sqlx::query_as(
        "UPDATE users SET failed_sign_ins = failed_sign_ins + 1,
                          password_locked_at = CASE
                            WHEN failed_sign_ins + 1 >= $2 THEN coalesce(password_locked_at, now())
                            ELSE password_locked_at END
         WHERE id = $1
         RETURNING password_locked_at IS NOT NULL, password_locked_at IS NOT DISTINCT FROM now()",
    )
    .bind(id)
    .bind(MAX_CONSECUTIVE_FAILURES)
    .fetch_optional(&mut *tx)
    .await?;
    let (locked, just_locked) = counted.unwrap_or((false, false));
    if just_locked {
        webhooks::emit(&mut *tx, &webhooks::Event::PersonLocked(id)).await?;
    }
    tx.commit().await?;
    Ok(locked)
}

/// A successful password sign-in: the run of failures is over.
pub async fn clear_failed_sign_ins(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET failed_sign_ins = 0 WHERE id = $1 AND failed_sign_ins > 0")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Lifts a password lockout (an administrator's unlock); false when the account was not locked.
pub async fn unlock_password(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET failed_sign_ins = 0, password_locked_at = NULL, updated_at = now()
         WHERE id = $1 AND password_locked_at IS NOT NULL",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether the address of `user_id` is proven, and the hash of its registering browser's claim;
/// the row locked until the transaction ends (two proofs at once cannot both find it unproven).
pub async fn proof_state_for_update(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> sqlx::Result<Option<(bool, Option<Vec<u8>>)>> {
    sqlx::query_as(
        "SELECT email_verified_at IS NOT NULL, unproven_claim_hash FROM users
         WHERE id = $1 FOR UPDATE",
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// Marks the address proven; the registering browser's claim is no longer needed.
pub async fn mark_proven(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET email_verified_at = now(), unproven_claim_hash = NULL, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Removes the password and phone number of an account whose address was just proven by
/// someone else than its registering browser; returns whether it had each.
pub async fn remove_unproven_ways_in(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<(bool, bool)> {
    sqlx::query_as(
        "WITH before AS (SELECT password_hash IS NOT NULL AS password, phone IS NOT NULL AS phone
                         FROM users WHERE id = $1)
         UPDATE users SET password_hash = NULL, phone = NULL, phone_verified_at = NULL,
                          failed_sign_ins = 0, password_locked_at = NULL, updated_at = now()
         FROM before WHERE id = $1
         RETURNING before.password, before.phone",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Whether any administrator exists yet.
pub async fn admin_exists(db: impl PgExecutor<'_>) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin')")
        .fetch_one(db)
        .await
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "users",
    person: Some("id"),
    personal: &[
        "id",
        "email",
        "display_name",
        "password_hash",
        "phone",
        "unproven_claim_hash",
        "last_sign_in_at",
        "locale",
        "time_zone",
    ],
    other: &[
        "email_verified_at",
        "role",
        "created_at",
        "updated_at",
        "phone_verified_at",
        "failed_sign_ins",
        "password_locked_at",
        "locked_at",
        "password_reset_required",
        "mfa_required",
    ],
    export: Export::RowsWithout(&["password_hash", "unproven_claim_hash"]),
    erasure: Erasure::Delete,
}];

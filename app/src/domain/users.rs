//! The `users` table: accounts, their verified address, display name and password hash.

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{email::Email, names::DisplayName};

/// An account as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub email_verified_at: Option<OffsetDateTime>,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub role: String,
    /// Proven phone number (E.164), if any.
    pub phone: Option<String>,
}

impl User {
    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }

    /// The stored address (it went through `Email::parse` before it was stored).
    pub fn email(&self) -> Email {
        Email::from_stored(self.email.clone())
    }
}

const COLUMNS: &str = "id, email, email_verified_at, display_name, password_hash, role, phone";

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
    pub role: &'a str,
    pub verified: bool,
}

/// Creates a customer account with a proven address and no password (its owner signs in by
/// email link, passkey or an upstream provider).
pub async fn insert_passwordless(
    conn: &mut PgConnection,
    email: &Email,
    name: &DisplayName,
) -> anyhow::Result<Uuid> {
    let new = NewUser {
        id: Uuid::new_v4(),
        email,
        display_name: name,
        password_hash: None,
        role: "customer",
        verified: true,
    };
    insert(conn, new)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the address was registered concurrently"))
}

/// Inserts the account unless the address is taken; `None` means it was.
pub async fn insert(conn: &mut PgConnection, new: NewUser<'_>) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "INSERT INTO users (id, email, display_name, password_hash, role, email_verified_at)
         VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN now() END)
         ON CONFLICT ((lower(email))) DO NOTHING
         RETURNING id",
    )
    .bind(new.id)
    .bind(new.email.as_str())
    .bind(new.display_name.as_str())
    .bind(new.password_hash)
    .bind(new.role)
    .bind(new.verified)
    .fetch_optional(conn)
    .await
}

pub async fn mark_verified(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET email_verified_at = coalesce(email_verified_at, now()), updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_password_hash(db: impl PgExecutor<'_>, id: Uuid, hash: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(hash)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn set_display_name(
    db: impl PgExecutor<'_>,
    id: Uuid,
    name: &DisplayName,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET display_name = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(name.as_str())
        .execute(db)
        .await?;
    Ok(())
}

/// Whether any administrator exists yet.
pub async fn admin_exists(db: impl PgExecutor<'_>) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin')")
        .fetch_one(db)
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

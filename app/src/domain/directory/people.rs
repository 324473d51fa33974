//! People as partner back ends read and change them through the management API: one
//! representation with a version (its `ETag`: a digest of what it shows, so any change to it
//! makes a new one), created, and updated only when the version the app last read is still
//! current (`If-Match`), the check and the change in one transaction under the account's row
//! lock. The changes themselves are the operator actions' (`customers::actions`), audited with
//! the app as actor.

use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{
    audit::{self, Actor, AuditEvent, Outcome},
    client::ClientInfo,
    customers::{
        actions::{self, Request},
        Reason,
    },
    email::{Email, EmailError},
    error::AccountError,
    names::DisplayName,
    users::{self, NewUser, Role},
};

/// A customer as the API shows them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Person {
    pub id: Uuid,
    pub email: String,
    pub email_verified: bool,
    pub display_name: String,
    pub phone: Option<String>,
    /// Locked by an operator or an app (deactivated): no sign-in at all.
    pub locked: bool,
    /// The password is locked after too many failures.
    pub password_locked: bool,
    pub has_password: bool,
    pub locale: Option<String>,
    pub created_at: OffsetDateTime,
    pub last_sign_in_at: Option<OffsetDateTime>,
}

impl Person {
    /// The version of this representation: a digest of every field it shows.
    pub fn version(&self) -> String {
        let mut hash = Sha256::new();
        let fields = [
            self.id.to_string(),
            self.email.clone(),
            self.email_verified.to_string(),
            self.display_name.clone(),
            self.phone.clone().unwrap_or_default(),
            self.locked.to_string(),
            self.password_locked.to_string(),
            self.has_password.to_string(),
            self.locale.clone().unwrap_or_default(),
            self.created_at.unix_timestamp_nanos().to_string(),
            self.last_sign_in_at
                .map(|t| t.unix_timestamp_nanos().to_string())
                .unwrap_or_default(),
        ];
        for field in fields {
            hash.update(field.as_bytes());
            hash.update([0]);
        }
        let digest = hash.finalize();
        digest[..12].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The customer `id` (staff accounts are not found).
pub async fn read(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<Person>> {
    sqlx::query_as(
        "SELECT id, email, email_verified_at IS NOT NULL AS email_verified, display_name, phone,
                locked_at IS NOT NULL AS locked, password_locked_at IS NOT NULL AS password_locked,
                password_hash IS NOT NULL AS has_password, locale, created_at, last_sign_in_at
         FROM users WHERE id = $1 AND role = 'customer'",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// A person an app creates: no password (they sign in by email link or code, a passkey they
/// add, or a social account); the address counts as proven only when the app says it checked.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub email: Email,
    pub display_name: DisplayName,
    pub email_verified: bool,
    pub locale: Option<String>,
}

/// Creates `new` in the caller's transaction (audited `account.created` with `actor`); its id.
/// Refused when another account uses the address.
pub async fn create(
    conn: &mut PgConnection,
    actor: &Actor,
    client: &ClientInfo,
    new: &NewPerson,
) -> Result<Uuid, AccountError> {
    let id = users::insert(
        &mut *conn,
        NewUser {
            id: Uuid::new_v4(),
            email: &new.email,
            display_name: &new.display_name,
            password_hash: None,
            role: Role::Customer,
            verified: new.email_verified,
            claim_hash: None,
            locale: new.locale.as_deref(),
        },
    )
    .await?
    .ok_or(EmailError::InUse)?;
    let event = AuditEvent::new("account.created", Outcome::Success)
        .by_actor(actor.clone())
        .about(Some(id))
        .detail(serde_json::json!({
            "email": new.email.as_str(),
            "email_verified": new.email_verified,
        }));
    audit::record(&mut *conn, client, event).await?;
    Ok(id)
}

/// What an update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub display_name: Option<DisplayName>,
    /// A new address, proven by the app (as an operator's move is).
    pub email: Option<Email>,
}

/// Why an update was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("no person has this id")]
    NotFound,
    /// The person changed since the app read them: this is what they are now.
    #[error("the person changed since this version was read")]
    Stale(Box<Person>),
    #[error(transparent)]
    Account(#[from] AccountError),
}

impl From<sqlx::Error> for UpdateError {
    fn from(e: sqlx::Error) -> Self {
        Self::Account(e.into())
    }
}

/// Applies `changes` to the person `request.user_id` when their version is still `expected`;
/// what they are afterwards. The caller wakes the mailer (an address change tells the old one).
pub async fn update(
    state: &crate::state::AppState,
    request: &Request<'_>,
    expected: &str,
    changes: &Changes,
) -> Result<Person, UpdateError> {
    let mut tx = state.db.begin().await?;
    let user = match actions::customer(&mut tx, request.user_id).await {
        Ok(user) => user,
        Err(AccountError::NoSuchAccount) => return Err(UpdateError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let now = read(&mut *tx, user.id)
        .await?
        .ok_or(UpdateError::NotFound)?;
    if now.version() != expected {
        return Err(UpdateError::Stale(Box::new(now)));
    }
    if let Some(name) = &changes.display_name {
        if name.as_str() != user.display_name {
            actions::rename_in(&mut tx, request, &user, name).await?;
        }
    }
    if let Some(email) = &changes.email {
        actions::change_email_in(state, &mut tx, request, &user, email).await?;
    }
    let after = read(&mut *tx, user.id)
        .await?
        .ok_or(UpdateError::NotFound)?;
    tx.commit().await?;
    Ok(after)
}

/// The reason an app's change is recorded with, when it gives none.
pub fn default_reason(client_id: &str) -> Reason {
    Reason::trusted(format!("by app {client_id} through the management API"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> Person {
        Person {
            id: Uuid::nil(),
            email: "ada@example.com".into(),
            email_verified: true,
            display_name: "Ada".into(),
            phone: None,
            locked: false,
            password_locked: false,
            has_password: false,
            locale: None,
            created_at: OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap(),
            last_sign_in_at: None,
        }
    }

    #[test]
    fn every_shown_field_changes_the_version() {
        let base = person();
        let v = base.version();
        assert_eq!(v, person().version());
        assert_eq!(v.len(), 24);
        let changed = [
            Person {
                display_name: "Ada L".into(),
                ..person()
            },
            Person {
                email: "ada@example.org".into(),
                ..person()
            },
            Person {
                locked: true,
                ..person()
            },
            Person {
                email_verified: false,
                ..person()
            },
            Person {
                phone: Some("+15550100".into()),
                ..person()
            },
            Person {
                last_sign_in_at: Some(base.created_at),
                ..person()
            },
        ];
        for p in changed {
            assert_ne!(p.version(), v, "{p:?}");
        }
    }
}

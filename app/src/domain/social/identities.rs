//! Upstream identities linked to accounts (`user_identities`): signing in through one, creating
//! an account from a first social sign-in, linking only with proof of ownership, and unlinking
//! while another way in remains.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::{providers::Provider, upstream::UpstreamUser, SocialError};
use crate::{
    domain::{
        audit::{self, AuditEvent, Outcome},
        authentication::{self, Method},
        client::ClientInfo,
        email::Email,
        error::AccountError,
        mfa,
        names::DisplayName,
        sessions::{self, PENDING_LINK_KEY},
        settings, users,
    },
    state::AppState,
};

/// An upstream identity whose email matches an existing account: it is linked only once the
/// person signs in to that account another way.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLink {
    pub provider_id: String,
    pub provider_name: String,
    pub subject: String,
    pub email: String,
    pub user_id: Uuid,
    pub at: i64,
}

/// How a social sign-in ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arrival {
    /// Signed in to the account the identity is linked to.
    SignedIn,
    /// A new account was created from the identity, and signed in.
    Registered,
    /// An account with the identity's email exists; its owner must sign in to link it.
    LinkPending,
    /// The identity was linked to the signed-in account.
    Linked,
}

/// One linked identity, as the portal lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkedIdentity {
    pub provider_id: String,
    pub provider_name: String,
    pub email: Option<String>,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

async fn owner_of(
    db: &mut PgConnection,
    provider_id: &str,
    subject: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "SELECT user_id FROM user_identities WHERE provider_id = $1 AND subject = $2",
    )
    .bind(provider_id)
    .bind(subject)
    .fetch_optional(&mut *db)
    .await
}

async fn insert(
    db: &mut PgConnection,
    user_id: Uuid,
    provider_id: &str,
    person: &UpstreamUser,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO user_identities (id, user_id, provider_id, subject, email, last_used_at)
         VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT DO NOTHING",
    )
    .bind(Uuid::new_v4())
    .bind(user_id)
    .bind(provider_id)
    .bind(&person.subject)
    .bind(&person.email)
    .execute(&mut *db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Acts on a verified upstream identity: signs in, registers, links, or asks the owner of the
/// matching account to prove it is theirs. Accounts are never merged silently.
pub async fn arrive(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    provider: &Provider,
    purpose: super::flow::Purpose,
    person: &UpstreamUser,
) -> Result<Arrival, AccountError> {
    let mut tx = state.db.begin().await?;
    let owner = owner_of(&mut tx, &provider.id, &person.subject).await?;
    let detail = json!({ "provider": provider.id });

    if let super::flow::Purpose::Link(user_id) = purpose {
        // Linking from the portal: the browser must still be signed in to that account.
        if sessions::current_user(session).await? != Some(user_id) {
            return Err(SocialError::Expired.into());
        }
        match owner {
            Some(owner) if owner == user_id => {}
            Some(_) => return Err(SocialError::InUse.into()),
            None => {
                if !insert(&mut tx, user_id, &provider.id, person).await? {
                    return Err(SocialError::InUse.into());
                }
            }
        }
        let event = AuditEvent::new("identity.linked", Outcome::Success)
            .by(user_id)
            .detail(detail);
        audit::record(&mut *tx, client, event).await?;
        tx.commit().await?;
        return Ok(Arrival::Linked);
    }

    if let Some(user_id) = owner {
        sqlx::query(
            "UPDATE user_identities SET last_used_at = now() WHERE provider_id = $1 AND subject = $2",
        )
        .bind(&provider.id)
        .bind(&person.subject)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        authentication::sign_in(state, client, session, user_id, Method::Social).await?;
        return Ok(Arrival::SignedIn);
    }

    // A new identity: its address counts only when the provider says it verified it.
    let email = match (&person.email, person.email_verified) {
        (Some(email), true) => Email::parse(email).map_err(|_| SocialError::EmailUnverified)?,
        _ => {
            authentication::failed(&mut *tx, client, Method::Social, None, "email_not_verified")
                .await?;
            tx.commit().await?;
            return Err(SocialError::EmailUnverified.into());
        }
    };
    if let Some(existing) = users::find_by_email(&mut *tx, &email).await? {
        let pending = PendingLink {
            provider_id: provider.id.clone(),
            provider_name: provider.display_name.clone(),
            subject: person.subject.clone(),
            email: email.as_str().to_owned(),
            user_id: existing.id,
            at: OffsetDateTime::now_utc().unix_timestamp(),
        };
        let event = AuditEvent::new("identity.link_requested", Outcome::Success)
            .about(Some(existing.id))
            .detail(detail);
        audit::record(&mut *tx, client, event).await?;
        tx.commit().await?;
        session.insert(PENDING_LINK_KEY, pending).await?;
        return Ok(Arrival::LinkPending);
    }

    let name = person
        .name
        .as_deref()
        .and_then(|n| DisplayName::parse(n).ok())
        .unwrap_or_else(|| DisplayName::from_email(&email));
    let user_id =
        users::insert_passwordless(&mut tx, &email, &name, &client.reading.locale).await?;
    insert(&mut tx, user_id, &provider.id, person).await?;
    let event = AuditEvent::new("account.registered", Outcome::Success)
        .by(user_id)
        .detail(json!({ "method": "social", "provider": provider.id }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    authentication::sign_in(state, client, session, user_id, Method::Social).await?;
    Ok(Arrival::Registered)
}

/// The identity waiting to be linked to the signed-in account, if any and if it is theirs.
pub async fn pending_link(session: &Session) -> Result<Option<PendingLink>, AccountError> {
    Ok(session.get::<PendingLink>(PENDING_LINK_KEY).await?)
}

/// Links the pending identity to the signed-in account `user_id`, which proves ownership only if
/// it is the account with the identity's address and it signed in after the identity arrived.
pub async fn confirm_link(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
) -> Result<String, AccountError> {
    let Some(pending) = pending_link(session).await? else {
        return Err(SocialError::NoPendingLink.into());
    };
    let signed_in_at = sessions::signed_in_at(session).await?.unix_timestamp();
    if pending.user_id != user_id || signed_in_at < pending.at {
        let event = AuditEvent::new("identity.linked", Outcome::Failure)
            .by(user_id)
            .detail(json!({ "provider": pending.provider_id, "reason": "not the owner" }));
        audit::record(&state.db, client, event).await?;
        return Err(SocialError::WrongAccount.into());
    }
    let mut tx = state.db.begin().await?;
    let person = UpstreamUser {
        subject: pending.subject.clone(),
        email: Some(pending.email.clone()),
        email_verified: true,
        name: None,
    };
    if !insert(&mut tx, user_id, &pending.provider_id, &person).await? {
        return Err(SocialError::InUse.into());
    }
    let event = AuditEvent::new("identity.linked", Outcome::Success)
        .by(user_id)
        .detail(json!({ "provider": pending.provider_id }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    session.remove::<PendingLink>(PENDING_LINK_KEY).await?;
    Ok(pending.provider_name)
}

/// Forgets the pending identity (the person declined to link it).
pub async fn discard_link(session: &Session) -> Result<(), AccountError> {
    session.remove::<PendingLink>(PENDING_LINK_KEY).await?;
    Ok(())
}

/// The account's linked identities.
pub async fn list(
    db: impl sqlx::PgExecutor<'_>,
    user_id: Uuid,
) -> Result<Vec<LinkedIdentity>, AccountError> {
    Ok(sqlx::query_as(
        "SELECT i.provider_id, p.display_name AS provider_name, i.email, i.created_at, i.last_used_at
         FROM user_identities i JOIN social_providers p ON p.id = i.provider_id
         WHERE i.user_id = $1 ORDER BY i.created_at",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?)
}

/// Unlinks a provider from the account, unless it is the account's only way to sign in.
pub async fn unlink(
    state: &AppState,
    client: &ClientInfo,
    user_id: Uuid,
    provider_id: &str,
) -> Result<(), AccountError> {
    let email_sign_in = settings::current(state).await?.email_sign_in_enabled;
    let mut tx = state.db.begin().await?;
    // Counted with the account locked, so two removals at once cannot both pass.
    let ways_in = users::ways_in_for_update(&mut tx, user_id).await?;
    let done = sqlx::query("DELETE FROM user_identities WHERE user_id = $1 AND provider_id = $2")
        .bind(user_id)
        .bind(provider_id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(SocialError::NotLinked.into());
    }
    if ways_in.count(email_sign_in) <= 1 {
        return Err(SocialError::LastMethod.into());
    }
    let event = AuditEvent::new("identity.unlinked", Outcome::Success)
        .by(user_id)
        .detail(json!({ "provider": provider_id }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes every identity linked to the account (its address was proven by someone else than
/// the browser that registered it); returns how many.
pub async fn remove_all(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM user_identities WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Whether a link from the portal may start: adding a way in needs a recent proof (a second
/// factor, or a sign-in for a person without one).
pub async fn may_start_link(
    db: &sqlx::PgPool,
    session: &Session,
    user_id: Uuid,
) -> Result<(), AccountError> {
    mfa::freshness::ensure(db, session, user_id).await
}

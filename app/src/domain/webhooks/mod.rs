//! Webhook subscriptions (Standard Webhooks 1.0): a partner system's name, the URL its events
//! go to (`targets`), the kinds of event it wants (`events`), whether it is enabled, and its
//! signing secrets (`signing`), sealed at rest under a key derived from the master key. Adding,
//! rotating the secret (the previous one keeps signing alongside for 24 hours), enabling,
//! disabling and removing are audited with the actor; the delivery log (`deliveries`) is read
//! per subscription.

pub mod deliveries;
pub mod events;
pub mod signing;
pub mod targets;

use serde_json::json;
use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

pub use events::{emit, Event, EventType, SessionEnd};
pub use signing::WebhookSecret;
pub use targets::TargetError;

use crate::{
    domain::{
        audit::{self, Actor},
        privacy::{Erasure, Export, Table},
        secrets::SecretBox,
    },
    state::AppState,
};

/// How long a secret replaced by a rotation keeps signing.
pub const ROTATION_OVERLAP: time::Duration = time::Duration::hours(24);

/// The box subscribers' secrets are sealed in: the service's box for the secrets of outside
/// systems. Every sealed value is bound to its subscription and secret
/// (`webhook secret <subscription>/<secret>`), which no other sealed value is.
pub fn secret_box(state: &AppState) -> &SecretBox {
    &state.secrets
}

fn sealing_context(subscription: Uuid, secret: Uuid) -> String {
    format!("webhook secret {subscription}/{secret}")
}

/// Why a webhook command was refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("a webhook's name is 1 to 80 characters, without control characters")]
    BadName,
    #[error("name at least one event (--event); known: {}", known_events())]
    NoEvents,
    #[error("unknown event {:?}; known: {}", .0, known_events())]
    UnknownEvent(String),
    #[error("no webhook subscription {0}")]
    NotFound(Uuid),
    #[error("a log shows 1 to 1000 attempts")]
    BadLimit,
    #[error("a signing secret of webhook subscription {0} does not open with this master key")]
    Sealed(Uuid),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn known_events() -> String {
    EventType::ALL.map(EventType::as_str).join(", ")
}

/// A subscription as an operator gives it.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub allow_private_targets: bool,
}

/// A subscription as listed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Subscription {
    pub id: Uuid,
    pub name: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub allow_private_targets: bool,
    pub created_at: OffsetDateTime,
    /// Messages waiting to be delivered.
    pub pending: i64,
    /// Messages given up in the last 24 hours.
    pub failed_lately: i64,
}

/// Checks `new` (the name, the events, the URL and where its host resolves) and stores it,
/// enabled, with a new secret (audited with `actor`, never the secret). Returns the id and the
/// secret, which is shown once and never again.
pub async fn add(
    db: &PgPool,
    secrets: &SecretBox,
    new: &NewSubscription,
    actor: Actor,
) -> Result<(Uuid, WebhookSecret), WebhookError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(WebhookError::BadName);
    }
    let mut kinds: Vec<String> = Vec::new();
    for event in &new.events {
        let kind = EventType::parse(event.trim())
            .ok_or_else(|| WebhookError::UnknownEvent(event.clone()))?;
        if !kinds.iter().any(|k| k == kind.as_str()) {
            kinds.push(kind.as_str().to_owned());
        }
    }
    if kinds.is_empty() {
        return Err(WebhookError::NoEvents);
    }
    let target = targets::resolve(&new.url, new.allow_private_targets).await?;
    let id = Uuid::new_v4();
    let secret = WebhookSecret::generate();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO webhook_subscriptions (id, name, url, event_types, allow_private_targets)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(name)
    .bind(target.url.as_str())
    .bind(&kinds)
    .bind(new.allow_private_targets)
    .execute(&mut *tx)
    .await?;
    store_secret(&mut *tx, secrets, id, &secret).await?;
    let detail = json!({
        "subscription": id, "name": name, "url": target.url.as_str(), "events": kinds,
        "allow_private_targets": new.allow_private_targets,
    });
    audit::record_change(&mut *tx, "webhook.added", actor, detail).await?;
    tx.commit().await?;
    Ok((id, secret))
}

async fn store_secret(
    db: impl PgExecutor<'_>,
    secrets: &SecretBox,
    subscription: Uuid,
    secret: &WebhookSecret,
) -> sqlx::Result<()> {
    let secret_id = Uuid::new_v4();
    let sealed = secrets.seal(&sealing_context(subscription, secret_id), secret.bytes());
    sqlx::query(
        "INSERT INTO webhook_secrets (id, subscription_id, secret_enc) VALUES ($1, $2, $3)",
    )
    .bind(secret_id)
    .bind(subscription)
    .bind(sealed)
    .execute(db)
    .await?;
    Ok(())
}

/// Every subscription, oldest first.
pub async fn list(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Subscription>> {
    sqlx::query_as(
        "SELECT s.id, s.name, s.url, s.event_types, s.enabled, s.allow_private_targets,
                s.created_at,
                (SELECT count(*) FROM webhook_deliveries d WHERE d.subscription_id = s.id
                   AND d.delivered_at IS NULL AND d.failed_at IS NULL) AS pending,
                (SELECT count(*) FROM webhook_deliveries d WHERE d.subscription_id = s.id
                   AND d.failed_at > now() - interval '24 hours') AS failed_lately
         FROM webhook_subscriptions s ORDER BY s.created_at, s.id",
    )
    .fetch_all(db)
    .await
}

/// Gives subscription `id` a new secret; the current one keeps signing beside it for
/// [`ROTATION_OVERLAP`] (secrets replaced earlier keep their own end). Audited with `actor`.
/// Returns the new secret (shown once) and when the previous one stops.
pub async fn rotate_secret(
    db: &PgPool,
    secrets: &SecretBox,
    id: Uuid,
    actor: Actor,
) -> Result<(WebhookSecret, OffsetDateTime), WebhookError> {
    let mut tx = db.begin().await?;
    let found: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM webhook_subscriptions WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    if found.is_none() {
        return Err(WebhookError::NotFound(id));
    }
    sqlx::query("DELETE FROM webhook_secrets WHERE subscription_id = $1 AND expires_at <= now()")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let until: OffsetDateTime = sqlx::query_scalar(
        "UPDATE webhook_secrets SET expires_at = now() + make_interval(secs => $2)
         WHERE subscription_id = $1 AND expires_at IS NULL RETURNING expires_at",
    )
    .bind(id)
    .bind(ROTATION_OVERLAP.as_seconds_f64())
    .fetch_optional(&mut *tx)
    .await?
    .unwrap_or_else(OffsetDateTime::now_utc);
    let secret = WebhookSecret::generate();
    store_secret(&mut *tx, secrets, id, &secret).await?;
    let detail = json!({
        "subscription": id,
        "previous_secret_until": until.unix_timestamp(),
    });
    audit::record_change(&mut *tx, "webhook.secret_rotated", actor, detail).await?;
    tx.commit().await?;
    Ok((secret, until))
}

/// Enables (or disables) subscription `id`; whether that changed anything (audited with
/// `actor` when it did). A disabled subscription is sent nothing; messages queued before wait
/// until it is enabled again, for at most a day after their event.
pub async fn set_enabled(
    db: &PgPool,
    id: Uuid,
    on: bool,
    actor: Actor,
) -> Result<bool, WebhookError> {
    let mut tx = db.begin().await?;
    let before: Option<bool> =
        sqlx::query_scalar("SELECT enabled FROM webhook_subscriptions WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    match before {
        None => return Err(WebhookError::NotFound(id)),
        Some(was) if was == on => return Ok(false),
        Some(_) => {}
    }
    sqlx::query("UPDATE webhook_subscriptions SET enabled = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(on)
        .execute(&mut *tx)
        .await?;
    let action = if on {
        "webhook.enabled"
    } else {
        "webhook.disabled"
    };
    audit::record_change(&mut *tx, action, actor, json!({ "subscription": id })).await?;
    tx.commit().await?;
    Ok(true)
}

/// Deletes subscription `id` with its secrets, its undelivered messages and its log (audited
/// with `actor`, with how many messages were dropped).
pub async fn remove(db: &PgPool, id: Uuid, actor: Actor) -> Result<(), WebhookError> {
    let mut tx = db.begin().await?;
    let pending: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM webhook_deliveries
         WHERE subscription_id = $1 AND delivered_at IS NULL AND failed_at IS NULL",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let removed: Option<(String, String)> =
        sqlx::query_as("DELETE FROM webhook_subscriptions WHERE id = $1 RETURNING name, url")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((name, url)) = removed else {
        return Err(WebhookError::NotFound(id));
    };
    let detail = json!({
        "subscription": id, "name": name, "url": url, "undelivered_dropped": pending,
    });
    audit::record_change(&mut *tx, "webhook.removed", actor, detail).await?;
    tx.commit().await?;
    Ok(())
}

/// Drops every message about `person`, sent or not (their account is deleted); returns how many.
pub async fn forget(db: impl PgExecutor<'_>, person: Uuid) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM webhook_deliveries WHERE person_id = $1")
        .bind(person)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// The secrets that sign subscription `id`'s messages now: the current one first, then any a
/// rotation replaced less than [`ROTATION_OVERLAP`] ago.
pub async fn signing_secrets(
    db: impl PgExecutor<'_>,
    secrets: &SecretBox,
    id: Uuid,
) -> Result<Vec<WebhookSecret>, WebhookError> {
    let rows: Vec<(Uuid, Vec<u8>)> = sqlx::query_as(
        "SELECT id, secret_enc FROM webhook_secrets
         WHERE subscription_id = $1 AND (expires_at IS NULL OR expires_at > now())
         ORDER BY expires_at DESC NULLS FIRST, created_at DESC",
    )
    .bind(id)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|(secret_id, sealed)| {
            secrets
                .open(&sealing_context(id, secret_id), &sealed)
                .and_then(|plain| WebhookSecret::from_bytes(plain).ok())
                .ok_or(WebhookError::Sealed(id))
        })
        .collect()
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`). A message names the person it is about by id only; the
/// rows of their erasure's own `person.deleted` carry no `person_id` (they outlive the person,
/// to tell subscribers to forget them too, GDPR Art. 17(2), and lose their body once delivered
/// or given up).
pub const TABLES: &[Table] = &[
    Table {
        name: "webhook_subscriptions",
        person: None,
        personal: &[],
        other: &[
            "id",
            "name",
            "url",
            "event_types",
            "enabled",
            "allow_private_targets",
            "created_at",
            "updated_at",
        ],
        export: Export::Not("partner systems' subscriptions: nothing about people"),
        erasure: Erasure::Nothing,
    },
    Table {
        name: "webhook_secrets",
        person: None,
        personal: &[],
        other: &[
            "id",
            "subscription_id",
            "secret_enc",
            "created_at",
            "expires_at",
        ],
        export: Export::Not("partner systems' signing secrets: nothing about people"),
        erasure: Erasure::Nothing,
    },
    Table {
        name: "webhook_deliveries",
        person: Some("person_id"),
        personal: &["person_id", "body"],
        other: &[
            "id",
            "subscription_id",
            "message_id",
            "event_type",
            "created_at",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "failed_at",
            "last_error",
        ],
        // What partner systems were told about the person, and when (GDPR Art. 15(1)(c)).
        export: Export::Rows,
        // Every message about the person goes, sent or not: nothing more is said about them
        // after their erasure, but that it happened (`person.deleted`, queued after this).
        erasure: Erasure::Delete,
    },
    Table {
        name: "webhook_attempts",
        person: None,
        personal: &[],
        other: &[
            "id",
            "subscription_id",
            "delivery_id",
            "event_type",
            "attempt",
            "at",
            "status",
            "error",
            "duration_ms",
        ],
        export: Export::Not("the delivery log: times, statuses and errors, nothing about people"),
        erasure: Erasure::Nothing,
    },
];

//! The upstream identity providers the business has configured (`social_providers`): adding,
//! listing, changing, enabling, disabling and removing them (each change audited), and loading
//! one for a sign-in with its client secret (sealed at rest). What a configuration must be is `presets`'.

use serde_json::json;
use sqlx::{PgExecutor, PgPool};

use super::presets::resolve;
pub use super::presets::{Kind, NewProvider, ProviderConfigError};
use crate::domain::{
    audit::{self, Actor},
    secrets::SecretBox,
};

/// A provider as the sign-in flow uses it.
#[derive(Debug, Clone)]
pub struct Provider {
    pub id: String,
    pub kind: Kind,
    pub display_name: String,
    pub issuer: Option<String>,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProviderSummary {
    pub id: String,
    pub kind: String,
    pub display_name: String,
    pub issuer: Option<String>,
    pub client_id: String,
    pub enabled: bool,
    pub scopes: String,
}

/// Stores a new provider, enabled (audited, with `actor`).
pub async fn add(
    db: &PgPool,
    secrets: &SecretBox,
    new: &NewProvider,
    actor: Actor,
) -> Result<(), anyhow::Error> {
    let (kind, name, issuer, scopes) = resolve(new)?;
    let sealed = new
        .client_secret
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| secrets.seal(&new.id, s.as_bytes()));
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "INSERT INTO social_providers
           (id, kind, display_name, issuer, client_id, client_secret_enc, scopes)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&new.id)
    .bind(kind.as_str())
    .bind(&name)
    .bind(&issuer)
    .bind(new.client_id.trim())
    .bind(sealed)
    .bind(&scopes)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ProviderConfigError::Exists.into());
    }
    let detail = json!({
        "provider": new.id, "kind": kind.as_str(), "name": name, "issuer": issuer,
        "client_id": new.client_id.trim(), "scopes": scopes,
        "client_secret": if new.client_secret.is_some() { "set" } else { "none" },
    });
    audit::record_change(&mut *tx, "social_provider.added", actor, detail).await?;
    tx.commit().await?;
    Ok(())
}

/// Every configured provider.
pub async fn list(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<ProviderSummary>> {
    sqlx::query_as(
        "SELECT id, kind, display_name, issuer, client_id, enabled, scopes FROM social_providers
         ORDER BY created_at, id",
    )
    .fetch_all(db)
    .await
}

/// The enabled providers' ids and names, for sign-in buttons.
pub async fn enabled(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT id, display_name FROM social_providers WHERE enabled ORDER BY created_at, id",
    )
    .fetch_all(db)
    .await
}

/// Shows (or hides) a provider's button and accepts (or refuses) its sign-ins; false when there
/// is no such provider.
pub async fn set_enabled(db: &PgPool, id: &str, on: bool, actor: Actor) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let done = sqlx::query("UPDATE social_providers SET enabled = $2 WHERE id = $1")
        .bind(id)
        .bind(on)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    let action = if on {
        "social_provider.enabled"
    } else {
        "social_provider.disabled"
    };
    audit::record_change(&mut *tx, action, actor, json!({ "provider": id })).await?;
    tx.commit().await?;
    Ok(true)
}

/// Deletes a provider and every identity linked through it; false when there is no such
/// provider.
pub async fn remove(db: &PgPool, id: &str, actor: Actor) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let done = sqlx::query("DELETE FROM social_providers WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    audit::record_change(
        &mut *tx,
        "social_provider.removed",
        actor,
        json!({ "provider": id }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// What may change of a provider after it was added.
#[derive(Debug, Clone, Default)]
pub struct ProviderEdit {
    pub display_name: String,
    pub client_id: String,
    /// A new secret; `None` keeps the stored one.
    pub client_secret: Option<String>,
    /// Space-separated; must include `openid` for an OpenID provider.
    pub scopes: String,
}

/// Changes provider `id` (audited with each changed field's before and after; a new secret is
/// named, never shown); `Ok(false)` when there is no such provider.
pub async fn update(
    db: &PgPool,
    secrets: &SecretBox,
    id: &str,
    edit: &ProviderEdit,
    actor: Actor,
) -> Result<bool, anyhow::Error> {
    let name = edit.display_name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ProviderConfigError::BadName.into());
    }
    let client_id = edit.client_id.trim();
    if client_id.is_empty() {
        return Err(ProviderConfigError::MissingClientId.into());
    }
    let mut tx = db.begin().await?;
    let before: Option<(String, String, String, String)> = sqlx::query_as(
        "SELECT kind, display_name, client_id, scopes FROM social_providers WHERE id = $1
         FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((kind, old_name, old_client_id, old_scopes)) = before else {
        return Ok(false);
    };
    let kind = Kind::parse(&kind).ok_or_else(|| anyhow::anyhow!("unknown provider kind"))?;
    let scopes = super::presets::parse_scopes(kind, &edit.scopes)?;
    let secret = edit
        .client_secret
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let mut changes = serde_json::Map::new();
    for (field, from, to) in [
        ("display_name", old_name.as_str(), name),
        ("client_id", old_client_id.as_str(), client_id),
        ("scopes", old_scopes.as_str(), scopes.as_str()),
    ] {
        if from != to {
            changes.insert(field.into(), json!({ "from": from, "to": to }));
        }
    }
    if secret.is_some() {
        changes.insert("client_secret".into(), json!("replaced"));
    }
    if changes.is_empty() {
        return Ok(true);
    }
    sqlx::query(
        "UPDATE social_providers SET display_name = $2, client_id = $3, scopes = $4,
             client_secret_enc = COALESCE($5, client_secret_enc)
         WHERE id = $1",
    )
    .bind(id)
    .bind(name)
    .bind(client_id)
    .bind(&scopes)
    .bind(secret.map(|s| secrets.seal(id, s.as_bytes())))
    .execute(&mut *tx)
    .await?;
    let detail = json!({ "provider": id, "changes": changes });
    audit::record_change(&mut *tx, "social_provider.changed", actor, detail).await?;
    tx.commit().await?;
    Ok(true)
}

/// Provider `id` as its edit form starts from (no secret).
pub async fn summary(db: impl PgExecutor<'_>, id: &str) -> sqlx::Result<Option<ProviderSummary>> {
    sqlx::query_as(
        "SELECT id, kind, display_name, issuer, client_id, enabled, scopes
         FROM social_providers WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The enabled provider `id`, its secret opened.
pub async fn load_enabled(
    db: impl PgExecutor<'_>,
    secrets: &SecretBox,
    id: &str,
) -> anyhow::Result<Option<Provider>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        kind: String,
        display_name: String,
        issuer: Option<String>,
        client_id: String,
        client_secret_enc: Option<Vec<u8>>,
        scopes: String,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, kind, display_name, issuer, client_id, client_secret_enc, scopes
         FROM social_providers WHERE id = $1 AND enabled",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let kind = Kind::parse(&row.kind).ok_or_else(|| anyhow::anyhow!("unknown provider kind"))?;
    let client_secret = match row.client_secret_enc {
        None => None,
        Some(sealed) => {
            let plain = secrets.open(&row.id, &sealed).ok_or_else(|| {
                anyhow::anyhow!(
                    "the client secret of provider {} does not open with this master key",
                    row.id
                )
            })?;
            Some(String::from_utf8(plain)?)
        }
    };
    Ok(Some(Provider {
        id: row.id,
        kind,
        display_name: row.display_name,
        issuer: row.issuer,
        client_id: row.client_id,
        client_secret,
        scopes: row.scopes.split(' ').map(str::to_owned).collect(),
    }))
}

//! The upstream identity providers the business has configured (`social_providers`): the
//! presets (Google, Apple, Microsoft as OpenID Connect; GitHub as plain OAuth 2.0), any other
//! OpenID provider by its issuer, and their client credentials (the secret sealed at rest).

use serde_json::json;
use sqlx::{PgExecutor, PgPool};
use url::Url;

use crate::domain::{
    audit::{self, Actor, AuditEvent, Outcome},
    client::ClientInfo,
    secrets::SecretBox,
};

/// Which protocol and preset a provider uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Oidc,
    Google,
    Apple,
    Microsoft,
    Github,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Oidc,
        Kind::Google,
        Kind::Apple,
        Kind::Microsoft,
        Kind::Github,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oidc => "oidc",
            Self::Google => "google",
            Self::Apple => "apple",
            Self::Microsoft => "microsoft",
            Self::Github => "github",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the provider speaks OpenID Connect (ID tokens, discovery).
    pub fn is_oidc(self) -> bool {
        self != Self::Github
    }

    fn default_name(self) -> &'static str {
        match self {
            Self::Oidc => "OpenID",
            Self::Google => "Google",
            Self::Apple => "Apple",
            Self::Microsoft => "Microsoft",
            Self::Github => "GitHub",
        }
    }

    fn default_scopes(self) -> &'static str {
        match self {
            Self::Oidc | Self::Google | Self::Microsoft => "openid email profile",
            // Apple sends the name only once, and email only with form_post.
            Self::Apple => "openid email name",
            Self::Github => "read:user user:email",
        }
    }

    fn preset_issuer(self, tenant: Option<&str>) -> Option<String> {
        match self {
            Self::Google => Some("https://accounts.google.com".into()),
            Self::Apple => Some("https://appleid.apple.com".into()),
            Self::Microsoft => Some(format!(
                "https://login.microsoftonline.com/{}/v2.0",
                tenant.unwrap_or("common")
            )),
            Self::Oidc | Self::Github => None,
        }
    }
}

/// Why a provider configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderConfigError {
    #[error("the id must be 1-32 lower-case letters, digits or dashes")]
    BadId,
    #[error("unknown kind; use one of oidc, google, apple, microsoft, github")]
    BadKind,
    #[error("an 'oidc' provider needs --issuer")]
    MissingIssuer,
    #[error("the issuer must be an https URL (http only for localhost)")]
    BadIssuer,
    #[error("the client id must not be empty")]
    MissingClientId,
    #[error("the display name must be 1-60 characters")]
    BadName,
    #[error("the scopes of an OpenID provider must include 'openid'")]
    MissingOpenidScope,
    #[error("a provider with this id exists already")]
    Exists,
}

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

/// What `server social add` is given.
#[derive(Debug, Clone, Default)]
pub struct NewProvider {
    pub id: String,
    pub kind: String,
    pub display_name: Option<String>,
    pub issuer: Option<String>,
    pub tenant: Option<String>,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub scopes: Option<String>,
}

/// A provider as listings show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProviderSummary {
    pub id: String,
    pub kind: String,
    pub display_name: String,
    pub issuer: Option<String>,
    pub client_id: String,
    pub enabled: bool,
}

/// Accepts `https://…`, or `http://` for localhost (development and tests); no trailing slash.
fn parse_issuer(raw: &str) -> Result<String, ProviderConfigError> {
    let issuer = raw.trim().trim_end_matches('/');
    let url = Url::parse(issuer).map_err(|_| ProviderConfigError::BadIssuer)?;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    let ok = (url.scheme() == "https" || (url.scheme() == "http" && local))
        && url.query().is_none()
        && url.fragment().is_none();
    if !ok {
        return Err(ProviderConfigError::BadIssuer);
    }
    Ok(issuer.to_owned())
}

fn valid_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
}

/// Checks `new` and fills in the preset's issuer, name and scopes.
fn resolve(
    new: &NewProvider,
) -> Result<(Kind, String, Option<String>, String), ProviderConfigError> {
    if !valid_id(&new.id) {
        return Err(ProviderConfigError::BadId);
    }
    let kind = Kind::parse(&new.kind).ok_or(ProviderConfigError::BadKind)?;
    let issuer = match (kind, &new.issuer) {
        (Kind::Github, _) => None,
        (Kind::Oidc, None) => return Err(ProviderConfigError::MissingIssuer),
        (_, Some(issuer)) => Some(parse_issuer(issuer)?),
        (_, None) => kind.preset_issuer(new.tenant.as_deref()),
    };
    if new.client_id.trim().is_empty() {
        return Err(ProviderConfigError::MissingClientId);
    }
    let name = new
        .display_name
        .as_deref()
        .unwrap_or(kind.default_name())
        .trim()
        .to_owned();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ProviderConfigError::BadName);
    }
    let scopes = new
        .scopes
        .as_deref()
        .unwrap_or(kind.default_scopes())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if kind.is_oidc() && !scopes.split(' ').any(|s| s == "openid") {
        return Err(ProviderConfigError::MissingOpenidScope);
    }
    Ok((kind, name, issuer, scopes))
}

/// Stores a new provider, enabled.
/// Adds a provider (audited, with `actor`).
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
    audited(&mut tx, "social_provider.added", actor, detail).await?;
    tx.commit().await?;
    Ok(())
}

async fn audited(
    tx: &mut sqlx::PgConnection,
    action: &'static str,
    actor: Actor,
    detail: serde_json::Value,
) -> sqlx::Result<()> {
    let event = AuditEvent::new(action, Outcome::Success)
        .by_actor(actor)
        .detail(detail);
    audit::record(tx, &ClientInfo::default(), event).await
}

/// Every configured provider.
pub async fn list(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<ProviderSummary>> {
    sqlx::query_as(
        "SELECT id, kind, display_name, issuer, client_id, enabled FROM social_providers
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

/// Turns a provider on or off; false when there is no such provider.
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
    audited(&mut tx, action, actor, json!({ "provider": id })).await?;
    tx.commit().await?;
    Ok(true)
}

/// Deletes a provider and every identity linked through it; false when there is none.
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
    audited(
        &mut tx,
        "social_provider.removed",
        actor,
        json!({ "provider": id }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn new(kind: &str) -> NewProvider {
        NewProvider {
            id: "up".into(),
            kind: kind.into(),
            client_id: "client".into(),
            ..Default::default()
        }
    }

    #[test]
    fn presets_fill_in_issuer_name_and_scopes() {
        let (kind, name, issuer, scopes) = resolve(&new("google")).unwrap();
        assert_eq!(kind, Kind::Google);
        assert_eq!(name, "Google");
        assert_eq!(issuer.as_deref(), Some("https://accounts.google.com"));
        assert_eq!(scopes, "openid email profile");
        let (_, _, issuer, _) = resolve(&NewProvider {
            tenant: Some("contoso.onmicrosoft.com".into()),
            ..new("microsoft")
        })
        .unwrap();
        assert_eq!(
            issuer.as_deref(),
            Some("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0")
        );
        let (_, name, issuer, scopes) = resolve(&new("github")).unwrap();
        assert_eq!((name.as_str(), issuer), ("GitHub", None));
        assert_eq!(scopes, "read:user user:email");
    }

    #[test]
    fn bad_configurations_are_refused() {
        assert_eq!(
            resolve(&new("oidc")).unwrap_err(),
            ProviderConfigError::MissingIssuer
        );
        assert_eq!(
            resolve(&new("saml")).unwrap_err(),
            ProviderConfigError::BadKind
        );
        for issuer in [
            "http://idp.example.com",
            "ftp://x",
            "https://x/?a=b",
            "nope",
        ] {
            let p = NewProvider {
                issuer: Some(issuer.into()),
                ..new("oidc")
            };
            assert_eq!(
                resolve(&p).unwrap_err(),
                ProviderConfigError::BadIssuer,
                "{issuer}"
            );
        }
        let local = NewProvider {
            issuer: Some("http://localhost:4000/".into()),
            ..new("oidc")
        };
        assert_eq!(
            resolve(&local).unwrap().2.as_deref(),
            Some("http://localhost:4000")
        );
        for id in ["", "Upper", "-x", "a b", &"x".repeat(33)] {
            let p = NewProvider {
                id: id.into(),
                ..new("google")
            };
            assert_eq!(resolve(&p).unwrap_err(), ProviderConfigError::BadId, "{id}");
        }
        let p = NewProvider {
            scopes: Some("email".into()),
            ..new("google")
        };
        assert_eq!(
            resolve(&p).unwrap_err(),
            ProviderConfigError::MissingOpenidScope
        );
        let p = NewProvider {
            client_id: " ".into(),
            ..new("google")
        };
        assert_eq!(
            resolve(&p).unwrap_err(),
            ProviderConfigError::MissingClientId
        );
    }
}

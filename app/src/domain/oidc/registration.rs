//! Registering partner apps (`server client create`): redirect and logout URIs checked for form
//! (RFC 9700 §2.1, RFC 8252; they are matched exactly at use), scopes, keys for
//! `private_key_jwt`, pairwise sectors, and a secret shown once and kept only as a keyed hash.

use serde_json::json;
use sqlx::PgPool;
use url::Url;

use super::clients::{ClientSecretKey, ClientType, SubjectType};
use crate::domain::{
    audit::{self, Actor, AuditEvent, Outcome},
    client::ClientInfo,
    tokens::random_token,
};

/// Why a registration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientConfigError {
    #[error("the name must be 1-80 characters")]
    BadName,
    #[error("an app that signs people in needs at least one redirect URI")]
    NoRedirectUri,
    #[error("a service client has no redirect URIs (it signs nobody in)")]
    ServiceWithRedirect,
    #[error("scope {0:?} is not allowed: use letters, digits and . : _ - only")]
    BadScope(String),
    #[error("only service clients are given scopes of their own")]
    ScopesForServiceOnly,
    #[error(
        "redirect URI {0:?} is not allowed: use https, http only on localhost or a loopback \
         address, or (public apps) a private-use scheme like com.example.app:/callback; \
         no fragment"
    )]
    BadRedirectUri(String),
    #[error(
        "logout URI {0:?} is not allowed: use https (http only on localhost or a loopback \
         address), no fragment"
    )]
    BadLogoutUri(String),
    #[error("a service client signs nobody in, so it has no logout URIs")]
    ServiceWithLogout,
    #[error("the key set is not usable: {0}")]
    BadJwks(String),
    #[error("a public app cannot authenticate, so it registers no keys")]
    PublicWithJwks,
    #[error(
        "pairwise subjects need one sector: the redirect URIs name several hosts, so give \
         --sector-identifier"
    )]
    AmbiguousSector,
    #[error("the sector identifier must be a host name like shop.example")]
    BadSector,
    #[error("a service client signs nobody in, so it has no pairwise subjects")]
    ServicePairwise,
    #[error(
        "only a confidential app may go without PKCE (a public app has nothing else to bind \
         its codes to)"
    )]
    PkceOptOutNotConfidential,
}

/// What `server client create` is given.
#[derive(Debug, Clone, Default)]
pub struct NewClient {
    pub name: String,
    pub client_type: ClientType,
    pub redirect_uris: Vec<String>,
    pub first_party: bool,
    /// What a service client may ask for with client_credentials (apps that sign people in get
    /// the OpenID scopes).
    pub scopes: Vec<String>,
    /// Where the app may send people after signing them out (matched exactly).
    pub post_logout_redirect_uris: Vec<String>,
    /// Where logout tokens are posted when a sign-in the app had ends.
    pub backchannel_logout_uri: Option<String>,
    /// The app's page that the end-session page loads in a hidden frame.
    pub frontchannel_logout_uri: Option<String>,
    /// Only pushed authorization requests (RFC 9126) are accepted from the app.
    pub require_par: bool,
    /// Public keys for `private_key_jwt` client authentication (a JWKS document); the client
    /// then gets no secret.
    pub jwks: Option<serde_json::Value>,
    /// The app sees pairwise subjects (per sector) instead of account ids.
    pub pairwise: bool,
    /// The sector of a pairwise app; by default the one host of its redirect URIs.
    pub sector_identifier: Option<String>,
    /// Every token request must carry a DPoP proof (RFC 9449).
    pub require_dpop: bool,
    /// A legacy confidential app that cannot send PKCE: its requests may go without, when they
    /// carry a `nonce` (RFC 9700 §2.1.1). Every other app must use PKCE.
    pub allow_no_pkce: bool,
    /// Every sign-in into this app must be multi-factor (`acr` of multi-factor).
    pub require_mfa: bool,
}

/// A registered client: its id, and its secret when it has one (shown this once).
#[derive(Debug, Clone)]
pub struct Registered {
    pub client_id: String,
    pub client_secret: Option<String>,
}

/// Checks one redirect URI (RFC 9700 §2.1 and RFC 8252): exact strings are matched later, so
/// here only the form is checked.
pub fn check_redirect_uri(uri: &str, client_type: ClientType) -> Result<(), ClientConfigError> {
    let bad = || ClientConfigError::BadRedirectUri(uri.to_owned());
    let url = Url::parse(uri).map_err(|_| bad())?;
    if url.fragment().is_some() || uri.contains('#') {
        return Err(bad());
    }
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    let ok = match url.scheme() {
        "https" => url.host_str().is_some(),
        "http" => loopback,
        // Native apps: a private-use scheme in reverse domain form.
        scheme => client_type == ClientType::Public && scheme.contains('.'),
    };
    if ok {
        Ok(())
    } else {
        Err(bad())
    }
}

/// The sector of a pairwise registration: the given host, or the one host of its redirect URIs.
fn sector_of(new: &NewClient) -> Result<Option<String>, ClientConfigError> {
    if !new.pairwise {
        return Ok(None);
    }
    if new.client_type == ClientType::Service {
        return Err(ClientConfigError::ServicePairwise);
    }
    if let Some(sector) = &new.sector_identifier {
        let host = sector.trim().to_ascii_lowercase();
        let valid = !host.is_empty()
            && host.len() <= 253
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        return if valid {
            Ok(Some(host))
        } else {
            Err(ClientConfigError::BadSector)
        };
    }
    let hosts: std::collections::BTreeSet<String> = new
        .redirect_uris
        .iter()
        .filter_map(|u| Url::parse(u).ok())
        .map(|u| {
            u.host_str()
                .map(str::to_owned)
                .unwrap_or_else(|| u.scheme().to_owned())
        })
        .collect();
    match hosts.len() {
        1 => Ok(hosts.into_iter().next()),
        _ => Err(ClientConfigError::AmbiguousSector),
    }
}

pub(super) fn validate(new: &NewClient) -> Result<(), ClientConfigError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ClientConfigError::BadName);
    }
    match new.client_type {
        ClientType::Service if !new.redirect_uris.is_empty() => {
            return Err(ClientConfigError::ServiceWithRedirect)
        }
        ClientType::Service => {}
        _ if new.redirect_uris.is_empty() => return Err(ClientConfigError::NoRedirectUri),
        _ => {}
    }
    for uri in new
        .redirect_uris
        .iter()
        .chain(&new.post_logout_redirect_uris)
    {
        check_redirect_uri(uri, new.client_type)?;
    }
    for uri in [&new.backchannel_logout_uri, &new.frontchannel_logout_uri]
        .into_iter()
        .flatten()
    {
        if new.client_type == ClientType::Service {
            return Err(ClientConfigError::ServiceWithLogout);
        }
        // Reached by our server or in a frame: web addresses only, never an app scheme.
        check_redirect_uri(uri, ClientType::Confidential)
            .map_err(|_| ClientConfigError::BadLogoutUri(uri.clone()))?;
    }
    if let Some(jwks) = &new.jwks {
        if new.client_type == ClientType::Public {
            return Err(ClientConfigError::PublicWithJwks);
        }
        super::assertion::check_jwks(jwks).map_err(ClientConfigError::BadJwks)?;
    }
    if new.allow_no_pkce && new.client_type != ClientType::Confidential {
        return Err(ClientConfigError::PkceOptOutNotConfidential);
    }
    if !new.scopes.is_empty() && new.client_type != ClientType::Service {
        return Err(ClientConfigError::ScopesForServiceOnly);
    }
    for scope in &new.scopes {
        let ok = !scope.is_empty()
            && scope.len() <= 64
            && scope
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '_' | '-'));
        if !ok || scope == "openid" {
            return Err(ClientConfigError::BadScope(scope.clone()));
        }
    }
    Ok(())
}

/// Registers a client; its secret (if any) is returned here and never again.
/// Registers an app (audited, with `actor` and what was registered).
/// A new client id: 22 URL-safe characters, never starting with `-` (which a command line
/// would read as a flag).
fn new_client_id() -> String {
    loop {
        let id = random_token()[..22].to_owned();
        if !id.starts_with('-') {
            return id;
        }
    }
}

pub async fn create(
    db: &PgPool,
    key: &ClientSecretKey,
    new: &NewClient,
    actor: Actor,
) -> anyhow::Result<Registered> {
    validate(new)?;
    let sector = sector_of(new)?;
    let client_id = new_client_id();
    let secret = (new.client_type != ClientType::Public && new.jwks.is_none()).then(random_token);
    let (grants, scopes): (&[&str], Vec<String>) = match new.client_type {
        ClientType::Service => (&["client_credentials"], new.scopes.clone()),
        _ => (
            &["authorization_code", "refresh_token"],
            [
                "openid",
                "profile",
                "email",
                "phone",
                "address",
                "consents",
                "roles",
                "offline_access",
            ]
            .map(str::to_owned)
            .to_vec(),
        ),
    };
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO oauth_clients
           (id, name, client_type, secret_hash, redirect_uris, grant_types, scopes, first_party,
            post_logout_redirect_uris, backchannel_logout_uri, frontchannel_logout_uri, require_par,
            jwks, subject_type, sector_identifier, require_dpop, pkce_required, require_mfa)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18)",
    )
    .bind(&client_id)
    .bind(new.name.trim())
    .bind(new.client_type)
    .bind(secret.as_ref().map(|s| key.hash(&client_id, s)))
    .bind(&new.redirect_uris)
    .bind(grants)
    .bind(&scopes)
    .bind(new.first_party)
    .bind(&new.post_logout_redirect_uris)
    .bind(&new.backchannel_logout_uri)
    .bind(&new.frontchannel_logout_uri)
    .bind(new.require_par)
    .bind(&new.jwks)
    .bind(if sector.is_some() {
        SubjectType::Pairwise
    } else {
        SubjectType::Public
    })
    .bind(&sector)
    .bind(new.require_dpop)
    .bind(!new.allow_no_pkce)
    .bind(new.require_mfa)
    .execute(&mut *tx)
    .await?;
    let event = AuditEvent::new("client.created", Outcome::Success)
        .by_actor(actor)
        .detail(json!({
            "client_id": client_id,
            "name": new.name.trim(),
            "client_type": new.client_type.as_str(),
            "redirect_uris": new.redirect_uris,
            "post_logout_redirect_uris": new.post_logout_redirect_uris,
            "scopes": new.scopes,
            "first_party": new.first_party,
            "backchannel_logout_uri": new.backchannel_logout_uri,
            "frontchannel_logout_uri": new.frontchannel_logout_uri,
            "require_par": new.require_par,
            "require_dpop": new.require_dpop,
            "private_key_jwt": new.jwks.is_some(),
            "pairwise_sector": sector,
            "pkce_required": !new.allow_no_pkce,
            "require_mfa": new.require_mfa,
        }));
    audit::record(&mut *tx, &ClientInfo::default(), event).await?;
    tx.commit().await?;
    Ok(Registered {
        client_id,
        client_secret: secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_never_read_as_a_flag() {
        // One random id in 64 would start with `-`: two thousand draws would all but surely
        // meet one.
        for _ in 0..2000 {
            let id = new_client_id();
            assert_eq!(id.len(), 22);
            assert!(!id.starts_with('-'), "{id}");
        }
    }

    #[test]
    fn redirect_uris_must_be_https_loopback_or_a_native_scheme() {
        use ClientType::*;
        for ok in [
            "https://app.example.com/callback",
            "http://localhost:8080/cb",
            "http://127.0.0.1/cb",
            "https://app.example.com/cb?tenant=1",
        ] {
            assert_eq!(check_redirect_uri(ok, Confidential), Ok(()), "{ok}");
        }
        assert_eq!(
            check_redirect_uri("com.example.app:/callback", Public),
            Ok(())
        );
        for bad in [
            "http://app.example.com/callback",
            "https://app.example.com/cb#frag",
            "com.example.app:/callback",
            "javascript:alert(1)",
            "/relative",
            "not a url",
        ] {
            assert!(check_redirect_uri(bad, Confidential).is_err(), "{bad}");
        }
        assert!(check_redirect_uri("javascript:alert(1)", Public).is_err());
    }

    #[test]
    fn registrations_are_checked_as_a_whole() {
        let new = |client_type, uris: &[&str]| NewClient {
            name: "Shop".into(),
            client_type,
            redirect_uris: uris.iter().map(|s| s.to_string()).collect(),
            first_party: false,
            scopes: vec![],
            post_logout_redirect_uris: vec![],
            ..Default::default()
        };
        assert_eq!(
            validate(&new(ClientType::Confidential, &[])),
            Err(ClientConfigError::NoRedirectUri)
        );
        assert_eq!(
            validate(&new(ClientType::Service, &["https://x.example/cb"])),
            Err(ClientConfigError::ServiceWithRedirect)
        );
        assert_eq!(validate(&new(ClientType::Service, &[])), Ok(()));
        let unnamed = NewClient {
            name: " ".into(),
            ..new(ClientType::Public, &["https://x.example/cb"])
        };
        assert_eq!(validate(&unnamed), Err(ClientConfigError::BadName));
    }
}

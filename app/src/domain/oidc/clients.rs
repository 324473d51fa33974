//! Partner apps registered with the OpenID provider (`oauth_clients`), as the endpoints use
//! them: their kind, keys and options, looked up by id, and the keyed hash their secrets are
//! kept as. Registering one is `registration`'s.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::PgExecutor;

use super::keys::Alg;

/// Keyed hash for client secrets (derived from the master key). Secrets carry 256 random
/// bits, so a fast keyed hash is as strong as a slow one and keeps the token endpoint fast.
#[derive(Clone)]
pub struct ClientSecretKey([u8; 32]);

impl std::fmt::Debug for ClientSecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecretKey([redacted])")
    }
}

impl ClientSecretKey {
    pub fn derive(master_key: &[u8; 32]) -> Self {
        Self(crate::domain::master_key::derive(
            master_key,
            crate::domain::master_key::CLIENT_SECRETS,
        ))
    }

    fn mac(&self, client_id: &str, secret: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key size");
        mac.update(client_id.as_bytes());
        mac.update(b"\0");
        mac.update(secret.as_bytes());
        mac
    }

    pub fn hash(&self, client_id: &str, secret: &str) -> Vec<u8> {
        self.mac(client_id, secret).finalize().into_bytes().to_vec()
    }

    /// Constant-time comparison with a stored hash.
    pub fn verify(&self, client_id: &str, secret: &str, stored: &[u8]) -> bool {
        self.mac(client_id, secret).verify_slice(stored).is_ok()
    }
}

/// What kind of app a client is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClientType {
    /// A server-side web app with a secret (or registered keys).
    #[default]
    Confidential,
    /// A browser or native app: no secret, PKCE.
    Public,
    /// A machine-to-machine client: client_credentials only.
    Service,
}

crate::text_enum!(ClientType {
    Confidential => "confidential",
    Public => "public",
    Service => "service",
});

/// Which `sub` an app sees (OpenID Connect Core §8).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SubjectType {
    /// The account id.
    #[default]
    Public,
    /// A value of the app's own sector.
    Pairwise,
}

crate::text_enum!(SubjectType {
    Public => "public",
    Pairwise => "pairwise",
});

/// A registered client, as the authorization and token endpoints use it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub client_type: ClientType,
    pub secret_hash: Option<Vec<u8>>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub id_token_alg: Alg,
    pub access_token_ttl_secs: i32,
    pub refresh_token_ttl_secs: i32,
    pub first_party: bool,
    /// Authorization requests must come through `/oauth2/par` (RFC 9126).
    pub require_par: bool,
    /// Public keys for `private_key_jwt`, when the client authenticates that way.
    pub jwks: Option<serde_json::Value>,
    /// Whether the app sees account ids or pairwise subjects (OpenID Connect Core §8).
    pub subject_type: SubjectType,
    /// The sector of a pairwise client.
    pub sector_identifier: Option<String>,
    /// Token requests must carry a DPoP proof.
    pub require_dpop: bool,
    /// Authorization requests must use PKCE (a legacy confidential client that sends a nonce may
    /// be registered without).
    pub pkce_required: bool,
    /// Every sign-in into this app must be multi-factor.
    pub require_mfa: bool,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.client_type == ClientType::Public
    }

    /// Whether the client is registered for `grant_type`.
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }
}

/// The client `id`, if registered.
pub async fn find(db: impl PgExecutor<'_>, id: &str) -> sqlx::Result<Option<Client>> {
    sqlx::query_as(
        "SELECT id, name, client_type, secret_hash, redirect_uris, post_logout_redirect_uris,
                grant_types, scopes,
                id_token_alg, access_token_ttl_secs, refresh_token_ttl_secs, first_party,
                require_par, jwks, subject_type, sector_identifier, require_dpop, pkce_required,
                require_mfa
         FROM oauth_clients WHERE id = $1 AND disabled_at IS NULL",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// One row of `server client list`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClientSummary {
    pub id: String,
    pub name: String,
    pub client_type: ClientType,
    pub redirect_uris: Vec<String>,
    pub first_party: bool,
    pub enabled: bool,
    /// Whether it authenticates with a secret (one can be rotated).
    pub has_secret: bool,
}

pub async fn list(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<ClientSummary>> {
    sqlx::query_as(
        "SELECT id, name, client_type, redirect_uris, first_party, disabled_at IS NULL AS enabled,
                secret_hash IS NOT NULL AS has_secret
         FROM oauth_clients ORDER BY created_at",
    )
    .fetch_all(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_verifies_only_for_its_client_and_key() {
        let key = ClientSecretKey::derive(&[3; 32]);
        let hash = key.hash("client-a", "s3cret");
        assert!(key.verify("client-a", "s3cret", &hash));
        assert!(!key.verify("client-a", "s3cret!", &hash));
        assert!(!key.verify("client-b", "s3cret", &hash));
        assert!(!ClientSecretKey::derive(&[4; 32]).verify("client-a", "s3cret", &hash));
    }
}

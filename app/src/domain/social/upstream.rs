//! Talking to upstream providers: the outbound HTTP client (no redirects, short timeouts),
//! OpenID discovery and JWKS documents (cached), the userinfo endpoint, and GitHub's user API.
//! What an ID token must be to be believed is `id_token`'s.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use jsonwebtoken::jwk::JwkSet;
use serde::{de::DeserializeOwned, Deserialize};

pub use super::id_token::UpstreamUser;
use super::{id_token::check_id_token, SocialError};

/// How long discovery and key documents are reused before they are fetched again.
const CACHE_FOR: Duration = Duration::from_secs(3600);
/// Largest upstream document read.
const MAX_DOCUMENT: usize = 256 * 1024;

/// The OpenID provider metadata the flow needs.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    /// Where the claims of the `email` and `profile` scopes are, when the ID token leaves them
    /// out (OpenID Connect Core §5.4).
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
}

/// The shared outbound client and document caches.
pub struct Upstream {
    pub http: reqwest::Client,
    discovery: Mutex<HashMap<String, (Instant, Discovery)>>,
    keys: Mutex<HashMap<String, (Instant, JwkSet)>>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Upstream")
    }
}

impl Upstream {
    pub fn new() -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .user_agent("Keyhaven")
            .build()?;
        Ok(Self {
            http,
            discovery: Mutex::default(),
            keys: Mutex::default(),
        })
    }

    /// GETs a JSON document; redirects, errors and oversized answers are failures.
    async fn get_json<T: DeserializeOwned>(
        &self,
        url: &str,
        bearer: Option<&str>,
    ) -> Result<T, SocialError> {
        let mut request = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| {
            tracing::warn!(%url, error = %e, "upstream unreachable");
            SocialError::Unreachable
        })?;
        if !response.status().is_success() {
            tracing::warn!(%url, status = %response.status(), "upstream answered with an error");
            return Err(SocialError::Unreachable);
        }
        let body = response
            .bytes()
            .await
            .map_err(|_| SocialError::Unreachable)?;
        if body.len() > MAX_DOCUMENT {
            return Err(SocialError::Unreachable);
        }
        serde_json::from_slice(&body).map_err(|e| {
            tracing::warn!(%url, error = %e, "upstream document is not what was expected");
            SocialError::Unverified
        })
    }

    /// The provider metadata of `issuer`, whose `issuer` field must be `issuer` itself.
    pub async fn discover(&self, issuer: &str) -> Result<Discovery, SocialError> {
        if let Some((at, doc)) = self.discovery.lock().expect("cache lock").get(issuer) {
            if at.elapsed() < CACHE_FOR {
                return Ok(doc.clone());
            }
        }
        let url = format!("{issuer}/.well-known/openid-configuration");
        let doc: Discovery = self.get_json(&url, None).await?;
        // Microsoft's multi-tenant endpoints publish a templated issuer, filled in per token.
        let templated = doc.issuer.contains("{tenantid}")
            && issuer.starts_with("https://login.microsoftonline.com/");
        if doc.issuer.trim_end_matches('/') != issuer && !templated {
            tracing::warn!(expected = %issuer, got = %doc.issuer, "discovery issuer mismatch");
            return Err(SocialError::Unverified);
        }
        self.discovery
            .lock()
            .expect("cache lock")
            .insert(issuer.to_owned(), (Instant::now(), doc.clone()));
        Ok(doc)
    }

    /// Checks that `issuer` can be used now: its discovery document (issuer matching) and its
    /// key set are reachable; answers the discovery and how many keys the set holds. Fetched
    /// fresh, not from the caches (the console's "test" button).
    pub async fn check(&self, issuer: &str) -> Result<(Discovery, usize), SocialError> {
        self.discovery.lock().expect("cache lock").remove(issuer);
        let doc = self.discover(issuer).await?;
        self.keys.lock().expect("cache lock").remove(&doc.jwks_uri);
        let keys = self.key_set(&doc.jwks_uri, None).await?.keys.len();
        Ok((doc, keys))
    }

    /// The key set at `uri`; fetched again when `kid` is not in the cached one (key rotation).
    async fn key_set(&self, uri: &str, kid: Option<&str>) -> Result<JwkSet, SocialError> {
        let cached = self.keys.lock().expect("cache lock").get(uri).cloned();
        if let Some((at, set)) = cached {
            let has_kid = kid.is_none_or(|k| set.find(k).is_some());
            if at.elapsed() < CACHE_FOR && has_kid {
                return Ok(set);
            }
        }
        // Key by key: one key of a kind this library does not know (say ES512) must not make
        // the whole set unusable.
        let doc: serde_json::Value = self.get_json(uri, None).await?;
        let set = JwkSet {
            keys: doc["keys"]
                .as_array()
                .map(|keys| {
                    keys.iter()
                        .filter_map(|k| serde_json::from_value(k.clone()).ok())
                        .collect()
                })
                .unwrap_or_default(),
        };
        self.keys
            .lock()
            .expect("cache lock")
            .insert(uri.to_owned(), (Instant::now(), set.clone()));
        Ok(set)
    }

    /// Validates an ID token against the issuer's current keys (see [`check_id_token`]).
    pub async fn validate_id_token(
        &self,
        token: &str,
        discovery: &Discovery,
        expected_issuer: &str,
        client_id: &str,
        nonce: &str,
    ) -> Result<UpstreamUser, SocialError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            tracing::warn!("upstream ID token refused: malformed");
            SocialError::Unverified
        })?;
        let keys = self
            .key_set(&discovery.jwks_uri, header.kid.as_deref())
            .await?;
        check_id_token(token, &keys, expected_issuer, client_id, nonce)
    }

    /// Fills in what the ID token of `person` left out (the address, whether it is verified,
    /// the name) from the provider's userinfo endpoint, which must be about the same subject
    /// (OpenID Connect Core §5.3.2). Nothing is fetched when the ID token has a verified address.
    pub async fn complete_from_userinfo(
        &self,
        discovery: &Discovery,
        access_token: &str,
        mut person: UpstreamUser,
    ) -> Result<UpstreamUser, SocialError> {
        let Some(endpoint) = &discovery.userinfo_endpoint else {
            return Ok(person);
        };
        if person.email.is_some() && person.email_verified {
            return Ok(person);
        }
        let info: super::id_token::UserinfoClaims =
            self.get_json(endpoint, Some(access_token)).await?;
        if info.sub != person.subject {
            tracing::warn!("upstream userinfo is about another subject than the ID token");
            return Err(SocialError::Unverified);
        }
        if info.email.is_some() {
            person.email = info.email;
            person.email_verified = info.email_verified;
        }
        person.name = person.name.or(info.name);
        Ok(person)
    }

    /// Who a GitHub access token belongs to, with their primary address when it is verified.
    pub async fn github_user(&self, access_token: &str) -> Result<UpstreamUser, SocialError> {
        #[derive(Deserialize)]
        struct GithubUser {
            id: u64,
            login: String,
            name: Option<String>,
        }
        #[derive(Deserialize)]
        struct GithubEmail {
            email: String,
            primary: bool,
            verified: bool,
        }
        let user: GithubUser = self
            .get_json("https://api.github.com/user", Some(access_token))
            .await?;
        let emails: Vec<GithubEmail> = self
            .get_json("https://api.github.com/user/emails", Some(access_token))
            .await?;
        let primary = emails.into_iter().find(|e| e.primary);
        Ok(UpstreamUser {
            subject: user.id.to_string(),
            email_verified: primary.as_ref().is_some_and(|e| e.verified),
            email: primary.map(|e| e.email),
            name: user.name.or(Some(user.login)),
        })
    }
}

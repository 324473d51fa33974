//! The token endpoint's logic (RFC 6749 §3.2, §4.1.3, §4.4, §6; RFC 7636): client
//! authentication, the authorization code exchange with PKCE, refresh with rotation and reuse
//! detection, client credentials, and the tokens issued: an RFC 9068 access token (ES256), an ID
//! token for `openid` signed with the client's algorithm, and refresh tokens for
//! `offline_access`. Errors carry the RFC's codes.

use std::sync::Arc;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{assertion, clients::Client, dpop, keys::Alg, person_cache::Person, subjects};
use crate::{
    domain::tokens::{random_token, token_hash},
    state::AppState,
};

/// How long an ID token is valid.
const ID_TOKEN_LIFETIME_SECS: i64 = 3600;

/// The form posted to the token endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenForm {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

/// An error of the token endpoint, as RFC 6749 §5.2 names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    InvalidRequest(&'static str),
    InvalidClient,
    InvalidGrant(&'static str),
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    ServerError,
    /// Another error of the authorization request's kind (RFC 6749 §4.1.2.1), as the pushed
    /// authorization request endpoint reports it.
    Refused {
        error: &'static str,
        description: &'static str,
    },
}

impl TokenError {
    /// HTTP status: 401 for a failed client authentication, 500 for ours, 400 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidClient => 401,
            Self::ServerError => 500,
            _ => 400,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let (error, description) = match self {
            Self::InvalidRequest(d) => ("invalid_request", *d),
            Self::InvalidClient => ("invalid_client", "Client authentication failed."),
            Self::InvalidGrant(d) => ("invalid_grant", *d),
            Self::UnauthorizedClient => (
                "unauthorized_client",
                "This client may not use this grant type.",
            ),
            Self::UnsupportedGrantType => ("unsupported_grant_type", "Unknown grant_type."),
            Self::InvalidScope => ("invalid_scope", "A requested scope is not allowed."),
            Self::ServerError => ("server_error", "The request could not be completed."),
            Self::Refused { error, description } => (*error, *description),
        };
        json!({ "error": error, "error_description": description })
    }
}

impl From<sqlx::Error> for TokenError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "token endpoint database error");
        Self::ServerError
    }
}

/// Authenticates the client by `client_secret_basic` (`basic`), `client_secret_post`,
/// `private_key_jwt`, or as a public client (`none`). Exactly one method may be used.
pub async fn authenticate_client(
    state: &AppState,
    basic: Option<(String, String)>,
    form: &TokenForm,
) -> Result<Arc<Client>, TokenError> {
    if form.client_assertion.is_some() || form.client_assertion_type.is_some() {
        if basic.is_some() || form.client_secret.is_some() {
            return Err(TokenError::InvalidRequest(
                "Use one client authentication method.",
            ));
        }
        return authenticate_by_assertion(state, form).await;
    }
    let (client_id, secret) = match (basic, &form.client_secret) {
        (Some(_), Some(_)) => {
            return Err(TokenError::InvalidRequest(
                "Use one client authentication method.",
            ))
        }
        (Some((id, secret)), None) => {
            if form.client_id.as_ref().is_some_and(|f| f != &id) {
                return Err(TokenError::InvalidRequest("client_id does not match."));
            }
            (id, Some(secret))
        }
        (None, secret) => (
            form.client_id.clone().ok_or(TokenError::InvalidClient)?,
            secret.clone(),
        ),
    };
    let client = state
        .clients
        .get(&state.db, &client_id)
        .await?
        .ok_or(TokenError::InvalidClient)?;
    match (&client.secret_hash, secret) {
        (Some(hash), Some(secret)) if state.client_key.verify(&client.id, &secret, hash) => {
            Ok(client)
        }
        (None, None) if client.is_public() => Ok(client),
        _ => Err(TokenError::InvalidClient),
    }
}

/// `private_key_jwt`: the client is the one the assertion names, if it verifies against that
/// client's registered keys.
async fn authenticate_by_assertion(
    state: &AppState,
    form: &TokenForm,
) -> Result<Arc<Client>, TokenError> {
    if form.client_assertion_type.as_deref() != Some(assertion::ASSERTION_TYPE) {
        return Err(TokenError::InvalidRequest(
            "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
        ));
    }
    let token = form
        .client_assertion
        .as_deref()
        .ok_or(TokenError::InvalidRequest("client_assertion is missing."))?;
    let client_id = assertion::claimed_client(token).ok_or(TokenError::InvalidClient)?;
    if form.client_id.as_ref().is_some_and(|id| id != &client_id) {
        return Err(TokenError::InvalidRequest("client_id does not match."));
    }
    let client = state
        .clients
        .get(&state.db, &client_id)
        .await?
        .ok_or(TokenError::InvalidClient)?;
    let Some(jwks) = &client.jwks else {
        return Err(TokenError::InvalidClient);
    };
    let issuer = state.settings.public_url.as_str();
    if assertion::verify(&state.db, issuer, &client.id, jwks, token).await? {
        Ok(client)
    } else {
        Err(TokenError::InvalidClient)
    }
}

/// The claims about `user_id` (known to the app as `sub`) that `scopes` allow, for ID tokens.
pub async fn user_claims(
    state: &AppState,
    user_id: Uuid,
    sub: &str,
    scopes: &[String],
) -> Result<Map<String, Value>, TokenError> {
    userinfo_claims(state, user_id, sub, scopes, None)
        .await?
        .ok_or(TokenError::InvalidGrant("The account no longer exists."))
}

/// The claims about `user_id` (known to the app as `sub`) that `scopes` allow, or `None` when
/// the account is gone or the access token `jti` (for userinfo) was revoked. While this node
/// receives change notices, both come from memory (read once on a miss); otherwise one query.
pub async fn userinfo_claims(
    state: &AppState,
    user_id: Uuid,
    sub: &str,
    scopes: &[String],
    jti: Option<Uuid>,
) -> Result<Option<Map<String, Value>>, TokenError> {
    let person = if state.people.is_listening() && state.revoked.is_complete() {
        if let Some(jti) = jti {
            if state.revoked.contains(&state.db, jti).await? {
                return Ok(None);
            }
        }
        state.people.get(&state.db, user_id).await?
    } else {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            person: Person,
            revoked: bool,
        }
        let row: Option<Row> = sqlx::query_as(
            "SELECT email, email_verified_at, display_name, phone,
                    EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = $2) AS revoked
             FROM users WHERE id = $1",
        )
        .bind(user_id)
        .bind(jti)
        .fetch_optional(&state.db)
        .await?;
        row.filter(|r| !r.revoked).map(|r| Arc::new(r.person))
    };
    Ok(person.map(|person| claims_of(&person, sub, scopes)))
}

/// The claims `scopes` release about `person`.
fn claims_of(person: &Person, sub: &str, scopes: &[String]) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(sub));
    let has = |s: &str| scopes.iter().any(|x| x == s);
    if has("profile") {
        claims.insert("name".into(), json!(person.display_name));
    }
    if has("email") {
        claims.insert("email".into(), json!(person.email));
        claims.insert(
            "email_verified".into(),
            json!(person.email_verified_at.is_some()),
        );
    }
    if has("phone") {
        if let Some(phone) = &person.phone {
            claims.insert("phone_number".into(), json!(phone));
            claims.insert("phone_number_verified".into(), json!(true));
        }
    }
    claims
}

/// The S256 challenge of `verifier`, if it is well formed (RFC 7636 §4.1: 43-128 unreserved
/// characters).
fn s256_challenge(verifier: &str) -> Option<String> {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    well_formed.then(|| URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())))
}

/// Whether `verifier` is well formed and hashes to `challenge`.
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    s256_challenge(verifier)
        .is_some_and(|hashed| crate::domain::tokens::same_secret(&hashed, challenge))
}

/// The grant_type=authorization_code exchange; returns the token response.
pub async fn exchange_code(
    state: &AppState,
    client: &Client,
    form: &TokenForm,
    jkt: Option<&str>,
) -> Result<Value, TokenError> {
    if !client.allows_grant("authorization_code") {
        return Err(TokenError::UnauthorizedClient);
    }
    let code = form
        .code
        .as_deref()
        .ok_or(TokenError::InvalidRequest("code is missing."))?;
    #[derive(sqlx::FromRow)]
    struct Code {
        client_id: String,
        user_id: Uuid,
        redirect_uri: String,
        scopes: Vec<String>,
        nonce: Option<String>,
        code_challenge: Option<String>,
        auth_time: OffsetDateTime,
        sid: Option<String>,
        expired: bool,
        refresh_stored: bool,
    }
    // One statement uses the code up: any attempt uses it, so a code cannot be probed for its
    // verifier. Concurrent attempts queue on the row, and only the first finds it unused. When
    // the code is this client's, unexpired, for this redirect_uri and verifier, and a refresh
    // token is due, the same statement stores the first refresh token of a new family. The checks
    // below are the ones that decide, and name what was wrong.
    let hash = token_hash(code);
    let refresh = random_token();
    let presented_challenge = form
        .code_verifier
        .as_deref()
        .map(|v| s256_challenge(v).unwrap_or_default());
    let row: Option<Code> = sqlx::query_as(
        "WITH used AS (
             UPDATE authorization_codes SET used_at = now()
             WHERE code_hash = $1 AND used_at IS NULL
             RETURNING client_id, user_id, redirect_uri, scopes, nonce, code_challenge,
                       auth_time, sid, expires_at <= now() AS expired
         ), fresh AS (
             INSERT INTO refresh_tokens
               (token_hash, family_id, client_id, user_id, scopes, auth_time, code_hash,
                expires_at, sid, dpop_jkt)
             SELECT $5, $6, client_id, user_id, scopes, auth_time, $1,
                    now() + make_interval(secs => $7), sid, $8
             FROM used
             WHERE $9 AND 'offline_access' = ANY (scopes) AND NOT expired
               AND client_id = $2 AND redirect_uri = $3
               AND code_challenge IS NOT DISTINCT FROM $4
             RETURNING 1
         )
         SELECT used.*, EXISTS (SELECT 1 FROM fresh) AS refresh_stored FROM used",
    )
    .bind(&hash)
    .bind(&client.id)
    .bind(form.redirect_uri.as_deref())
    .bind(presented_challenge)
    .bind(token_hash(&refresh))
    .bind(Uuid::new_v4())
    .bind(f64::from(client.refresh_token_ttl_secs))
    .bind(jkt)
    .bind(client.allows_grant("refresh_token"))
    .fetch_optional(&state.db)
    .await?;
    let Some(row) = row else {
        let known: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM authorization_codes WHERE code_hash = $1)",
        )
        .bind(&hash)
        .fetch_one(&state.db)
        .await?;
        if !known {
            return Err(TokenError::InvalidGrant("The code is not valid."));
        }
        // A code presented twice may have been stolen: what it issued is revoked (RFC 6749 §4.1.2).
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = now()
             WHERE code_hash = $1 AND revoked_at IS NULL",
        )
        .bind(&hash)
        .execute(&state.db)
        .await?;
        return Err(TokenError::InvalidGrant("The code was already used."));
    };
    if row.expired {
        return Err(TokenError::InvalidGrant("The code has expired."));
    }
    if row.client_id != client.id {
        return Err(TokenError::InvalidGrant(
            "The code was issued to another client.",
        ));
    }
    if form.redirect_uri.as_deref() != Some(row.redirect_uri.as_str()) {
        return Err(TokenError::InvalidGrant(
            "redirect_uri does not match the authorization request.",
        ));
    }
    match (&row.code_challenge, form.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) if pkce_matches(verifier, challenge) => {}
        (None, None) => {}
        (Some(_), None) => return Err(TokenError::InvalidGrant("code_verifier is missing.")),
        _ => {
            return Err(TokenError::InvalidGrant(
                "The PKCE code_verifier does not match.",
            ))
        }
    }

    let grant = Grant {
        user_id: row.user_id,
        scopes: row.scopes,
        auth_time: row.auth_time,
        nonce: row.nonce,
        sid: row.sid,
    };
    let refresh = match (wants_refresh(client, &grant.scopes), row.refresh_stored) {
        (true, true) => Some(refresh),
        (false, false) => None,
        (wants, stored) => {
            tracing::error!(
                wants,
                stored,
                "the stored refresh token disagrees with the grant"
            );
            return Err(TokenError::ServerError);
        }
    };
    issue(state, client, &grant, refresh, jkt).await
}

/// Who and what a set of tokens is for.
struct Grant {
    user_id: Uuid,
    scopes: Vec<String>,
    auth_time: OffsetDateTime,
    nonce: Option<String>,
    /// The browser sign-in the grant came from (`sid` in ID tokens).
    sid: Option<String>,
}

/// Refresh tokens go to clients allowed the grant that asked for `offline_access`.
fn wants_refresh(client: &Client, scopes: &[String]) -> bool {
    client.allows_grant("refresh_token") && scopes.iter().any(|s| s == "offline_access")
}

fn signing_failed(e: super::keys::KeyError) -> TokenError {
    tracing::error!(error = %e, "signing a token failed");
    TokenError::ServerError
}

/// An RFC 9068 access token for `sub` (a person, or the client itself).
fn access_token(
    state: &AppState,
    client: &Client,
    sub: &str,
    scope: &str,
    auth_time: Option<i64>,
    jkt: Option<&str>,
) -> Result<(String, i64), TokenError> {
    let issuer = state.settings.public_url.as_str();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let ttl = i64::from(client.access_token_ttl_secs);
    let mut claims = json!({
        "iss": issuer,
        "sub": sub,
        "aud": issuer,
        "client_id": client.id,
        "scope": scope,
        "iat": now,
        "exp": now + ttl,
        "jti": Uuid::new_v4(),
    });
    if let Some(auth_time) = auth_time {
        claims["auth_time"] = json!(auth_time);
    }
    if let Some(jkt) = jkt {
        // RFC 9449 §6: bound to the key the client proved it holds.
        claims["cnf"] = json!({ "jkt": jkt });
    }
    let token = state
        .keys
        .sign_access_token(&claims)
        .map_err(signing_failed)?;
    Ok((token, ttl))
}

/// The token response for `grant`: an access token, an ID token for `openid`, and the refresh
/// token stored for it, if any.
async fn issue(
    state: &AppState,
    client: &Client,
    grant: &Grant,
    refresh: Option<String>,
    jkt: Option<&str>,
) -> Result<Value, TokenError> {
    let issuer = state.settings.public_url.as_str();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let scope = grant.scopes.join(" ");
    let sub = subjects::issue(&state.db, &state.subjects, client, grant.user_id).await?;
    let (access, ttl) = access_token(
        state,
        client,
        &sub,
        &scope,
        Some(grant.auth_time.unix_timestamp()),
        jkt,
    )?;
    let mut response = json!({
        "access_token": access,
        "token_type": token_type(jkt),
        "expires_in": ttl,
        "scope": scope,
    });
    if grant.scopes.iter().any(|s| s == "openid") {
        let mut claims = user_claims(state, grant.user_id, &sub, &grant.scopes).await?;
        claims.insert("iss".into(), json!(issuer));
        claims.insert("aud".into(), json!(client.id));
        claims.insert("azp".into(), json!(client.id));
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now + ID_TOKEN_LIFETIME_SECS));
        claims.insert("auth_time".into(), json!(grant.auth_time.unix_timestamp()));
        if let Some(nonce) = &grant.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        if let Some(sid) = &grant.sid {
            claims.insert("sid".into(), json!(sid));
        }
        let alg = Alg::parse(&client.id_token_alg).unwrap_or(Alg::Rs256);
        let id_token = state.keys.sign(alg, &claims).map_err(signing_failed)?;
        response["id_token"] = json!(id_token);
    }
    if let Some(token) = refresh {
        response["refresh_token"] = json!(token);
    }
    Ok(response)
}

/// grant_type=refresh_token (RFC 6749 §6): the token is rotated on every use; an already used
/// one coming back revokes its whole family (RFC 9700 §4.14.2).
pub async fn refresh(
    state: &AppState,
    client: &Client,
    form: &TokenForm,
    jkt: Option<&str>,
) -> Result<Value, TokenError> {
    if !client.allows_grant("refresh_token") {
        return Err(TokenError::UnauthorizedClient);
    }
    let presented = form
        .refresh_token
        .as_deref()
        .ok_or(TokenError::InvalidRequest("refresh_token is missing."))?;
    let asked: Option<Vec<String>> = form.scope.as_deref().map(|asked| {
        asked
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    });
    #[derive(sqlx::FromRow)]
    struct Rotated {
        user_id: Uuid,
        scopes: Vec<String>,
        auth_time: OffsetDateTime,
        sid: Option<String>,
    }
    // One statement marks the token used, when it may be used (this client's, unused,
    // unrevoked, unexpired, the scopes asked for within its own, the same DPoP key), and stores
    // its successor. Concurrent uses queue on the row, and only the first finds it unused.
    let hash = token_hash(presented);
    let successor = random_token();
    let row: Option<Rotated> = sqlx::query_as(
        "WITH rotated AS (
             UPDATE refresh_tokens SET used_at = now()
             WHERE token_hash = $1 AND client_id = $2 AND used_at IS NULL
               AND revoked_at IS NULL AND expires_at > now()
               AND ($3::text[] IS NULL OR $3::text[] <@ scopes)
               AND (dpop_jkt IS NULL OR dpop_jkt = $4)
             RETURNING family_id, client_id, user_id, scopes, auth_time, sid
         ), successor AS (
             INSERT INTO refresh_tokens
               (token_hash, family_id, client_id, user_id, scopes, auth_time, expires_at, sid,
                dpop_jkt)
             SELECT $5, family_id, client_id, user_id, COALESCE($3::text[], scopes), auth_time,
                    now() + make_interval(secs => $6), sid, $4
             FROM rotated
         )
         SELECT user_id, scopes, auth_time, sid FROM rotated",
    )
    .bind(&hash)
    .bind(&client.id)
    .bind(&asked)
    .bind(jkt)
    .bind(token_hash(&successor))
    .bind(f64::from(client.refresh_token_ttl_secs))
    .fetch_optional(&state.db)
    .await?;
    let Some(row) = row else {
        return Err(refresh_refused(state, client, &hash, jkt).await?);
    };
    let scopes = asked.unwrap_or(row.scopes);
    let grant = Grant {
        user_id: row.user_id,
        scopes,
        auth_time: row.auth_time,
        nonce: None,
        sid: row.sid,
    };
    issue(state, client, &grant, Some(successor), jkt).await
}

/// Why the refresh token hashing to `hash` could not be used by `client`; an already used one
/// revokes its family (RFC 9700 §4.14.2).
async fn refresh_refused(
    state: &AppState,
    client: &Client,
    hash: &[u8],
    jkt: Option<&str>,
) -> Result<TokenError, TokenError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        family_id: Uuid,
        client_id: String,
        used: bool,
        revoked: bool,
        expired: bool,
        dpop_jkt: Option<String>,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT family_id, client_id, used_at IS NOT NULL AS used,
                revoked_at IS NOT NULL AS revoked, expires_at <= now() AS expired, dpop_jkt
         FROM refresh_tokens WHERE token_hash = $1",
    )
    .bind(hash)
    .fetch_optional(&state.db)
    .await?;
    let Some(row) = row else {
        return Ok(TokenError::InvalidGrant("The refresh token is not valid."));
    };
    if row.client_id != client.id {
        return Ok(TokenError::InvalidGrant(
            "The refresh token was issued to another client.",
        ));
    }
    if row.revoked {
        return Ok(TokenError::InvalidGrant("The refresh token was revoked."));
    }
    if row.used {
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = now()
             WHERE family_id = $1 AND revoked_at IS NULL",
        )
        .bind(row.family_id)
        .execute(&state.db)
        .await?;
        tracing::warn!(client = %client.id, "refresh token reuse: family revoked");
        return Ok(TokenError::InvalidGrant(
            "The refresh token was already used; its sign-in is revoked.",
        ));
    }
    if row.expired {
        return Ok(TokenError::InvalidGrant("The refresh token has expired."));
    }
    if row.dpop_jkt.is_some() && row.dpop_jkt.as_deref() != jkt {
        // RFC 9449 §5: a bound refresh token needs a proof with its key.
        return Ok(TokenError::Refused {
            error: "invalid_dpop_proof",
            description: "The refresh token is bound to another DPoP key.",
        });
    }
    // The only condition left: a scope beyond the token's own.
    Ok(TokenError::InvalidScope)
}

/// grant_type=client_credentials (RFC 6749 §4.4), for service clients: an access token about
/// the client itself, for scopes it was given. Nothing is written to the database.
pub fn client_credentials(
    state: &AppState,
    client: &Client,
    form: &TokenForm,
    jkt: Option<&str>,
) -> Result<Value, TokenError> {
    if !client.allows_grant("client_credentials") {
        return Err(TokenError::UnauthorizedClient);
    }
    let scopes: Vec<&str> = match form.scope.as_deref() {
        None => client.scopes.iter().map(String::as_str).collect(),
        Some(asked) => {
            let asked: Vec<&str> = asked.split(' ').filter(|s| !s.is_empty()).collect();
            if asked.iter().any(|s| !client.scopes.iter().any(|c| c == s)) {
                return Err(TokenError::InvalidScope);
            }
            asked
        }
    };
    let scope = scopes.join(" ");
    let (access, ttl) = access_token(state, client, &client.id, &scope, None, jkt)?;
    Ok(json!({
        "access_token": access,
        "token_type": token_type(jkt),
        "expires_in": ttl,
        "scope": scope,
    }))
}

/// `DPoP` for tokens bound to a proven key (RFC 9449), `Bearer` otherwise.
fn token_type(jkt: Option<&str>) -> &'static str {
    if jkt.is_some() {
        "DPoP"
    } else {
        "Bearer"
    }
}

/// The thumbprint of the key a DPoP proof at the token endpoint proves, if one was sent; a bad
/// proof, or none from an app that must send one, is refused with `invalid_dpop_proof`.
async fn proven_key(
    state: &AppState,
    client: &Client,
    proof: Option<&str>,
) -> Result<Option<String>, TokenError> {
    let Some(proof) = proof else {
        return if client.require_dpop {
            Err(TokenError::Refused {
                error: "invalid_dpop_proof",
                description: "This app must send a DPoP proof.",
            })
        } else {
            Ok(None)
        };
    };
    let url = format!("{}/oauth2/token", state.settings.public_url);
    match dpop::check(&state.db, proof, "POST", &url, None).await? {
        Ok(jkt) => Ok(Some(jkt)),
        Err(description) => Err(TokenError::Refused {
            error: "invalid_dpop_proof",
            description,
        }),
    }
}

/// The token endpoint: authenticates the client and dispatches on `grant_type`.
pub async fn token(
    state: &AppState,
    basic: Option<(String, String)>,
    form: &TokenForm,
    dpop_proof: Option<&str>,
) -> Result<Value, TokenError> {
    let grant = form
        .grant_type
        .as_deref()
        .ok_or(TokenError::InvalidRequest("grant_type is missing."))?;
    let client = authenticate_client(state, basic, form).await?;
    let jkt = proven_key(state, &client, dpop_proof).await?;
    let jkt = jkt.as_deref();
    match grant {
        "authorization_code" => exchange_code(state, &client, form, jkt).await,
        "refresh_token" => refresh(state, &client, form, jkt).await,
        "client_credentials" => client_credentials(state, &client, form, jkt),
        _ => Err(TokenError::UnsupportedGrantType),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example_verifier_matches_its_challenge() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX",
            challenge
        ));
        assert!(!pkce_matches("short", challenge));
        assert!(!pkce_matches(challenge, challenge), "plain is not accepted");
    }

    #[test]
    fn errors_carry_the_rfc_codes_and_statuses() {
        assert_eq!(TokenError::InvalidClient.status(), 401);
        assert_eq!(TokenError::InvalidClient.body()["error"], "invalid_client");
        assert_eq!(TokenError::InvalidGrant("x").status(), 400);
        assert_eq!(
            TokenError::UnsupportedGrantType.body()["error"],
            "unsupported_grant_type"
        );
    }
}

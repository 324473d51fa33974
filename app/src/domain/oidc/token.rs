//! The token endpoint's logic (RFC 6749 §3.2, §4.1.3; RFC 7636): client authentication, the
//! authorization code exchange with PKCE, and the tokens it issues: an RFC 9068 access token
//! (ES256) and, for `openid`, an ID token signed with the client's algorithm. Errors carry the
//! RFC's codes.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    clients::{self, Client},
    keys::Alg,
};
use crate::{domain::tokens::token_hash, state::AppState};

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
}

/// An error of the token endpoint, as RFC 6749 §5.2 names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    InvalidRequest(&'static str),
    InvalidClient,
    InvalidGrant(&'static str),
    UnauthorizedClient,
    UnsupportedGrantType,
    ServerError,
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
            Self::ServerError => ("server_error", "The request could not be completed."),
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

/// Authenticates the client by `client_secret_basic` (`basic`), `client_secret_post`, or as a
/// public client (`none`). Exactly one method may be used.
pub async fn authenticate_client(
    state: &AppState,
    basic: Option<(String, String)>,
    form: &TokenForm,
) -> Result<Client, TokenError> {
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
    let client = clients::find(&state.db, &client_id)
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

/// The claims about `user_id` that `scopes` allow, for ID tokens and userinfo.
pub async fn user_claims(
    state: &AppState,
    user_id: Uuid,
    scopes: &[String],
) -> Result<Map<String, Value>, TokenError> {
    let row: Option<(String, Option<OffsetDateTime>, String, Option<String>)> = sqlx::query_as(
        "SELECT email, email_verified_at, display_name, phone FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_optional(&state.db)
    .await?;
    let Some((email, verified_at, name, phone)) = row else {
        return Err(TokenError::InvalidGrant("The account no longer exists."));
    };
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user_id));
    let has = |s: &str| scopes.iter().any(|x| x == s);
    if has("profile") {
        claims.insert("name".into(), json!(name));
    }
    if has("email") {
        claims.insert("email".into(), json!(email));
        claims.insert("email_verified".into(), json!(verified_at.is_some()));
    }
    if has("phone") {
        if let Some(phone) = phone {
            claims.insert("phone_number".into(), json!(phone));
            claims.insert("phone_number_verified".into(), json!(true));
        }
    }
    Ok(claims)
}

/// Whether `verifier` (RFC 7636 §4.1: 43-128 unreserved characters) hashes to `challenge`.
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    well_formed
        && crate::domain::tokens::same_secret(
            &URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
            challenge,
        )
}

/// The grant_type=authorization_code exchange; returns the token response.
pub async fn exchange_code(
    state: &AppState,
    client: &Client,
    form: &TokenForm,
) -> Result<Value, TokenError> {
    if !client.grant_types.iter().any(|g| g == "authorization_code") {
        return Err(TokenError::UnauthorizedClient);
    }
    let code = form
        .code
        .as_deref()
        .ok_or(TokenError::InvalidRequest("code is missing."))?;
    let mut tx = state.db.begin().await?;
    #[derive(sqlx::FromRow)]
    struct Code {
        client_id: String,
        user_id: Uuid,
        redirect_uri: String,
        scopes: Vec<String>,
        nonce: Option<String>,
        code_challenge: Option<String>,
        auth_time: OffsetDateTime,
        used: bool,
        expired: bool,
    }
    let row: Option<Code> = sqlx::query_as(
        "SELECT client_id, user_id, redirect_uri, scopes, nonce, code_challenge, auth_time,
                used_at IS NOT NULL AS used, expires_at <= now() AS expired
         FROM authorization_codes WHERE code_hash = $1 FOR UPDATE",
    )
    .bind(token_hash(code))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Err(TokenError::InvalidGrant("The code is not valid."));
    };
    if row.used {
        return Err(TokenError::InvalidGrant("The code was already used."));
    }
    // Any attempt uses the code up, so a code cannot be probed for its verifier.
    sqlx::query("UPDATE authorization_codes SET used_at = now() WHERE code_hash = $1")
        .bind(token_hash(code))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
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

    let issuer = state.settings.public_url.as_str();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let ttl = i64::from(client.access_token_ttl_secs);
    let scope = row.scopes.join(" ");
    let access_token = state
        .keys
        .sign_access_token(&json!({
            "iss": issuer,
            "sub": row.user_id,
            "aud": issuer,
            "client_id": client.id,
            "scope": scope,
            "iat": now,
            "exp": now + ttl,
            "auth_time": row.auth_time.unix_timestamp(),
            "jti": Uuid::new_v4(),
        }))
        .map_err(|e| {
            tracing::error!(error = %e, "signing an access token failed");
            TokenError::ServerError
        })?;
    let mut response = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": scope,
    });
    if row.scopes.iter().any(|s| s == "openid") {
        let mut claims = user_claims(state, row.user_id, &row.scopes).await?;
        claims.insert("iss".into(), json!(issuer));
        claims.insert("aud".into(), json!(client.id));
        claims.insert("azp".into(), json!(client.id));
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now + ID_TOKEN_LIFETIME_SECS));
        claims.insert("auth_time".into(), json!(row.auth_time.unix_timestamp()));
        if let Some(nonce) = &row.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        let alg = Alg::parse(&client.id_token_alg).unwrap_or(Alg::Rs256);
        let id_token = state.keys.sign(alg, &claims).map_err(|e| {
            tracing::error!(error = %e, "signing an ID token failed");
            TokenError::ServerError
        })?;
        response["id_token"] = json!(id_token);
    }
    Ok(response)
}

/// The token endpoint: authenticates the client and dispatches on `grant_type`.
pub async fn token(
    state: &AppState,
    basic: Option<(String, String)>,
    form: &TokenForm,
) -> Result<Value, TokenError> {
    let grant = form
        .grant_type
        .as_deref()
        .ok_or(TokenError::InvalidRequest("grant_type is missing."))?;
    let client = authenticate_client(state, basic, form).await?;
    match grant {
        "authorization_code" => exchange_code(state, &client, form).await,
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

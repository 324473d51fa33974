//! The token endpoint (RFC 6749 §3.2): its errors (§5.2), the dispatch on `grant_type` to the
//! grant types (one file each in `grant_types/`), the DPoP proof it may carry (RFC 9449), and the
//! tokens every grant issues: an RFC 9068 access token (ES256) carrying its grant's id, an ID
//! token for `openid` signed with the client's algorithm, and the refresh token stored for it.

use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    client_auth::{self, ClientAuthForm},
    clients::Client,
    dpop,
    grant_types::{authorization_code, client_credentials, refresh_token},
    subjects, userinfo,
};
use crate::state::AppState;

/// How long an ID token is valid.
const ID_TOKEN_LIFETIME_SECS: i64 = 3600;

/// The token endpoint's own parameters (client authentication is read by `client_auth`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenForm {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
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

/// Who and what a set of tokens is for.
pub(super) struct Grant {
    /// The grant's id: its refresh family's, and the `gid` of its access tokens.
    pub id: Uuid,
    pub user_id: Uuid,
    pub scopes: Vec<String>,
    pub auth_time: OffsetDateTime,
    pub nonce: Option<String>,
    /// The browser sign-in the grant came from (`sid` in ID tokens).
    pub sid: Option<String>,
}

/// Refresh tokens go to clients allowed the grant that asked for `offline_access`.
pub(super) fn wants_refresh(client: &Client, scopes: &[String]) -> bool {
    client.allows_grant("refresh_token") && scopes.iter().any(|s| s == "offline_access")
}

fn signing_failed(e: super::keys::KeyError) -> TokenError {
    tracing::error!(error = %e, "signing a token failed");
    TokenError::ServerError
}

/// An RFC 9068 access token for `sub` (a person, or the client itself); `grant` is the id of
/// the grant it belongs to, for a person.
pub(super) fn access_token(
    state: &AppState,
    client: &Client,
    sub: &str,
    scope: &str,
    grant: Option<(Uuid, i64)>,
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
    if let Some((grant_id, auth_time)) = grant {
        claims["auth_time"] = json!(auth_time);
        claims["gid"] = json!(grant_id);
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
pub(super) async fn issue(
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
    let auth_time = grant.auth_time.unix_timestamp();
    let (access, ttl) = access_token(
        state,
        client,
        &sub,
        &scope,
        Some((grant.id, auth_time)),
        jkt,
    )?;
    let mut response = json!({
        "access_token": access,
        "token_type": token_type(jkt),
        "expires_in": ttl,
        "scope": scope,
    });
    if grant.scopes.iter().any(|s| s == "openid") {
        let mut claims = userinfo::claims(state, grant.user_id, &sub, &grant.scopes)
            .await?
            .ok_or(TokenError::InvalidGrant("The account no longer exists."))?;
        claims.insert("iss".into(), json!(issuer));
        claims.insert("aud".into(), json!(client.id));
        claims.insert("azp".into(), json!(client.id));
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now + ID_TOKEN_LIFETIME_SECS));
        claims.insert("auth_time".into(), json!(auth_time));
        if let Some(nonce) = &grant.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        if let Some(sid) = &grant.sid {
            claims.insert("sid".into(), json!(sid));
        }
        let id_token = state
            .keys
            .sign(client.id_token_alg, &claims)
            .map_err(signing_failed)?;
        response["id_token"] = json!(id_token);
    }
    if let Some(token) = refresh {
        response["refresh_token"] = json!(token);
    }
    Ok(response)
}

/// `DPoP` for tokens bound to a proven key (RFC 9449), `Bearer` otherwise.
pub(super) fn token_type(jkt: Option<&str>) -> &'static str {
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
    auth: &ClientAuthForm,
    form: &TokenForm,
    dpop_proof: Option<&str>,
) -> Result<Value, TokenError> {
    let grant = form
        .grant_type
        .as_deref()
        .ok_or(TokenError::InvalidRequest("grant_type is missing."))?;
    let client = client_auth::authenticate(state, basic, auth).await?;
    let jkt = proven_key(state, &client, dpop_proof).await?;
    let jkt = jkt.as_deref();
    match grant {
        "authorization_code" => authorization_code::exchange(state, &client, form, jkt).await,
        "refresh_token" => refresh_token::refresh(state, &client, form, jkt).await,
        "client_credentials" => client_credentials::grant(state, &client, form, jkt),
        _ => Err(TokenError::UnsupportedGrantType),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

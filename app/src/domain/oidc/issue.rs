//! The tokens a grant issues: an RFC 9068 access token (ES256) carrying its grant's id (`gid`),
//! an ID token for `openid` signed with the client's algorithm, and the refresh token stored
//! for it; `DPoP` or `Bearer` as the token type. With the `roles` scope both tokens carry the
//! person's `roles` and `permissions` for the app, read once per issue.

use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{clients::Client, error::TokenError, subjects, userinfo};
use crate::{
    domain::directory::roles::{self, Granted},
    state::AppState,
};

/// How long an ID token is valid.
const ID_TOKEN_LIFETIME_SECS: i64 = 3600;

/// Who and what a set of tokens is for.
pub(crate) struct Grant {
    /// The grant's id: its refresh family's, and the `gid` of its access tokens.
    pub id: Uuid,
    pub user_id: Uuid,
    pub scopes: Vec<String>,
    pub auth_time: OffsetDateTime,
    pub nonce: Option<String>,
    /// The browser sign-in the grant came from (`sid` in ID tokens).
    pub sid: Option<String>,
    /// How the person authenticated at that sign-in (RFC 8176), and the level it reached.
    pub amr: Vec<String>,
    pub acr: Option<String>,
}

/// Refresh tokens go to clients allowed the grant that asked for `offline_access`.
pub(crate) fn wants_refresh(client: &Client, scopes: &[String]) -> bool {
    client.allows_grant("refresh_token") && scopes.iter().any(|s| s == "offline_access")
}

fn signing_failed(e: super::keys::KeyError) -> TokenError {
    tracing::error!(error = %e, "signing a token failed");
    TokenError::ServerError
}

/// An RFC 9068 access token for `sub` (a person, or the client itself); `grant` is the id of
/// the grant it belongs to, for a person.
pub(crate) fn access_token(
    state: &AppState,
    client: &Client,
    sub: &str,
    scope: &str,
    grant: Option<(Uuid, i64)>,
    jkt: Option<&str>,
) -> Result<(String, i64), TokenError> {
    person_access_token(state, client, sub, scope, grant, jkt, None)
}

/// As [`access_token`], with the person's roles and permissions for the app when `granted`
/// (the `roles` scope).
fn person_access_token(
    state: &AppState,
    client: &Client,
    sub: &str,
    scope: &str,
    grant: Option<(Uuid, i64)>,
    jkt: Option<&str>,
    granted: Option<&Granted>,
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
    if let (Some(granted), Value::Object(claims)) = (granted, &mut claims) {
        granted.add_claims(claims);
    }
    let token = state
        .keys
        .sign_access_token(&claims)
        .map_err(signing_failed)?;
    Ok((token, ttl))
}

/// The token response for `grant`: an access token, an ID token for `openid`, and the refresh
/// token stored for it, if any.
pub(crate) async fn issue(
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
    // Read afresh at every issue (a code exchange or a refresh), once for both tokens.
    let granted = match roles::asked(&grant.scopes) {
        true => Some(roles::for_person(&state.db, &client.id, grant.user_id).await?),
        false => None,
    };
    let (access, ttl) = person_access_token(
        state,
        client,
        &sub,
        &scope,
        Some((grant.id, auth_time)),
        jkt,
        granted.as_ref(),
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
        if !grant.amr.is_empty() {
            claims.insert("amr".into(), json!(grant.amr));
        }
        if let Some(acr) = &grant.acr {
            claims.insert("acr".into(), json!(acr));
        }
        if let Some(nonce) = &grant.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        if let Some(sid) = &grant.sid {
            claims.insert("sid".into(), json!(sid));
        }
        if let Some(granted) = &granted {
            granted.add_claims(&mut claims);
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
pub(crate) fn token_type(jkt: Option<&str>) -> &'static str {
    if jkt.is_some() {
        "DPoP"
    } else {
        "Bearer"
    }
}

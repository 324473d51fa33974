//! Token revocation (RFC 7009) and introspection (RFC 7662), for authenticated clients:
//! refresh tokens by their stored hash (revoking one revokes its family), access tokens by
//! signature, with revoked ones remembered by `jti` until they would have expired (and mirrored
//! in memory, see `revoked`).

use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    clients::Client,
    error::TokenError,
    grant_revocation::{self, Grants},
    subjects,
};
use crate::{domain::tokens::token_hash, state::AppState};

/// The claims of a valid, unrevoked access token of this provider.
pub async fn active_access_token(
    state: &AppState,
    token: &str,
) -> Result<Option<Value>, TokenError> {
    let Some(claims) = state
        .keys
        .verify_access_token(token, &state.settings.public_url)
    else {
        return Ok(None);
    };
    let Some(ids) = super::userinfo::token_ids(&claims) else {
        return Ok(None);
    };
    let revoked = state.revoked.contains_any(&state.db, &ids).await?;
    Ok((!revoked).then_some(claims))
}

/// Revokes `token` if it is one of `client`'s; anything else is quietly ignored (RFC 7009 §2.2).
pub async fn revoke(state: &AppState, client: &Client, token: &str) -> Result<(), TokenError> {
    let family: Option<(Uuid, String)> =
        sqlx::query_as("SELECT family_id, client_id FROM refresh_tokens WHERE token_hash = $1")
            .bind(token_hash(token))
            .fetch_optional(&state.db)
            .await?;
    if let Some((family, owner)) = family {
        if owner == client.id {
            // RFC 7009 §2.1: revoking a refresh token may revoke what its grant issued; here it
            // does, access tokens included.
            let mut conn = state.db.acquire().await?;
            let ended = grant_revocation::revoke(&mut conn, Grants::Family(family)).await?;
            ended.remember(&state.revoked);
        }
        return Ok(());
    }
    if let Some(claims) = active_access_token(state, token).await? {
        let jti = claims["jti"].as_str().and_then(|j| j.parse::<Uuid>().ok());
        let exp = claims["exp"]
            .as_i64()
            .and_then(|e| OffsetDateTime::from_unix_timestamp(e).ok());
        if let (true, Some(jti), Some(exp)) = (claims["client_id"] == json!(client.id), jti, exp) {
            sqlx::query(
                "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
            )
            .bind(jti)
            .bind(exp)
            .execute(&state.db)
            .await?;
            // This node knows at once; the others when the notice reaches them.
            state.revoked.add(jti, exp.unix_timestamp());
        }
    }
    Ok(())
}

/// What `token` is, for a resource server (a client with credentials).
pub async fn introspect(
    state: &AppState,
    client: &Client,
    token: &str,
) -> Result<Value, TokenError> {
    if client.is_public() {
        return Err(TokenError::InvalidClient);
    }
    let issuer = state.settings.public_url.as_str();
    #[derive(sqlx::FromRow)]
    struct Refresh {
        client_id: String,
        user_id: Uuid,
        scopes: Vec<String>,
        created_at: OffsetDateTime,
        expires_at: OffsetDateTime,
        active: bool,
    }
    // Access tokens are JWTs; refresh tokens are random and have no dots.
    if token.contains('.') {
        return Ok(access_token_answer(
            active_access_token(state, token).await?,
        ));
    }
    let refresh: Option<Refresh> = sqlx::query_as(
        "SELECT client_id, user_id, scopes, created_at, expires_at,
                (used_at IS NULL AND revoked_at IS NULL AND expires_at > now()) AS active
         FROM refresh_tokens WHERE token_hash = $1",
    )
    .bind(token_hash(token))
    .fetch_optional(&state.db)
    .await?;
    if let Some(r) = refresh {
        if !r.active {
            return Ok(json!({ "active": false }));
        }
        // The subject as the token's app knows it (pairwise or not).
        let sub = match state.clients.get(&state.db, &r.client_id).await? {
            Some(owner) => subjects::subject(&state.subjects, &owner, r.user_id),
            None => return Ok(json!({ "active": false })),
        };
        return Ok(json!({
            "active": true,
            "token_type": "refresh_token",
            "scope": r.scopes.join(" "),
            "client_id": r.client_id,
            "sub": sub,
            "iss": issuer,
            "iat": r.created_at.unix_timestamp(),
            "exp": r.expires_at.unix_timestamp(),
        }));
    }
    Ok(json!({ "active": false }))
}

/// The introspection answer for an access token's claims (if it is active).
fn access_token_answer(claims: Option<Value>) -> Value {
    match claims {
        Some(claims) => {
            let mut answer = json!({
                "active": true,
                "token_type": "Bearer",
                "scope": claims["scope"],
                "client_id": claims["client_id"],
                "sub": claims["sub"],
                "aud": claims["aud"],
                "iss": claims["iss"],
                "iat": claims["iat"],
                "exp": claims["exp"],
                "jti": claims["jti"],
            });
            if let Some(cnf) = claims.get("cnf") {
                answer["cnf"] = cnf.clone();
            }
            answer
        }
        None => json!({ "active": false }),
    }
}

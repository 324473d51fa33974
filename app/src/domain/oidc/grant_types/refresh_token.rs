//! grant_type=refresh_token (RFC 6749 §6): the token is rotated on every use, within its
//! family's absolute lifetime; an already used one coming back ends its whole grant
//! (RFC 9700 §4.14.2), refresh and access tokens alike.

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::TokenForm;
use crate::{
    domain::{
        measures::{self, TokenGrant},
        oidc::{
            clients::Client,
            error::TokenError,
            grant_revocation::{self, Grants},
            issue::{issue, Grant},
        },
        tokens::{random_token, token_hash},
    },
    state::AppState,
};

/// The token response for a refresh token, with its successor.
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
        family_id: Uuid,
        user_id: Uuid,
        scopes: Vec<String>,
        auth_time: OffsetDateTime,
        sid: Option<String>,
        amr: Vec<String>,
        acr: Option<String>,
    }
    // One statement marks the token used, when it may be used (this client's, unused,
    // unrevoked, unexpired, its family too, the scopes asked for within its own, the same DPoP
    // key), and stores its successor, which ends no later than the family. Concurrent uses
    // queue on the row, and only the first finds it unused.
    let hash = token_hash(presented);
    let successor = random_token();
    let row: Option<Rotated> = sqlx::query_as(
        "WITH rotated AS (
             UPDATE refresh_tokens SET used_at = now()
             WHERE token_hash = $1 AND client_id = $2 AND used_at IS NULL
               AND revoked_at IS NULL AND expires_at > now() AND family_expires_at > now()
               AND ($3::text[] IS NULL OR $3::text[] <@ scopes)
               AND (dpop_jkt IS NULL OR dpop_jkt = $4)
             RETURNING family_id, client_id, user_id, scopes, auth_time, sid, family_expires_at,
                       amr, acr
         ), successor AS (
             INSERT INTO refresh_tokens
               (token_hash, family_id, client_id, user_id, scopes, auth_time, expires_at,
                family_expires_at, sid, dpop_jkt, amr, acr)
             SELECT $5, family_id, client_id, user_id, COALESCE($3::text[], scopes), auth_time,
                    LEAST(now() + make_interval(secs => $6), family_expires_at),
                    family_expires_at, sid, $4, amr, acr
             FROM rotated
         )
         SELECT family_id, user_id, scopes, auth_time, sid, amr, acr FROM rotated",
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
        return Err(refused(state, client, &hash, jkt).await?);
    };
    let scopes = asked.unwrap_or(row.scopes);
    let grant = Grant {
        id: row.family_id,
        user_id: row.user_id,
        scopes,
        auth_time: row.auth_time,
        nonce: None,
        sid: row.sid,
        amr: row.amr,
        acr: row.acr,
    };
    let response = issue(state, client, &grant, Some(successor), jkt).await?;
    measures::token_issued(TokenGrant::RefreshToken);
    Ok(response)
}

/// Why the refresh token hashing to `hash` could not be used by `client`; an already used one
/// ends its grant (RFC 9700 §4.14.2).
async fn refused(
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
                revoked_at IS NOT NULL AS revoked,
                expires_at <= now() OR family_expires_at <= now() AS expired, dpop_jkt
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
        let mut conn = state.db.acquire().await?;
        let ended = grant_revocation::revoke(&mut conn, Grants::Family(row.family_id)).await?;
        ended.remember(&state.revoked);
        tracing::warn!(client = %client.id, "refresh token reuse: its grant is revoked");
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

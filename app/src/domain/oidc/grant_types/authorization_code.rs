//! grant_type=authorization_code (RFC 6749 §4.1.3) with PKCE S256 (RFC 7636): the code is used
//! up by any presentation, bound to its client, redirect URI and challenge, and to a DPoP key
//! when the request named one (RFC 9449 §10); the exchange starts a grant whose id its tokens
//! carry. A code presented twice may have been stolen: the grant it started ends (RFC 6749
//! §4.1.2), every refresh and access token of it.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::TokenForm;
use crate::{
    domain::{
        measures,
        oidc::{
            clients::Client,
            error::TokenError,
            grant_revocation::{self, Grants},
            issue::{issue, wants_refresh, Grant},
        },
        tokens::{random_token, same_secret, token_hash},
    },
    state::AppState,
};

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
    s256_challenge(verifier).is_some_and(|hashed| same_secret(&hashed, challenge))
}

/// The token response for a code.
pub async fn exchange(
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
        amr: Vec<String>,
        acr: Option<String>,
        dpop_jkt: Option<String>,
        expired: bool,
        refresh_stored: bool,
    }
    // One statement uses the code up and names the grant it starts: any attempt uses it, so a
    // code cannot be probed for its verifier. Concurrent attempts queue on the row, and only the
    // first finds it unused. When the code is this client's, unexpired, for this redirect_uri,
    // verifier and (if bound) proven key, and a refresh token is due, the same statement stores
    // the first refresh token of the grant's family, which ends at the family's absolute
    // lifetime however often it rotates. The checks below are the ones that decide, and name
    // what was wrong.
    let hash = token_hash(code);
    let refresh = random_token();
    let grant_id = Uuid::new_v4();
    let presented_challenge = form
        .code_verifier
        .as_deref()
        .map(|v| s256_challenge(v).unwrap_or_default());
    let row: Option<Code> = sqlx::query_as(
        "WITH used AS (
             UPDATE authorization_codes SET used_at = now(), grant_id = $6
             WHERE code_hash = $1 AND used_at IS NULL
             RETURNING client_id, user_id, redirect_uri, scopes, nonce, code_challenge,
                       auth_time, sid, amr, acr, dpop_jkt, expires_at <= now() AS expired
         ), fresh AS (
             INSERT INTO refresh_tokens
               (token_hash, family_id, client_id, user_id, scopes, auth_time, code_hash,
                expires_at, family_expires_at, sid, dpop_jkt, amr, acr)
             SELECT $5, $6, client_id, user_id, scopes, auth_time, $1,
                    LEAST(now() + make_interval(secs => $7), now() + make_interval(secs => $10)),
                    now() + make_interval(secs => $10), sid, $8, amr, acr
             FROM used
             WHERE $9 AND 'offline_access' = ANY (scopes) AND NOT expired
               AND client_id = $2 AND redirect_uri = $3
               AND code_challenge IS NOT DISTINCT FROM $4
               AND (dpop_jkt IS NULL OR dpop_jkt = $8)
             RETURNING 1
         )
         SELECT used.*, EXISTS (SELECT 1 FROM fresh) AS refresh_stored FROM used",
    )
    .bind(&hash)
    .bind(&client.id)
    .bind(form.redirect_uri.as_deref())
    .bind(presented_challenge)
    .bind(token_hash(&refresh))
    .bind(grant_id)
    .bind(f64::from(client.refresh_token_ttl_secs))
    .bind(jkt)
    .bind(client.allows_grant("refresh_token"))
    .bind(state.settings.refresh_family_lifetime.as_seconds_f64())
    .fetch_optional(&state.db)
    .await?;
    let Some(row) = row else {
        return Err(refused(state, &hash).await?);
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
        // Only a legacy client registered without PKCE gets a code without a challenge.
        (None, None) => {}
        (Some(_), None) => return Err(TokenError::InvalidGrant("code_verifier is missing.")),
        _ => {
            return Err(TokenError::InvalidGrant(
                "The PKCE code_verifier does not match.",
            ))
        }
    }
    // A code bound to a key is exchanged only with a proof of that key (RFC 9449 §10).
    if row.dpop_jkt.is_some() && row.dpop_jkt.as_deref() != jkt {
        return Err(TokenError::InvalidGrant(
            "The DPoP key does not match the one the authorization request was bound to.",
        ));
    }

    let grant = Grant {
        id: grant_id,
        user_id: row.user_id,
        scopes: row.scopes,
        auth_time: row.auth_time,
        nonce: row.nonce,
        sid: row.sid,
        amr: row.amr,
        acr: row.acr,
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
    let response = issue(state, client, &grant, refresh, jkt).await?;
    measures::token_issued(measures::TokenGrant::AuthorizationCode);
    Ok(response)
}

/// Why the code hashing to `hash` could not be used: unknown, or already used, which ends the
/// grant it started.
async fn refused(state: &AppState, hash: &[u8]) -> Result<TokenError, TokenError> {
    let known: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM authorization_codes WHERE code_hash = $1)",
    )
    .bind(hash)
    .fetch_one(&state.db)
    .await?;
    if !known {
        return Ok(TokenError::InvalidGrant("The code is not valid."));
    }
    let mut conn = state.db.acquire().await?;
    let ended = grant_revocation::revoke(&mut conn, Grants::OfCode(hash)).await?;
    ended.remember(&state.revoked);
    tracing::warn!("an authorization code came back: its grant is revoked");
    Ok(TokenError::InvalidGrant(
        "The code was already used; what it granted is revoked.",
    ))
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
}

//! Userinfo (OpenID Connect Core §5.3) and the claims about a person that ID tokens carry: which
//! claims each scope releases, and who an access token presented at userinfo is about, when it
//! is valid (signed by this provider, unexpired, unrevoked, its grant unrevoked), presented by
//! the right scheme (`Bearer`, or `DPoP` with a proof of its key and, unless the business
//! turned nonces off, the server's nonce, RFC 9449 §7, §9) and holds `openid`. With the `roles`
//! scope, the person's roles and permissions for the token's app, read on each request.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{dpop, error::TokenError, person_cache::Person, subjects};
use crate::{
    domain::{directory::roles, postal_address, settings},
    state::AppState,
};

/// A userinfo request as it arrived.
#[derive(Debug, Clone)]
pub struct UserinfoRequest<'a> {
    pub method: &'a str,
    /// The `Authorization` header, if any.
    pub authorization: Option<&'a str>,
    /// The one `DPoP` header (`Err` when several were sent).
    pub dpop_proof: Result<Option<&'a str>, ()>,
    /// The `access_token` of a form body (POST), if any.
    pub form_token: Option<String>,
}

/// Why userinfo refused (RFC 6750 §3, RFC 9449 §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserinfoError {
    /// No token at all: a challenge without an error.
    NoToken,
    /// The token (or its proof) is refused with `error`, challenged by `scheme`.
    Refused {
        scheme: &'static str,
        error: &'static str,
    },
    /// The DPoP proof lacks the server's current nonce (RFC 9449 §9): challenged with
    /// `use_dpop_nonce` and this description, and answered with a fresh nonce.
    UseDpopNonce(&'static str),
    Server,
    /// The database cannot serve right now: 503 with `Retry-After`.
    Unavailable,
}

impl From<sqlx::Error> for UserinfoError {
    fn from(e: sqlx::Error) -> Self {
        TokenError::from(e).into()
    }
}

impl From<TokenError> for UserinfoError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Unavailable => Self::Unavailable,
            _ => Self::Server,
        }
    }
}

/// The claims the access token of `request` gives access to.
pub async fn userinfo(
    state: &AppState,
    request: UserinfoRequest<'_>,
) -> Result<Map<String, Value>, UserinfoError> {
    // `DPoP <token>` for a token bound to a key (RFC 9449 §7.1), `Bearer <token>` otherwise.
    let (scheme, from_header) = match request.authorization {
        Some(v) if v.starts_with("DPoP ") => ("DPoP", Some(v[5..].to_owned())),
        Some(v) if v.starts_with("Bearer ") => ("Bearer", Some(v[7..].to_owned())),
        _ => ("Bearer", None),
    };
    let refused = |error| UserinfoError::Refused { scheme, error };
    let token = from_header
        .or(request.form_token)
        .ok_or(UserinfoError::NoToken)?;
    // The signature here; revocation and the person below (from memory while notices arrive).
    let claims = state
        .keys
        .verify_access_token(&token, &state.settings.public_url)
        .ok_or(refused("invalid_token"))?;
    let ids = token_ids(&claims).ok_or(refused("invalid_token"))?;
    // A DPoP-bound token needs the DPoP scheme and a proof with its key; a bearer token the
    // Bearer scheme.
    match (claims["cnf"]["jkt"].as_str(), scheme) {
        (None, "Bearer") => {}
        (Some(jkt), "DPoP") => {
            let Ok(Some(proof)) = request.dpop_proof else {
                return Err(refused("invalid_dpop_proof"));
            };
            let url = format!("{}/oauth2/userinfo", state.settings.public_url);
            let nonces = settings::current(state)
                .await?
                .dpop_nonce_required
                .then_some(&state.dpop_nonces);
            match dpop::check(&state.db, proof, request.method, &url, Some(&token), nonces).await? {
                Ok(proven) if proven == jkt => {}
                Err(refusal) if refusal.wants_nonce() => {
                    return Err(UserinfoError::UseDpopNonce(refusal.description))
                }
                _ => return Err(refused(dpop::INVALID_PROOF)),
            }
        }
        _ => return Err(refused("invalid_token")),
    }
    let scopes: Vec<String> = claims["scope"]
        .as_str()
        .unwrap_or_default()
        .split(' ')
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(refused("insufficient_scope"));
    }
    let (Some(sub), Some(client_id)) = (claims["sub"].as_str(), claims["client_id"].as_str())
    else {
        return Err(refused("invalid_token"));
    };
    let user_id = match sub.parse() {
        Ok(user_id) => Some(user_id),
        // A pairwise subject: the app's sector says whose it is.
        Err(_) => match state.clients.get(&state.db, client_id).await? {
            Some(client) => subjects::account(&state.db, &client, sub).await?,
            None => None,
        },
    };
    let user_id = user_id.ok_or(refused("invalid_token"))?;
    let mut claims = person_claims(state, user_id, sub, &scopes, &ids)
        .await?
        .ok_or(refused("invalid_token"))?;
    // The postal address only ever travels to userinfo, never in an ID token (which apps keep
    // and pass around), and is read fresh on each request.
    if scopes.iter().any(|s| s == postal_address::SCOPE) {
        if let Some(address) = postal_address::read(&state.db, user_id).await? {
            claims.insert("address".into(), postal_address::claim(&address));
        }
    }
    // The app's own roles only: the token's client, read fresh (a revoked role is gone now).
    if roles::asked(&scopes) {
        roles::for_person(&state.db, client_id, user_id)
            .await?
            .add_claims(&mut claims);
    }
    Ok(claims)
}

/// The ids an access token is revoked by: its `jti`, and its grant's `gid` when it has one.
pub fn token_ids(claims: &Value) -> Option<Vec<Uuid>> {
    let jti = claims["jti"].as_str()?.parse().ok()?;
    let mut ids = vec![jti];
    if let Some(gid) = claims.get("gid") {
        ids.push(gid.as_str()?.parse().ok()?);
    }
    Some(ids)
}

/// The claims about `user_id` (known to the app as `sub`) that `scopes` allow, for ID tokens;
/// `None` when the account is gone.
pub async fn claims(
    state: &AppState,
    user_id: Uuid,
    sub: &str,
    scopes: &[String],
) -> Result<Option<Map<String, Value>>, TokenError> {
    Ok(person_claims(state, user_id, sub, scopes, &[]).await?)
}

/// The claims about `user_id` (known to the app as `sub`) that `scopes` allow, or `None` when
/// the account is gone or one of `revoked_by` (the access token's ids) was revoked. While this
/// node receives change notices, both come from memory (read once on a miss); otherwise one
/// query.
async fn person_claims(
    state: &AppState,
    user_id: Uuid,
    sub: &str,
    scopes: &[String],
    revoked_by: &[Uuid],
) -> sqlx::Result<Option<Map<String, Value>>> {
    let person = if state.people.is_listening() && state.revoked.is_complete() {
        if !revoked_by.is_empty() && state.revoked.contains_any(&state.db, revoked_by).await? {
            return Ok(None);
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
                    EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = ANY($2)) AS revoked
             FROM users WHERE id = $1",
        )
        .bind(user_id)
        .bind(revoked_by)
        .fetch_optional(&state.db)
        .await?;
        row.filter(|r| !r.revoked).map(|r| Arc::new(r.person))
    };
    let Some(person) = person else {
        return Ok(None);
    };
    let mut claims = claims_of(&person, sub, scopes);
    if scopes.iter().any(|s| s == CONSENTS_SCOPE) {
        let consents = crate::domain::consents::ledger::claim(&state.db, user_id).await?;
        claims.insert(CONSENTS_SCOPE.into(), consents);
    }
    Ok(Some(claims))
}

/// The scope (and claim) that gives an app the person's current consent choices (read from
/// the ledger on every request, never from the per-node copy).
pub const CONSENTS_SCOPE: &str = "consents";

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

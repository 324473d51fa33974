//! grant_type=client_credentials (RFC 6749 §4.4), for service clients: an access token about the
//! client itself, for scopes it was given. Nothing is written to the database.

use serde_json::{json, Value};

use super::TokenForm;
use crate::{
    domain::{
        measures::{self, TokenGrant},
        oidc::{
            clients::Client,
            error::TokenError,
            issue::{access_token, token_type},
        },
    },
    state::AppState,
};

/// The token response for `client`'s own access.
pub fn grant(
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
    measures::token_issued(TokenGrant::ClientCredentials);
    Ok(json!({
        "access_token": access,
        "token_type": token_type(jkt),
        "expires_in": ttl,
        "scope": scope,
    }))
}

//! Client authentication at the app-facing endpoints (token, PAR, revocation, introspection):
//! `client_secret_basic`, `client_secret_post`, `private_key_jwt` (RFC 7523 §2.2) or none for a
//! public client (RFC 6749 §2.3). Exactly one method may be used. This is the one path every
//! endpoint, and every test, authenticates clients through.

use std::sync::Arc;

use serde::Deserialize;

use super::{assertion, clients::Client, error::TokenError};
use crate::state::AppState;

/// The client authentication fields of a form posted to an app-facing endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClientAuthForm {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

/// The client a request authenticates as: `basic` is the `Authorization: Basic` pair, if sent.
pub async fn authenticate(
    state: &AppState,
    basic: Option<(String, String)>,
    form: &ClientAuthForm,
) -> Result<Arc<Client>, TokenError> {
    if form.client_assertion.is_some() || form.client_assertion_type.is_some() {
        if basic.is_some() || form.client_secret.is_some() {
            return Err(TokenError::InvalidRequest(
                "Use one client authentication method.",
            ));
        }
        return by_assertion(state, form).await;
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
async fn by_assertion(state: &AppState, form: &ClientAuthForm) -> Result<Arc<Client>, TokenError> {
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

//! The token endpoint (RFC 6749 §3.2): client authentication, the DPoP proof it may carry
//! (RFC 9449), and the dispatch on `grant_type` to the grant types (one file each in
//! `grant_types/`, which answer with what `issue` makes).

use serde_json::Value;

use super::{
    client_auth::{self, ClientAuthForm},
    clients::Client,
    dpop,
    grant_types::{authorization_code, client_credentials, refresh_token},
};
pub use super::{error::TokenError, grant_types::TokenForm};
use crate::state::AppState;

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

//! The token endpoint (RFC 6749 §3.2): the DPoP proof it may carry (RFC 9449, with the
//! server's nonce unless the business turned nonces off), client authentication, and the
//! dispatch on `grant_type` to the grant types (one file each in `grant_types/`, which answer
//! with what `issue` makes).
//!
//! The proof is checked before the client authenticates and before any code or refresh token
//! is looked at, so a proof refused for its nonce (`use_dpop_nonce`, §8) uses up nothing: not
//! the proof's `jti`, not a client assertion's `jti`, not the code. The client retries the same
//! request with a fresh proof carrying the nonce the answer's `DPoP-Nonce` header gave it.

use serde_json::Value;

use super::{
    client_auth::{self, ClientAuthForm},
    dpop,
    grant_types::{authorization_code, client_credentials, refresh_token},
};
pub use super::{error::TokenError, grant_types::TokenForm};
use crate::{domain::settings, state::AppState};

/// The thumbprint of the key a DPoP proof at the token endpoint proves; a bad proof is refused
/// with `invalid_dpop_proof`, one without the server's current nonce (when nonces are
/// required) with `use_dpop_nonce` (RFC 9449 §8).
async fn proven_key(state: &AppState, proof: &str) -> Result<String, TokenError> {
    let nonces = settings::current(state)
        .await?
        .dpop_nonce_required
        .then_some(&state.dpop_nonces);
    let url = format!("{}/oauth2/token", state.settings.public_url);
    match dpop::check(&state.db, proof, "POST", &url, None, nonces).await? {
        Ok(jkt) => Ok(jkt),
        Err(dpop::Refusal { error, description }) => {
            Err(TokenError::Refused { error, description })
        }
    }
}

/// Whether `error` asks the client to retry with the server's nonce (RFC 9449 §8): the answer
/// then carries a fresh one in `DPoP-Nonce`.
pub fn wants_dpop_nonce(error: &TokenError) -> bool {
    matches!(error, TokenError::Refused { error: code, .. } if *code == dpop::USE_NONCE)
}

/// The token endpoint: checks the DPoP proof, if any, authenticates the client and
/// dispatches on `grant_type`.
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
    let jkt = match dpop_proof {
        Some(proof) => Some(proven_key(state, proof).await?),
        None => None,
    };
    let client = client_auth::authenticate(state, basic, auth).await?;
    if jkt.is_none() && client.require_dpop {
        return Err(TokenError::Refused {
            error: dpop::INVALID_PROOF,
            description: "This app must send a DPoP proof.",
        });
    }
    let jkt = jkt.as_deref();
    match grant {
        "authorization_code" => authorization_code::exchange(state, &client, form, jkt).await,
        "refresh_token" => refresh_token::refresh(state, &client, form, jkt).await,
        "client_credentials" => client_credentials::grant(state, &client, form, jkt),
        _ => Err(TokenError::UnsupportedGrantType),
    }
}

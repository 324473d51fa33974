//! Discovery (OpenID Connect Discovery 1.0 §3, RFC 8414): the document listing exactly what is
//! implemented, serialised once at start.

use app::domain::oidc::{assertion, dpop};
use serde_json::json;

/// The discovery document of `issuer`.
pub fn discovery_document(issuer: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
        "token_endpoint": format!("{issuer}/oauth2/token"),
        "userinfo_endpoint": format!("{issuer}/oauth2/userinfo"),
        "end_session_endpoint": format!("{issuer}/oauth2/logout"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "ui_locales_supported": app::domain::preferences::spoken().collect::<Vec<_>>(),
        "scopes_supported": ["openid", "profile", "email", "phone", "address", "consents", "roles", "offline_access"],
        "revocation_endpoint": format!("{issuer}/oauth2/revoke"),
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "revocation_endpoint_auth_signing_alg_values_supported": assertion::ALGORITHMS,
        "introspection_endpoint": format!("{issuer}/oauth2/introspect"),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "introspection_endpoint_auth_signing_alg_values_supported": assertion::ALGORITHMS,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": assertion::ALGORITHMS,
        "code_challenge_methods_supported": ["S256"],
        "dpop_signing_alg_values_supported": dpop::ALGORITHMS,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "name", "email",
            "email_verified", "phone_number", "phone_number_verified", "address", "consents", "roles",
            "permissions", "sid", "amr", "acr"
        ],
        "acr_values_supported": app::domain::assurance::ACR_LEVELS,
        "authorization_response_iss_parameter_supported": true,
        "pushed_authorization_request_endpoint": format!("{issuer}/oauth2/par"),
        "require_pushed_authorization_requests": false,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": true,
        "frontchannel_logout_session_supported": true,
        "request_parameter_supported": true,
        "request_object_signing_alg_values_supported": assertion::ALGORITHMS,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false
    }))
    .expect("JSON values serialise")
}

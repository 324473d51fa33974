//! The authorization endpoint's checks (RFC 6749 §4.1.1, RFC 7636, OpenID Connect Core
//! §3.1.2): the client, the exact redirect URI, the response mode, PKCE for every app, the DPoP
//! key binding (RFC 9449 §10), prompt, max_age and the hints. How the app is answered at its
//! redirect URI is `answer`'s; what happens to a checked request while the person signs in or
//! consents is `pending_requests`'.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{
    answer::{response_mode, ResponseMode},
    clients::{self, Client, ClientType},
    subjects,
};
use crate::{
    domain::{error::AccountError, tokens::random_token},
    model::oauth::AuthorizeProblem,
    state::AppState,
};

/// How long an authorization code lives.
pub const CODE_LIFETIME_SECS: i64 = 60;

/// The query of `/oauth2/authorize` (or the form pushed to `/oauth2/par`). Parameters not
/// listed are ignored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    /// The assurance levels the app asks for, most wanted first (OpenID Connect Core §3.1.2.1).
    pub acr_values: Option<String>,
    /// An ID token this provider issued: the person the app expects to be signed in.
    pub id_token_hint: Option<String>,
    /// The sign-in the app suggests (an email address), filled in on the sign-in page.
    pub login_hint: Option<String>,
    /// The languages the app would like the pages in, most wanted first (OpenID Connect Core
    /// §3.1.2.1); the person's own setting wins over it.
    pub ui_locales: Option<String>,
    /// A pushed request's reference (RFC 9126), instead of the parameters above.
    pub request_uri: Option<String>,
    /// A request object (RFC 9101): the whole request as a JWT the app signed.
    pub request: Option<String>,
    /// How the answer travels back: `query` (the default) or `form_post` (OAuth 2.0 Form Post
    /// Response Mode).
    pub response_mode: Option<String>,
    /// The thumbprint of the DPoP key the code is bound to (RFC 9449 §10).
    pub dpop_jkt: Option<String>,
}

/// A checked request, kept in the session under its own id until it ends.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthRequest {
    /// Which of the browser's pending requests this is: the consent form and the continuation
    /// carry it, so an answer can only ever be about the request whose screen was shown.
    #[serde(default)]
    pub id: String,
    pub client_id: String,
    pub client_name: String,
    pub first_party: bool,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub max_age: Option<i64>,
    /// `prompt=login`: a sign-in after the request arrived is needed. Signing in gives the
    /// session a new id, so the id the request arrived in marks the sign-in that is too old.
    pub force_login: bool,
    pub login_session: Option<String>,
    /// `prompt=consent`: ask even when a grant covers the scopes.
    pub force_consent: bool,
    /// `prompt=none`: never show a page; answer with an error instead.
    pub silent: bool,
    /// The person refused on the consent screen.
    #[serde(default)]
    pub denied: bool,
    /// The `sub` of the `id_token_hint`: a different person signed in must sign in again.
    #[serde(default)]
    pub hint_sub: Option<String>,
    #[serde(default)]
    pub login_hint: Option<String>,
    /// `acr_values`: the levels the app asked for.
    #[serde(default)]
    pub acr_values: Vec<String>,
    /// The app is registered to require multi-factor sign-in.
    #[serde(default)]
    pub require_mfa: bool,
    /// `ui_locales`: the languages the app asked the pages to be in.
    #[serde(default)]
    pub ui_locales: Option<String>,
    /// How the answer travels back to the app.
    #[serde(default)]
    pub response_mode: ResponseMode,
    /// `dpop_jkt`: only a proof of this key exchanges the code (RFC 9449 §10).
    #[serde(default)]
    pub dpop_jkt: Option<String>,
    pub created_at: i64,
}

/// Why a request was refused before anything happened.
#[derive(Debug, Clone)]
pub enum Refusal {
    /// The app or its redirect URI cannot be trusted: our own error page, never a redirect.
    Untrusted(AuthorizeProblem),
    /// An error (RFC 6749 §4.1.2.1) for the app, at its registered redirect URI.
    ToApp {
        req: Box<AuthRequest>,
        error: &'static str,
        description: &'static str,
    },
}

impl Refusal {
    fn to_app(req: AuthRequest, error: &'static str, description: &'static str) -> Self {
        Self::ToApp {
            req: Box::new(req),
            error,
            description,
        }
    }
}

/// base64url (unpadded) of a SHA-256, 43 characters: the shape of a PKCE S256 challenge and of
/// a JWK SHA-256 thumbprint.
fn base64url_sha256(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks an authorization request (from the browser or pushed by the app) against its
/// client, without looking at any session.
pub async fn check(
    state: &AppState,
    params: &AuthorizeParams,
    pushed: bool,
) -> Result<Result<AuthRequest, Refusal>, AccountError> {
    let issuer = state.settings.public_url.as_str();
    let Some(client_id) = params.client_id.as_deref().filter(|c| !c.is_empty()) else {
        return Ok(Err(Refusal::Untrusted(AuthorizeProblem::NoClient)));
    };
    let client: Option<Client> = clients::find(&state.db, client_id).await?;
    let Some(client) = client.filter(|c| c.allows_grant("authorization_code")) else {
        return Ok(Err(Refusal::Untrusted(AuthorizeProblem::UnknownClient)));
    };
    let Some(redirect_uri) = params
        .redirect_uri
        .as_deref()
        .filter(|uri| client.redirect_uris.iter().any(|r| r == uri))
    else {
        return Ok(Err(Refusal::Untrusted(AuthorizeProblem::BadRedirectUri)));
    };
    let mode = response_mode(params.response_mode.as_deref(), redirect_uri);
    let prompts: BTreeSet<&str> = params
        .prompt
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .filter(|p| !p.is_empty())
        .collect();
    let mut req = AuthRequest {
        id: random_token()[..22].to_owned(),
        client_id: client.id.clone(),
        client_name: client.name.clone(),
        first_party: client.first_party,
        redirect_uri: redirect_uri.to_owned(),
        scopes: Vec::new(),
        state: params.state.clone(),
        nonce: params.nonce.clone(),
        code_challenge: params.code_challenge.clone(),
        max_age: None,
        // One account per browser session: choosing an account is signing in again.
        force_login: prompts.contains("login") || prompts.contains("select_account"),
        login_session: None,
        force_consent: prompts.contains("consent"),
        silent: prompts.contains("none"),
        denied: false,
        hint_sub: None,
        login_hint: params
            .login_hint
            .as_deref()
            .filter(|h| !h.is_empty() && h.len() <= 320)
            .map(str::to_owned),
        ui_locales: params
            .ui_locales
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty() && l.len() <= 200)
            .map(str::to_owned),
        acr_values: params
            .acr_values
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .filter(|v| !v.is_empty() && v.len() <= 200)
            .take(8)
            .map(str::to_owned)
            .collect(),
        require_mfa: client.require_mfa,
        // An unknown mode is refused below, in the query (the mode every app understands).
        response_mode: mode.unwrap_or_default(),
        dpop_jkt: params.dpop_jkt.clone(),
        created_at: OffsetDateTime::now_utc().unix_timestamp(),
    };
    if let Err(description) = mode {
        return Ok(Err(Refusal::to_app(req, "invalid_request", description)));
    }
    if params.response_type.as_deref() != Some("code") {
        return Ok(Err(Refusal::to_app(
            req,
            "unsupported_response_type",
            "Only response_type=code is supported.",
        )));
    }
    if client.require_par && !pushed {
        return Ok(Err(Refusal::to_app(
            req,
            "invalid_request",
            "This app must push its authorization requests (RFC 9126).",
        )));
    }
    if req.silent && prompts.len() > 1 {
        return Ok(Err(Refusal::to_app(
            req,
            "invalid_request",
            "prompt=none cannot be combined with other prompts.",
        )));
    }
    // PKCE for every app (RFC 9700 §2.1.1); only a legacy confidential app registered without
    // it may leave it out, and then it must send a nonce.
    let legacy = client.client_type == ClientType::Confidential
        && !client.pkce_required
        && params.nonce.as_deref().is_some_and(|n| !n.is_empty());
    match (
        params.code_challenge_method.as_deref(),
        &params.code_challenge,
    ) {
        (Some("S256"), Some(c)) if base64url_sha256(c) => {}
        (None, None) if legacy => {}
        (Some("plain") | None, Some(_)) => {
            return Ok(Err(Refusal::to_app(
                req,
                "invalid_request",
                "PKCE must use code_challenge_method=S256.",
            )))
        }
        (None, None) => {
            return Ok(Err(Refusal::to_app(
                req,
                "invalid_request",
                "This app must use PKCE (code_challenge with S256).",
            )))
        }
        _ => {
            return Ok(Err(Refusal::to_app(
                req,
                "invalid_request",
                "The PKCE code_challenge is malformed or its method unknown.",
            )))
        }
    }
    if req
        .dpop_jkt
        .as_deref()
        .is_some_and(|jkt| !base64url_sha256(jkt))
    {
        return Ok(Err(Refusal::to_app(
            req,
            "invalid_request",
            "dpop_jkt must be the base64url SHA-256 thumbprint of a JWK (RFC 9449 §10).",
        )));
    }
    if let Some(hint) = &params.id_token_hint {
        // Only an ID token this provider signed (so never an unsigned or `alg: none` one).
        match state.keys.verify_id_token_hint(hint, issuer) {
            Some(claims) => {
                // The hint's `sub` is as its app (its audience) sees the person.
                let sub = claims["sub"].as_str().unwrap_or_default();
                let hinted_app = match claims["aud"].as_str() {
                    Some(aud) if aud != client.id => clients::find(&state.db, aud).await?,
                    _ => Some(client.clone()),
                };
                let account = match &hinted_app {
                    Some(app) => subjects::account(&state.db, app, sub).await?,
                    None => None,
                };
                // An unknown subject never matches an account id, so it asks for a sign-in.
                req.hint_sub = Some(account.map_or_else(|| sub.to_owned(), |a| a.to_string()));
            }
            None => {
                return Ok(Err(Refusal::to_app(
                    req,
                    "invalid_request",
                    "id_token_hint is not an ID token this provider issued.",
                )))
            }
        }
    }
    if let Some(max_age) = &params.max_age {
        match max_age.parse::<i64>() {
            Ok(v) if v >= 0 => req.max_age = Some(v),
            _ => {
                return Ok(Err(Refusal::to_app(
                    req,
                    "invalid_request",
                    "max_age must be a whole number of seconds.",
                )))
            }
        }
    }
    // Scopes the app may not have are dropped (RFC 6749 §3.3); the token response says which
    // were granted.
    req.scopes = params
        .scope
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .filter(|s| client.scopes.iter().any(|c| c == s))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(str::to_owned)
        .collect();
    Ok(Ok(req))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sha256_shaped_values_pass() {
        assert!(base64url_sha256(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!base64url_sha256("short"));
        assert!(!base64url_sha256(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"
        ));
    }
}

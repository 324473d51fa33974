//! The authorization endpoint's logic: checks a request (client, exact redirect URI, PKCE,
//! prompt, max_age), keeps it in the browser's session while the person signs in or consents,
//! and ends it with a single-use, 60-second authorization code or an error for the app.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use tower_sessions::Session;
use url::Url;
use uuid::Uuid;

use super::{
    clients::{self, Client},
    par, session_apps, subjects,
};
use crate::{
    api::oauth::AuthorizeProblem,
    domain::{
        audit::{self, AuditEvent, Outcome},
        client::ClientInfo,
        error::AccountError,
        sessions,
        tokens::{random_token, token_hash},
    },
    state::AppState,
};

/// The session key of the request waiting for sign-in or consent.
pub const REQUEST_KEY: &str = "oauth_request";
/// How long an authorization code lives.
pub const CODE_LIFETIME_SECS: i64 = 60;
/// How long a person may take to sign in and consent.
const REQUEST_LIFETIME_SECS: i64 = 1800;

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
    /// An ID token this provider issued: the person the app expects to be signed in.
    pub id_token_hint: Option<String>,
    /// The sign-in the app suggests (an email address), filled in on the sign-in page.
    pub login_hint: Option<String>,
    /// A pushed request's reference (RFC 9126), instead of the parameters above.
    pub request_uri: Option<String>,
}

/// A checked request, kept in the session until it ends.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthRequest {
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
    pub created_at: i64,
}

/// Where the browser goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// The request cannot be trusted to redirect (unknown client, unregistered redirect URI):
    /// say why on our own page.
    ErrorPage(AuthorizeProblem),
    /// Back to the app: the code, or an error, in the redirect URI's query.
    Redirect(String),
    /// The person must sign in first (the app's `login_hint`, if any, fills in the form).
    SignIn(Option<String>),
    /// The person must approve the app.
    Consent,
    /// Back through our continuation page (after a form on our site), which goes on with the
    /// request.
    Continue,
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

/// An error for the app, sent to its redirect URI (RFC 6749 §4.1.2.1, with `iss` of RFC 9207).
fn redirect_error(issuer: &str, req: &AuthRequest, error: &str, description: &str) -> Next {
    Next::Redirect(answer(
        issuer,
        &req.redirect_uri,
        req.state.as_deref(),
        &[("error", error), ("error_description", description)],
    ))
}

/// The redirect URI with `pairs`, `state` and `iss` added to its query.
fn answer(issuer: &str, redirect_uri: &str, state: Option<&str>, pairs: &[(&str, &str)]) -> String {
    let mut url = Url::parse(redirect_uri).expect("registered redirect URIs are valid URLs");
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs {
            query.append_pair(k, v);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", issuer);
    }
    url.to_string()
}

/// A PKCE S256 challenge: base64url of a SHA-256, 43 characters.
fn valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
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
    let prompts: BTreeSet<&str> = params
        .prompt
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .filter(|p| !p.is_empty())
        .collect();
    let mut req = AuthRequest {
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
        created_at: OffsetDateTime::now_utc().unix_timestamp(),
    };
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
    match (
        params.code_challenge_method.as_deref(),
        &params.code_challenge,
    ) {
        (Some("S256"), Some(c)) if valid_challenge(c) => {}
        (None, None) if !client.is_public() => {}
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

/// Checks a new request (or takes the one the app pushed) and stores it in the session, then
/// goes on as [`proceed`] does.
pub async fn begin(
    state: &AppState,
    client_info: &ClientInfo,
    session: &Session,
    params: &AuthorizeParams,
) -> Result<Next, AccountError> {
    let issuer = state.settings.public_url.as_str();
    let (params, pushed) = match par::take(state, params).await? {
        None => (params.clone(), false),
        Some(Ok(pushed)) => (pushed, true),
        Some(Err(problem)) => return Ok(Next::ErrorPage(problem)),
    };
    let mut req = match check(state, &params, pushed).await? {
        Ok(req) => req,
        Err(Refusal::Untrusted(problem)) => return Ok(Next::ErrorPage(problem)),
        Err(Refusal::ToApp {
            req,
            error,
            description,
        }) => return Ok(redirect_error(issuer, &req, error, description)),
    };
    req.login_session = session.id().map(|id| id.to_string());
    session.insert(REQUEST_KEY, &req).await?;
    proceed(state, client_info, session).await
}

/// Goes on with the request in the session: sign-in, consent, or the code.
pub async fn proceed(
    state: &AppState,
    client_info: &ClientInfo,
    session: &Session,
) -> Result<Next, AccountError> {
    let issuer = state.settings.public_url.as_str();
    let Some(req) = session.get::<AuthRequest>(REQUEST_KEY).await? else {
        return Ok(Next::ErrorPage(AuthorizeProblem::NoRequest));
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    if now - req.created_at > REQUEST_LIFETIME_SECS {
        session.remove::<AuthRequest>(REQUEST_KEY).await?;
        return Ok(Next::ErrorPage(AuthorizeProblem::Expired));
    }
    let user = sessions::current_user(session).await?;
    let signed_in_at = sessions::signed_in_at(session).await?.unix_timestamp();
    let need_sign_in = match user {
        None => true,
        Some(_) => {
            (req.force_login
                && req.login_session.is_some()
                && session.id().map(|id| id.to_string()) == req.login_session)
                // A sign-in made after the request arrived satisfies any max_age (even 0, when
                // the answer comes a second later).
                || req
                    .max_age
                    .is_some_and(|max| now - signed_in_at > max && signed_in_at < req.created_at)
                || req
                    .hint_sub
                    .as_ref()
                    .is_some_and(|sub| user.map(|u| u.to_string()).as_ref() != Some(sub))
        }
    };
    if need_sign_in {
        if req.silent {
            session.remove::<AuthRequest>(REQUEST_KEY).await?;
            return Ok(redirect_error(
                issuer,
                &req,
                "login_required",
                "The person is not signed in.",
            ));
        }
        return Ok(Next::SignIn(req.login_hint.clone()));
    }
    let user_id = user.expect("signed in");
    if req.denied {
        session.remove::<AuthRequest>(REQUEST_KEY).await?;
        return Ok(redirect_error(
            issuer,
            &req,
            "access_denied",
            "The person did not approve the app.",
        ));
    }
    if !req.first_party {
        let granted: Option<Vec<String>> = sqlx::query_scalar(
            "SELECT scopes FROM oauth_grants WHERE user_id = $1 AND client_id = $2",
        )
        .bind(user_id)
        .bind(&req.client_id)
        .fetch_optional(&state.db)
        .await?;
        let covered = granted.is_some_and(|g| req.scopes.iter().all(|s| g.contains(s)));
        if !covered || req.force_consent {
            if req.silent {
                session.remove::<AuthRequest>(REQUEST_KEY).await?;
                return Ok(redirect_error(
                    issuer,
                    &req,
                    "consent_required",
                    "The person has not approved this app.",
                ));
            }
            return Ok(Next::Consent);
        }
    }
    let sid = sessions::sid(session).await?;
    let code = issue_code(state, client_info, &req, user_id, signed_in_at, &sid).await?;
    session.remove::<AuthRequest>(REQUEST_KEY).await?;
    Ok(Next::Redirect(answer(
        issuer,
        &req.redirect_uri,
        req.state.as_deref(),
        &[("code", &code)],
    )))
}

async fn issue_code(
    state: &AppState,
    client_info: &ClientInfo,
    req: &AuthRequest,
    user_id: Uuid,
    signed_in_at: i64,
    sid: &str,
) -> Result<String, AccountError> {
    let code = random_token();
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "INSERT INTO authorization_codes
           (code_hash, client_id, user_id, redirect_uri, scopes, nonce, code_challenge, auth_time,
            expires_at, sid)
         VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8), now() + make_interval(secs => $9),
                 $10)",
    )
    .bind(token_hash(&code))
    .bind(&req.client_id)
    .bind(user_id)
    .bind(&req.redirect_uri)
    .bind(&req.scopes)
    .bind(&req.nonce)
    .bind(&req.code_challenge)
    .bind(signed_in_at as f64)
    .bind(CODE_LIFETIME_SECS as f64)
    .bind(sid)
    .execute(&mut *tx)
    .await?;
    session_apps::record(&mut tx, sid, &req.client_id, user_id).await?;
    let event = AuditEvent::new("oauth.authorize", Outcome::Success)
        .by(user_id)
        .detail(json!({ "client": req.client_id, "scopes": req.scopes }));
    audit::record(&mut *tx, client_info, event).await?;
    tx.commit().await?;
    Ok(code)
}

/// The request waiting for consent, for the consent page.
pub async fn pending(session: &Session) -> Result<Option<AuthRequest>, AccountError> {
    Ok(session.get::<AuthRequest>(REQUEST_KEY).await?)
}

/// The person's answer on the consent page: approval is remembered (and revocable later);
/// refusal tells the app `access_denied`. Either way the request goes on through the
/// continuation page.
pub async fn answer_consent(
    state: &AppState,
    client_info: &ClientInfo,
    session: &Session,
    approve: bool,
) -> Result<Next, AccountError> {
    let Some(mut req) = pending(session).await? else {
        return proceed(state, client_info, session).await;
    };
    let Some(user_id) = sessions::current_user(session).await? else {
        return Ok(Next::SignIn(req.login_hint.clone()));
    };
    if !approve {
        let event = AuditEvent::new("oauth.consent", Outcome::Failure)
            .by(user_id)
            .detail(json!({ "client": req.client_id }));
        audit::record(&state.db, client_info, event).await?;
        req.denied = true;
        session.insert(REQUEST_KEY, &req).await?;
        return Ok(Next::Continue);
    }
    sqlx::query(
        "INSERT INTO oauth_grants (user_id, client_id, scopes) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, client_id) DO UPDATE SET
           scopes = ARRAY(SELECT DISTINCT unnest(oauth_grants.scopes || excluded.scopes)),
           updated_at = now()",
    )
    .bind(user_id)
    .bind(&req.client_id)
    .bind(&req.scopes)
    .execute(&state.db)
    .await?;
    let event = AuditEvent::new("oauth.consent", Outcome::Success)
        .by(user_id)
        .detail(json!({ "client": req.client_id, "scopes": req.scopes }));
    audit::record(&state.db, client_info, event).await?;
    req.force_consent = false;
    session.insert(REQUEST_KEY, &req).await?;
    Ok(Next::Continue)
}

/// Where a person who just signed in goes: back to an app's sign-in in progress, or the profile.
pub async fn landing(session: &Session) -> &'static str {
    match session.get::<serde_json::Value>(REQUEST_KEY).await {
        Ok(Some(_)) => "/oauth2/continue",
        _ => "/profile",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_keep_the_registered_query_and_add_state_and_issuer() {
        let url = answer(
            "https://id.example.com",
            "https://app.example/cb?tenant=7",
            Some("xyz"),
            &[("code", "abc")],
        );
        assert_eq!(
            url,
            "https://app.example/cb?tenant=7&code=abc&state=xyz&iss=https%3A%2F%2Fid.example.com"
        );
    }

    #[test]
    fn only_s256_shaped_challenges_pass() {
        assert!(valid_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!valid_challenge("short"));
        assert!(!valid_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"
        ));
    }
}

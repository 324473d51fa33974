//! Authorization requests waiting in the browser's server-side session for a sign-in or a
//! consent. Each has its own id, carried by the consent form and the continuation, so several
//! can wait at once (one per tab) and an answer is only ever about the request whose screen was
//! shown; each ends once, with a single-use, 60-second code or an error for its app, in the
//! response mode the app asked for.

use serde_json::json;
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    answer::Answer,
    authorize::{check, AuthRequest, AuthorizeParams, Refusal, CODE_LIFETIME_SECS},
    par, request_object, session_apps,
};
use crate::{
    domain::{
        assurance::{self, ACR_MULTI_FACTOR, ACR_SINGLE_FACTOR},
        audit::{self, AuditEvent, Outcome},
        client::ClientInfo,
        consents::{ledger, Collection},
        error::AccountError,
        sessions::{self, APP_REQUESTS_KEY},
        tokens::{random_token, token_hash},
    },
    model::oauth::AuthorizeProblem,
    state::AppState,
};

/// How long a person may take to sign in and consent.
const REQUEST_LIFETIME_SECS: i64 = 1800;
/// Requests one browser keeps waiting at once (the oldest goes first).
const MAX_PENDING: usize = 8;

/// Where the browser goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// The request cannot be trusted to redirect (unknown client, unregistered redirect URI):
    /// say why on our own page.
    ErrorPage(AuthorizeProblem),
    /// Back to the app: the code, or an error, at its redirect URI in the request's response
    /// mode (a redirect, or a form the browser posts).
    ToApp(Answer),
    /// The person must sign in first (the app's `login_hint`, if any, fills in the form).
    SignIn(Option<String>),
    /// The signed-in person must give a second factor first (the app asked for multi-factor,
    /// or is registered to require it), then the request with this id goes on.
    StepUp(String),
    /// The person must approve the app of the request with this id.
    Consent(String),
    /// The signed-in person must first accept the current version of a required policy (the
    /// consent step's page), then the request with this id goes on.
    Policies(String),
    /// Back through our continuation page (after a form on our site), which goes on with the
    /// request with this id.
    Continue(String),
}

/// `pairs` for the app of `req`, with its `state` and `iss` (RFC 9207), in its response mode.
fn to_app(issuer: &str, req: &AuthRequest, pairs: &[(&str, &str)]) -> Next {
    Next::ToApp(Answer::new(
        issuer,
        &req.redirect_uri,
        req.state.as_deref(),
        req.response_mode,
        pairs,
    ))
}

/// An error for the app, sent to its redirect URI (RFC 6749 §4.1.2.1).
fn redirect_error(issuer: &str, req: &AuthRequest, error: &str, description: &str) -> Next {
    to_app(
        issuer,
        req,
        &[("error", error), ("error_description", description)],
    )
}

async fn all(session: &Session) -> Result<Vec<AuthRequest>, AccountError> {
    Ok(session
        .get::<Vec<AuthRequest>>(APP_REQUESTS_KEY)
        .await?
        .unwrap_or_default())
}

async fn keep(session: &Session, requests: Vec<AuthRequest>) -> Result<(), AccountError> {
    if requests.is_empty() {
        session.remove::<Vec<AuthRequest>>(APP_REQUESTS_KEY).await?;
    } else {
        session.insert(APP_REQUESTS_KEY, requests).await?;
    }
    Ok(())
}

/// The waiting request `id`, or (without an id, as after a sign-in) the newest one.
pub async fn pending(
    session: &Session,
    id: Option<&str>,
) -> Result<Option<AuthRequest>, AccountError> {
    let requests = all(session).await?;
    Ok(match id {
        Some(id) => requests.into_iter().find(|r| r.id == id),
        None => requests.into_iter().last(),
    })
}

/// The app of the newest request still waiting in this browser's session: the flow the
/// browser is in, whose brand its pages and mail wear and whose `ui_locales` they read in.
pub async fn flow_app(session: &Session) -> Result<Option<FlowRequest>, AccountError> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    Ok(all(session)
        .await?
        .into_iter()
        .rev()
        .find(|r| now - r.created_at <= REQUEST_LIFETIME_SECS)
        .map(|r| FlowRequest {
            client_id: r.client_id,
            ui_locales: r.ui_locales,
        }))
}

/// What the pages of an app's sign-in flow take from its newest waiting request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRequest {
    pub client_id: String,
    /// The languages the app asked for (`ui_locales`).
    pub ui_locales: Option<String>,
}

/// Puts `req` back (changed), or adds it as the newest.
async fn store(session: &Session, req: &AuthRequest) -> Result<(), AccountError> {
    let mut requests = all(session).await?;
    requests.retain(|r| r.id != req.id);
    requests.push(req.clone());
    if requests.len() > MAX_PENDING {
        requests.remove(0);
    }
    keep(session, requests).await
}

/// Ends the waiting request `id`: it can never be answered again.
async fn end(session: &Session, id: &str) -> Result<(), AccountError> {
    let mut requests = all(session).await?;
    requests.retain(|r| r.id != id);
    keep(session, requests).await
}

/// Checks a new request (or takes the one the app pushed), keeps it in the session, then goes
/// on as [`proceed`] does.
pub async fn begin(
    state: &AppState,
    client_info: &ClientInfo,
    session: &Session,
    params: &AuthorizeParams,
) -> Result<Next, AccountError> {
    let issuer = state.settings.public_url.as_str();
    // A signed request object (RFC 9101): its claims are the whole request.
    let params = match request_object::unpack(state, params).await? {
        None => params.clone(),
        Some(Ok(inner)) => inner,
        Some(Err(refused)) => {
            return Ok(refused.app_redirect(issuer).map_or(
                Next::ErrorPage(AuthorizeProblem::BadRequestObject),
                Next::ToApp,
            ))
        }
    };
    let (params, pushed) = match par::take(state, &params).await? {
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
    store(session, &req).await?;
    proceed(state, client_info, session, Some(&req.id)).await
}

/// Goes on with the waiting request `id` (or the newest): sign-in, consent, or the code.
pub async fn proceed(
    state: &AppState,
    client_info: &ClientInfo,
    session: &Session,
    id: Option<&str>,
) -> Result<Next, AccountError> {
    let issuer = state.settings.public_url.as_str();
    let Some(req) = pending(session, id).await? else {
        return Ok(Next::ErrorPage(AuthorizeProblem::NoRequest));
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    if now - req.created_at > REQUEST_LIFETIME_SECS {
        end(session, &req.id).await?;
        return Ok(Next::ErrorPage(AuthorizeProblem::Expired));
    }
    let user = sessions::current_user(session).await?;
    let signed_in_at = sessions::signed_in_at(session).await?.unix_timestamp();
    let Some(user_id) = user.filter(|_| !must_sign_in(session, &req, user, now, signed_in_at))
    else {
        if req.silent {
            end(session, &req.id).await?;
            return Ok(redirect_error(
                issuer,
                &req,
                "login_required",
                "The person is not signed in.",
            ));
        }
        return Ok(Next::SignIn(req.login_hint.clone()));
    };
    let authenticated = sessions::authenticated(session).await?;
    let acr = authenticated
        .as_ref()
        .map_or(ACR_SINGLE_FACTOR, |a| a.acr());
    if (req.require_mfa && acr != ACR_MULTI_FACTOR) || !assurance::satisfies(acr, &req.acr_values) {
        if req.silent {
            end(session, &req.id).await?;
            return Ok(redirect_error(
                issuer,
                &req,
                "interaction_required",
                "The app asks for a multi-factor sign-in.",
            ));
        }
        return Ok(Next::StepUp(req.id));
    }
    if crate::domain::consents::asked::outstanding(&state.db, user_id)
        .await?
        .is_some()
    {
        if req.silent {
            end(session, &req.id).await?;
            return Ok(redirect_error(
                issuer,
                &req,
                "consent_required",
                "The person has not accepted the current terms.",
            ));
        }
        return Ok(Next::Policies(req.id));
    }
    if req.denied {
        end(session, &req.id).await?;
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
                end(session, &req.id).await?;
                return Ok(redirect_error(
                    issuer,
                    &req,
                    "consent_required",
                    "The person has not approved this app.",
                ));
            }
            return Ok(Next::Consent(req.id));
        }
    }
    let sid = sessions::sid(session).await?;
    let (amr, acr) = authenticated.map_or((Vec::new(), acr), |a| (a.amr(), a.acr()));
    let signed_in = SignedIn {
        user_id,
        at: signed_in_at,
        sid: &sid,
        amr: &amr,
        acr,
    };
    let code = issue_code(state, client_info, &req, &signed_in).await?;
    end(session, &req.id).await?;
    Ok(to_app(issuer, &req, &[("code", &code)]))
}

/// Whether the signed-in `user` (if any) must sign in (again) for `req`: `prompt=login` (the
/// sign-in predates the request), `max_age`, or a hint naming someone else.
fn must_sign_in(
    session: &Session,
    req: &AuthRequest,
    user: Option<Uuid>,
    now: i64,
    signed_in_at: i64,
) -> bool {
    let Some(user) = user else {
        return true;
    };
    (req.force_login
        && req.login_session.is_some()
        && session.id().map(|id| id.to_string()) == req.login_session)
        // A sign-in made after the request arrived satisfies any max_age (even 0, when the
        // answer comes a second later).
        || req
            .max_age
            .is_some_and(|max| now - signed_in_at > max && signed_in_at < req.created_at)
        || req
            .hint_sub
            .as_ref()
            .is_some_and(|sub| *sub != user.to_string())
}

/// The sign-in a code is issued for: who, when, which `sid`, and how (`amr`, `acr`).
struct SignedIn<'a> {
    user_id: Uuid,
    at: i64,
    sid: &'a str,
    amr: &'a [String],
    acr: &'a str,
}

async fn issue_code(
    state: &AppState,
    client_info: &ClientInfo,
    req: &AuthRequest,
    signed_in: &SignedIn<'_>,
) -> Result<String, AccountError> {
    let SignedIn {
        user_id,
        at: signed_in_at,
        sid,
        amr,
        acr,
    } = *signed_in;
    let code = random_token();
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "INSERT INTO authorization_codes
           (code_hash, client_id, user_id, redirect_uri, scopes, nonce, code_challenge, auth_time,
            expires_at, sid, amr, acr, dpop_jkt)
         VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8), now() + make_interval(secs => $9),
                 $10, $11, $12, $13)",
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
    .bind(amr)
    .bind(acr)
    .bind(&req.dpop_jkt)
    .execute(&mut *tx)
    .await?;
    session_apps::record(&mut tx, sid, &req.client_id, user_id).await?;
    let event = AuditEvent::new("oauth.code_issued", Outcome::Success)
        .by(user_id)
        .detail(json!({ "client": req.client_id, "scopes": req.scopes }));
    audit::record(&mut *tx, client_info, event).await?;
    tx.commit().await?;
    Ok(code)
}

/// The person's answer on the consent page of request `id`: approval is remembered (and
/// revocable later); refusal tells the app `access_denied`. Either way the request goes on
/// through the continuation page. An answer about no waiting request changes nothing.
pub async fn answer_consent(
    state: &AppState,
    client_info: &ClientInfo,
    session: &Session,
    id: &str,
    approve: bool,
) -> Result<Next, AccountError> {
    let Some(mut req) = pending(session, Some(id)).await? else {
        return Ok(Next::ErrorPage(AuthorizeProblem::NoRequest));
    };
    let Some(user_id) = sessions::current_user(session).await? else {
        return Ok(Next::SignIn(req.login_hint.clone()));
    };
    if !approve {
        let event = AuditEvent::new("oauth.consented", Outcome::Failure)
            .by(user_id)
            .detail(json!({ "client": req.client_id, "reason": "denied" }));
        audit::record(&state.db, client_info, event).await?;
        req.denied = true;
        store(session, &req).await?;
        return Ok(Next::Continue(req.id));
    }
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "INSERT INTO oauth_grants (user_id, client_id, scopes) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, client_id) DO UPDATE SET
           scopes = ARRAY(SELECT DISTINCT unnest(oauth_grants.scopes || excluded.scopes)),
           updated_at = now()",
    )
    .bind(user_id)
    .bind(&req.client_id)
    .bind(&req.scopes)
    .execute(&mut *tx)
    .await?;
    let approved = ledger::Subject::App {
        client_id: &req.client_id,
        scopes: &req.scopes,
    };
    ledger::append(
        &mut tx,
        user_id,
        client_info,
        approved,
        true,
        Collection::AppAuthorization,
    )
    .await?;
    let event = AuditEvent::new("oauth.consented", Outcome::Success)
        .by(user_id)
        .detail(json!({ "client": req.client_id, "scopes": req.scopes }));
    audit::record(&mut *tx, client_info, event).await?;
    tx.commit().await?;
    req.force_consent = false;
    store(session, &req).await?;
    Ok(Next::Continue(req.id))
}

/// Where a person who just signed in goes: back to an app's sign-in in progress, or the profile.
pub async fn landing(session: &Session) -> &'static str {
    match session.get::<serde_json::Value>(APP_REQUESTS_KEY).await {
        Ok(Some(_)) => "/oauth2/continue",
        _ => "/profile",
    }
}

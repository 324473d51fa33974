//! Who calls the management API, and whether they may: a service app presenting an access
//! token of the client_credentials grant (`Authorization: Bearer`, RFC 6750), signed by this
//! provider, unexpired, unrevoked, about the app itself (a token a person's sign-in produced
//! opens nothing here), of an app that still exists; its scopes (`users:read`, …) checked per
//! route; and its share of the per-app rate limit, told in `RateLimit-Policy` / `RateLimit`
//! headers (draft-ietf-httpapi-ratelimit-headers) and refused with 429 beyond it.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};

use app::{
    domain::{
        audit::{self, Actor, AuditEvent, Outcome},
        client::ClientInfo,
        oidc::userinfo::token_ids,
    },
    state::AppState,
};
use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::problem::Problem;

/// The rate limit's window, in seconds.
const WINDOW_SECS: u64 = 60;

/// The app behind a request, once its token is checked.
#[derive(Debug, Clone)]
pub struct Caller {
    pub client_id: Arc<str>,
    scopes: Vec<String>,
}

impl Caller {
    /// Refused with 403 unless the token holds `scope` (RFC 6750 §3.1 `insufficient_scope`).
    pub fn require(&self, scope: &'static str) -> Result<(), Problem> {
        if self.scopes.iter().any(|s| s == scope) {
            return Ok(());
        }
        let challenge = format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\"");
        Err(Problem::new(
            StatusCode::FORBIDDEN,
            "insufficient-scope",
            "Insufficient scope",
            format!("This needs an access token with the scope {scope}."),
        )
        .header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_str(&challenge).expect("scope names are header-safe"),
        ))
    }

    /// The audit trail's name for the app.
    pub fn actor(&self) -> Actor {
        Actor::App(self.client_id.clone())
    }
}

/// Requests per app in the current window, on this node.
#[derive(Debug)]
pub struct Limiter {
    quota: u32,
    windows: Mutex<HashMap<Arc<str>, (u64, u32)>>,
}

/// What the limiter said.
struct Allowance {
    allowed: bool,
    remaining: u32,
    reset: u64,
}

impl Limiter {
    pub fn new(quota: u32) -> Self {
        Self {
            quota,
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn take(&self, client_id: &Arc<str>) -> Allowance {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let window = now / WINDOW_SECS;
        let reset = WINDOW_SECS - now % WINDOW_SECS;
        let mut windows = self.windows.lock().expect("rate limiter lock");
        if windows.len() > 10_000 {
            windows.retain(|_, (w, _)| *w == window);
        }
        let entry = windows.entry(client_id.clone()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        let allowed = entry.1 < self.quota;
        if allowed {
            entry.1 += 1;
        }
        Allowance {
            allowed,
            remaining: self.quota - entry.1,
            reset,
        }
    }

    fn headers(&self, allowance: &Allowance, headers: &mut HeaderMap) {
        let policy = format!("\"per-app\";q={};w={WINDOW_SECS}", self.quota);
        let state = format!(
            "\"per-app\";r={};t={}",
            allowance.remaining, allowance.reset
        );
        for (name, value) in [("ratelimit-policy", policy), ("ratelimit", state)] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
    }
}

/// What the authenticating layer holds.
#[derive(Clone)]
pub struct Gate {
    pub state: AppState,
    pub limiter: Arc<Limiter>,
}

fn unauthorized(error: Option<&str>, detail: &str) -> Problem {
    let challenge = match error {
        Some(error) => format!("Bearer realm=\"api\", error=\"{error}\""),
        None => "Bearer realm=\"api\"".to_owned(),
    };
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Authentication needed",
        detail,
    )
    .header(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_str(&challenge).expect("a fixed challenge"),
    )
}

/// The app whose token `request` carries.
async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, Problem> {
    let Some(authorization) = headers.get(header::AUTHORIZATION) else {
        return Err(unauthorized(
            None,
            "Send an access token of the client_credentials grant as Authorization: Bearer.",
        ));
    };
    let token = authorization
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| {
            unauthorized(
                Some("invalid_request"),
                "Use the Bearer scheme: Authorization: Bearer <token>.",
            )
        })?;
    let invalid = || {
        unauthorized(
            Some("invalid_token"),
            "The access token is not valid, has expired or was revoked.",
        )
    };
    let claims = state
        .keys
        .verify_access_token(token, &state.settings.public_url)
        .ok_or_else(invalid)?;
    // A token bound to a key (DPoP) is only good with a proof of that key; the API takes plain
    // bearer tokens.
    if !claims["cnf"].is_null() {
        return Err(invalid());
    }
    let (Some(sub), Some(client_id)) = (claims["sub"].as_str(), claims["client_id"].as_str())
    else {
        return Err(invalid());
    };
    // The app's own token (client_credentials), not one a person's sign-in gave it.
    if sub != client_id || !claims["gid"].is_null() {
        return Err(invalid());
    }
    let ids = token_ids(&claims).ok_or_else(invalid)?;
    if state.revoked.contains_any(&state.db, &ids).await? {
        return Err(invalid());
    }
    let client = state
        .clients
        .get(&state.db, client_id)
        .await?
        .ok_or_else(invalid)?;
    if !client.allows_grant("client_credentials") {
        return Err(invalid());
    }
    Ok(Caller {
        client_id: Arc::from(client.id.as_str()),
        scopes: claims["scope"]
            .as_str()
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// Authenticates the request and counts it against the app's limit; the handler finds the
/// [`Caller`] among the request's extensions.
pub async fn authenticate(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let caller = match caller(&gate.state, request.headers()).await {
        Ok(caller) => caller,
        Err(problem) => return problem.into_response(),
    };
    let allowance = gate.limiter.take(&caller.client_id);
    if !allowance.allowed {
        let mut response = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            format!(
                "This app made {} requests this minute; try again in {} s.",
                gate.limiter.quota, allowance.reset
            ),
        )
        .header(header::RETRY_AFTER, HeaderValue::from(allowance.reset))
        .into_response();
        gate.limiter.headers(&allowance, response.headers_mut());
        return response;
    }
    let (mut parts, body) = request.into_parts();
    let client = ClientInfo::from_parts(&parts);
    let (method, path) = (parts.method.clone(), parts.uri.path().to_owned());
    parts.extensions.insert(caller.clone());
    let mut response = next.run(Request::from_parts(parts, body)).await;
    gate.limiter.headers(&allowance, response.headers_mut());
    audit_call(
        &gate.state,
        &client,
        &caller,
        &method,
        &path,
        response.status(),
    )
    .await;
    response
}

/// Audits a read, and a refused change (a change that is made is audited by the operation
/// that makes it, in its transaction).
async fn audit_call(
    state: &AppState,
    client: &ClientInfo,
    caller: &Caller,
    method: &Method,
    path: &str,
    status: StatusCode,
) {
    let failed = status.is_client_error() || status.is_server_error();
    let action = match (method == Method::GET, failed) {
        (true, _) => "api.read",
        (false, true) => "api.refused",
        (false, false) => return,
    };
    let subject = path
        .strip_prefix("/api/v1/people/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|id| id.parse().ok());
    let event = AuditEvent::new(
        action,
        if failed {
            Outcome::Failure
        } else {
            Outcome::Success
        },
    )
    .by_actor(caller.actor())
    .about(subject)
    .detail(serde_json::json!({
        "method": method.as_str(),
        "path": path,
        "status": status.as_u16(),
    }));
    if let Err(e) = audit::record(&state.db, client, event).await {
        tracing::error!(error = %e, "auditing a management API call failed");
    }
}

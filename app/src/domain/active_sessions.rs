//! A person's own live sign-ins, as the portal lists them: each browser session with its
//! device (browser and system read from the User-Agent), place (when GeoIP is configured),
//! network, sign-in time and method, and last request; and ending them, one or all but this
//! one. An ended sign-in loses its row (so every node refuses its cookie at once), the apps it
//! signed in to are told by back-channel logout, and the grants it made are revoked.

use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    audit::{self, AuditEvent, Outcome},
    client::{device_summary, ClientInfo},
    error::AccountError,
    oidc::{
        grant_revocation::{self, Grants},
        session_apps,
    },
    sessions,
    sign_out::EndedSignIns,
    webhooks::{self, Event, SessionEnd},
};
use crate::state::AppState;

/// Where a sign-in keeps the client it came from (written once, at the sign-in exit).
const CLIENT_KEY: &str = "signed_in_from";

/// The client a sign-in came from, as kept in its session.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct SignedInFrom {
    ip: Option<String>,
    user_agent: Option<String>,
    /// The ISO country of `ip`, when GeoIP is configured and knows it.
    country: Option<String>,
}

/// Remembers in the freshly signed-in `session` which client signed in, and from where.
pub async fn note_client(
    state: &AppState,
    session: &Session,
    client: &ClientInfo,
) -> Result<(), AccountError> {
    let country = match (&state.risk.geo, client.ip.as_deref()) {
        (Some(geo), Some(ip)) => ip
            .parse()
            .ok()
            .and_then(|ip| geo.locate(ip))
            .and_then(|p| p.country),
        _ => None,
    };
    let from = SignedInFrom {
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        country,
    };
    session.insert(CLIENT_KEY, from).await?;
    Ok(())
}

/// One live sign-in of the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSignIn {
    /// The sign-in's `sid`: how the portal names it (never the session's cookie value).
    pub sid: String,
    /// "Firefox on Linux", from the User-Agent.
    pub device: String,
    pub country: Option<String>,
    /// The address it signed in from.
    pub ip: Option<String>,
    pub method: String,
    pub signed_in_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    /// The session this request came with.
    pub current: bool,
}

#[derive(sqlx::FromRow)]
struct Row {
    sid: String,
    signed_in_from: Option<serde_json::Value>,
    method: Option<String>,
    auth_at: i64,
    seen_at: i64,
}

/// The live sign-ins of `user_id`, most recently seen first; `current_sid` is marked. Sessions
/// past their idle or absolute limit are left out (their next request would be refused).
pub async fn list(
    db: impl sqlx::PgExecutor<'_>,
    user_id: Uuid,
    current_sid: Option<&str>,
) -> sqlx::Result<Vec<LiveSignIn>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT data->>'sid' AS sid, data->$2 AS signed_in_from, data->>'auth_method' AS method,
                (data->>'auth_at')::bigint AS auth_at, (data->>'seen_at')::bigint AS seen_at
         FROM sessions
         WHERE user_id = $1 AND expires_at > now() AND data ? 'sid'
           AND (data->>'seen_at')::bigint
               + coalesce((data->>'idle_limit')::bigint, $3) >= extract(epoch FROM now())
           AND (data->>'auth_at')::bigint
               + coalesce((data->>'max_age')::bigint, $4) >= extract(epoch FROM now())
         ORDER BY (data->>'seen_at')::bigint DESC",
    )
    .bind(user_id)
    .bind(CLIENT_KEY)
    .bind(sessions::IDLE_TIMEOUT.whole_seconds())
    .bind(sessions::ABSOLUTE_TIMEOUT.whole_seconds())
    .fetch_all(db)
    .await?;
    let at =
        |secs: i64| OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    Ok(rows
        .into_iter()
        .map(|row| {
            let from: SignedInFrom = row
                .signed_in_from
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            LiveSignIn {
                current: current_sid == Some(row.sid.as_str()),
                device: device_summary(from.user_agent.as_deref()),
                country: from.country,
                ip: from.ip,
                method: row.method.unwrap_or_default(),
                signed_in_at: at(row.auth_at),
                last_seen_at: at(row.seen_at),
                sid: row.sid,
            }
        })
        .collect())
}

/// Why a sign-in cannot be ended from the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EndRefusal {
    #[error("That is the device you are using now: sign out instead.")]
    ThisDevice,
    #[error("That sign-in has already ended.")]
    Gone,
}

/// Ends, in the caller's transaction, every session of `user_id` whose `sid` is in `only`
/// (when given) and is not `keep`: the rows go, their apps are told, their grants end.
pub async fn end_where(
    conn: &mut PgConnection,
    issuer: &str,
    user_id: Uuid,
    only: Option<&str>,
    keep: Option<&str>,
) -> sqlx::Result<EndedSignIns> {
    let sids: Vec<String> = sqlx::query_scalar(
        "DELETE FROM sessions
         WHERE user_id = $1 AND data ? 'sid'
           AND ($2::text IS NULL OR data->>'sid' = $2)
           AND ($3::text IS NULL OR data->>'sid' <> $3)
         RETURNING data->>'sid'",
    )
    .bind(user_id)
    .bind(only)
    .bind(keep)
    .fetch_all(&mut *conn)
    .await?;
    if sids.is_empty() {
        return Ok(EndedSignIns::default());
    }
    let ended = Event::SessionEnded {
        person: user_id,
        reason: SessionEnd::EndedByOwner,
    };
    webhooks::emit(&mut *conn, &ended).await?;
    let apps = session_apps::ended(&mut *conn, issuer, &sids).await?;
    let grants = grant_revocation::revoke(
        conn,
        Grants::OfSignIns {
            user_id,
            sids: &sids,
        },
    )
    .await?;
    Ok(EndedSignIns {
        sessions: sids.len() as u64,
        grants,
        notices: apps.queued as u64,
    })
}

/// The person ends one of their other sign-ins (`sid`) from the list.
#[tracing::instrument(skip_all)]
pub async fn end_one(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
    sid: &str,
) -> Result<(), AccountError> {
    let current = sessions::existing_sid(session).await?;
    if current.as_deref() == Some(sid) {
        return Err(EndRefusal::ThisDevice.into());
    }
    let mut tx = state.db.begin().await?;
    let ended = end_where(
        &mut tx,
        &state.settings.public_url,
        user_id,
        Some(sid),
        None,
    )
    .await?;
    if ended.sessions == 0 {
        return Err(EndRefusal::Gone.into());
    }
    let event = AuditEvent::new("session.ended", Outcome::Success)
        .by(user_id)
        .detail(json!({ "reason": "ended_by_owner", "ended": ended.detail() }));
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    ended.after_commit(state);
    Ok(())
}

/// The person ends every sign-in but this one. Returns how many ended.
#[tracing::instrument(skip_all)]
pub async fn end_others(
    state: &AppState,
    client: &ClientInfo,
    session: &Session,
    user_id: Uuid,
) -> Result<usize, AccountError> {
    let current = sessions::sid(session).await?;
    let mut tx = state.db.begin().await?;
    let issuer = &state.settings.public_url;
    let ended = end_where(&mut tx, issuer, user_id, None, Some(&current)).await?;
    let event = AuditEvent::new("session.others_ended", Outcome::Success)
        .by(user_id)
        .detail(ended.detail());
    audit::record(&mut *tx, client, event).await?;
    tx.commit().await?;
    ended.after_commit(state);
    Ok(ended.sessions as usize)
}

//! Which apps each browser sign-in (its `sid`) was used for, and what is owed to them when it
//! ends (OpenID Connect Back-Channel and Front-Channel Logout 1.0): a logout notice in the
//! outbox for each app with a back-channel URI, and the front-channel URIs for the browser to
//! load.

use sqlx::{PgConnection, PgPool};
use url::Url;
use uuid::Uuid;

/// Remembers that the sign-in `sid` of `user_id` signed in to `client_id`.
pub async fn record(
    conn: &mut PgConnection,
    sid: &str,
    client_id: &str,
    user_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO session_apps (sid, client_id, user_id) VALUES ($1, $2, $3)
         ON CONFLICT (sid, client_id) DO NOTHING",
    )
    .bind(sid)
    .bind(client_id)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// What ended sign-ins owe their apps beyond the queued back-channel notices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ended {
    /// Back-channel notices queued (wake the logout worker when more than zero).
    pub queued: usize,
    /// Front-channel logout URLs (with `iss` and `sid`) for the browser to load.
    pub front_channel: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct Gone {
    sid: String,
    client_id: String,
    user_id: Uuid,
    backchannel_logout_uri: Option<String>,
    frontchannel_logout_uri: Option<String>,
}

/// Forgets the apps of the sign-ins `sids` (which have ended) and queues their logout notices.
pub async fn ended(conn: &mut PgConnection, issuer: &str, sids: &[String]) -> sqlx::Result<Ended> {
    if sids.is_empty() {
        return Ok(Ended::default());
    }
    forget(conn, issuer, Some(sids), None).await
}

/// Forgets the apps of every sign-in of `user_id` (all of whose sessions have ended) and queues
/// their logout notices.
pub async fn ended_for_user(
    conn: &mut PgConnection,
    issuer: &str,
    user_id: Uuid,
) -> sqlx::Result<Ended> {
    forget(conn, issuer, None, Some(user_id)).await
}

/// Deletes the rows of the sign-ins `sids`, or of every sign-in of `user_id`, and queues what
/// their apps are owed.
async fn forget(
    conn: &mut PgConnection,
    issuer: &str,
    sids: Option<&[String]>,
    user_id: Option<Uuid>,
) -> sqlx::Result<Ended> {
    let gone: Vec<Gone> = sqlx::query_as(
        "DELETE FROM session_apps sa USING oauth_clients c
         WHERE c.id = sa.client_id AND (sa.sid = ANY($1) OR sa.user_id = $2)
         RETURNING sa.sid, sa.client_id, sa.user_id, c.backchannel_logout_uri,
                   c.frontchannel_logout_uri",
    )
    .bind(sids)
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    queue(conn, issuer, gone).await
}

/// Sign-ins whose session has gone (expired, or deleted without going through sign-out) are
/// ended too, so their apps still hear of it. Returns how many notices were queued.
pub async fn end_orphans(db: &PgPool, issuer: &str) -> sqlx::Result<usize> {
    let mut tx = db.begin().await?;
    let sids: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT sa.sid FROM session_apps sa
         WHERE NOT EXISTS (SELECT 1 FROM sessions s
                           WHERE s.data ->> 'sid' = sa.sid AND s.expires_at > now())
         LIMIT 500",
    )
    .fetch_all(&mut *tx)
    .await?;
    let done = ended(&mut tx, issuer, &sids).await?;
    tx.commit().await?;
    Ok(done.queued)
}

async fn queue(conn: &mut PgConnection, issuer: &str, gone: Vec<Gone>) -> sqlx::Result<Ended> {
    let mut done = Ended::default();
    let (mut clients, mut uris, mut subs, mut sids) = (vec![], vec![], vec![], vec![]);
    for app in gone {
        if let Some(uri) = app.backchannel_logout_uri {
            clients.push(app.client_id.clone());
            uris.push(uri);
            subs.push(app.user_id.to_string());
            sids.push(app.sid.clone());
        }
        if let Some(uri) = app.frontchannel_logout_uri {
            if let Ok(mut url) = Url::parse(&uri) {
                url.query_pairs_mut()
                    .append_pair("iss", issuer)
                    .append_pair("sid", &app.sid);
                done.front_channel.push(url.into());
            }
        }
    }
    if !clients.is_empty() {
        sqlx::query(
            "INSERT INTO logout_outbox (client_id, uri, sub, sid)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[])",
        )
        .bind(&clients)
        .bind(&uris)
        .bind(&subs)
        .bind(&sids)
        .execute(&mut *conn)
        .await?;
    }
    done.queued = clients.len();
    Ok(done)
}

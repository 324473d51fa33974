//! Delivers back-channel logout notices (OpenID Connect Back-Channel Logout 1.0 §2.5): claims
//! due rows of the logout outbox, signs a logout token for each with the app's ID token
//! algorithm, POSTs it to the app, and retries failures with backoff for up to a day.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use app::domain::oidc::{
    keys::{Alg, KeyRing},
    subjects::SubjectKey,
};
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::sync::{watch, Notify};
use uuid::Uuid;

use super::outbox::{self, Attempt, Outbox};

/// How long a logout token is valid after it is signed.
const LOGOUT_TOKEN_LIFETIME_SECS: i64 = 120;

/// The event that makes a JWT a logout token.
const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// What the worker needs.
#[derive(Clone)]
pub struct LogoutSender {
    db: PgPool,
    keys: Arc<KeyRing>,
    subjects: SubjectKey,
    issuer: String,
    http: reqwest::Client,
}

impl LogoutSender {
    pub fn new(
        db: PgPool,
        keys: Arc<KeyRing>,
        subjects: SubjectKey,
        issuer: String,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()
            .context("building the logout HTTP client")?;
        Ok(Self {
            db,
            keys,
            subjects,
            issuer,
            http,
        })
    }

    /// The logout token telling `client_id` that the sign-in `sid` of `sub` ended (without a
    /// `sid`: every sign-in of `sub` there, as for a grant that outlived its browser sign-in).
    pub fn logout_token(
        &self,
        alg: Alg,
        client_id: &str,
        sub: &str,
        sid: Option<&str>,
    ) -> anyhow::Result<String> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let mut claims = json!({
            "iss": self.issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + LOGOUT_TOKEN_LIFETIME_SECS,
            "jti": Uuid::new_v4(),
            "sub": sub,
            "events": { BACKCHANNEL_EVENT: {} },
        });
        if let Some(sid) = sid {
            claims["sid"] = json!(sid);
        }
        Ok(self.keys.sign_logout_token(alg, &claims)?)
    }

    async fn post(&self, notice: &Pending) -> anyhow::Result<()> {
        let alg = notice.id_token_alg;
        // The app knows the person by the `sub` its tokens carried (pairwise or not).
        let sub = match (&notice.sector_identifier, notice.sub.parse()) {
            (Some(sector), Ok(user_id)) => self.subjects.pairwise(sector, user_id),
            _ => notice.sub.clone(),
        };
        let token = self.logout_token(alg, &notice.client_id, &sub, notice.sid.as_deref())?;
        let response = self
            .http
            .post(&notice.uri)
            .form(&[("logout_token", token)])
            .send()
            .await
            .context("posting the logout token")?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            anyhow::bail!("the app answered {status}")
        }
    }
}

/// A notice claimed for delivery.
#[derive(Debug, sqlx::FromRow)]
struct Pending {
    id: i64,
    client_id: String,
    uri: String,
    sub: String,
    sid: Option<String>,
    id_token_alg: Alg,
    /// Set for apps with pairwise subjects.
    sector_identifier: Option<String>,
    attempts: i32,
}

/// The delivery loop; returns when `shutdown` turns true.
pub async fn run(sender: LogoutSender, wake: Arc<Notify>, shutdown: watch::Receiver<bool>) {
    outbox::run("logout", wake, shutdown, || deliver_due(&sender)).await;
}

/// Posts up to [`outbox::ROUND`] due notices, each claimed, posted and recorded on its own;
/// returns how many were attempted. Notices older than a day are abandoned.
pub async fn deliver_due(sender: &LogoutSender) -> anyhow::Result<usize> {
    outbox::abandon_expired(&sender.db, Outbox::Logout).await?;
    outbox::deliver_round(
        &sender.db,
        Outbox::Logout,
        outbox::Delivered::ForgetText,
        || claim(&sender.db),
        |notice: Pending| async move {
            let result = sender.post(&notice).await;
            Attempt {
                id: notice.id,
                attempts: notice.attempts,
                result,
            }
        },
    )
    .await
}

/// Claims the oldest due notice for [`outbox::LEASE`], with what signing it needs of its app.
async fn claim(db: &PgPool) -> sqlx::Result<Option<Pending>> {
    sqlx::query_as(
        "WITH due AS (
             SELECT id FROM logout_outbox
             WHERE delivered_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= now()
             ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
         )
         UPDATE logout_outbox o SET next_attempt_at = now() + make_interval(secs => $1)
         FROM due, oauth_clients c
         WHERE o.id = due.id AND c.id = o.client_id
         RETURNING o.id, o.client_id, o.uri, o.sub, o.sid, c.id_token_alg, c.sector_identifier,
                   o.attempts",
    )
    .bind(outbox::LEASE.as_secs_f64())
    .fetch_optional(db)
    .await
}

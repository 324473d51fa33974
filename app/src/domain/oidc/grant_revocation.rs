//! Ending grants. A grant is what one code exchange starts: its refresh token family (whose id is
//! the grant's id) and every access token issued under it, which carry the id as `gid`. Revoking
//! a grant revokes its refresh tokens and records its id among the revoked token ids, so its
//! access tokens fail at userinfo and introspection until they would have expired anyway.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::revoked::RevokedTokens;

/// The longest an access token can live (`oauth_clients.access_token_ttl_secs` is at most a
/// day): a revoked grant id is remembered this long.
pub const MAX_ACCESS_TOKEN_SECS: i64 = 86_400;

/// Which grants to end.
#[derive(Debug, Clone, Copy)]
pub enum Grants<'a> {
    /// The grant an authorization code started (the code was presented twice).
    OfCode(&'a [u8]),
    /// One refresh token family (a used token came back, or the app revoked it).
    Family(Uuid),
    /// Every grant of one person at one app (the person disconnected it).
    OfApp { user_id: Uuid, client_id: &'a str },
    /// Every grant of one person at every app (a password reset, an administrator's "end all
    /// sessions", the address proven by its real owner, the account deleted).
    OfPerson(Uuid),
    /// The grants one person's browser sign-ins (`sid`s) made (those sessions were ended).
    OfSignIns { user_id: Uuid, sids: &'a [String] },
    /// Every grant at one app (the app was disabled).
    OfClient(&'a str),
}

/// What ending grants did.
#[derive(Debug, Clone, Default)]
pub struct RevokedGrants {
    /// The grant ids recorded as revoked.
    pub ids: Vec<Uuid>,
    /// How many refresh tokens were revoked.
    pub refresh_tokens: u64,
}

impl RevokedGrants {
    /// Tells this node's copy of the revocations at once (after the transaction committed; the
    /// other nodes learn it from the change notice).
    pub fn remember(&self, revoked: &RevokedTokens) {
        let until = OffsetDateTime::now_utc().unix_timestamp() + MAX_ACCESS_TOKEN_SECS;
        for id in &self.ids {
            revoked.add(*id, until);
        }
    }
}

/// Ends `which` grants: revokes their refresh tokens and records their ids as revoked.
pub async fn revoke(conn: &mut PgConnection, which: Grants<'_>) -> sqlx::Result<RevokedGrants> {
    // The grants' ids: their refresh families, and (for grants without refresh tokens) the
    // codes exchanged within an access token's lifetime.
    let (families, recent_codes) = match which {
        Grants::OfCode(_) => (
            "family_id IN (SELECT grant_id FROM authorization_codes WHERE code_hash = $1)
             OR code_hash = $1",
            "SELECT grant_id FROM authorization_codes WHERE code_hash = $1",
        ),
        Grants::Family(_) => ("family_id = $1", "SELECT $1::uuid"),
        Grants::OfApp { .. } => (
            "user_id = $1 AND client_id = $2",
            "SELECT grant_id FROM authorization_codes
             WHERE user_id = $1 AND client_id = $2 AND used_at > now() - interval '1 day'",
        ),
        Grants::OfClient(_) => (
            "client_id = $1",
            "SELECT grant_id FROM authorization_codes
             WHERE client_id = $1 AND used_at > now() - interval '1 day'",
        ),
        Grants::OfSignIns { .. } => (
            "user_id = $1 AND sid = ANY($2)",
            "SELECT grant_id FROM authorization_codes
             WHERE user_id = $1 AND sid = ANY($2) AND used_at > now() - interval '1 day'",
        ),
        Grants::OfPerson(_) => (
            "user_id = $1",
            "SELECT grant_id FROM authorization_codes
             WHERE user_id = $1 AND used_at > now() - interval '1 day'",
        ),
    };
    let sql = format!(
        "WITH ended AS (
             UPDATE refresh_tokens SET revoked_at = now()
             WHERE ({families}) AND revoked_at IS NULL
             RETURNING family_id
         ), ids AS (
             SELECT family_id AS id FROM ended
             UNION SELECT id FROM ({recent_codes}) AS codes (id) WHERE id IS NOT NULL
         ), recorded AS (
             INSERT INTO revoked_access_tokens (jti, expires_at)
             SELECT id, now() + make_interval(secs => {MAX_ACCESS_TOKEN_SECS}) FROM ids
             ON CONFLICT (jti) DO NOTHING
         )
         SELECT (SELECT count(*) FROM ended), coalesce(array_agg(id), '{{}}') FROM ids"
    );
    let query = sqlx::query_as::<_, (i64, Vec<Uuid>)>(&sql);
    let query = match which {
        Grants::OfCode(hash) => query.bind(hash),
        Grants::Family(id) => query.bind(id),
        Grants::OfApp { user_id, client_id } => query.bind(user_id).bind(client_id),
        Grants::OfSignIns { user_id, sids } => query.bind(user_id).bind(sids),
        Grants::OfPerson(user_id) => query.bind(user_id),
        Grants::OfClient(client_id) => query.bind(client_id),
    };
    let (refresh_tokens, ids) = query.fetch_one(conn).await?;
    Ok(RevokedGrants {
        ids,
        refresh_tokens: refresh_tokens.max(0) as u64,
    })
}

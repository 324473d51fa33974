//! The revoked access token ids, mirrored in memory per node so that introspection and userinfo
//! need no query to know a token was revoked. An id is one token's `jti`, or a grant's id (the
//! `gid` every access token of the grant carries, see `grant_revocation`). The mirror is complete or unused: it is
//! loaded from `revoked_access_tokens` after this node starts listening for
//! `access_token_revoked` (a trigger sends each new row), grows with each notice, and is dropped
//! whenever the listening connection is lost; until it is loaded again, every check reads the
//! database.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        RwLock,
    },
};

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// The channel the trigger notifies, with `"<jti> <exp as Unix seconds>"`.
pub const CHANNEL: &str = "access_token_revoked";
/// More live revocations than this and the mirror is dropped (checks read the database) rather
/// than grow without bound.
const MAX_ENTRIES: usize = 1_000_000;

#[derive(Debug, Default)]
pub struct RevokedTokens {
    /// jti → when the token would have expired (Unix seconds); past that it may be forgotten.
    entries: RwLock<HashMap<Uuid, i64>>,
    /// Whether `entries` holds every live revocation.
    complete: AtomicBool,
}

impl RevokedTokens {
    /// Whether any of `ids` (an access token's `jti` and `gid`) was revoked.
    pub async fn contains_any(&self, db: &PgPool, ids: &[Uuid]) -> sqlx::Result<bool> {
        if self.complete.load(Ordering::Acquire) {
            let entries = self.entries.read().expect("revoked tokens lock");
            return Ok(ids.iter().any(|id| entries.contains_key(id)));
        }
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = ANY($1))",
        )
        .bind(ids)
        .fetch_one(db)
        .await
    }

    /// Whether checks are answered from memory.
    pub fn is_complete(&self) -> bool {
        self.complete.load(Ordering::Acquire)
    }

    /// Adds a revocation (from a notice, or made on this node). When the mirror is full, the
    /// expired ones are forgotten first.
    pub fn add(&self, jti: Uuid, expires_at: i64) {
        let mut entries = self.entries.write().expect("revoked tokens lock");
        if entries.len() >= MAX_ENTRIES {
            let now = OffsetDateTime::now_utc().unix_timestamp();
            entries.retain(|_, exp| *exp >= now);
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
            self.complete.store(false, Ordering::Release);
            tracing::warn!(
                "too many live access token revocations to hold: reading them from the database"
            );
            return;
        }
        entries.insert(jti, expires_at);
    }

    /// Adds a revocation from a notice's payload (`"<jti> <exp>"`); `false` if it is malformed.
    pub fn add_notice(&self, payload: &str) -> bool {
        let mut parts = payload.split(' ');
        match (
            parts.next().and_then(|j| j.parse().ok()),
            parts.next().and_then(|e| e.parse().ok()),
        ) {
            (Some(jti), Some(exp)) => {
                self.add(jti, exp);
                true
            }
            _ => false,
        }
    }

    /// Loads every live revocation. Call after listening has started, so that none committed in
    /// between is missed; notices that arrive meanwhile are added as usual.
    pub async fn load(&self, db: &PgPool) -> sqlx::Result<()> {
        let rows: Vec<(Uuid, i64)> = sqlx::query_as(
            "SELECT jti, floor(extract(epoch FROM expires_at))::bigint
             FROM revoked_access_tokens WHERE expires_at > now()",
        )
        .fetch_all(db)
        .await?;
        if rows.len() >= MAX_ENTRIES {
            tracing::warn!(
                "too many live access token revocations to hold: reading them from the database"
            );
            return Ok(());
        }
        let mut entries = self.entries.write().expect("revoked tokens lock");
        entries.extend(rows);
        self.complete.store(true, Ordering::Release);
        Ok(())
    }

    /// Drops the mirror (notices stopped arriving): checks read the database again.
    pub fn drop_mirror(&self) {
        let mut entries = self.entries.write().expect("revoked tokens lock");
        self.complete.store(false, Ordering::Release);
        entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_are_parsed_and_malformed_ones_refused() {
        let revoked = RevokedTokens::default();
        let jti = Uuid::new_v4();
        assert!(revoked.add_notice(&format!("{jti} 4102444800")));
        assert!(!revoked.add_notice("not-a-uuid 1"));
        assert!(!revoked.add_notice(&jti.to_string()));
        let entries = revoked.entries.read().unwrap();
        assert_eq!(entries.get(&jti), Some(&4_102_444_800));
        assert_eq!(entries.len(), 1);
    }
}

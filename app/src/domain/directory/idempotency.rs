//! The management API's retry keys (`api_idempotency_keys`; the `Idempotency-Key` header of
//! draft-ietf-httpapi-idempotency-key-header): a create that an app sends again under the same
//! key answers what the first one did and creates nothing more; the same key on a different
//! request is refused. The key is written in the create's own transaction, so two racing
//! requests under one key create once: the second waits on the first's row and then finds it.

use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

/// The longest key taken.
pub const MAX_KEY: usize = 255;

/// What the first request under a key created.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Done {
    pub location: String,
    pub status: i16,
}

/// What a key says about the request that carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Never used: go ahead.
    New,
    /// Used for this very request: answer as then.
    Again(Done),
    /// Used for a different request.
    Mismatch,
}

/// A key as sent: 1 to [`MAX_KEY`] visible ASCII characters (a structured-field string, with
/// or without its quotes).
pub fn parse_key(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let key = raw
        .strip_prefix('"')
        .and_then(|k| k.strip_suffix('"'))
        .unwrap_or(raw);
    let ok = (1..=MAX_KEY).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| key.to_owned())
}

/// What identifies a request: its method, path and body.
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    let mut hash = Sha256::new();
    hash.update(method.as_bytes());
    hash.update([0]);
    hash.update(path.as_bytes());
    hash.update([0]);
    hash.update(body);
    hash.finalize().to_vec()
}

/// What `key` of `client_id` was used for, waiting for a transaction that is writing it.
pub async fn seen(
    conn: &mut PgConnection,
    client_id: &str,
    key: &str,
    fingerprint: &[u8],
) -> sqlx::Result<Seen> {
    // Takes the key's lock for the rest of the caller's transaction: a concurrent request
    // under the same key waits here until this one commits or rolls back.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || '\u{1f}' || $2, 0))")
        .bind(client_id)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    let row: Option<(Vec<u8>, String, i16)> = sqlx::query_as(
        "SELECT fingerprint, location, status FROM api_idempotency_keys
         WHERE client_id = $1 AND key = $2 AND created_at > now() - interval '1 day'",
    )
    .bind(client_id)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        None => Seen::New,
        Some((stored, location, status)) if stored == fingerprint => {
            Seen::Again(Done { location, status })
        }
        Some(_) => Seen::Mismatch,
    })
}

/// Records that `key` created what `done` says (in the create's transaction).
pub async fn remember(
    conn: &mut PgConnection,
    client_id: &str,
    key: &str,
    fingerprint: &[u8],
    done: &Done,
    person: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO api_idempotency_keys
           (client_id, key, fingerprint, location, status, person_id)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (client_id, key) DO UPDATE
           SET fingerprint = EXCLUDED.fingerprint, location = EXCLUDED.location,
               status = EXCLUDED.status, person_id = EXCLUDED.person_id, created_at = now()",
    )
    .bind(client_id)
    .bind(key)
    .bind(fingerprint)
    .bind(&done.location)
    .bind(done.status)
    .bind(person)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_with_or_without_quotes() {
        assert_eq!(parse_key("\"8e03978e\"").as_deref(), Some("8e03978e"));
        assert_eq!(parse_key(" abc-123 ").as_deref(), Some("abc-123"));
        assert_eq!(parse_key(""), None);
        assert_eq!(parse_key("with space"), None);
        assert_eq!(parse_key(&"k".repeat(MAX_KEY + 1)), None);
    }

    #[test]
    fn a_fingerprint_tells_paths_and_bodies_apart() {
        let a = fingerprint("POST", "/api/v1/people", b"{\"a\":1}");
        assert_eq!(a, fingerprint("POST", "/api/v1/people", b"{\"a\":1}"));
        assert_ne!(a, fingerprint("POST", "/api/v1/groups", b"{\"a\":1}"));
        assert_ne!(a, fingerprint("POST", "/api/v1/people", b"{\"a\":2}"));
    }
}

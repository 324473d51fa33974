//! The tamper-evident chain over the audit trail. A background task seals rows in the order it
//! finds them (`chain_seq`), each with HMAC-SHA-256 (under a key derived from the master key,
//! which the database does not hold) of the previous seal and the row's content, so a row
//! changed or removed afterwards breaks the link at that row or the one after it, and someone
//! with only the database cannot seal the chain again; `verify` walks the chain and names the
//! first broken link. The table itself is append-only: a trigger refuses UPDATE, DELETE and
//! TRUNCATE, except sealing an unsealed row once.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

/// What the first row's seal follows.
const GENESIS: [u8; 32] = [0; 32];
/// Rows sealed in one transaction.
const BATCH: i64 = 1000;
/// The advisory lock that lets one node at a time seal.
const SEALER_LOCK: i64 = 0x6175_6469_7463_6861; // "auditcha"

/// A row's content as sealed. `at` is in microseconds, `detail` as Postgres prints the jsonb
/// (its keys in a fixed order), so the same row always gives the same bytes.
#[derive(Debug, sqlx::FromRow)]
struct Sealed {
    id: i64,
    at_micros: i64,
    actor_id: Option<Uuid>,
    actor: Option<String>,
    subject_id: Option<Uuid>,
    action: String,
    outcome: String,
    ip: Option<String>,
    user_agent: Option<String>,
    detail: String,
}

const CONTENT: &str =
    "id, (extract(epoch FROM at) * 1000000)::int8 AS at_micros, actor_id, actor, \
                       subject_id, action, outcome, ip, user_agent, detail::text AS detail";

/// Seals the audit chain (derived from the master key).
#[derive(Clone)]
pub struct ChainKey([u8; 32]);

impl ChainKey {
    pub fn derive(master: &[u8; 32]) -> Self {
        Self(crate::domain::master_key::derive(
            master,
            crate::domain::master_key::AUDIT_CHAIN,
        ))
    }
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey([redacted])")
    }
}

/// The seal of `row` after `previous`.
fn link(key: &ChainKey, previous: &[u8], row: &Sealed) -> [u8; 32] {
    let mut hash = Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC takes any key size");
    hash.update(previous);
    let mut field = |value: Option<&[u8]>| match value {
        None => hash.update(&[0]),
        Some(bytes) => {
            hash.update(&[1]);
            hash.update(&(bytes.len() as u64).to_be_bytes());
            hash.update(bytes);
        }
    };
    field(Some(&row.id.to_be_bytes()));
    field(Some(&row.at_micros.to_be_bytes()));
    field(row.actor_id.as_ref().map(|u| u.as_bytes().as_slice()));
    field(row.actor.as_deref().map(str::as_bytes));
    field(row.subject_id.as_ref().map(|u| u.as_bytes().as_slice()));
    field(Some(row.action.as_bytes()));
    field(Some(row.outcome.as_bytes()));
    field(row.ip.as_deref().map(str::as_bytes));
    field(row.user_agent.as_deref().map(str::as_bytes));
    field(Some(row.detail.as_bytes()));
    hash.finalize().into_bytes().into()
}

/// Seals up to one batch of unsealed rows; how many it sealed. Nodes take turns (an advisory
/// lock), so the chain has one order.
pub async fn seal(db: &PgPool, key: &ChainKey) -> sqlx::Result<usize> {
    let mut tx = db.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SEALER_LOCK)
        .execute(&mut *tx)
        .await?;
    let head: Option<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT chain_seq, chain_hash FROM audit_events
         WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let rows: Vec<Sealed> = sqlx::query_as(&format!(
        "SELECT {CONTENT} FROM audit_events WHERE chain_seq IS NULL ORDER BY id LIMIT $1"
    ))
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let (mut seq, mut previous) = head.unwrap_or((0, GENESIS.to_vec()));
    let (mut ids, mut seqs, mut hashes) = (Vec::new(), Vec::new(), Vec::new());
    for row in &rows {
        seq += 1;
        let hash = link(key, &previous, row);
        previous = hash.to_vec();
        ids.push(row.id);
        seqs.push(seq);
        hashes.push(previous.clone());
    }
    sqlx::query(
        "UPDATE audit_events AS a SET chain_seq = s.seq, chain_hash = s.hash
         FROM UNNEST($1::int8[], $2::int8[], $3::bytea[]) AS s(id, seq, hash)
         WHERE a.id = s.id",
    )
    .bind(&ids)
    .bind(&seqs)
    .bind(&hashes)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows.len())
}

/// Seals every row waiting.
pub async fn seal_all(db: &PgPool, key: &ChainKey) -> sqlx::Result<usize> {
    let mut total = 0;
    loop {
        let sealed = seal(db, key).await?;
        total += sealed;
        if sealed < BATCH as usize {
            return Ok(total);
        }
    }
}

/// The first link that does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The row whose seal fails.
    pub id: i64,
    pub seq: i64,
    /// What is wrong, in words.
    pub why: &'static str,
}

/// What a walk of the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Rows whose seal was checked before the walk stopped.
    pub checked: i64,
    /// Rows not sealed yet (written since the sealer last ran).
    pub unsealed: i64,
    pub broken: Option<Broken>,
}

/// Rows read per page while walking the chain.
const PAGE: i64 = 5000;

/// Walks the chain from its start and stops at the first broken link.
pub async fn verify(db: &PgPool, key: &ChainKey) -> sqlx::Result<Verdict> {
    let unsealed = unsealed(db).await?;
    let sql = format!(
        "SELECT chain_seq, chain_hash, {CONTENT} FROM audit_events
         WHERE chain_seq > $1 ORDER BY chain_seq LIMIT $2"
    );
    let mut previous = GENESIS.to_vec();
    let mut checked = 0;
    let mut after = 0;
    loop {
        let page: Vec<SealedRow> = sqlx::query_as(&sql)
            .bind(after)
            .bind(PAGE)
            .fetch_all(db)
            .await?;
        let Some(last) = page.last() else {
            return Ok(Verdict {
                checked,
                unsealed,
                broken: None,
            });
        };
        after = last.chain_seq;
        for row in page {
            let why = if row.chain_seq != checked + 1 {
                Some("a row before it is missing")
            } else if link(key, &previous, &row.content).as_slice() != row.chain_hash.as_slice() {
                Some("its content, or the row before it, was changed")
            } else {
                None
            };
            if let Some(why) = why {
                let broken = Broken {
                    id: row.content.id,
                    seq: row.chain_seq,
                    why,
                };
                return Ok(Verdict {
                    checked,
                    unsealed,
                    broken: Some(broken),
                });
            }
            checked += 1;
            previous = row.chain_hash;
        }
    }
}

#[derive(sqlx::FromRow)]
struct SealedRow {
    chain_seq: i64,
    chain_hash: Vec<u8>,
    #[sqlx(flatten)]
    content: Sealed,
}

/// Rows waiting to be sealed.
async fn unsealed(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE chain_seq IS NULL")
        .fetch_one(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ChainKey {
        ChainKey::derive(&[3; 32])
    }

    fn row() -> Sealed {
        Sealed {
            id: 7,
            at_micros: 1_700_000_000_000_000,
            actor_id: None,
            actor: Some("cli".into()),
            subject_id: None,
            action: "settings.changed".into(),
            outcome: "success".into(),
            ip: None,
            user_agent: None,
            detail: r#"{"to": true}"#.into(),
        }
    }

    #[test]
    fn every_field_and_the_previous_seal_count() {
        let base = link(&key(), &GENESIS, &row());
        assert_eq!(
            base,
            link(&key(), &GENESIS, &row()),
            "the same row, the same seal"
        );
        assert_ne!(base, link(&key(), &[1; 32], &row()));
        assert_ne!(
            base,
            link(&ChainKey::derive(&[4; 32]), &GENESIS, &row()),
            "another key"
        );
        let changes: [fn(&mut Sealed); 6] = [
            |r| r.id += 1,
            |r| r.at_micros += 1,
            |r| r.actor = None,
            |r| r.action.push('x'),
            |r| r.ip = Some(String::new()),
            |r| r.detail = r#"{"to": false}"#.into(),
        ];
        for change in changes {
            let mut other = row();
            change(&mut other);
            assert_ne!(base, link(&key(), &GENESIS, &other));
        }
    }

    #[test]
    fn fields_cannot_borrow_from_their_neighbours() {
        // "ab" + "c" and "a" + "bc" must not seal alike.
        let mut one = row();
        one.action = "ab".into();
        one.outcome = "c".into();
        let mut two = row();
        two.action = "a".into();
        two.outcome = "bc".into();
        assert_ne!(link(&key(), &GENESIS, &one), link(&key(), &GENESIS, &two));
    }
}

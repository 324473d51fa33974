//! The tamper-evident chain over the audit trail. A background task seals rows in the order it
//! finds them (`chain_seq`), each with HMAC-SHA-256, under a key derived from the master key
//! (which the database does not hold), of the previous seal and the row: its id, time, actor
//! label, action, outcome and `personal_digest`. That digest stands in for the personal columns
//! (actor_id, subject_id, ip, user_agent, detail): a keyed HMAC of them under a key of its own
//! (`digest`), stored next to the seal. A row changed or removed afterwards breaks the link at
//! that row or the one after it; someone with only the database can neither seal the chain
//! again nor test a guess (an address, a network) against a digest. `verify` walks the chain
//! and names the first broken link.
//!
//! The table is append-only: a trigger refuses UPDATE, DELETE and TRUNCATE, except sealing an
//! unsealed row once and erasing a row's person once (`erasure`: `erased_as` set to a
//! pseudonym, which takes the person's place in actor_id/subject_id; ip and user_agent dropped;
//! `detail` cut to a part of itself; the seal and the digest untouched). For a row not erased,
//! `verify` recomputes the digest from the columns, so any change to them is found. For an
//! erased row it takes the stored digest as sealed (of the content before the erasure, or of
//! the erased content when the row was erased before it was sealed) and checks only what an
//! erasure leaves: no network, no browser, and the pseudonym as actor or subject. It cannot
//! prove which column held the person, that the other still holds what it held, or what
//! `detail` held: past the trigger, those can be changed in an erased row unseen. Through the
//! trigger, whoever may write the table can erase any row, which can only take away (a
//! network, a browser, part of `detail`, a person's id replaced by a pseudonym).

mod digest;

use digest::{Framed, Personal};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

/// What the first row's seal follows.
const GENESIS: [u8; 32] = [0; 32];
/// Rows sealed in one transaction.
const BATCH: i64 = 1000;
/// The advisory lock that lets one node at a time seal.
const SEALER_LOCK: i64 = 0x6175_6469_7463_6861; // "auditcha"

/// A row as read to be sealed or checked. `at` is in microseconds, so the same row always
/// gives the same bytes.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Sealed {
    id: i64,
    at_micros: i64,
    actor: Option<String>,
    action: String,
    outcome: String,
    #[sqlx(flatten)]
    personal: Personal,
    erased_as: Option<Uuid>,
}

const CONTENT: &str =
    "id, (extract(epoch FROM at) * 1000000)::int8 AS at_micros, actor, action, outcome, \
     actor_id, subject_id, ip, user_agent, detail::text AS detail, erased_as";

/// Seals the audit chain, and digests the rows' personal columns (both derived from the master
/// key, each under its own label).
#[derive(Clone)]
pub struct ChainKey {
    links: [u8; 32],
    personal: [u8; 32],
}

impl ChainKey {
    pub fn derive(master: &[u8; 32]) -> Self {
        use crate::domain::master_key::{derive, AUDIT_CHAIN, AUDIT_PERSONAL};
        Self {
            links: derive(master, AUDIT_CHAIN),
            personal: derive(master, AUDIT_PERSONAL),
        }
    }
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey([redacted])")
    }
}

/// The seal of `row`, whose personal columns digest to `personal_digest`, after `previous`.
fn link(key: &ChainKey, previous: &[u8], row: &Sealed, personal_digest: &[u8]) -> [u8; 32] {
    let mut hash = Framed::new(&key.links);
    hash.fixed(previous);
    hash.field(Some(&row.id.to_be_bytes()));
    hash.field(Some(&row.at_micros.to_be_bytes()));
    hash.field(row.actor.as_deref().map(str::as_bytes));
    hash.field(Some(row.action.as_bytes()));
    hash.field(Some(row.outcome.as_bytes()));
    hash.field(Some(personal_digest));
    hash.finish()
}

/// What is wrong with the personal columns of a sealed row whose link holds, if anything (see
/// the module's doc for what an erased row's check can and cannot prove).
fn personal_fault(key: &ChainKey, row: &Sealed, stored: &[u8]) -> Option<&'static str> {
    let personal = &row.personal;
    match row.erased_as {
        None => (digest::digest(&key.personal, row.id, personal).as_slice() != stored)
            .then_some("its content was changed"),
        Some(_) if personal.ip.is_some() || personal.user_agent.is_some() => {
            Some("it was erased, but names a network or browser again")
        }
        Some(pseudonym)
            if personal.actor_id != Some(pseudonym) && personal.subject_id != Some(pseudonym) =>
        {
            Some("it was erased, but its pseudonym is neither its actor nor its subject")
        }
        Some(_) => None,
    }
}

/// Seals up to one batch of unsealed rows; how many it sealed. Nodes take turns (an advisory
/// lock), so the chain has one order. The rows are locked while they are sealed, so a row
/// being erased meanwhile is sealed over its erased content.
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
        "SELECT {CONTENT} FROM audit_events WHERE chain_seq IS NULL ORDER BY id LIMIT $1
         FOR UPDATE"
    ))
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let (mut seq, mut previous) = head.unwrap_or((0, GENESIS.to_vec()));
    let (mut ids, mut seqs, mut hashes, mut digests) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for row in &rows {
        seq += 1;
        let personal = digest::digest(&key.personal, row.id, &row.personal);
        let hash = link(key, &previous, row, &personal);
        previous = hash.to_vec();
        ids.push(row.id);
        seqs.push(seq);
        hashes.push(previous.clone());
        digests.push(personal.to_vec());
    }
    sqlx::query(
        "UPDATE audit_events AS a
         SET chain_seq = s.seq, chain_hash = s.hash, personal_digest = s.digest
         FROM UNNEST($1::int8[], $2::int8[], $3::bytea[], $4::bytea[]) AS s(id, seq, hash, digest)
         WHERE a.id = s.id",
    )
    .bind(&ids)
    .bind(&seqs)
    .bind(&hashes)
    .bind(&digests)
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

/// Walks the chain from its start and stops at the first broken link: a row missing, a seal
/// that does not follow from the row and the seal before it, or personal columns that do not
/// hold (`personal_fault`).
pub async fn verify(db: &PgPool, key: &ChainKey) -> sqlx::Result<Verdict> {
    let unsealed = unsealed(db).await?;
    let sql = format!(
        "SELECT chain_seq, chain_hash, personal_digest, {CONTENT} FROM audit_events
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
            let sealed = link(key, &previous, &row.content, &row.personal_digest);
            let why = if row.chain_seq != checked + 1 {
                Some("a row before it is missing")
            } else if sealed.as_slice() != row.chain_hash.as_slice() {
                Some("its content, or the row before it, was changed")
            } else {
                personal_fault(key, &row.content, &row.personal_digest)
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
    personal_digest: Vec<u8>,
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

    const PERSON: Uuid = Uuid::from_u128(0xada);
    const PSEUDONYM: Uuid = Uuid::from_u128(0xbee);

    fn row() -> Sealed {
        Sealed {
            id: 7,
            at_micros: 1_700_000_000_000_000,
            actor: Some("cli".into()),
            action: "settings.changed".into(),
            outcome: "success".into(),
            personal: Personal {
                actor_id: None,
                subject_id: Some(PERSON),
                ip: Some("192.0.2.7".into()),
                user_agent: Some("Firefox".into()),
                detail: r#"{"to": true}"#.into(),
            },
            erased_as: None,
        }
    }

    /// `row` as sealed: its personal digest and its seal after the genesis.
    fn sealed(row: &Sealed) -> ([u8; 32], [u8; 32]) {
        let personal = digest::digest(&key().personal, row.id, &row.personal);
        (personal, link(&key(), &GENESIS, row, &personal))
    }

    #[test]
    fn every_sealed_field_and_the_previous_seal_count() {
        let (personal, base) = sealed(&row());
        assert_eq!(
            base,
            link(&key(), &GENESIS, &row(), &personal),
            "the same row, the same seal"
        );
        assert_ne!(base, link(&key(), &[1; 32], &row(), &personal));
        assert_ne!(base, link(&key(), &GENESIS, &row(), &[0; 32]));
        assert_ne!(
            base,
            link(&ChainKey::derive(&[4; 32]), &GENESIS, &row(), &personal),
            "another key"
        );
        let changes: [fn(&mut Sealed); 5] = [
            |r| r.id += 1,
            |r| r.at_micros += 1,
            |r| r.actor = None,
            |r| r.action.push('x'),
            |r| r.outcome = "failure".into(),
        ];
        for change in changes {
            let mut other = row();
            change(&mut other);
            assert_ne!(base, link(&key(), &GENESIS, &other, &personal));
        }
    }

    #[test]
    fn the_personal_columns_count_through_their_digest_alone() {
        let (personal, base) = sealed(&row());
        // The seal itself does not read them: erasing them leaves it as it was.
        let mut erased = row();
        erased.personal.ip = None;
        erased.personal.detail = "{}".into();
        assert_eq!(base, link(&key(), &GENESIS, &erased, &personal));
        // But a row not erased must give the digest it was sealed with.
        assert_eq!(personal_fault(&key(), &row(), &personal), None);
        assert_eq!(
            personal_fault(&key(), &erased, &personal),
            Some("its content was changed")
        );
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
        let personal = [9; 32];
        assert_ne!(
            link(&key(), &GENESIS, &one, &personal),
            link(&key(), &GENESIS, &two, &personal)
        );
    }

    #[test]
    fn the_two_keys_differ() {
        let key = key();
        assert_ne!(key.links, key.personal);
    }

    #[test]
    fn an_erased_row_is_checked_for_what_erasure_leaves() {
        let (personal, _) = sealed(&row());
        let mut erased = row();
        erased.erased_as = Some(PSEUDONYM);
        erased.personal.subject_id = Some(PSEUDONYM);
        erased.personal.ip = None;
        erased.personal.user_agent = None;
        erased.personal.detail = "{}".into();
        assert_eq!(personal_fault(&key(), &erased, &personal), None);

        let faults: [fn(&mut Sealed); 4] = [
            |r| r.personal.ip = Some("192.0.2.7".into()),
            |r| r.personal.user_agent = Some("Firefox".into()),
            |r| r.personal.subject_id = Some(PERSON),
            |r| r.erased_as = Some(Uuid::from_u128(1)),
        ];
        for fault in faults {
            let mut other = erased.clone();
            fault(&mut other);
            assert!(
                personal_fault(&key(), &other, &personal).is_some(),
                "{other:?}"
            );
        }
    }
}

//! Recovery codes: ten single-use codes that stand in for the authenticator app when it is
//! lost. Shown once when made; stored as HMAC-SHA-256 under a key derived from the master key
//! (each code carries 50 random bits). Making a new set kills the old one.

use crate::domain::privacy::{Erasure, Export, Table};
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// Codes in a set.
pub const SET_SIZE: usize = 10;
/// Characters of a code, without the dash: 10 × 5 bits.
const CODE_CHARS: usize = 10;
/// Crockford's base32: no I, L, O or U, so nothing is misread.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Hashes recovery codes (derived from the master key).
#[derive(Clone)]
pub struct RecoveryCodeKey([u8; 32]);

impl RecoveryCodeKey {
    pub fn derive(master: &[u8; 32]) -> Self {
        Self(crate::domain::master_key::derive(
            master,
            crate::domain::master_key::RECOVERY_CODES,
        ))
    }

    /// What is stored for `code` of `user_id` (as typed: case, spaces and dashes ignored).
    fn hash(&self, user_id: Uuid, code: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key size");
        mac.update(user_id.as_bytes());
        mac.update(normalise(code).as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

impl std::fmt::Debug for RecoveryCodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCodeKey([redacted])")
    }
}

/// A code as typed, reduced to its characters (lower case; spaces and dashes dropped; the
/// letters Crockford reads as digits read as those digits).
fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            c => c,
        })
        .collect()
}

/// One new code, shown as `xxxxx-xxxxx`.
fn new_code() -> String {
    let mut rng = rand::thread_rng();
    let chars: String = (0..CODE_CHARS)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

/// Replaces `user_id`'s recovery codes with a new set, returned for showing once.
pub async fn replace(
    conn: &mut PgConnection,
    key: &RecoveryCodeKey,
    user_id: Uuid,
) -> sqlx::Result<Vec<String>> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    let codes: Vec<String> = (0..SET_SIZE).map(|_| new_code()).collect();
    let hashes: Vec<Vec<u8>> = codes.iter().map(|c| key.hash(user_id, c)).collect();
    sqlx::query(
        "INSERT INTO recovery_codes (user_id, code_hash)
         SELECT $1, h FROM unnest($2::bytea[]) AS h ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(&hashes)
    .execute(&mut *conn)
    .await?;
    Ok(codes)
}

/// Uses up `code` of `user_id`: `Some(codes left)` when it was an unused code of theirs.
/// One statement, so the same code can never be used twice.
pub async fn use_code(
    conn: &mut PgConnection,
    key: &RecoveryCodeKey,
    user_id: Uuid,
    code: &str,
) -> sqlx::Result<Option<i64>> {
    let normalised = normalise(code);
    if normalised.len() != CODE_CHARS || !normalised.bytes().all(|b| ALPHABET.contains(&b)) {
        return Ok(None);
    }
    let used = sqlx::query(
        "UPDATE recovery_codes SET used_at = now()
         WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(key.hash(user_id, code))
    .execute(&mut *conn)
    .await?;
    if used.rows_affected() == 0 {
        return Ok(None);
    }
    Ok(Some(left(&mut *conn, user_id).await?))
}

/// How many unused codes `user_id` has.
pub async fn left(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .fetch_one(db)
        .await
}

/// Removes `user_id`'s recovery codes.
pub async fn remove(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "recovery_codes",
    person: Some("user_id"),
    personal: &["user_id", "code_hash"],
    other: &["used_at", "created_at"],
    export: Export::RowsWithout(&["code_hash"]),
    erasure: Erasure::Delete,
}];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_ten_characters_of_crockford_base32() {
        for _ in 0..50 {
            let code = new_code();
            assert_eq!(code.len(), 11);
            assert_eq!(&code[5..6], "-");
            assert!(normalise(&code).bytes().all(|b| ALPHABET.contains(&b)));
        }
    }

    #[test]
    fn a_code_hashes_the_same_however_it_is_typed() {
        let key = RecoveryCodeKey::derive(&[3; 32]);
        let user = Uuid::new_v4();
        let code = "ab1cd-0ef23";
        let expected = key.hash(user, code);
        assert_eq!(key.hash(user, "AB1CD 0EF23"), expected);
        assert_eq!(key.hash(user, "abIcdOef23"), expected);
        assert_ne!(key.hash(Uuid::new_v4(), code), expected);
        assert_ne!(RecoveryCodeKey::derive(&[4; 32]).hash(user, code), expected);
        assert_eq!(format!("{key:?}"), "RecoveryCodeKey([redacted])");
    }
}

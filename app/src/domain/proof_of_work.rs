//! Proof-of-work challenges, served from this site with no third party: issued signed (HMAC
//! under a key derived from the master key), bound to a purpose and the client's network, valid
//! ten minutes, and each accepted once (`spent_proofs`). The difficulties live here. The puzzle
//! itself, which the browser solves, is `model::proof_of_work`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgExecutor;
use time::OffsetDateTime;

use super::client::ClientInfo;
use crate::state::AppState;

use crate::domain::privacy::{Erasure, Export, Table};
use crate::model::proof_of_work::zero_bits;
pub use crate::model::proof_of_work::Challenge;

/// How long a challenge may be answered, in seconds.
pub const LIFETIME: i64 = 600;

/// The zero bits each puzzle asks for: every bit doubles the browser's work. An optimised
/// browser hashes a few million times a second, so 18 bits (262,144 hashes on average) cost a
/// person a fraction of a second once, and a bot that for every attempt.
pub mod bits {
    /// Every registration.
    pub const REGISTER: u8 = 18;
    /// Every password sign-in during a site-wide surge of failing passwords.
    pub const SURGE: u8 = 16;
    /// A password sign-in from a network past the stuffing threshold; one more bit for every
    /// further 10 failures, up to `STUFFING_MAX`.
    pub const STUFFING: u8 = 18;
    pub const STUFFING_MAX: u8 = 22;
}

/// What a challenge is for: an answer for one is refused for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Register,
    SignIn,
}

crate::text_enum!(Purpose {
    Register => "register",
    SignIn => "sign-in",
});

/// Signs challenges (derived from the master key).
#[derive(Clone)]
pub struct ProofKey([u8; 32]);

impl ProofKey {
    pub fn derive(master: &[u8; 32]) -> Self {
        Self(super::master_key::derive(
            master,
            super::master_key::PROOF_OF_WORK,
        ))
    }

    fn mac(&self, fields: &str, network: Option<&str>) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key size");
        mac.update(fields.as_bytes());
        mac.update(b"|");
        mac.update(network.unwrap_or_default().as_bytes());
        mac
    }
}

impl std::fmt::Debug for ProofKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProofKey([redacted])")
    }
}

/// Why an answer was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofRejection {
    #[error("no answer to the browser check")]
    Missing,
    #[error("the answer does not have the shape of one")]
    Malformed,
    #[error("the challenge was not issued here, for this network")]
    Forged,
    #[error("the challenge has expired")]
    Expired,
    #[error("the challenge was issued for something else")]
    WrongPurpose,
    #[error("the challenge is easier than what is asked now")]
    TooEasy,
    #[error("the answer does not solve the puzzle")]
    Unsolved,
    #[error("the answer was used before")]
    Spent,
}

/// A new challenge for `purpose` at `bits`, for a client in `network`.
pub fn issue(key: &ProofKey, purpose: Purpose, bits: u8, network: Option<&str>) -> Challenge {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let expires = OffsetDateTime::now_utc().unix_timestamp() + LIFETIME;
    let fields = format!(
        "{}.{bits}.{expires}.{}",
        purpose.as_str(),
        URL_SAFE_NO_PAD.encode(salt)
    );
    let mac = URL_SAFE_NO_PAD.encode(key.mac(&fields, network).finalize().into_bytes());
    Challenge {
        challenge: format!("{fields}.{mac}"),
        bits,
    }
}

/// An answer that passed [`check`]: what [`spend`] records.
#[derive(Debug)]
pub struct Checked {
    /// SHA-256 of the challenge (not of the answer: one challenge buys one use, whatever
    /// counter answers it).
    digest: [u8; 32],
    expires: i64,
}

/// Checks `answer` for `purpose` from a client in `network`, asking at least `min_bits`, at
/// `now` (seconds since the epoch). Pure: it does not record the use.
pub fn check(
    key: &ProofKey,
    answer: &str,
    purpose: Purpose,
    min_bits: u8,
    network: Option<&str>,
    now: i64,
) -> Result<Checked, ProofRejection> {
    if answer.is_empty() {
        return Err(ProofRejection::Missing);
    }
    let parts: Vec<&str> = answer.split('.').collect();
    let [for_what, bits, expires, salt, mac, counter] = parts[..] else {
        return Err(ProofRejection::Malformed);
    };
    let (Ok(bits), Ok(expires), Ok(_)) = (
        bits.parse::<u8>(),
        expires.parse::<i64>(),
        counter.parse::<u64>(),
    ) else {
        return Err(ProofRejection::Malformed);
    };
    let mac = URL_SAFE_NO_PAD
        .decode(mac)
        .map_err(|_| ProofRejection::Malformed)?;
    let fields = format!("{for_what}.{bits}.{expires}.{salt}");
    key.mac(&fields, network)
        .verify_slice(&mac)
        .map_err(|_| ProofRejection::Forged)?;
    if expires < now {
        return Err(ProofRejection::Expired);
    }
    if for_what != purpose.as_str() {
        return Err(ProofRejection::WrongPurpose);
    }
    if bits < min_bits {
        return Err(ProofRejection::TooEasy);
    }
    if zero_bits(answer) < u32::from(bits) {
        return Err(ProofRejection::Unsolved);
    }
    let challenge = &answer[..answer.len() - counter.len() - 1];
    Ok(Checked {
        digest: Sha256::digest(challenge.as_bytes()).into(),
        expires,
    })
}

/// Records a checked answer's challenge as used; `Spent` when it was used before.
pub async fn spend(
    db: impl PgExecutor<'_>,
    checked: &Checked,
) -> sqlx::Result<Result<(), ProofRejection>> {
    let inserted = sqlx::query(
        "INSERT INTO spent_proofs (digest, expires_at) VALUES ($1, to_timestamp($2))
         ON CONFLICT (digest) DO NOTHING",
    )
    .bind(checked.digest.as_slice())
    .bind(checked.expires as f64)
    .execute(db)
    .await?
    .rows_affected();
    Ok(if inserted == 1 {
        Ok(())
    } else {
        Err(ProofRejection::Spent)
    })
}

/// Checks `answer` now and spends it when it passes.
pub async fn accept(
    db: impl PgExecutor<'_>,
    key: &ProofKey,
    answer: &str,
    purpose: Purpose,
    min_bits: u8,
    network: Option<&str>,
) -> sqlx::Result<Result<(), ProofRejection>> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    match check(key, answer, purpose, min_bits, network, now) {
        Ok(checked) => spend(db, &checked).await,
        Err(rejection) => Ok(Err(rejection)),
    }
}

/// Whether a registration from `client` brought a good `answer` (spending it). Without one it
/// still goes ahead, under tighter limits: a browser without JavaScript cannot solve anything.
pub async fn registration_proven(
    state: &AppState,
    client: &ClientInfo,
    answer: &str,
) -> sqlx::Result<bool> {
    let network = client.network();
    let verdict = accept(
        &state.db,
        &state.proof_key,
        answer,
        Purpose::Register,
        bits::REGISTER,
        network.as_deref(),
    )
    .await?;
    match verdict {
        Err(ProofRejection::Missing) | Ok(()) => {}
        Err(rejection) => tracing::info!(%rejection, "registration's proof of work refused"),
    }
    Ok(verdict.is_ok())
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[Table {
    name: "spent_proofs",
    person: None,
    personal: &[],
    other: &["digest", "expires_at"],
    export: Export::Not("holds nothing about people"),
    erasure: Erasure::Nothing,
}];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::proof_of_work::{answer as answer_of, search};

    const NET: Option<&str> = Some("203.0.113.0/24");

    fn key() -> ProofKey {
        ProofKey::derive(&[7; 32])
    }

    fn solved(c: &Challenge) -> String {
        answer_of(&c.challenge, search(c, 0, 1 << 24).unwrap())
    }

    fn now() -> i64 {
        OffsetDateTime::now_utc().unix_timestamp()
    }

    #[test]
    fn a_solved_challenge_passes_for_its_purpose_and_network() {
        let c = issue(&key(), Purpose::Register, 8, NET);
        let a = solved(&c);
        assert!(check(&key(), &a, Purpose::Register, 8, NET, now()).is_ok());
    }

    #[test]
    fn every_way_of_cheating_is_refused_with_its_reason() {
        let k = key();
        let c = issue(&k, Purpose::Register, 8, NET);
        let a = solved(&c);
        let check_now = |answer: &str, purpose, bits, network| {
            check(&k, answer, purpose, bits, network, now()).map(|_| ())
        };
        assert_eq!(
            check_now("", Purpose::Register, 8, NET),
            Err(ProofRejection::Missing)
        );
        assert_eq!(
            check_now("a.b.c", Purpose::Register, 8, NET),
            Err(ProofRejection::Malformed)
        );
        // Another key, another network, or an edited difficulty: the signature fails.
        assert_eq!(
            check(
                &ProofKey::derive(&[8; 32]),
                &a,
                Purpose::Register,
                8,
                NET,
                now()
            )
            .map(|_| ()),
            Err(ProofRejection::Forged)
        );
        assert_eq!(
            check_now(&a, Purpose::Register, 8, Some("198.51.100.0/24")),
            Err(ProofRejection::Forged)
        );
        let easier = a.replacen("register.8.", "register.1.", 1);
        assert_eq!(
            check_now(&easier, Purpose::Register, 1, NET),
            Err(ProofRejection::Forged)
        );
        assert_eq!(
            check_now(&a, Purpose::SignIn, 8, NET),
            Err(ProofRejection::WrongPurpose)
        );
        assert_eq!(
            check_now(&a, Purpose::Register, 9, NET),
            Err(ProofRejection::TooEasy)
        );
        assert_eq!(
            check(&k, &a, Purpose::Register, 8, NET, now() + LIFETIME + 1).map(|_| ()),
            Err(ProofRejection::Expired)
        );
    }

    #[test]
    fn an_unsolved_counter_is_refused() {
        let c = issue(&key(), Purpose::SignIn, 12, NET);
        let wrong = (0u64..)
            .find(|n| zero_bits(&answer_of(&c.challenge, *n)) < 12)
            .unwrap();
        let a = answer_of(&c.challenge, wrong);
        assert_eq!(
            check(&key(), &a, Purpose::SignIn, 12, NET, now()).map(|_| ()),
            Err(ProofRejection::Unsolved)
        );
    }

    #[test]
    fn two_answers_to_one_challenge_spend_the_same_challenge() {
        let c = issue(&key(), Purpose::SignIn, 4, NET);
        let first = search(&c, 0, 1 << 20).unwrap();
        let second = search(&c, first + 1, 1 << 20).unwrap();
        let d1 = check(
            &key(),
            &answer_of(&c.challenge, first),
            Purpose::SignIn,
            4,
            NET,
            now(),
        );
        let d2 = check(
            &key(),
            &answer_of(&c.challenge, second),
            Purpose::SignIn,
            4,
            NET,
            now(),
        );
        assert_eq!(d1.unwrap().digest, d2.unwrap().digest);
    }
}

//! Password policy (NIST 800-63B: length, common-password and strength checks) and argon2id
//! hashing on a bounded blocking pool.

use std::{
    fmt,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher as _, SaltString},
    Algorithm, Argon2, Params, PasswordVerifier, Version,
};
use tokio::sync::Semaphore;
use zxcvbn::{feedback::Warning, Score};

use crate::model::password::StrengthReading;

/// Shortest password any policy accepts (NIST 800-63B §3.1.1.2).
pub const MIN_LEN: usize = 8;
/// Longest password accepted: long enough for any passphrase, short enough to bound hashing work.
pub const MAX_LEN: usize = 128;
/// Lowest zxcvbn score any policy accepts (3: "safely unguessable", about 10^10 guesses).
const MIN_SCORE: Score = Score::Three;

/// What the business asks of new passwords (its settings), never below the floors above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_len: usize,
    /// The lowest zxcvbn score accepted, 3 or 4.
    pub min_score: u8,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_len: MIN_LEN,
            min_score: MIN_SCORE as u8,
        }
    }
}

/// A password a user typed. Never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(raw: String) -> Self {
        Self(raw)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// A password that passed the policy: fit to be hashed and stored.
#[derive(Clone, Debug)]
pub struct NewPassword(Password);

impl NewPassword {
    /// Checks `raw` against `policy`. `context` holds words about the user (email, name) that
    /// a password must not lean on.
    pub fn parse(
        raw: String,
        context: &[&str],
        policy: &PasswordPolicy,
    ) -> Result<Self, PasswordRejection> {
        let chars = raw.chars().count();
        let min_len = policy.min_len.max(MIN_LEN);
        if chars == 0 {
            return Err(PasswordRejection::Empty);
        }
        if chars < min_len {
            return Err(PasswordRejection::TooShort(min_len));
        }
        if chars > MAX_LEN {
            return Err(PasswordRejection::TooLong);
        }
        let assessment = assess(&raw, context);
        if assessment.common {
            return Err(PasswordRejection::Common);
        }
        if assessment.score < policy.min_score.max(MIN_SCORE as u8) {
            return Err(PasswordRejection::Weak(assessment.hint));
        }
        Ok(Self(Password(raw)))
    }

    pub fn as_password(&self) -> &Password {
        &self.0
    }
}

/// Why a new password was refused; the message is shown next to the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRejection {
    #[error("Choose a password.")]
    Empty,
    #[error("Use at least {0} characters.")]
    TooShort(usize),
    #[error("Use at most {MAX_LEN} characters.")]
    TooLong,
    #[error("This password is on the list of commonly used passwords. Choose another.")]
    Common,
    #[error("This password is too easy to guess. {0}")]
    Weak(String),
}

struct Assessment {
    score: u8,
    common: bool,
    hint: String,
}

fn assess(raw: &str, context: &[&str]) -> Assessment {
    let entropy = zxcvbn::zxcvbn(raw, context);
    let feedback = entropy.feedback();
    let warning = feedback.and_then(|f| f.warning());
    let common = matches!(
        warning,
        Some(
            Warning::ThisIsATop10Password
                | Warning::ThisIsATop100Password
                | Warning::ThisIsACommonPassword
                | Warning::ThisIsSimilarToACommonlyUsedPassword
        )
    );
    let mut hint: Vec<String> = Vec::new();
    if let Some(w) = warning {
        hint.push(w.to_string());
    }
    if let Some(f) = feedback {
        hint.extend(f.suggestions().iter().map(ToString::to_string));
    }
    if hint.is_empty() {
        hint.push("Add more words or characters.".into());
    }
    Assessment {
        score: entropy.score() as u8,
        common,
        hint: hint.join(" "),
    }
}

/// The strength meter's reading of a password being typed; the policy decides on submit.
pub fn strength(raw: &str, context: &[&str], policy: &PasswordPolicy) -> StrengthReading {
    if raw.is_empty() {
        return StrengthReading {
            score: 0,
            acceptable: false,
            message: String::new(),
        };
    }
    let verdict = NewPassword::parse(raw.to_owned(), context, policy);
    let score = assess(raw, context).score;
    StrengthReading {
        score,
        acceptable: verdict.is_ok(),
        message: match verdict {
            Ok(_) => "Strong enough.".into(),
            Err(rejection) => rejection.to_string(),
        },
    }
}

/// Outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Mismatch,
    Match,
    /// Correct, but hashed with older parameters: store a fresh hash.
    MatchNeedsRehash,
}

/// Hashes and verifies passwords with argon2id (OWASP: m=19456 KiB, t=2, p=1) on tokio's
/// blocking pool, never more at once than `permits` so a burst of sign-ins cannot starve the
/// machine of memory or threads. How many run and wait is kept for the metrics ([`HashingLoad`]).
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// The permits there are.
    slots: usize,
    /// Hashes waiting for a permit.
    waiting: Arc<AtomicUsize>,
    params: Params,
    dummy_hash: Arc<str>,
}

/// What the hasher is doing at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingLoad {
    /// Hashes running now.
    pub in_progress: usize,
    /// Hashes waiting for a free slot.
    pub waiting: usize,
}

/// Ends one hash's wait when dropped (a request given up while it waits included).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl PasswordHasher {
    /// A hasher allowing `concurrency` hashes at once.
    pub fn new(concurrency: usize) -> anyhow::Result<Self> {
        let params = Params::new(19_456, 2, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let dummy_hash = hash_with(&params, "not a real password: timing equaliser")?;
        let slots = concurrency.max(1);
        Ok(Self {
            permits: Arc::new(Semaphore::new(slots)),
            slots,
            waiting: Arc::new(AtomicUsize::new(0)),
            params,
            dummy_hash: dummy_hash.into(),
        })
    }

    /// Hashes a password that passed the policy.
    pub async fn hash(&self, password: &NewPassword) -> anyhow::Result<String> {
        let params = self.params.clone();
        let secret = password.as_password().clone();
        self.run(move || hash_with(&params, secret.expose())).await
    }

    /// Checks `password` against `stored`. With no stored hash (unknown user, no password set)
    /// it verifies against a dummy hash so the answer takes as long as a real one.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&str>,
    ) -> anyhow::Result<Verification> {
        let known = stored.is_some();
        let hash = stored.unwrap_or(&self.dummy_hash).to_owned();
        let params = self.params.clone();
        let secret = password.clone();
        self.run(move || {
            use super::imported_hashes::{self, Scheme};
            if let Some(Scheme::Bcrypt | Scheme::Scrypt | Scheme::Pbkdf2) =
                imported_hashes::scheme(&hash)
            {
                // An imported hash: a match is stored again as argon2id.
                let ok = imported_hashes::verify_other(&hash, secret.expose())?;
                return Ok(if known && ok {
                    Verification::MatchNeedsRehash
                } else {
                    Verification::Mismatch
                });
            }
            let parsed = PasswordHash::new(&hash)
                .map_err(|e| anyhow::anyhow!("stored password hash is unreadable: {e}"))?;
            let ok = argon(&params)
                .verify_password(secret.expose().as_bytes(), &parsed)
                .is_ok();
            Ok(match (known && ok, needs_rehash(&parsed, &params)) {
                (false, _) => Verification::Mismatch,
                (true, false) => Verification::Match,
                (true, true) => Verification::MatchNeedsRehash,
            })
        })
        .await
    }

    /// How many hashes run and wait now.
    pub fn load(&self) -> HashingLoad {
        HashingLoad {
            in_progress: self.slots.saturating_sub(self.permits.available_permits()),
            waiting: self.waiting.load(Ordering::Relaxed),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = {
            self.waiting.fetch_add(1, Ordering::Relaxed);
            let _waiting = Waiting(&self.waiting);
            self.permits.acquire().await?
        };
        tokio::task::spawn_blocking(work).await?
    }
}

fn argon(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_with(params: &Params, password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon(params)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

fn needs_rehash(hash: &PasswordHash<'_>, wanted: &Params) -> bool {
    let Ok(current) = Params::try_from(hash) else {
        return true;
    };
    hash.algorithm != Algorithm::Argon2id.ident()
        || current.m_cost() != wanted.m_cost()
        || current.t_cost() != wanted.t_cost()
        || current.p_cost() != wanted.p_cost()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_passwords_are_refused() {
        let err =
            NewPassword::parse("Tr0ub4!".into(), &[], &PasswordPolicy::default()).unwrap_err();
        assert_eq!(err, PasswordRejection::TooShort(MIN_LEN));
    }

    #[test]
    fn overlong_passwords_are_refused() {
        let err = NewPassword::parse("x".repeat(MAX_LEN + 1), &[], &PasswordPolicy::default())
            .unwrap_err();
        assert_eq!(err, PasswordRejection::TooLong);
    }

    #[test]
    fn common_passwords_are_refused_even_when_long_enough() {
        for common in ["password", "12345678", "iloveyou", "Password1"] {
            let err =
                NewPassword::parse(common.into(), &[], &PasswordPolicy::default()).unwrap_err();
            assert_eq!(err, PasswordRejection::Common, "{common}");
        }
    }

    #[test]
    fn guessable_passwords_are_refused_with_a_hint() {
        let err = NewPassword::parse(
            "ada@example.org1".into(),
            &["ada@example.org"],
            &PasswordPolicy::default(),
        )
        .unwrap_err();
        assert!(matches!(err, PasswordRejection::Weak(_)), "{err:?}");
    }

    #[test]
    fn a_long_passphrase_is_accepted() {
        assert!(NewPassword::parse(
            "violet tractor sings at dawn".into(),
            &[],
            &PasswordPolicy::default()
        )
        .is_ok());
    }

    #[test]
    fn passwords_never_print() {
        let p = Password::new("hunter2hunter2".into());
        assert_eq!(format!("{p:?}"), "Password([redacted])");
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let hasher = PasswordHasher::new(2).unwrap();
        let pw = NewPassword::parse(
            "violet tractor sings at dawn".into(),
            &[],
            &PasswordPolicy::default(),
        )
        .unwrap();
        let hash = hasher.hash(&pw).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let ok = hasher.verify(pw.as_password(), Some(&hash)).await.unwrap();
        assert_eq!(ok, Verification::Match);
        let wrong = Password::new("violet tractor sings at dusk".into());
        assert_eq!(
            hasher.verify(&wrong, Some(&hash)).await.unwrap(),
            Verification::Mismatch
        );
        assert_eq!(
            hasher.verify(pw.as_password(), None).await.unwrap(),
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn the_load_counts_hashes_running_and_waiting() {
        let hasher = PasswordHasher::new(1).unwrap();
        let load = |h: &PasswordHasher| (h.load().in_progress, h.load().waiting);
        let held = hasher.permits.clone().acquire_owned().await.unwrap();
        let policy = PasswordPolicy::default();
        let pw = NewPassword::parse("violet tractor sings at dawn".into(), &[], &policy).unwrap();
        let queued = hasher.clone();
        let hashing = tokio::spawn(async move { queued.hash(&pw).await });
        while hasher.load().waiting == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(load(&hasher), (1, 1));
        hashing.abort();
        let _ = hashing.await;
        assert_eq!(load(&hasher), (1, 0), "a hash given up waits no more");
        drop(held);
        assert_eq!(load(&hasher), (0, 0));
    }

    #[tokio::test]
    async fn a_hash_with_old_parameters_asks_for_a_rehash() {
        let hasher = PasswordHasher::new(1).unwrap();
        let old = Params::new(8_192, 1, 1, None).unwrap();
        let hash = hash_with(&old, "violet tractor sings at dawn").unwrap();
        let pw = Password::new("violet tractor sings at dawn".into());
        assert_eq!(
            hasher.verify(&pw, Some(&hash)).await.unwrap(),
            Verification::MatchNeedsRehash
        );
    }

    #[test]
    fn a_stricter_policy_asks_more_and_none_asks_less_than_the_floor() {
        let strict = PasswordPolicy {
            min_len: 30,
            min_score: 4,
        };
        let err = NewPassword::parse("violet tractor sings at dawn".into(), &[], &strict);
        assert_eq!(err.unwrap_err(), PasswordRejection::TooShort(30));
        let lax = PasswordPolicy {
            min_len: 4,
            min_score: 1,
        };
        let err = NewPassword::parse("Tr0ub4!".into(), &[], &lax).unwrap_err();
        assert_eq!(err, PasswordRejection::TooShort(MIN_LEN));
        assert!(NewPassword::parse("password1".into(), &[], &lax).is_err());
    }
}

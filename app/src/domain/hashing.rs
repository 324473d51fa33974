//! Password hashing: argon2id (OWASP: m=19456 KiB, t=2, p=1) on tokio's blocking pool, never more
//! at once than its slots. Each running hash borrows one of at most `slots` working memories
//! (19 MiB each), kept and reused hash after hash: what a node holds for hashing is bounded by
//! the slots whatever its allocator keeps, and no hash pays for faulting in fresh pages. At most
//! `queue` hashes wait for a slot; one more is refused at once ([`HashingError::Busy`], which the
//! API answers with 503 and `Retry-After`), so an overload is shed early instead of making every
//! sign-in wait. How many hashes run and wait is kept for the metrics ([`HashingLoad`]).

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc, Mutex, PoisonError,
};

use argon2::{
    password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};
use tokio::sync::Semaphore;

use super::password::{NewPassword, Password};

/// Outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Mismatch,
    Match,
    /// Correct, but hashed with older parameters: store a fresh hash.
    MatchNeedsRehash,
}

/// Why a hash did not run.
#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    /// Every slot is busy and the queue is full: come back in a moment.
    #[error("every hashing slot is busy and the queue is full")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// The argon2id cost every password is hashed with (OWASP): memory in KiB, passes, lanes.
pub const MEMORY_KIB: u32 = 19_456;
pub const PASSES: u32 = 2;
pub const LANES: u32 = 1;

/// Hashes and verifies passwords (see the module's comment).
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// The permits there are.
    slots: usize,
    /// Hashes waiting for a permit.
    waiting: Arc<AtomicUsize>,
    /// The most hashes that may wait for a permit.
    queue: usize,
    /// Working memories not in use now; a hash holds one while it runs, so there are never more
    /// than `slots`.
    memories: Arc<Mutex<Vec<Vec<Block>>>>,
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
    /// A hasher allowing `concurrency` hashes at once, and any number to wait (see
    /// [`Self::with_queue`]).
    pub fn new(concurrency: usize) -> anyhow::Result<Self> {
        let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let mut memory = vec![Block::default(); params.block_count()];
        let dummy_hash = hash_into(
            &params,
            "not a real password: timing equaliser",
            &mut memory,
        )?;
        let slots = concurrency.max(1);
        Ok(Self {
            permits: Arc::new(Semaphore::new(slots)),
            slots,
            waiting: Arc::new(AtomicUsize::new(0)),
            queue: usize::MAX,
            memories: Arc::new(Mutex::new(vec![memory])),
            params,
            dummy_hash: dummy_hash.into(),
        })
    }

    /// This hasher with at most `queue` hashes waiting for a slot; more are refused as busy.
    pub fn with_queue(mut self, queue: usize) -> Self {
        self.queue = queue;
        self
    }

    /// Hashes a password that passed the policy.
    pub async fn hash(&self, password: &NewPassword) -> Result<String, HashingError> {
        let params = self.params.clone();
        let secret = password.as_password().clone();
        self.run(move |memory| hash_into(&params, secret.expose(), memory))
            .await
    }

    /// Checks `password` against `stored`. With no stored hash (unknown user, no password set)
    /// it verifies against a dummy hash so the answer takes as long as a real one.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&str>,
    ) -> Result<Verification, HashingError> {
        let known = stored.is_some();
        let hash = stored.unwrap_or(&self.dummy_hash).to_owned();
        let params = self.params.clone();
        let secret = password.clone();
        self.run(move |memory| {
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
            let ok = verify_into(&parsed, secret.expose(), memory)?;
            Ok(match (known && ok, needs_rehash(&parsed, &params)) {
                (false, _) => Verification::Mismatch,
                (true, false) => Verification::Match,
                (true, true) => Verification::MatchNeedsRehash,
            })
        })
        .await
    }

    /// Whether a hash asked for now would be refused as busy: every slot taken and the queue
    /// full. A caller with work to do before its hash asks first, so that what is shed costs
    /// nothing (the hash itself still checks).
    pub fn saturated(&self) -> bool {
        self.permits.available_permits() == 0 && self.waiting.load(Ordering::Relaxed) >= self.queue
    }

    /// How many hashes run and wait now.
    pub fn load(&self) -> HashingLoad {
        HashingLoad {
            in_progress: self.slots.saturating_sub(self.permits.available_permits()),
            waiting: self.waiting.load(Ordering::Relaxed),
        }
    }

    /// Runs `work` on the blocking pool once a slot is free, with a working memory; busy when
    /// no slot is free and the queue is full. The slot is held until `work` ends, even when the
    /// request that asked is given up meanwhile, so no more than `slots` hashes (and memories)
    /// are ever in use.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut [Block]) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, HashingError> {
        let closed = |e| HashingError::Failed(anyhow::anyhow!("hashing slots: {e}"));
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(tokio::sync::TryAcquireError::Closed) => {
                return Err(HashingError::Failed(anyhow::anyhow!(
                    "hashing slots closed"
                )))
            }
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                let ahead = self.waiting.fetch_add(1, Ordering::Relaxed);
                let _waiting = Waiting(&self.waiting);
                if ahead >= self.queue {
                    return Err(HashingError::Busy);
                }
                self.permits.clone().acquire_owned().await.map_err(closed)?
            }
        };
        let memories = self.memories.clone();
        let blocks = self.params.block_count();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let taken = memories
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let mut memory = taken.unwrap_or_else(|| vec![Block::default(); blocks]);
            let result = work(&mut memory);
            memories
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(memory);
            result
        })
        .await
        .map_err(|e| HashingError::Failed(anyhow::anyhow!("hashing task: {e}")))?
        .map_err(HashingError::Failed)
    }
}

/// A fresh argon2id hash of `password` in the PHC string format, worked out in `memory`.
fn hash_into(params: &Params, password: &str, memory: &mut [Block]) -> anyhow::Result<String> {
    let failed = |e: &dyn std::fmt::Display| anyhow::anyhow!("hashing failed: {e}");
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let raw_salt = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|e| failed(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), raw_salt, &mut out, memory)
        .map_err(|e| failed(&e))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(hash.to_string())
}

/// Whether `password` is the one `stored` (an argon2 PHC hash) was made from, worked out in
/// `memory` (or, for a hash made with more memory than it has, in memory of its own). The
/// outputs are compared in constant time.
fn verify_into(
    stored: &PasswordHash<'_>,
    password: &str,
    memory: &mut [Block],
) -> anyhow::Result<bool> {
    let unreadable =
        |e: &dyn std::fmt::Display| anyhow::anyhow!("stored password hash is unreadable: {e}");
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
        return Err(unreadable(&"no salt or no output"));
    };
    let algorithm = Algorithm::try_from(stored.algorithm).map_err(|e| unreadable(&e))?;
    let version = stored
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| unreadable(&e))?
        .unwrap_or_default();
    let params = Params::try_from(stored).map_err(|e| unreadable(&e))?;
    let mut salt_bytes = [0u8; 64];
    let raw_salt = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| unreadable(&e))?;
    let mut out = vec![0u8; expected.len()];
    let mut own;
    let memory = if params.block_count() <= memory.len() {
        memory
    } else {
        own = vec![Block::default(); params.block_count()];
        &mut own[..]
    };
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), raw_salt, &mut out, memory)
        .map_err(|e| unreadable(&e))?;
    let computed = Output::new(&out).map_err(|e| unreadable(&e))?;
    Ok(computed == expected)
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
    use argon2::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;
    use crate::domain::password::PasswordPolicy;

    const PHRASE: &str = "violet tractor sings at dawn";

    fn new_password() -> NewPassword {
        NewPassword::parse(PHRASE.into(), &[], &PasswordPolicy::default()).unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let hasher = PasswordHasher::new(2).unwrap();
        let pw = new_password();
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
    async fn hashes_made_here_and_by_the_argon2_crate_check_each_other() {
        let hasher = PasswordHasher::new(1).unwrap();
        let ours = hasher.hash(&new_password()).await.unwrap();
        let stock = Argon2::new(Algorithm::Argon2id, Version::V0x13, hasher.params.clone());
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(stock.verify_password(PHRASE.as_bytes(), &parsed).is_ok());
        assert!(stock.verify_password(b"violet tractor", &parsed).is_err());

        let salt = SaltString::generate(&mut OsRng);
        let theirs = stock
            .hash_password(PHRASE.as_bytes(), &salt)
            .unwrap()
            .to_string();
        let pw = Password::new(PHRASE.into());
        assert_eq!(
            hasher.verify(&pw, Some(&theirs)).await.unwrap(),
            Verification::Match
        );
    }

    #[tokio::test]
    async fn the_load_counts_hashes_running_and_waiting() {
        let hasher = PasswordHasher::new(1).unwrap();
        let load = |h: &PasswordHasher| (h.load().in_progress, h.load().waiting);
        let held = hasher.permits.clone().acquire_owned().await.unwrap();
        let pw = new_password();
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
    async fn beyond_the_queue_a_hash_is_refused_at_once_as_busy() {
        let hasher = PasswordHasher::new(1).unwrap().with_queue(1);
        let held = hasher.permits.clone().acquire_owned().await.unwrap();
        let pw = Password::new(PHRASE.into());
        let queued = hasher.clone();
        let first = tokio::spawn({
            let pw = pw.clone();
            async move { queued.verify(&pw, None).await }
        });
        while hasher.load().waiting == 0 {
            tokio::task::yield_now().await;
        }
        assert!(hasher.saturated());
        assert!(matches!(
            hasher.verify(&pw, None).await,
            Err(HashingError::Busy)
        ));
        assert_eq!(hasher.load().waiting, 1, "the refused hash does not count");
        drop(held);
        assert_eq!(first.await.unwrap().unwrap(), Verification::Mismatch);
        assert!(!hasher.saturated());
        // With a slot free again, the next one runs.
        assert_eq!(
            hasher.verify(&pw, None).await.unwrap(),
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn working_memories_are_reused_and_never_more_than_the_slots() {
        let hasher = PasswordHasher::new(2).unwrap();
        let pw = Password::new(PHRASE.into());
        let checks: Vec<_> = (0..6)
            .map(|_| {
                let (hasher, pw) = (hasher.clone(), pw.clone());
                tokio::spawn(async move { hasher.verify(&pw, None).await })
            })
            .collect();
        for check in checks {
            assert_eq!(check.await.unwrap().unwrap(), Verification::Mismatch);
        }
        let kept = hasher.memories.lock().unwrap().len();
        assert!((1..=2).contains(&kept), "{kept} memories kept for 2 slots");
    }

    #[tokio::test]
    async fn a_hash_with_old_parameters_asks_for_a_rehash() {
        let hasher = PasswordHasher::new(1).unwrap();
        let pw = Password::new(PHRASE.into());
        // Less memory than now, and more (worked out in memory of its own).
        for m_cost in [8_192, 32_768] {
            let old = Params::new(m_cost, 1, 1, None).unwrap();
            let mut memory = vec![Block::default(); old.block_count()];
            let hash = hash_into(&old, PHRASE, &mut memory).unwrap();
            assert_eq!(
                hasher.verify(&pw, Some(&hash)).await.unwrap(),
                Verification::MatchNeedsRehash,
                "m={m_cost}"
            );
        }
    }
}

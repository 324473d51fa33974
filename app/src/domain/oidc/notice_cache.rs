//! A per-node cache of database rows that is trusted only while change notices arrive: a
//! worker LISTENs for the channel a trigger notifies and forgets entries as notices name them;
//! losing the connection empties the cache and turns it off, so that a changed or deleted row is
//! never served from memory after the change is known.

use std::{
    collections::HashMap,
    future::Future,
    hash::Hash,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, RwLock,
    },
    time::{Duration, Instant},
};

/// An entry is read again after this long even without a notice.
const MAX_AGE: Duration = Duration::from_secs(300);

#[derive(Debug)]
pub struct NoticeCache<K, V> {
    entries: RwLock<HashMap<K, (Instant, Arc<V>)>>,
    /// Bumped by every forget, so a load that raced a change does not store a stale row.
    generation: AtomicU64,
    /// Whether notices are being received (otherwise every lookup loads).
    listening: AtomicBool,
    /// More entries than this and the cache starts over (it never grows without bound).
    max_entries: usize,
}

impl<K: Eq + Hash + Clone, V> NoticeCache<K, V> {
    pub fn new(max_entries: usize) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            listening: AtomicBool::new(false),
            max_entries,
        }
    }

    /// The entry for `key`: from memory while listening, otherwise (or when missing) by `load`.
    pub async fn get_or_load<F, Fut>(&self, key: &K, load: F) -> sqlx::Result<Option<Arc<V>>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = sqlx::Result<Option<V>>>,
    {
        let listening = self.listening.load(Ordering::Acquire);
        if listening {
            let entries = self.entries.read().expect("notice cache lock");
            if let Some((at, value)) = entries.get(key) {
                if at.elapsed() < MAX_AGE {
                    return Ok(Some(value.clone()));
                }
            }
        }
        let generation = self.generation.load(Ordering::Acquire);
        let Some(value) = load().await?.map(Arc::new) else {
            return Ok(None);
        };
        if listening {
            let mut entries = self.entries.write().expect("notice cache lock");
            if self.generation.load(Ordering::Acquire) == generation {
                if entries.len() >= self.max_entries {
                    entries.clear();
                }
                entries.insert(key.clone(), (Instant::now(), value.clone()));
            }
        }
        Ok(Some(value))
    }

    /// Whether lookups may be answered from memory.
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// Forgets `key` (a notice named it).
    pub fn forget(&self, key: &K) {
        let mut entries = self.entries.write().expect("notice cache lock");
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(key);
    }

    /// Forgets every entry (a notice named none in particular).
    pub fn clear(&self) {
        let mut entries = self.entries.write().expect("notice cache lock");
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    /// Records whether change notices are arriving; either way the cache starts empty.
    pub fn set_listening(&self, listening: bool) {
        self.clear();
        self.listening.store(listening, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(cache: &NoticeCache<u32, u32>, key: u32, value: u32) -> u32 {
        *cache
            .get_or_load(&key, || async move { Ok(Some(value)) })
            .await
            .unwrap()
            .unwrap()
    }

    #[tokio::test]
    async fn serves_from_memory_only_while_listening_and_until_forgotten() {
        let cache = NoticeCache::new(10);
        assert_eq!(get(&cache, 1, 10).await, 10);
        assert_eq!(get(&cache, 1, 11).await, 11, "not listening: always loads");
        cache.set_listening(true);
        assert_eq!(get(&cache, 1, 12).await, 12);
        assert_eq!(get(&cache, 1, 13).await, 12, "listening: from memory");
        cache.forget(&1);
        assert_eq!(get(&cache, 1, 14).await, 14);
        cache.set_listening(false);
        assert_eq!(get(&cache, 1, 15).await, 15);
    }

    #[tokio::test]
    async fn never_holds_more_than_its_limit() {
        let cache = NoticeCache::new(3);
        cache.set_listening(true);
        for key in 0..10 {
            get(&cache, key, key).await;
        }
        assert!(cache.entries.read().unwrap().len() <= 3);
    }
}

//! The registered clients the app-facing endpoints (token, PAR, introspection, revocation)
//! look up on every request, kept in memory per node. The cache is only used while this node
//! listens for `oauth_clients_changed` (a trigger sends it on any change to `oauth_clients`):
//! every notice, and every loss of the listening connection, empties it, so a changed or
//! deleted client is never served from memory after the change is known.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, RwLock,
    },
    time::{Duration, Instant},
};

use sqlx::PgPool;

use super::clients::{self, Client};

/// The channel the trigger notifies.
pub const CHANNEL: &str = "oauth_clients_changed";
/// An entry is re-read after this long even without a notice.
const MAX_AGE: Duration = Duration::from_secs(300);
/// More distinct clients than this and the cache starts over (it never grows without bound).
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Default)]
pub struct ClientCache {
    entries: RwLock<HashMap<String, (Instant, Arc<Client>)>>,
    /// Bumped by every clear, so a lookup that raced a change does not store a stale row.
    generation: AtomicU64,
    /// Whether notices are being received (otherwise every lookup reads the database).
    listening: AtomicBool,
}

impl ClientCache {
    /// The client `id`, if registered.
    pub async fn get(&self, db: &PgPool, id: &str) -> sqlx::Result<Option<Arc<Client>>> {
        let listening = self.listening.load(Ordering::Acquire);
        if listening {
            let entries = self.entries.read().expect("client cache lock");
            if let Some((at, client)) = entries.get(id) {
                if at.elapsed() < MAX_AGE {
                    return Ok(Some(client.clone()));
                }
            }
        }
        let generation = self.generation.load(Ordering::Acquire);
        let Some(client) = clients::find(db, id).await?.map(Arc::new) else {
            return Ok(None);
        };
        if listening {
            let mut entries = self.entries.write().expect("client cache lock");
            if self.generation.load(Ordering::Acquire) == generation {
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
                entries.insert(id.to_owned(), (Instant::now(), client.clone()));
            }
        }
        Ok(Some(client))
    }

    /// Forgets every client (a change was announced).
    pub fn clear(&self) {
        let mut entries = self.entries.write().expect("client cache lock");
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    /// Records whether change notices are arriving; either way the cache starts empty.
    pub fn set_listening(&self, listening: bool) {
        self.clear();
        self.listening.store(listening, Ordering::Release);
    }
}

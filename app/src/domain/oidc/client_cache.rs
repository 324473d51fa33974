//! The registered clients the app-facing endpoints (token, PAR, introspection, revocation)
//! look up on every request, kept in memory per node while it listens for
//! `oauth_clients_changed` (a trigger sends it on any change to `oauth_clients`); each notice
//! empties the cache.

use std::sync::Arc;

use sqlx::PgPool;

use super::{
    clients::{self, Client},
    notice_cache::NoticeCache,
};

/// The channel the trigger notifies.
pub const CHANNEL: &str = "oauth_clients_changed";
/// The most distinct clients held at once.
const MAX_ENTRIES: usize = 10_000;

pub type ClientCache = NoticeCache<String, Client>;

impl Default for ClientCache {
    fn default() -> Self {
        Self::new(MAX_ENTRIES)
    }
}

impl ClientCache {
    /// The client `id`, if registered.
    pub async fn get(&self, db: &PgPool, id: &str) -> sqlx::Result<Option<Arc<Client>>> {
        self.get_or_load(&id.to_owned(), || clients::find(db, id))
            .await
    }
}

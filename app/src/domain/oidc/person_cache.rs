//! The people whose claims ID tokens and userinfo carry, kept in memory per node while it
//! listens for `user_changed` (a trigger sends the id of every updated or deleted `users` row):
//! each notice forgets that person, so a changed name, address or phone is read afresh.

use std::sync::Arc;

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::notice_cache::NoticeCache;

/// The channel the trigger notifies (payload: the user id, or empty for everyone).
pub const CHANNEL: &str = "user_changed";
/// The most people held at once.
const MAX_ENTRIES: usize = 100_000;

/// What claims are made of.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Person {
    pub email: String,
    pub email_verified_at: Option<OffsetDateTime>,
    pub display_name: String,
    pub phone: Option<String>,
}

pub type PersonCache = NoticeCache<Uuid, Person>;

impl Default for PersonCache {
    fn default() -> Self {
        Self::new(MAX_ENTRIES)
    }
}

impl PersonCache {
    /// The person `id`, if the account exists.
    pub async fn get(&self, db: &PgPool, id: Uuid) -> sqlx::Result<Option<Arc<Person>>> {
        self.get_or_load(&id, || {
            sqlx::query_as(
                "SELECT email, email_verified_at, display_name, phone FROM users WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(db)
        })
        .await
    }

    /// Applies a notice's payload: forgets the person it names, or everyone.
    pub fn apply_notice(&self, payload: &str) {
        match payload.parse() {
            Ok(id) => self.forget(&id),
            Err(_) => self.clear(),
        }
    }
}

//! The recent proof that sensitive changes ask for (factors, password, email, phone, linked
//! identities, data export, account deletion, every admin action): a second factor within the
//! last 10 minutes, or, for a person who has none, a sign-in within the last 10 minutes.

use time::{Duration, OffsetDateTime};
use tower_sessions::Session;
use uuid::Uuid;

use super::factors::{self, Factors};
use crate::domain::{error::AccountError, sessions};

/// How recent the proof must be.
pub const WITHIN: Duration = Duration::minutes(10);

/// Refuses with [`AccountError::StepUp`] unless `session` proved enough, recently enough, for
/// `user_id`.
pub async fn ensure(
    db: impl sqlx::PgExecutor<'_>,
    session: &Session,
    user_id: Uuid,
) -> Result<(), AccountError> {
    let factors = factors::of(db, user_id).await?;
    ensure_with(session, &factors).await
}

/// As [`ensure`], with the person's factors already counted.
pub async fn ensure_with(session: &Session, factors: &Factors) -> Result<(), AccountError> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let recent = |at: i64| now - at <= WITHIN.whole_seconds();
    let proven_at = if factors.has_strong() {
        sessions::authenticated(session)
            .await?
            .and_then(|auth| auth.multi_factor_at)
    } else {
        Some(sessions::signed_in_at(session).await?.unix_timestamp())
    };
    match proven_at {
        Some(at) if recent(at) => Ok(()),
        _ => Err(AccountError::StepUp),
    }
}

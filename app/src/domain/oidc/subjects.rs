//! The `sub` an app sees for a person (OpenID Connect Core §8): the account id for apps with
//! public subjects; for pairwise apps a keyed hash of the app's sector and the account id, so
//! apps of different sectors cannot match their users. Pairwise values are remembered once
//! (`pairwise_subjects`) so tokens carrying them can be traced back to the account.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::PgExecutor;
use uuid::Uuid;

use super::clients::Client;

/// Keyed hash for pairwise subjects (derived from the master key).
#[derive(Clone)]
pub struct SubjectKey([u8; 32]);

impl std::fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectKey([redacted])")
    }
}

impl SubjectKey {
    pub fn derive(master_key: &[u8; 32]) -> Self {
        Self(crate::domain::master_key::derive(
            master_key,
            crate::domain::master_key::PAIRWISE_SUBJECTS,
        ))
    }

    /// The pairwise `sub` of `user_id` in `sector`.
    pub fn pairwise(&self, sector: &str, user_id: Uuid) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("any key length");
        mac.update(sector.as_bytes());
        mac.update(&[0]);
        mac.update(user_id.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

/// The pairwise sector of `client`, if it gets pairwise subjects.
pub fn sector(client: &Client) -> Option<&str> {
    (client.subject_type == super::clients::SubjectType::Pairwise)
        .then_some(client.sector_identifier.as_deref())
        .flatten()
}

/// The `sub` `client` sees for `user_id`, without writing anything.
pub fn subject(key: &SubjectKey, client: &Client, user_id: Uuid) -> String {
    match sector(client) {
        Some(sector) => key.pairwise(sector, user_id),
        None => user_id.to_string(),
    }
}

/// The `sub` `client` sees for `user_id`, remembering a pairwise one so it can be traced back.
pub async fn issue(
    db: impl PgExecutor<'_>,
    key: &SubjectKey,
    client: &Client,
    user_id: Uuid,
) -> sqlx::Result<String> {
    let sub = subject(key, client, user_id);
    if let Some(sector) = sector(client) {
        sqlx::query(
            "INSERT INTO pairwise_subjects (sector, sub, user_id) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(sector)
        .bind(&sub)
        .bind(user_id)
        .execute(db)
        .await?;
    }
    Ok(sub)
}

/// The account behind `sub` as `client` sees it.
pub async fn account(
    db: impl PgExecutor<'_>,
    client: &Client,
    sub: &str,
) -> sqlx::Result<Option<Uuid>> {
    match sector(client) {
        None => Ok(sub.parse().ok()),
        Some(sector) => {
            sqlx::query_scalar(
                "SELECT user_id FROM pairwise_subjects WHERE sector = $1 AND sub = $2",
            )
            .bind(sector)
            .bind(sub)
            .fetch_optional(db)
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_subjects_differ_by_sector_and_stay_stable() {
        let key = SubjectKey::derive(&[1; 32]);
        let user = Uuid::new_v4();
        let a = key.pairwise("shop.example", user);
        assert_eq!(a, key.pairwise("shop.example", user));
        assert_ne!(a, key.pairwise("forum.example", user));
        assert_ne!(a, key.pairwise("shop.example", Uuid::new_v4()));
        assert_ne!(
            a,
            SubjectKey::derive(&[2; 32]).pairwise("shop.example", user)
        );
        assert!(
            a.parse::<Uuid>().is_err(),
            "never mistaken for an account id"
        );
    }
}

//! The keyed digest of an audit row's personal columns (`personal_digest`), which the chain
//! seals in their place, and the framing of fields both digests share.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// An HMAC-SHA-256 over fields, each framed so that no field can borrow bytes from its
/// neighbours: an absent one is a 0 byte; a present one a 1 byte, its length (8 bytes,
/// big-endian) and its bytes.
pub(super) struct Framed(Hmac<Sha256>);

impl Framed {
    pub(super) fn new(key: &[u8; 32]) -> Self {
        Self(Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key size"))
    }

    /// Bytes of a fixed length, unframed.
    pub(super) fn fixed(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub(super) fn field(&mut self, value: Option<&[u8]>) {
        match value {
            None => self.0.update(&[0]),
            Some(bytes) => {
                self.0.update(&[1]);
                self.0.update(&(bytes.len() as u64).to_be_bytes());
                self.0.update(bytes);
            }
        }
    }

    pub(super) fn finish(self) -> [u8; 32] {
        self.0.finalize().into_bytes().into()
    }
}

/// A row's personal columns as they are digested: `detail` as Postgres prints the jsonb (its
/// keys in a fixed order), so the same content always gives the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(super) struct Personal {
    pub actor_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: String,
}

/// The digest of row `id`'s personal columns under `key` (the chain's personal key, apart
/// from the key that seals the links). Without the key, someone holding the database cannot
/// compute a digest, so cannot test a guessed address, network or browser against a row's.
/// The row's id is digested first: two rows with the same personal content have unrelated
/// digests, so comparing digests says nothing either.
pub(super) fn digest(key: &[u8; 32], id: i64, personal: &Personal) -> [u8; 32] {
    let mut hash = Framed::new(key);
    hash.field(Some(&id.to_be_bytes()));
    hash.field(personal.actor_id.as_ref().map(|u| u.as_bytes().as_slice()));
    hash.field(
        personal
            .subject_id
            .as_ref()
            .map(|u| u.as_bytes().as_slice()),
    );
    hash.field(personal.ip.as_deref().map(str::as_bytes));
    hash.field(personal.user_agent.as_deref().map(str::as_bytes));
    hash.field(Some(personal.detail.as_bytes()));
    hash.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [5; 32];

    fn personal() -> Personal {
        Personal {
            actor_id: Some(Uuid::from_u128(1)),
            subject_id: Some(Uuid::from_u128(1)),
            ip: Some("192.0.2.7".into()),
            user_agent: Some("Firefox".into()),
            detail: r#"{"email": "ada@example.com"}"#.into(),
        }
    }

    #[test]
    fn every_personal_column_the_id_and_the_key_count() {
        let base = digest(&KEY, 7, &personal());
        assert_eq!(
            base,
            digest(&KEY, 7, &personal()),
            "the same row, the same digest"
        );
        assert_ne!(base, digest(&[6; 32], 7, &personal()), "another key");
        assert_ne!(base, digest(&KEY, 8, &personal()), "another row");
        let changes: [fn(&mut Personal); 6] = [
            |p| p.actor_id = None,
            |p| p.subject_id = Some(Uuid::from_u128(2)),
            |p| p.ip = Some("192.0.2.8".into()),
            |p| p.ip = None,
            |p| p.user_agent = Some(String::new()),
            |p| p.detail = "{}".into(),
        ];
        for change in changes {
            let mut other = personal();
            change(&mut other);
            assert_ne!(base, digest(&KEY, 7, &other), "{other:?}");
        }
    }

    #[test]
    fn absent_and_empty_differ_and_fields_keep_to_themselves() {
        let mut none = personal();
        none.ip = None;
        let mut empty = personal();
        empty.ip = Some(String::new());
        assert_ne!(digest(&KEY, 7, &none), digest(&KEY, 7, &empty));
        // "ab" + "c" and "a" + "bc" must not digest alike.
        let mut one = personal();
        (one.ip, one.user_agent) = (Some("ab".into()), Some("c".into()));
        let mut two = personal();
        (two.ip, two.user_agent) = (Some("a".into()), Some("bc".into()));
        assert_ne!(digest(&KEY, 7, &one), digest(&KEY, 7, &two));
    }

    #[test]
    fn the_actor_and_subject_are_not_interchangeable() {
        let mut actor_only = personal();
        actor_only.subject_id = None;
        let mut subject_only = personal();
        subject_only.actor_id = None;
        assert_ne!(digest(&KEY, 7, &actor_only), digest(&KEY, 7, &subject_only));
    }
}

//! Erasing a person from the audit trail: their rows stay (the trail is evidence), with the
//! person replaced by a pseudonym, the network and browser dropped and `detail` cut to the part
//! that is never personal (`IMPERSONAL`). The chain still holds: it seals a digest of the
//! personal columns, and the trigger lets each row be erased once (see `chain`).

use serde_json::{Map, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::assurance::{ACR_MULTI_FACTOR, ACR_SINGLE_FACTOR};

/// What the value under a kept key must be; a value of any other shape goes with its key.
/// `null` fits every kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `true` or `false`.
    Flag,
    /// A number: a count, a version, a score, days, seconds since 1970.
    Number,
    /// A word of the code's enumerations or of the business's configuration (a method, a
    /// purpose key, an app's or a provider's id): 1 to 64 ASCII letters, digits and `_ . : -`,
    /// and never a network address or a UUID.
    Word,
    /// An array of words.
    Words,
    /// Exactly one of these strings.
    OneOf(&'static [&'static str]),
    /// An object of numbers under words (counts per table, per kind of sign-in ended); other
    /// entries go.
    Counts,
}

/// The reasons the code writes under `reason` (sign-in failures, refusals, sessions ended).
/// Any other value there is free text (a staff member's words, a library's message) and goes.
const REASONS: &[&str] = &[
    "account_locked",
    "consent_declined",
    "deletion_kept",
    "denied",
    "email_not_verified",
    "email_taken",
    "ended_by_owner",
    "invalid_credentials",
    "locked",
    "not the owner",
    "proof_of_work",
    "replayed_code",
    "reset_required",
    "risk_blocked",
    "signed_out",
    "throttled",
    "unknown_passkey",
    "wrong_code",
    "wrong_current_password",
    "wrong_email_code",
    "wrong_enrolment_code",
    "wrong_recovery_code",
];

/// Staff roles (`before` and `after` of a role change, and nothing else).
const STAFF_ROLES: &[&str] = &["owner", "admin", "support", "auditor"];

/// The `detail` keys an erased row keeps, each with the shape its value must have. Their
/// values are enumerations, counts and yes/no answers, never personal: no address, name,
/// phone number, network address, browser, device or passkey name, free text or URL, no other
/// person's identity, and no id of a row that names a person (an export, a risk assessment, a
/// remembered device, an import, a breach response). The shape guards keys that mean
/// different things in different events: `phone` is a yes/no answer in one and a number in
/// another, `risk` a yes/no answer or an assessment's id, `customers` a count or a list of
/// people; only the harmless shape is kept. Every key not listed goes.
pub const IMPERSONAL: &[(&str, Kind)] = &[
    // How and why.
    ("method", Kind::Word),
    ("reason", Kind::OneOf(REASONS)),
    ("refused", Kind::Word),
    ("proven_by", Kind::Word),
    ("factor", Kind::Word),
    ("amr", Kind::Words),
    ("acr", Kind::OneOf(&[ACR_SINGLE_FACTOR, ACR_MULTI_FACTOR])),
    ("format", Kind::Word),
    ("fields", Kind::Words),
    // Consent purposes and policies.
    ("purpose", Kind::Word),
    ("purposes", Kind::Words),
    ("version", Kind::Number),
    ("previous_version", Kind::Number),
    ("collected_via", Kind::Word),
    ("lawful_basis", Kind::Word),
    ("region", Kind::Word),
    ("required", Kind::Flag),
    // Apps, providers, brands, settings, staff permissions: the business's configuration.
    ("client", Kind::Word),
    ("client_id", Kind::Word),
    ("client_type", Kind::Word),
    ("client_secret", Kind::OneOf(&["set", "none"])),
    ("provider", Kind::Word),
    ("kind", Kind::Word),
    ("brand", Kind::Word),
    ("scopes", Kind::Words),
    ("setting", Kind::Word),
    ("permission", Kind::Word),
    ("role", Kind::Word),
    ("before", Kind::OneOf(STAFF_ROLES)),
    ("after", Kind::OneOf(STAFF_ROLES)),
    // Yes or no.
    ("known_account", Kind::Flag),
    ("must_enrol", Kind::Flag),
    ("risk", Kind::Flag),
    ("password", Kind::Flag),
    ("phone", Kind::Flag),
    ("password_locked", Kind::Flag),
    ("password_lockout", Kind::Flag),
    ("account_lock", Kind::Flag),
    ("own_brand_created", Kind::Flag),
    ("dry_run", Kind::Flag),
    ("first_party", Kind::Flag),
    ("require_par", Kind::Flag),
    ("require_dpop", Kind::Flag),
    ("require_mfa", Kind::Flag),
    ("private_key_jwt", Kind::Flag),
    ("pkce_required", Kind::Flag),
    // How many, how long, when.
    ("attempts", Kind::Number),
    ("bits", Kind::Number),
    ("score", Kind::Number),
    ("days", Kind::Number),
    ("due", Kind::Number),
    ("at", Kind::Number),
    ("bytes", Kind::Number),
    ("count", Kind::Number),
    ("customers", Kind::Number),
    ("rows", Kind::Number),
    ("imported", Kind::Number),
    ("skipped", Kind::Number),
    ("sessions_ended", Kind::Number),
    ("grants_ended", Kind::Number),
    ("refresh_tokens_revoked", Kind::Number),
    ("passkeys", Kind::Number),
    ("identities", Kind::Number),
    ("second_factors", Kind::Number),
    ("apps", Kind::Number),
    ("consents_withdrawn", Kind::Number),
    ("audit_rows_pseudonymised", Kind::Number),
    ("ended", Kind::Counts),
    ("rows_deleted", Kind::Counts),
];

/// Rows pseudonymised per statement.
const PAGE: i64 = 1000;

/// Pseudonymises `person`'s audit rows in the caller's transaction: every row not erased yet
/// whose subject or actor is `person`, or that is about nobody by id but names one of their
/// `addresses` (lower case: a failed sign-in under their address that never reached the
/// account, for one), gets `pseudonym` in the person's place (and as `erased_as`), loses its
/// network and browser, and keeps only the impersonal part of its `detail`. Other people named
/// in the row stay. Returns how many rows changed.
pub async fn pseudonymise(
    tx: &mut PgConnection,
    person: Uuid,
    addresses: &[String],
    pseudonym: Uuid,
) -> sqlx::Result<u64> {
    debug_assert_ne!(person, pseudonym, "a pseudonym must not be the person's id");
    let mut changed = 0;
    let mut after = 0_i64;
    loop {
        // Locked in the order of their ids, as the sealer locks what it seals.
        let rows: Vec<(i64, Value)> = sqlx::query_as(
            "SELECT id, detail FROM audit_events
             WHERE (subject_id = $1 OR actor_id = $1
                    OR (subject_id IS NULL AND lower(detail->>'email') = ANY($4)))
               AND erased_as IS NULL AND id > $2
             ORDER BY id LIMIT $3 FOR UPDATE",
        )
        .bind(person)
        .bind(after)
        .bind(PAGE)
        .bind(addresses)
        .fetch_all(&mut *tx)
        .await?;
        let Some(&(last, _)) = rows.last() else {
            return Ok(changed);
        };
        after = last;
        let full = rows.len() as i64 == PAGE;
        let (ids, details): (Vec<i64>, Vec<Value>) = rows
            .into_iter()
            .map(|(id, detail)| (id, impersonal(&detail)))
            .unzip();
        changed += sqlx::query(
            "UPDATE audit_events AS a SET
                 actor_id = CASE WHEN a.actor_id = $1 THEN $2 ELSE a.actor_id END,
                 subject_id = CASE
                     WHEN a.subject_id = $1 THEN $2
                     WHEN a.subject_id IS NULL AND a.actor_id IS DISTINCT FROM $1 THEN $2
                     ELSE a.subject_id END,
                 ip = NULL, user_agent = NULL, detail = s.detail, erased_as = $2
             FROM UNNEST($3::int8[], $4::jsonb[]) AS s(id, detail)
             WHERE a.id = s.id",
        )
        .bind(person)
        .bind(pseudonym)
        .bind(&ids)
        .bind(&details)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if !full {
            return Ok(changed);
        }
    }
}

/// The part of a row's `detail` that is never personal: the keys of [`IMPERSONAL`] whose
/// values have their shape (a part of `detail`, as the trigger demands). Anything but an
/// object gives an empty object.
pub fn impersonal(detail: &Value) -> Value {
    let mut kept = Map::new();
    if let Value::Object(fields) = detail {
        for (key, value) in fields {
            let kind = IMPERSONAL
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, kind)| *kind);
            if let Some(value) = kind.and_then(|kind| fitting(kind, value)) {
                kept.insert(key.clone(), value);
            }
        }
    }
    Value::Object(kept)
}

/// `value` as kept under a key of `kind`, if it fits.
fn fitting(kind: Kind, value: &Value) -> Option<Value> {
    let fits = match (kind, value) {
        (_, Value::Null) => true,
        (Kind::Flag, Value::Bool(_)) | (Kind::Number, Value::Number(_)) => true,
        (Kind::Word, Value::String(word)) => is_word(word),
        (Kind::Words, Value::Array(words)) => words.iter().all(|w| w.as_str().is_some_and(is_word)),
        (Kind::OneOf(allowed), Value::String(word)) => allowed.contains(&word.as_str()),
        (Kind::Counts, Value::Object(counts)) => {
            let counts: Map<String, Value> = counts
                .iter()
                .filter(|(key, count)| is_word(key) && count.is_number())
                .map(|(key, count)| (key.clone(), count.clone()))
                .collect();
            return Some(Value::Object(counts));
        }
        _ => false,
    };
    fits.then(|| value.clone())
}

/// Whether `text` has the shape of an enumeration's word (see [`Kind::Word`]).
fn is_word(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
        && text.parse::<std::net::IpAddr>().is_err()
        && text.parse::<std::net::SocketAddr>().is_err()
        && Uuid::parse_str(text).is_err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn enumerations_counts_and_answers_stay() {
        let detail = json!({
            "method": "password",
            "reason": "invalid_credentials",
            "password_locked": false,
            "amr": ["pwd", "mfa"],
            "acr": ACR_MULTI_FACTOR,
            "purpose": "newsletter",
            "version": 3,
            "ended": { "sessions_ended": 2, "grants_ended": 1 },
            "risk": null,
        });
        assert_eq!(impersonal(&detail), detail);
    }

    #[test]
    fn anything_personal_goes() {
        let detail = json!({
            "email": "ada@example.com",
            "email_domain": "lovelace.example",
            "display_name": { "before": "Ada", "after": "Ada L." },
            "name": "Ada's phone",
            "to": "a***@example.com",
            "file": "ada-customers.csv",
            "filter": { "actor": "grace@example.com" },
            "changes": { "footer_text": { "from": "", "to": "Call Ada" } },
            "redirect_uris": ["https://ada.example/callback"],
            "signals": [{ "words": "a new country: France" }],
            "export": 12,
            "device": 4,
            "tag": "042ab1c",
            "method": "password",
        });
        assert_eq!(impersonal(&detail), json!({ "method": "password" }));
    }

    #[test]
    fn a_key_keeps_only_its_harmless_shape() {
        let cases = [
            (json!({ "phone": true }), json!({ "phone": true })),
            (json!({ "phone": "+15550100" }), json!({})),
            (json!({ "risk": true }), json!({ "risk": true })),
            (json!({ "risk": 4711 }), json!({})),
            (json!({ "customers": 12 }), json!({ "customers": 12 })),
            (
                json!({ "customers": [{ "id": Uuid::from_u128(1), "email": "a@b.example" }] }),
                json!({}),
            ),
            (
                json!({ "reason": "signed_out" }),
                json!({ "reason": "signed_out" }),
            ),
            (
                json!({ "reason": "Ada called from her new number" }),
                json!({}),
            ),
            (json!({ "reason": "fraud" }), json!({})),
            (
                json!({ "before": "admin", "after": "owner" }),
                json!({ "before": "admin", "after": "owner" }),
            ),
            (json!({ "before": "ada@example.com" }), json!({})),
            (
                json!({ "scopes": ["openid", "email"] }),
                json!({ "scopes": ["openid", "email"] }),
            ),
            (
                json!({ "scopes": ["openid", "https://x.example/"] }),
                json!({}),
            ),
            (json!({ "version": "3" }), json!({})),
            (
                json!({ "client_secret": "set" }),
                json!({ "client_secret": "set" }),
            ),
            (json!({ "client_secret": "hunter2" }), json!({})),
        ];
        for (detail, kept) in cases {
            assert_eq!(impersonal(&detail), kept, "{detail}");
        }
    }

    #[test]
    fn words_are_never_addresses_or_ids() {
        for word in [
            "password",
            "email_code",
            "customers.read",
            "EU",
            "a1B2-c3_d4",
        ] {
            assert!(is_word(word), "{word}");
        }
        let person = Uuid::from_u128(0xada).to_string();
        let long = "x".repeat(65);
        for not in [
            "",
            "ada@example.com",
            "192.0.2.7",
            "2001:db8::1",
            "192.0.2.7:443",
            "https://ada.example/",
            "Ada Lovelace",
            person.as_str(),
            long.as_str(),
        ] {
            assert!(!is_word(not), "{not}");
        }
        assert_eq!(impersonal(&json!({ "client": person })), json!({}));
    }

    #[test]
    fn counts_keep_their_numbers_only() {
        let detail = json!({
            "rows_deleted": { "users": 1, "sessions": 3, "ada@example.com": 1, "note": "x" },
            "ended": "all",
        });
        assert_eq!(
            impersonal(&detail),
            json!({ "rows_deleted": { "users": 1, "sessions": 3 } })
        );
    }

    #[test]
    fn what_is_not_an_object_becomes_an_empty_one() {
        for detail in [json!(null), json!("ada@example.com"), json!([1, 2])] {
            assert_eq!(impersonal(&detail), json!({}));
        }
    }

    #[test]
    fn the_allowlist_names_each_key_once() {
        let mut keys: Vec<&str> = IMPERSONAL.iter().map(|(key, _)| *key).collect();
        keys.sort_unstable();
        let all = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), all);
    }
}

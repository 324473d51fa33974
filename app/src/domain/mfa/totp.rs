//! Authenticator apps (TOTP, RFC 6238, through totp-rs): a new secret shown as a QR code drawn
//! here as inline SVG and as text, kept sealed in the session until a first code confirms it;
//! then stored sealed under a key derived from the master key. A code is accepted once: the
//! step it matched is stored, and a code for that step or an earlier one is refused.

use qrcode::{render::svg, QrCode};
use rand::RngCore;
use sqlx::{PgConnection, PgExecutor};
use totp_rs::{Builder, Totp};
use uuid::Uuid;

use crate::domain::privacy::{Erasure, Export, Table};
use crate::domain::secrets::SecretBox;

/// Random bytes in a new secret (RFC 4226 recommends 160 bits).
const SECRET_BYTES: usize = 20;

/// What the enrolment page shows: the key as text, the `otpauth://` URL and its QR code.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The secret in base32, in groups of four for typing by hand.
    pub key: String,
    pub url: String,
    /// The QR code of `url` as an `<svg>` element.
    pub qr_svg: String,
}

/// Why a code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Accepted,
    /// A right code, but for a step already used: a replay.
    Replayed,
    Wrong,
}

/// A fresh random secret.
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::thread_rng().fill_bytes(&mut secret);
    secret
}

fn totp(secret: &[u8], issuer: &str, account: &str) -> Option<Totp> {
    // The otpauth label must not hold a colon.
    let clean = |s: &str| s.replace(':', " ");
    Builder::new()
        .with_secret(secret.to_vec())
        .with_issuer(Some(clean(issuer)))
        .with_account_name(clean(account))
        .build()
        .ok()
}

/// What to show for enrolling `secret` for `account` (an email address) at `issuer` (the
/// product's name).
pub fn enrolment(secret: &[u8], issuer: &str, account: &str) -> Option<Enrolment> {
    let totp = totp(secret, issuer, account)?;
    let url = totp.to_url().ok()?;
    let qr_svg = QrCode::new(url.as_bytes())
        .ok()?
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline in a page: the element alone, without the XML declaration.
    let qr_svg = qr_svg[qr_svg.find("<svg")?..].to_owned();
    let base32 = totp.secret().to_base32();
    let key = base32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    Some(Enrolment { key, url, qr_svg })
}

/// The step `code` matches for `secret` now (within one step either side), if any.
pub fn matching_step(secret: &[u8], code: &str, now: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    totp(secret, "x", "x")?.check(&code, now)
}

/// The sealing context of `user_id`'s secret: a sealed secret cannot be moved to another
/// account.
fn context(user_id: Uuid) -> String {
    format!("totp:{user_id}")
}

/// Seals `secret` for `user_id` (also for keeping it in the session while enrolling).
pub fn seal(key: &SecretBox, user_id: Uuid, secret: &[u8]) -> Vec<u8> {
    key.seal(&context(user_id), secret)
}

/// Opens what [`seal`] sealed for `user_id`.
pub fn open(key: &SecretBox, user_id: Uuid, sealed: &[u8]) -> Option<Vec<u8>> {
    key.open(&context(user_id), sealed)
}

/// Stores a confirmed secret (sealed) for `user_id`, whose first code matched `step`; replaces
/// an earlier one.
pub async fn store(
    db: impl PgExecutor<'_>,
    key: &SecretBox,
    user_id: Uuid,
    secret: &[u8],
    step: u64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO totp_factors (user_id, secret_sealed, last_step, last_used_at)
         VALUES ($1, $2, $3, now())
         ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed,
           last_step = excluded.last_step, created_at = now(), last_used_at = now()",
    )
    .bind(user_id)
    .bind(seal(key, user_id, secret))
    .bind(step as i64)
    .execute(db)
    .await?;
    Ok(())
}

/// Checks `code` against `user_id`'s authenticator app and, when it matches a step not used
/// before, marks that step used. The row is locked, so two requests with the same code cannot
/// both pass. `None` when the person has no authenticator app.
pub async fn check(
    conn: &mut PgConnection,
    key: &SecretBox,
    user_id: Uuid,
    code: &str,
    now: u64,
) -> anyhow::Result<Option<Check>> {
    let row: Option<(Vec<u8>, i64)> = sqlx::query_as(
        "SELECT secret_sealed, last_step FROM totp_factors WHERE user_id = $1 FOR UPDATE",
    )
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((sealed, last_step)) = row else {
        return Ok(None);
    };
    let secret = open(key, user_id, &sealed)
        .ok_or_else(|| anyhow::anyhow!("an authenticator secret does not open"))?;
    let Some(step) = matching_step(&secret, code, now) else {
        return Ok(Some(Check::Wrong));
    };
    if step as i64 <= last_step {
        return Ok(Some(Check::Replayed));
    }
    sqlx::query("UPDATE totp_factors SET last_step = $2, last_used_at = now() WHERE user_id = $1")
        .bind(user_id)
        .bind(step as i64)
        .execute(&mut *conn)
        .await?;
    Ok(Some(Check::Accepted))
}

/// Removes `user_id`'s authenticator app; whether there was one.
pub async fn remove(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM totp_factors WHERE user_id = $1")
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[
    Table {
        name: "totp_factors",
        person: Some("user_id"),
        personal: &["user_id", "secret_sealed"],
        other: &["last_step", "created_at", "last_used_at"],
        export: Export::RowsWithout(&["secret_sealed", "last_step"]),
        erasure: Erasure::Delete,
    },
    Table {
        name: "totp_pending",
        person: Some("user_id"),
        personal: &["user_id", "sealed"],
        other: &["created_at"],
        export: Export::RowsWithout(&["sealed"]),
        erasure: Erasure::Delete,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn code_at(secret: &[u8], time: u64) -> String {
        totp(secret, "x", "x").unwrap().generate(time).to_string()
    }

    #[test]
    fn a_code_matches_its_step_and_one_either_side() {
        let secret = new_secret();
        let step = NOW / 30;
        assert_eq!(
            matching_step(&secret, &code_at(&secret, NOW), NOW),
            Some(step)
        );
        assert_eq!(
            matching_step(&secret, &code_at(&secret, NOW - 30), NOW),
            Some(step - 1)
        );
        assert_eq!(
            matching_step(&secret, &code_at(&secret, NOW - 90), NOW),
            None
        );
        assert_eq!(
            matching_step(&new_secret(), &code_at(&secret, NOW), NOW),
            None
        );
    }

    #[test]
    fn malformed_codes_match_nothing() {
        let secret = new_secret();
        for code in ["", "12345", "1234567", "abcdef", "12345\u{0}"] {
            assert_eq!(matching_step(&secret, code, NOW), None, "{code:?}");
        }
        let spaced = code_at(&secret, NOW);
        let spaced = format!("{} {}", &spaced[..3], &spaced[3..]);
        assert!(matching_step(&secret, &spaced, NOW).is_some());
    }

    #[test]
    fn the_enrolment_shows_the_key_the_url_and_an_svg() {
        let secret = new_secret();
        let e = enrolment(&secret, "Key:haven", "a@example.com").unwrap();
        assert!(e.url.starts_with("otpauth://totp/"));
        assert!(e.url.contains("issuer=Key%20haven"));
        assert!(e.qr_svg.starts_with("<svg"));
        assert!(!e.qr_svg.contains("<script"));
        let typed: String = e.key.split(' ').collect();
        assert_eq!(
            totp_rs::Secret::try_from_base32(&typed).unwrap().as_ref(),
            &secret[..]
        );
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_account() {
        let key = SecretBox::derive(&[7; 32], "test");
        let user = Uuid::new_v4();
        let sealed = seal(&key, user, b"secret");
        assert_eq!(open(&key, user, &sealed).as_deref(), Some(&b"secret"[..]));
        assert_eq!(open(&key, Uuid::new_v4(), &sealed), None);
    }
}

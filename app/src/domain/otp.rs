//! Short one-time codes, shared by email and SMS: 6 random digits, kept only as an HMAC under a
//! key derived from the master key (so a copy of the database alone cannot brute-force them),
//! bound to their request, used once, and dead after 5 wrong tries.

use hmac::{Hmac, Mac};
use rand::{rngs::OsRng, Rng};
use sha2::Sha256;
use sqlx::PgConnection;
use uuid::Uuid;

/// Digits in a code.
pub const CODE_DIGITS: usize = 6;
/// Wrong codes allowed before the request dies.
pub const MAX_ATTEMPTS: i32 = 5;

/// Why a code was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeRejection {
    #[error("That code is not right. {left} attempt{} left.", if *left == 1 { "" } else { "s" })]
    Wrong { left: i32 },
    #[error("Too many wrong codes. Ask for a new one.")]
    Exhausted,
    #[error("This code has expired. Ask for a new one.")]
    Expired,
    #[error("Ask for a code first.")]
    NoRequest,
}

impl CodeRejection {
    /// Refuses a request that is used up (or out of attempts) or expired.
    pub fn check(used: bool, attempts: i32, expired: bool) -> Result<(), Self> {
        if used || attempts >= MAX_ATTEMPTS {
            return Err(Self::Exhausted);
        }
        if expired {
            return Err(Self::Expired);
        }
        Ok(())
    }

    /// The answer to a wrong code, `attempts` counting this one.
    fn wrong(attempts: i32) -> Self {
        if attempts >= MAX_ATTEMPTS {
            Self::Exhausted
        } else {
            Self::Wrong {
                left: MAX_ATTEMPTS - attempts,
            }
        }
    }
}

/// The tables that hold code requests (named here, never taken from input).
#[derive(Debug, Clone, Copy)]
pub enum CodeTable {
    EmailSignIn,
    Sms,
}

impl CodeTable {
    fn name(self) -> &'static str {
        match self {
            Self::EmailSignIn => "email_sign_in_requests",
            Self::Sms => "sms_codes",
        }
    }
}

/// Counts one more wrong code against request `id` (which had `attempts`), using it up at the
/// limit; returns what to tell the person.
pub async fn count_wrong_code(
    conn: &mut PgConnection,
    table: CodeTable,
    id: Uuid,
    attempts: i32,
) -> sqlx::Result<CodeRejection> {
    let attempts = attempts + 1;
    sqlx::query(&format!(
        "UPDATE {} SET attempts = $2, used_at = CASE WHEN $2 >= $3 THEN now() END WHERE id = $1",
        table.name()
    ))
    .bind(id)
    .bind(attempts)
    .bind(MAX_ATTEMPTS)
    .execute(conn)
    .await?;
    Ok(CodeRejection::wrong(attempts))
}

/// A fresh code.
pub fn random_code() -> String {
    format!(
        "{:0width$}",
        OsRng.gen_range(0..1_000_000u32),
        width = CODE_DIGITS
    )
}

/// The key codes are hashed with.
#[derive(Clone)]
pub struct CodeKey([u8; 32]);

impl CodeKey {
    /// The key derived from `master` for one-time codes.
    pub fn derive(master: &[u8; 32]) -> Self {
        Self(super::master_key::derive(
            master,
            super::master_key::ONE_TIME_CODES,
        ))
    }

    fn mac(&self, request: Uuid, code: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key size");
        mac.update(request.as_bytes());
        mac.update(code.as_bytes());
        mac
    }

    /// What is stored for `code` of `request`.
    pub fn hash(&self, request: Uuid, code: &str) -> Vec<u8> {
        self.mac(request, code).finalize().into_bytes().to_vec()
    }

    /// Whether `code` as typed (spaces ignored) is a well-formed code matching `expected`.
    pub fn matches(&self, request: Uuid, code: &str, expected: &[u8]) -> bool {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        code.len() == CODE_DIGITS
            && code.chars().all(|c| c.is_ascii_digit())
            && self.mac(request, &code).verify_slice(expected).is_ok()
    }
}

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_six_digits() {
        for _ in 0..100 {
            let code = random_code();
            assert_eq!(code.len(), CODE_DIGITS);
            assert!(code.chars().all(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn a_code_verifies_only_for_its_request_and_key() {
        let key = CodeKey::derive(&[1; 32]);
        let request = Uuid::new_v4();
        let hash = key.hash(request, "123456");
        assert!(key.matches(request, "123456", &hash));
        assert!(key.matches(request, " 123 456 ", &hash));
        assert!(!key.matches(request, "123457", &hash));
        assert!(!key.matches(Uuid::new_v4(), "123456", &hash));
        assert!(!CodeKey::derive(&[2; 32]).matches(request, "123456", &hash));
        assert_eq!(format!("{key:?}"), "CodeKey([redacted])");
    }

    #[test]
    fn wrong_codes_count_down_to_exhaustion() {
        assert_eq!(CodeRejection::wrong(1), CodeRejection::Wrong { left: 4 });
        assert_eq!(CodeRejection::wrong(5), CodeRejection::Exhausted);
        assert_eq!(
            CodeRejection::check(false, 5, false),
            Err(CodeRejection::Exhausted)
        );
        assert_eq!(
            CodeRejection::check(false, 0, true),
            Err(CodeRejection::Expired)
        );
        assert_eq!(CodeRejection::check(false, 4, false), Ok(()));
    }
}

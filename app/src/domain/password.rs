//! Password policy (NIST 800-63B: length, common-password and strength checks); the hashing is
//! `hashing`'s.

use std::fmt;

use zxcvbn::{feedback::Warning, Score};

use crate::model::password::StrengthReading;

/// Shortest password any policy accepts (NIST 800-63B §3.1.1.2).
pub const MIN_LEN: usize = 8;
/// Longest password accepted: long enough for any passphrase, short enough to bound hashing work.
pub const MAX_LEN: usize = 128;
/// Lowest zxcvbn score any policy accepts (3: "safely unguessable", about 10^10 guesses).
const MIN_SCORE: Score = Score::Three;

/// What the business asks of new passwords (its settings), never below the floors above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_len: usize,
    /// The lowest zxcvbn score accepted, 3 or 4.
    pub min_score: u8,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_len: MIN_LEN,
            min_score: MIN_SCORE as u8,
        }
    }
}

/// A password a user typed. Never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(raw: String) -> Self {
        Self(raw)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// A password that passed the policy: fit to be hashed and stored.
#[derive(Clone, Debug)]
pub struct NewPassword(Password);

impl NewPassword {
    /// Checks `raw` against `policy`. `context` holds words about the user (email, name) that
    /// a password must not lean on.
    pub fn parse(
        raw: String,
        context: &[&str],
        policy: &PasswordPolicy,
    ) -> Result<Self, PasswordRejection> {
        let chars = raw.chars().count();
        let min_len = policy.min_len.max(MIN_LEN);
        if chars == 0 {
            return Err(PasswordRejection::Empty);
        }
        if chars < min_len {
            return Err(PasswordRejection::TooShort(min_len));
        }
        if chars > MAX_LEN {
            return Err(PasswordRejection::TooLong);
        }
        let assessment = assess(&raw, context);
        if assessment.common {
            return Err(PasswordRejection::Common);
        }
        if assessment.score < policy.min_score.max(MIN_SCORE as u8) {
            return Err(PasswordRejection::Weak(assessment.hint));
        }
        Ok(Self(Password(raw)))
    }

    pub fn as_password(&self) -> &Password {
        &self.0
    }
}

/// Why a new password was refused; the message is shown next to the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRejection {
    #[error("Choose a password.")]
    Empty,
    #[error("Use at least {0} characters.")]
    TooShort(usize),
    #[error("Use at most {MAX_LEN} characters.")]
    TooLong,
    #[error("This password is on the list of commonly used passwords. Choose another.")]
    Common,
    #[error("This password is too easy to guess. {0}")]
    Weak(String),
}

struct Assessment {
    score: u8,
    common: bool,
    hint: String,
}

fn assess(raw: &str, context: &[&str]) -> Assessment {
    let entropy = zxcvbn::zxcvbn(raw, context);
    let feedback = entropy.feedback();
    let warning = feedback.and_then(|f| f.warning());
    let common = matches!(
        warning,
        Some(
            Warning::ThisIsATop10Password
                | Warning::ThisIsATop100Password
                | Warning::ThisIsACommonPassword
                | Warning::ThisIsSimilarToACommonlyUsedPassword
        )
    );
    let mut hint: Vec<String> = Vec::new();
    if let Some(w) = warning {
        hint.push(w.to_string());
    }
    if let Some(f) = feedback {
        hint.extend(f.suggestions().iter().map(ToString::to_string));
    }
    if hint.is_empty() {
        hint.push("Add more words or characters.".into());
    }
    Assessment {
        score: entropy.score() as u8,
        common,
        hint: hint.join(" "),
    }
}

/// The strength meter's reading of a password being typed; the policy decides on submit.
pub fn strength(raw: &str, context: &[&str], policy: &PasswordPolicy) -> StrengthReading {
    if raw.is_empty() {
        return StrengthReading {
            score: 0,
            acceptable: false,
            message: String::new(),
        };
    }
    let verdict = NewPassword::parse(raw.to_owned(), context, policy);
    let score = assess(raw, context).score;
    StrengthReading {
        score,
        acceptable: verdict.is_ok(),
        message: match verdict {
            Ok(_) => "Strong enough.".into(),
            Err(rejection) => rejection.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_passwords_are_refused() {
        let err =
            NewPassword::parse("Tr0ub4!".into(), &[], &PasswordPolicy::default()).unwrap_err();
        assert_eq!(err, PasswordRejection::TooShort(MIN_LEN));
    }

    #[test]
    fn overlong_passwords_are_refused() {
        let err = NewPassword::parse("x".repeat(MAX_LEN + 1), &[], &PasswordPolicy::default())
            .unwrap_err();
        assert_eq!(err, PasswordRejection::TooLong);
    }

    #[test]
    fn common_passwords_are_refused_even_when_long_enough() {
        for common in ["password", "12345678", "iloveyou", "Password1"] {
            let err =
                NewPassword::parse(common.into(), &[], &PasswordPolicy::default()).unwrap_err();
            assert_eq!(err, PasswordRejection::Common, "{common}");
        }
    }

    #[test]
    fn guessable_passwords_are_refused_with_a_hint() {
        let err = NewPassword::parse(
            "ada@example.org1".into(),
            &["ada@example.org"],
            &PasswordPolicy::default(),
        )
        .unwrap_err();
        assert!(matches!(err, PasswordRejection::Weak(_)), "{err:?}");
    }

    #[test]
    fn a_long_passphrase_is_accepted() {
        assert!(NewPassword::parse(
            "violet tractor sings at dawn".into(),
            &[],
            &PasswordPolicy::default()
        )
        .is_ok());
    }

    #[test]
    fn passwords_never_print() {
        let p = Password::new("hunter2hunter2".into());
        assert_eq!(format!("{p:?}"), "Password([redacted])");
    }

    #[test]
    fn a_stricter_policy_asks_more_and_none_asks_less_than_the_floor() {
        let strict = PasswordPolicy {
            min_len: 30,
            min_score: 4,
        };
        let err = NewPassword::parse("violet tractor sings at dawn".into(), &[], &strict);
        assert_eq!(err.unwrap_err(), PasswordRejection::TooShort(30));
        let lax = PasswordPolicy {
            min_len: 4,
            min_score: 1,
        };
        let err = NewPassword::parse("Tr0ub4!".into(), &[], &lax).unwrap_err();
        assert_eq!(err, PasswordRejection::TooShort(MIN_LEN));
        assert!(NewPassword::parse("password1".into(), &[], &lax).is_err());
    }
}

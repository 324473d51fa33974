//! Customers as the console sees them: search at a million rows (`search`), one customer's
//! whole record (`record`), what an operator does to an account (`actions`, each audited with
//! the actor and a reason), breach response over many accounts (`breach`), bulk import (`import`;
//! from the console as a background job, `import_jobs`), and realistic demo data (`seed`).

pub mod actions;
pub mod breach;
pub mod import;
pub mod import_jobs;
pub mod record;
pub mod search;
pub mod seed;

use super::error::AccountError;

/// Why an operator acted on an account: said in words, kept in the audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason(String);

impl Reason {
    /// Longest reason kept.
    pub const MAX_CHARS: usize = 500;

    /// The reason as typed, trimmed; refused when empty, longer than [`Reason::MAX_CHARS`] or
    /// holding control characters other than line breaks.
    pub fn parse(raw: &str) -> Result<Self, AccountError> {
        let trimmed = raw.trim();
        let bad_char = trimmed
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t');
        if trimmed.is_empty() || trimmed.chars().count() > Self::MAX_CHARS || bad_char {
            return Err(AccountError::ReasonNeeded);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// A reason the service words itself.
    pub(crate) fn trusted(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_words_of_reasonable_length() {
        assert_eq!(
            Reason::parse("  asked by phone ").unwrap().as_str(),
            "asked by phone"
        );
        assert!(Reason::parse("   ").is_err());
        assert!(Reason::parse(&"x".repeat(501)).is_err());
        assert!(Reason::parse("bell\u{7}").is_err());
        assert!(Reason::parse("line one\nline two").is_ok());
    }
}

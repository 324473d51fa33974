//! `DisplayName`: how a customer wants to be addressed, parsed once at the edge.

use std::fmt;

/// A display name: trimmed, 1–80 characters of letters, digits, spaces and the punctuation
/// names use (`' - . ,`). Markup and statement syntax have no place in a name.
#[derive(Clone, PartialEq, Eq)]
pub struct DisplayName(String);

/// Why a string is not a display name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisplayNameError {
    #[error("Enter your name.")]
    Empty,
    #[error("Use at most {} characters.", DisplayName::MAX_CHARS)]
    TooLong,
    #[error("Use letters, digits, spaces and ' - . , only.")]
    Forbidden,
}

impl DisplayName {
    pub const MAX_CHARS: usize = 80;

    pub fn parse(raw: &str) -> Result<Self, DisplayNameError> {
        let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.is_empty() {
            return Err(DisplayNameError::Empty);
        }
        if collapsed.chars().count() > Self::MAX_CHARS {
            return Err(DisplayNameError::TooLong);
        }
        let allowed =
            |c: char| c.is_alphanumeric() || c == ' ' || matches!(c, '\'' | '’' | '-' | '.' | ',');
        if !collapsed.chars().all(allowed) {
            return Err(DisplayNameError::Forbidden);
        }
        Ok(Self(collapsed))
    }

    /// A name for an account that only gave its address: the mailbox part, cleaned.
    pub fn from_email(email: &super::email::Email) -> Self {
        let local = email.as_str().split('@').next().unwrap_or_default();
        let cleaned: String = local
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect();
        Self::parse(&cleaned).unwrap_or_else(|_| Self("Customer".into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DisplayName({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_their_letters_and_lose_extra_space() {
        let name = DisplayName::parse("  Zoë   O'Brien-Núñez ").unwrap();
        assert_eq!(name.as_str(), "Zoë O'Brien-Núñez");
        assert!(DisplayName::parse("李小龍").is_ok());
    }

    #[test]
    fn markup_and_statements_are_refused() {
        for bad in [
            "<script>alert(1)</script>",
            "Robert'); DROP TABLE users;--",
            "a\u{0}b",
        ] {
            assert_eq!(
                DisplayName::parse(bad),
                Err(DisplayNameError::Forbidden),
                "{bad}"
            );
        }
    }

    #[test]
    fn empty_and_overlong_names_are_refused() {
        assert_eq!(DisplayName::parse(" \t "), Err(DisplayNameError::Empty));
        let long = "a".repeat(DisplayName::MAX_CHARS + 1);
        assert_eq!(DisplayName::parse(&long), Err(DisplayNameError::TooLong));
    }
}

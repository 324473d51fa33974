//! `Email`: an address parsed once at the edge, with its domain normalised.

use std::{fmt, str::FromStr};

/// A syntactically valid email address: surrounding space trimmed, domain lower-cased.
/// The local part keeps its case (it is the mailbox owner's); lookups ignore case.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Why a string is not an email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter your email address.")]
    Empty,
    #[error("That email address is too long.")]
    TooLong,
    #[error("Enter an email address like name@example.com.")]
    Malformed,
}

impl Email {
    /// Longest address SMTP can carry (RFC 5321 §4.5.3.1.3, path less the brackets).
    pub const MAX_LEN: usize = 254;

    /// Parses user input into an address.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.len() > Self::MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or(EmailError::Malformed)?;
        if local.is_empty() || local.len() > 64 || domain.is_empty() {
            return Err(EmailError::Malformed);
        }
        let domain = domain.trim_end_matches('.').to_lowercase();
        // A bare host name is no public mail domain; an IP literal is refused as well.
        if !domain.contains('.') || domain.starts_with('[') {
            return Err(EmailError::Malformed);
        }
        let normalised = format!("{local}@{domain}");
        lettre::Address::from_str(&normalised).map_err(|_| EmailError::Malformed)?;
        Ok(Self(normalised))
    }

    /// An address read back from the database, where only parsed addresses are written.
    pub(crate) fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_trimmed_and_its_domain_lower_cased() {
        let email = Email::parse("  Ada.Lovelace@Example.ORG ").unwrap();
        assert_eq!(email.as_str(), "Ada.Lovelace@example.org");
    }

    #[test]
    fn empty_input_asks_for_an_address() {
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "plainaddress",
            "@example.com",
            "ada@",
            "ada@localhost",
            "ada@@example.com",
            "ada lovelace@example.com",
            "ada@[127.0.0.1]",
            "<script>@example.com",
            "ada@exa mple.com",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Malformed), "{bad}");
        }
    }

    #[test]
    fn overlong_addresses_are_refused() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(Email::parse(&long_local), Err(EmailError::Malformed));
    }
}

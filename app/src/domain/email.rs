//! `Email`: an address parsed once at the edge, with its domain normalised; and whether it is
//! at a disposable (throwaway) mail service, by the list the mailchecker crate maintains.

use std::{collections::HashSet, fmt, str::FromStr, sync::OnceLock};

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
    #[error("Use an email address you keep: this one is at a throwaway mail service.")]
    Disposable,
    #[error("Another account already uses this address.")]
    InUse,
}

fn disposable_domains() -> &'static HashSet<&'static str> {
    static DOMAINS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    DOMAINS.get_or_init(|| mailchecker::blacklist().into_iter().collect())
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

    /// The domain (lower case).
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }

    /// The address with its local part hidden but its first character: `a•••@example.org`.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or(("", &self.0));
        let first: String = local.chars().take(1).collect();
        format!("{first}•••@{domain}")
    }

    /// Whether the address is at a disposable mail service (its domain or a parent domain is
    /// on the list).
    pub fn is_disposable(&self) -> bool {
        let list = disposable_domains();
        let mut domain = self.domain();
        loop {
            if list.contains(domain) {
                return true;
            }
            match domain.split_once('.') {
                Some((_, parent)) if parent.contains('.') => domain = parent,
                _ => return false,
            }
        }
    }

    /// Refuses an address at a disposable mail service (for a new account).
    pub fn for_new_account(&self) -> Result<&Self, EmailError> {
        if self.is_disposable() {
            Err(EmailError::Disposable)
        } else {
            Ok(self)
        }
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
    fn masking_keeps_the_first_character_and_the_domain() {
        let email = Email::parse("Grace.Hopper@Example.ORG").unwrap();
        assert_eq!(email.masked(), "G•••@example.org");
    }

    #[test]
    fn throwaway_mail_services_are_known_by_domain_and_parent_domain() {
        for disposable in [
            "a@mailinator.com",
            "a@guerrillamailblock.com",
            "a@x.33mail.com",
        ] {
            let email = Email::parse(disposable).unwrap();
            assert!(email.is_disposable(), "{disposable}");
            assert_eq!(email.for_new_account(), Err(EmailError::Disposable));
        }
        for kept in ["a@example.com", "a@gmail.com", "a@mail.example.org"] {
            assert!(!Email::parse(kept).unwrap().is_disposable(), "{kept}");
        }
    }

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

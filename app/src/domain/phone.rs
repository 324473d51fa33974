//! `Phone`: a phone number that can receive text messages, validated with libphonenumber's
//! metadata and kept in E.164 form (`+447911123456`).

use std::fmt;

/// Why a phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("Enter your phone number.")]
    Empty,
    #[error("Start with + and your country code, e.g. +44 7911 123456.")]
    NoCountryCode,
    #[error("That is not a valid phone number.")]
    Invalid,
    #[error("Another account already uses this phone number.")]
    InUse,
    #[error("We cannot send text messages to numbers in this country.")]
    CountryNotServed,
}

/// A validated number in E.164 form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Longest input looked at; E.164 numbers have at most 15 digits, formatting adds a few.
    const MAX_INPUT: usize = 32;

    /// Parses an international number typed by a person (spaces, dashes, dots and brackets
    /// allowed) and checks it against the numbering plan of its country.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(PhoneError::Empty);
        }
        if input.chars().count() > Self::MAX_INPUT {
            return Err(PhoneError::Invalid);
        }
        if !input.starts_with('+') {
            return Err(PhoneError::NoCountryCode);
        }
        let number = phonenumber::parse(None, input).map_err(|_| PhoneError::Invalid)?;
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Invalid);
        }
        Ok(Self(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    /// A number read back from the database (it went through [`Phone::parse`]).
    pub fn from_stored(e164: String) -> Self {
        Self(e164)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number's country (ISO 3166 alpha-2, e.g. "GB"), when its numbering plan says.
    pub fn country(&self) -> Option<String> {
        let number = phonenumber::parse(None, &self.0).ok()?;
        number.country().id().map(|id| id.as_ref().to_owned())
    }

    /// The number with all but its last two digits hidden, for messages to other people.
    pub fn masked(&self) -> String {
        let digits = self.0.len().saturating_sub(1);
        let shown = &self.0[self.0.len().saturating_sub(2)..];
        format!("+{}{shown}", "•".repeat(digits.saturating_sub(2)))
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_knows_its_country() {
        assert_eq!(
            Phone::parse("+442079460958").unwrap().country().as_deref(),
            Some("GB")
        );
        // +44 shared by several numbering plans: 7911 1… is a Guernsey mobile range.
        assert_eq!(
            Phone::parse("+447911123456").unwrap().country().as_deref(),
            Some("GG")
        );
        assert_eq!(
            Phone::parse("+4915123456789").unwrap().country().as_deref(),
            Some("DE")
        );
    }

    #[test]
    fn international_numbers_are_normalised_to_e164() {
        let phone = Phone::parse(" +44 7911 123456 ").unwrap();
        assert_eq!(phone.as_str(), "+447911123456");
        assert_eq!(
            Phone::parse("+1 (415) 555-2671").unwrap().as_str(),
            "+14155552671"
        );
        assert_eq!(
            Phone::parse("+49 151 23456789").unwrap().as_str(),
            "+4915123456789"
        );
    }

    #[test]
    fn bad_numbers_get_a_specific_error() {
        assert_eq!(Phone::parse("  "), Err(PhoneError::Empty));
        assert_eq!(Phone::parse("07911 123456"), Err(PhoneError::NoCountryCode));
        assert_eq!(Phone::parse("+44 12"), Err(PhoneError::Invalid));
        assert_eq!(Phone::parse("+999 123456789"), Err(PhoneError::Invalid));
        assert_eq!(Phone::parse("+44 abc"), Err(PhoneError::Invalid));
        assert_eq!(Phone::parse(&"+4".repeat(40)), Err(PhoneError::Invalid));
        assert_eq!(
            Phone::parse("+44 7911 123456; DROP TABLE users"),
            Err(PhoneError::Invalid)
        );
    }

    #[test]
    fn masking_keeps_only_the_last_two_digits() {
        let phone = Phone::parse("+447911123456").unwrap();
        assert_eq!(phone.masked(), "+••••••••••56");
    }
}

//! How sure a sign-in is of its person: the factors proven (each with its RFC 8176 `amr`
//! values), whether together they make a multi-factor sign-in, and the `acr` level apps see.
//! Pure: no storage, no transport.

use serde::{Deserialize, Serialize};

/// One factor: one kind of proof. Two proofs of the same kind (a mailed link, then a mailed
/// code) are one factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    /// Something known: a password.
    Password,
    /// Control of the mailbox: a mailed link or code (also a password reset's link).
    Email,
    /// Control of the phone number: a texted code.
    Sms,
    /// An authenticator app's code.
    Totp,
    /// One of the person's single-use recovery codes.
    RecoveryCode,
    /// A passkey or security key with user verification: multi-factor by itself (possession
    /// of the key, and the PIN or biometric that unlocked it), phishing-resistant.
    Passkey,
    /// An upstream identity provider vouched for the person.
    Federated,
}

/// Apps asking `acr_values` for a single factor, and what a one-factor sign-in carries.
pub const ACR_SINGLE_FACTOR: &str = "https://refeds.org/profile/sfa";
/// Apps asking `acr_values` for multi-factor, and what a multi-factor sign-in carries.
pub const ACR_MULTI_FACTOR: &str = "https://refeds.org/profile/mfa";
/// The levels the provider knows, weakest first.
pub const ACR_LEVELS: [&str; 2] = [ACR_SINGLE_FACTOR, ACR_MULTI_FACTOR];

impl Factor {
    /// The RFC 8176 authentication method references of this factor.
    pub fn amr(self) -> &'static [&'static str] {
        match self {
            Self::Password => &["pwd"],
            Self::Email => &["otp"],
            Self::Sms => &["sms", "otp"],
            Self::Totp => &["otp"],
            // A look-up secret; RFC 8176 has no value of its own for one.
            Self::RecoveryCode => &["otp"],
            Self::Passkey => &["hwk", "user"],
            Self::Federated => &["fed"],
        }
    }

    /// Whether this factor proves possession of something the person enrolled as a second
    /// factor (an authenticator app, a recovery code, a passkey).
    pub fn is_strong_second(self) -> bool {
        matches!(self, Self::Totp | Self::RecoveryCode | Self::Passkey)
    }
}

/// Whether `factors` together make a multi-factor sign-in: a passkey, or two different kinds.
pub fn is_multi_factor(factors: &[Factor]) -> bool {
    factors.contains(&Factor::Passkey)
        || factors
            .iter()
            .any(|f| factors.iter().any(|g| g != f && !same_channel(*f, *g)))
}

/// A recovery code stands in for the authenticator app; the two together are still one
/// factor in kind (what the person keeps as their second factor).
fn same_channel(a: Factor, b: Factor) -> bool {
    matches!(
        (a, b),
        (Factor::Totp, Factor::RecoveryCode) | (Factor::RecoveryCode, Factor::Totp)
    )
}

/// The RFC 8176 `amr` values of `factors`, each once, with `mfa` for a multi-factor sign-in.
pub fn amr(factors: &[Factor]) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    for value in factors.iter().flat_map(|f| f.amr()) {
        if !values.iter().any(|v| v == value) {
            values.push((*value).to_owned());
        }
    }
    if is_multi_factor(factors) && !values.iter().any(|v| v == "mfa") {
        values.push("mfa".to_owned());
    }
    values
}

/// The `acr` level `factors` reach.
pub fn acr(factors: &[Factor]) -> &'static str {
    if is_multi_factor(factors) {
        ACR_MULTI_FACTOR
    } else {
        ACR_SINGLE_FACTOR
    }
}

/// Whether a sign-in at level `acr` satisfies a request for any of `wanted` (space-separated
/// `acr_values` parsed; unknown values are ignored, so an app asking only for levels this
/// provider does not know gets what there is). A request for multi-factor is satisfied only by
/// multi-factor.
pub fn satisfies(acr: &str, wanted: &[String]) -> bool {
    let known: Vec<&str> = wanted
        .iter()
        .map(String::as_str)
        .filter(|w| ACR_LEVELS.contains(w))
        .collect();
    known.is_empty() || known.iter().any(|w| *w == acr || *w == ACR_SINGLE_FACTOR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Factor::*;

    #[test]
    fn one_kind_of_proof_is_one_factor() {
        assert!(!is_multi_factor(&[Password]));
        assert!(!is_multi_factor(&[Email, Email]));
        assert!(!is_multi_factor(&[Totp, RecoveryCode]));
        assert_eq!(acr(&[Email]), ACR_SINGLE_FACTOR);
    }

    #[test]
    fn two_kinds_or_a_passkey_are_multi_factor() {
        assert!(is_multi_factor(&[Password, Totp]));
        assert!(is_multi_factor(&[Password, RecoveryCode]));
        assert!(is_multi_factor(&[Password, Email]));
        assert!(is_multi_factor(&[Email, Totp]));
        assert!(is_multi_factor(&[Passkey]));
        assert_eq!(acr(&[Password, Totp]), ACR_MULTI_FACTOR);
    }

    #[test]
    fn amr_lists_each_value_once_and_says_mfa() {
        assert_eq!(amr(&[Password]), ["pwd"]);
        assert_eq!(amr(&[Password, Totp]), ["pwd", "otp", "mfa"]);
        assert_eq!(amr(&[Passkey]), ["hwk", "user", "mfa"]);
        assert_eq!(amr(&[Sms, Email]), ["sms", "otp", "mfa"]);
    }

    #[test]
    fn a_request_for_multi_factor_is_met_only_by_multi_factor() {
        let mfa = vec![ACR_MULTI_FACTOR.to_owned()];
        let sfa = vec![ACR_SINGLE_FACTOR.to_owned()];
        assert!(!satisfies(ACR_SINGLE_FACTOR, &mfa));
        assert!(satisfies(ACR_MULTI_FACTOR, &mfa));
        assert!(satisfies(ACR_SINGLE_FACTOR, &sfa));
        assert!(satisfies(ACR_MULTI_FACTOR, &sfa));
        assert!(satisfies(ACR_SINGLE_FACTOR, &[]));
        assert!(satisfies(ACR_SINGLE_FACTOR, &["urn:other".to_owned()]));
        // Either level will do.
        assert!(satisfies(
            ACR_SINGLE_FACTOR,
            &[mfa[0].clone(), sfa[0].clone()]
        ));
    }
}

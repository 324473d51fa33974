//! What changed about how a person signs in, in the words of the "factors changed" message.

use crate::i18n::{td_string, Locale};

/// What changed about how a person signs in, as the "factors changed" message words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorChange {
    /// They added an authenticator app.
    AuthenticatorAdded,
    /// They removed their authenticator app.
    AuthenticatorRemoved,
    /// They made a new set of recovery codes.
    RecoveryCodesReplaced,
    /// They gave their passwordless account a password.
    PasswordAdded,
    /// They removed their password.
    PasswordRemoved,
    /// Support removed their authenticator app.
    AuthenticatorRemovedBySupport,
    /// Support removed one of their passkeys.
    PasskeyRemovedBySupport,
}

impl FactorChange {
    /// The change in words, in `locale`, as it completes the message's sentence.
    pub fn words(self, locale: Locale) -> &'static str {
        match self {
            Self::AuthenticatorAdded => td_string!(locale, mail.factor_authenticator_added),
            Self::AuthenticatorRemoved => td_string!(locale, mail.factor_authenticator_removed),
            Self::RecoveryCodesReplaced => {
                td_string!(locale, mail.factor_recovery_codes_replaced)
            }
            Self::PasswordAdded => td_string!(locale, mail.factor_password_added),
            Self::PasswordRemoved => td_string!(locale, mail.factor_password_removed),
            Self::AuthenticatorRemovedBySupport => {
                td_string!(locale, mail.factor_authenticator_removed_by_support)
            }
            Self::PasskeyRemovedBySupport => {
                td_string!(locale, mail.factor_passkey_removed_by_support)
            }
        }
    }
}

//! The business's MFA policy: who must sign in with a second factor. Stored in
//! `auth_settings.mfa_policy` (see `settings`), set from the command line.

use crate::domain::users::{Role, User};

/// Who must use a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaPolicy {
    /// Nobody is asked for one, even those who enrolled one.
    Off,
    /// Those who enrolled one are asked for it; nobody must enrol.
    Optional,
    /// Everyone must enrol one and use it.
    Required,
    /// Administrators must enrol one and use it; customers as they choose (the default).
    Admins,
}

crate::text_enum!(MfaPolicy {
    Off => "off",
    Optional => "optional",
    Required => "required",
    Admins => "admins",
});

impl MfaPolicy {
    /// Whether `user` must have, and use, a second factor.
    pub fn requires(self, user: &User) -> bool {
        match self {
            Self::Off | Self::Optional => false,
            Self::Required => true,
            Self::Admins => user.role == Role::Admin,
        }
    }

    /// Whether a person who enrolled a second factor is asked for it.
    pub fn asks_enrolled(self) -> bool {
        self != Self::Off
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role) -> User {
        User {
            id: uuid::Uuid::nil(),
            email: "a@example.com".into(),
            email_verified_at: None,
            display_name: "A".into(),
            password_hash: None,
            role,
            phone: None,
            failed_sign_ins: 0,
            password_locked_at: None,
            locked_at: None,
            password_reset_required: false,
            mfa_required: false,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            last_sign_in_at: None,
            locale: None,
            time_zone: None,
        }
    }

    #[test]
    fn the_default_requires_a_second_factor_of_administrators_only() {
        assert!(MfaPolicy::Admins.requires(&user(Role::Admin)));
        assert!(!MfaPolicy::Admins.requires(&user(Role::Customer)));
        assert!(MfaPolicy::Required.requires(&user(Role::Customer)));
        assert!(!MfaPolicy::Optional.requires(&user(Role::Admin)));
        assert!(!MfaPolicy::Off.asks_enrolled());
        assert!(MfaPolicy::Optional.asks_enrolled());
        assert_eq!(MfaPolicy::parse("admins"), Some(MfaPolicy::Admins));
        assert_eq!(MfaPolicy::parse("sometimes"), None);
    }
}

//! Consent: the purposes a business asks its customers to agree to, each with a versioned
//! policy text (`purposes`), and the append-only ledger of every grant and withdrawal a person
//! made, app approvals and disconnections included (`ledger`), and what a person must answer at
//! registration or a sign-in (`asked`).

pub mod asked;
pub mod ledger;
pub mod purposes;

use crate::text_enum;

/// Why the business may process data for a purpose (GDPR Article 6(1)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LawfulBasis {
    Consent,
    Contract,
    LegalObligation,
    VitalInterests,
    PublicTask,
    LegitimateInterests,
}

text_enum!(LawfulBasis {
    Consent => "consent",
    Contract => "contract",
    LegalObligation => "legal_obligation",
    VitalInterests => "vital_interests",
    PublicTask => "public_task",
    LegitimateInterests => "legitimate_interests",
});

impl LawfulBasis {
    /// The basis in plain words.
    pub fn describe(self) -> &'static str {
        match self {
            LawfulBasis::Consent => "your consent",
            LawfulBasis::Contract => "our contract with you",
            LawfulBasis::LegalObligation => "a legal obligation",
            LawfulBasis::VitalInterests => "vital interests",
            LawfulBasis::PublicTask => "a task in the public interest",
            LawfulBasis::LegitimateInterests => "our legitimate interests",
        }
    }
}

/// How a ledger entry was collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    /// On the registration form (or the first sign-in of a social or passkey sign-up).
    Registration,
    /// On the portal's consent page, or by disconnecting an app there.
    Portal,
    /// Asked again at sign-in after a required policy got a new version.
    Reconsent,
    /// Through the management API.
    Api,
    /// On a partner app's consent screen.
    AppAuthorization,
    /// By the service itself: the account's address was proven by someone other than whoever
    /// registered it, and what the registrant agreed to does not bind the owner.
    Service,
}

text_enum!(Collection {
    Registration => "registration",
    Portal => "portal",
    Reconsent => "re-consent",
    Api => "api",
    AppAuthorization => "app-authorization",
    Service => "service",
});

impl Collection {
    /// Where the entry was collected, in plain words.
    pub fn describe(self) -> &'static str {
        match self {
            Collection::Registration => "at registration",
            Collection::Portal => "in your account",
            Collection::Reconsent => "when asked again at sign-in",
            Collection::Api => "through the service's API",
            Collection::AppAuthorization => "on the app's consent screen",
            Collection::Service => "by us, when you proved your address",
        }
    }
}

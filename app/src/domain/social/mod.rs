//! Social sign-in: signing in or up through an upstream identity provider (OpenID Connect or
//! plain OAuth 2.0), and the upstream identities linked to each account.

pub mod flow;
pub mod id_token;
pub mod identities;
pub mod presets;
pub mod providers;
pub mod upstream;

use crate::domain::privacy::{Erasure, Export, Table};
pub use crate::model::social::SocialError;

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[
    Table {
        name: "social_providers",
        person: None,
        personal: &[],
        other: &[
            "id",
            "kind",
            "display_name",
            "issuer",
            "client_id",
            "client_secret_enc",
            "scopes",
            "enabled",
            "created_at",
        ],
        export: Export::Not("holds nothing about people"),
        erasure: Erasure::Nothing,
    },
    Table {
        name: "user_identities",
        person: Some("user_id"),
        personal: &["user_id", "subject", "email"],
        other: &["id", "provider_id", "created_at", "last_used_at"],
        export: Export::Rows,
        erasure: Erasure::Delete,
    },
];

//! The OpenID provider partner apps sign in through: signing keys (`keys`) and the tokens signed
//! with them (`jws`); registered clients (`clients`, `registration`) and how they authenticate
//! (`client_auth`, `assertion`); the authorization code flow with PKCE (`authorize`,
//! `pending_requests`, `answer`, `par`, signed request objects in `request_object`); the token
//! endpoint (`token`, one file per grant in `grant_types/`); what ends a grant
//! (`grant_revocation`, `revocation`); subjects, userinfo, DPoP, connected apps, logout across the
//! apps of a sign-in, and the per-node copies kept true by change notices.

use crate::domain::privacy::{Erasure, Export, Table};

pub mod answer;
pub mod assertion;
pub mod authorize;
pub mod client_admin;
pub mod client_auth;
pub mod client_cache;
pub mod client_edit;
pub mod clients;
pub mod connected_apps;
pub mod dpop;
pub mod error;
pub mod grant_revocation;
pub mod grant_types;
pub mod issue;
pub mod jws;
pub mod key_pairs;
pub mod keys;
pub mod logout;
pub mod notice_cache;
pub mod par;
pub mod pending_requests;
pub mod person_cache;
pub mod registration;
pub mod request_object;
pub mod revocation;
pub mod revoked;
pub mod session_apps;
pub mod subjects;
pub mod token;
pub mod userinfo;

/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[
    Table {
        name: "authorization_codes",
        person: Some("user_id"),
        personal: &["code_hash", "user_id", "nonce", "sid", "dpop_jkt"],
        other: &[
            "client_id",
            "redirect_uri",
            "scopes",
            "code_challenge",
            "auth_time",
            "expires_at",
            "used_at",
            "created_at",
            "grant_id",
            "amr",
            "acr",
        ],
        export: Export::Not("single-use codes that live 60 seconds"),
        erasure: Erasure::Delete,
    },
    Table {
        name: "client_assertions",
        person: None,
        personal: &[],
        other: &["client_id", "jti", "expires_at"],
        export: Export::Not("holds nothing about people"),
        erasure: Erasure::Nothing,
    },
    Table {
        name: "dpop_proofs",
        person: None,
        personal: &[],
        other: &["jkt", "jti", "expires_at"],
        export: Export::Not("holds nothing about people"),
        erasure: Erasure::Nothing,
    },
    Table {
        name: "logout_outbox",
        person: None,
        personal: &["sub", "sid"],
        other: &[
            "id",
            "client_id",
            "uri",
            "created_at",
            "expires_at",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "abandoned_at",
            "last_error",
        ],
        export: Export::Not("notices to apps on their way, delivered within minutes"),
        erasure: Erasure::Expires("a notice is dropped once delivered or abandoned"),
    },
    Table {
        name: "oauth_clients",
        person: None,
        personal: &[],
        other: &[
            "id",
            "name",
            "logo_uri",
            "client_type",
            "secret_hash",
            "redirect_uris",
            "post_logout_redirect_uris",
            "backchannel_logout_uri",
            "grant_types",
            "scopes",
            "id_token_alg",
            "access_token_ttl_secs",
            "refresh_token_ttl_secs",
            "first_party",
            "created_at",
            "frontchannel_logout_uri",
            "require_par",
            "jwks",
            "subject_type",
            "sector_identifier",
            "require_dpop",
            "pkce_required",
            "require_mfa",
            "disabled_at",
        ],
        export: Export::Not("holds nothing about people"),
        erasure: Erasure::Nothing,
    },
    Table {
        name: "oauth_grants",
        person: Some("user_id"),
        personal: &["user_id"],
        other: &["client_id", "scopes", "created_at", "updated_at"],
        export: Export::Rows,
        erasure: Erasure::Delete,
    },
    Table {
        name: "pairwise_subjects",
        person: Some("user_id"),
        personal: &["sub", "user_id"],
        other: &["sector", "created_at"],
        export: Export::Rows,
        erasure: Erasure::Delete,
    },
    Table {
        name: "pushed_requests",
        person: None,
        personal: &["handle_hash", "params"],
        other: &["client_id", "expires_at", "created_at"],
        export: Export::Not("an app's request waiting at most 90 seconds to be used"),
        erasure: Erasure::Expires("a pushed request lives 90 seconds"),
    },
    Table {
        name: "refresh_tokens",
        person: Some("user_id"),
        personal: &["token_hash", "user_id", "code_hash", "sid", "dpop_jkt"],
        other: &[
            "family_id",
            "client_id",
            "scopes",
            "auth_time",
            "expires_at",
            "used_at",
            "revoked_at",
            "created_at",
            "family_expires_at",
            "amr",
            "acr",
        ],
        export: Export::RowsWithout(&["token_hash", "code_hash", "dpop_jkt"]),
        erasure: Erasure::Delete,
    },
    Table {
        name: "revoked_access_tokens",
        person: None,
        personal: &[],
        other: &["jti", "expires_at"],
        export: Export::Not("holds nothing about people"),
        erasure: Erasure::Nothing,
    },
    Table {
        name: "session_apps",
        person: Some("user_id"),
        personal: &["sid", "user_id"],
        other: &["client_id", "created_at"],
        export: Export::Rows,
        erasure: Erasure::Delete,
    },
    Table {
        name: "signing_keys",
        person: None,
        personal: &[],
        other: &[
            "kid",
            "alg",
            "private_key_enc",
            "public_jwk",
            "state",
            "created_at",
            "activated_at",
            "retired_at",
        ],
        export: Export::Not("holds nothing about people"),
        erasure: Erasure::Nothing,
    },
];

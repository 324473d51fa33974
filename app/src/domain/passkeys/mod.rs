//! Passkeys (WebAuthn, via webauthn-rs): the relying party, what can be refused, and the two
//! halves: `ceremonies` (passkey-only sign-up, adding a passkey, usernameless sign-in) and
//! `manage` (listing, renaming, removing).

mod ceremonies;
mod manage;

use std::sync::Arc;

use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

use crate::domain::privacy::{Erasure, Export, Table};
pub use ceremonies::{
    finish_registration, finish_sign_in, finish_sign_up, start_registration, start_sign_in,
    start_sign_up,
};
pub use manage::{list, remove, remove_all, remove_in, rename, PasskeyRecord};

const MAX_NAME_CHARS: usize = 60;

/// Why a passkey operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasskeyRejection {
    #[error("The passkey request expired or was already used. Try again.")]
    NoCeremony,
    #[error("This passkey is not registered with us.")]
    UnknownPasskey,
    #[error("The passkey could not be verified. Try again.")]
    NotVerified,
    #[error("Give the passkey a name of at most {MAX_NAME_CHARS} characters.")]
    BadName,
    #[error("No such passkey.")]
    NotFound,
    #[error("You cannot remove your only way to sign in.")]
    LastMethod,
}

/// The relying party, built once from the public URL.
pub fn relying_party(public_url: &str, product: &str) -> anyhow::Result<Arc<Webauthn>> {
    let origin = Url::parse(public_url)?;
    let rp_id = origin
        .domain()
        .ok_or_else(|| anyhow::anyhow!("passkeys need a host name in CIAM_PUBLIC_URL, not an IP"))?
        .to_owned();
    let webauthn = WebauthnBuilder::new(&rp_id, &origin)?
        .rp_name(product)
        .build()?;
    Ok(Arc::new(webauthn))
}

fn parse_name(raw: &str) -> Result<String, PasskeyRejection> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let name = if name.is_empty() {
        "Passkey".to_owned()
    } else {
        name
    };
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(PasskeyRejection::BadName);
    }
    Ok(name)
}
/// The tables this module owns: what they hold about people, and how a person's export and
/// erasure cover them (see `privacy`).
pub const TABLES: &[Table] = &[
    Table {
        name: "passkeys",
        person: Some("user_id"),
        personal: &["credential_id", "user_id", "name", "passkey"],
        other: &["created_at", "last_used_at"],
        export: Export::RowsWithout(&["passkey"]),
        erasure: Erasure::Delete,
    },
    Table {
        name: "webauthn_ceremonies",
        person: Some("user_id"),
        personal: &["user_id", "email", "display_name", "passkey_name", "state"],
        other: &["id", "kind", "expires_at"],
        export: Export::Not("a ceremony in progress, for at most five minutes"),
        erasure: Erasure::Delete,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_public_host() {
        assert!(relying_party("http://localhost:3000", "Keyhaven").is_ok());
        assert!(relying_party("https://id.example.com", "Keyhaven").is_ok());
        assert!(relying_party("http://127.0.0.1:3000", "Keyhaven").is_err());
    }

    #[test]
    fn passkey_names_are_tidied_and_bounded() {
        assert_eq!(parse_name("  My   laptop ").unwrap(), "My laptop");
        assert_eq!(parse_name("").unwrap(), "Passkey");
        assert_eq!(parse_name(&"x".repeat(61)), Err(PasskeyRejection::BadName));
    }
}

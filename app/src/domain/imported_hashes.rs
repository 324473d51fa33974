//! Password hashes brought in by an import from another system: argon2 (any variant), bcrypt
//! (`$2a$`, `$2b$`, `$2y$`), scrypt and PBKDF2 (SHA-256 or SHA-512) in PHC string format.
//! Recognised at import, verified at sign-in with each scheme's own crate, and replaced by an
//! argon2id hash at the first sign-in that matches (`hashing::Verification::MatchNeedsRehash`).

use argon2::password_hash::{PasswordHash, PasswordVerifier};

/// A stored hash's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Argon2,
    Bcrypt,
    Scrypt,
    Pbkdf2,
}

/// The scheme of `stored`, when it is a hash this product can verify, well formed.
pub fn scheme(stored: &str) -> Option<Scheme> {
    if let Some(rest) = stored
        .strip_prefix("$2a$")
        .or_else(|| stored.strip_prefix("$2b$"))
        .or_else(|| stored.strip_prefix("$2y$"))
    {
        // Two cost digits, `$`, 22 characters of salt and 31 of hash.
        let (cost, body) = rest.split_at_checked(2)?;
        let cost: u32 = cost.parse().ok()?;
        let body = body.strip_prefix('$')?;
        let fine = (4..=31).contains(&cost)
            && body.len() == 53
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/');
        return fine.then_some(Scheme::Bcrypt);
    }
    let parsed = PasswordHash::new(stored).ok()?;
    parsed.hash?;
    match parsed.algorithm.as_str() {
        "argon2id" | "argon2i" | "argon2d" => Some(Scheme::Argon2),
        "scrypt" => Some(Scheme::Scrypt),
        "pbkdf2-sha256" | "pbkdf2-sha512" => Some(Scheme::Pbkdf2),
        _ => None,
    }
}

/// Whether `password` matches `stored`, a hash of a scheme other than argon2.
pub fn verify_other(stored: &str, password: &str) -> anyhow::Result<bool> {
    match scheme(stored) {
        Some(Scheme::Bcrypt) => Ok(bcrypt::verify(password, stored)?),
        Some(Scheme::Scrypt) => {
            let parsed = PasswordHash::new(stored).map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(scrypt::Scrypt
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        }
        Some(Scheme::Pbkdf2) => {
            let parsed = PasswordHash::new(stored).map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(pbkdf2::Pbkdf2
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        }
        Some(Scheme::Argon2) | None => anyhow::bail!("not a hash of another scheme"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, SaltString};

    const PASSWORD: &str = "violet tractor sings at dawn";

    #[test]
    fn each_scheme_is_recognised_and_verified() {
        let salt = SaltString::from_b64("c2FsdHNhbHRzYWx0c2FsdA").unwrap();
        let bcrypt = bcrypt::hash(PASSWORD, 4).unwrap();
        let scrypt = scrypt::Scrypt
            .hash_password_customized(
                PASSWORD.as_bytes(),
                None,
                None,
                scrypt::Params::new(4, 8, 1, 32).unwrap(),
                &salt,
            )
            .unwrap()
            .to_string();
        let pbkdf2 = pbkdf2::Pbkdf2
            .hash_password_customized(
                PASSWORD.as_bytes(),
                Some(pbkdf2::Algorithm::Pbkdf2Sha256.ident()),
                None,
                pbkdf2::Params {
                    rounds: 1000,
                    output_length: 32,
                },
                &salt,
            )
            .unwrap()
            .to_string();
        for (hash, wanted) in [
            (&bcrypt, Scheme::Bcrypt),
            (&scrypt, Scheme::Scrypt),
            (&pbkdf2, Scheme::Pbkdf2),
        ] {
            assert_eq!(scheme(hash), Some(wanted), "{hash}");
            assert!(verify_other(hash, PASSWORD).unwrap(), "{hash}");
            assert!(!verify_other(hash, "another password").unwrap(), "{hash}");
        }
    }

    #[test]
    fn what_is_not_a_hash_is_refused() {
        for bad in [
            "",
            "plaintext",
            "$2b$10$short",
            "$2b$99$abcdefghijklmnopqrstuvabcdefghijklmnopqrstuvwxyzABCDE",
            "$md5$abc",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA",
        ] {
            assert_eq!(scheme(bad), None, "{bad}");
        }
    }
}

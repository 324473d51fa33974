//! The master key that seals secrets at rest: from `CIAM_MASTER_KEY`, from the file
//! `CIAM_MASTER_KEY_FILE` names, or in development generated once into a private file at a fixed
//! place per user.

use std::path::PathBuf;

use anyhow::{bail, Context};
use base64::{engine::general_purpose::STANDARD, Engine};
use rand::RngCore;

use super::var;

/// The master key; never printed.
#[derive(Clone)]
pub struct MasterKey(pub [u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

/// Where the development master key lives: one fixed place per user, whatever directory a
/// command runs from (`$XDG_DATA_HOME/keyhaven/dev-master.key`, else
/// `$HOME/.local/share/keyhaven/dev-master.key`).
fn dev_key_path() -> anyhow::Result<PathBuf> {
    let data = match (var("XDG_DATA_HOME"), var("HOME")) {
        (Some(data), _) => PathBuf::from(data),
        (None, Some(home)) => PathBuf::from(home).join(".local/share"),
        (None, None) => bail!(
            "no master key is configured and there is no home directory for a development \
             key: set CIAM_MASTER_KEY or CIAM_MASTER_KEY_FILE"
        ),
    };
    Ok(data.join("keyhaven/dev-master.key"))
}

/// `CIAM_MASTER_KEY` (base64 of 32 bytes), or the file named by `CIAM_MASTER_KEY_FILE`, or in
/// development a key generated once at [`dev_key_path`].
pub(super) fn load() -> anyhow::Result<MasterKey> {
    if let Some(encoded) = var("CIAM_MASTER_KEY") {
        return decode_key(&encoded).context("CIAM_MASTER_KEY");
    }
    let (path, explicit) = match var("CIAM_MASTER_KEY_FILE") {
        Some(p) => (PathBuf::from(p), true),
        None => (dev_key_path()?, false),
    };
    if path.exists() {
        return read_key_file(&path).map(|(key, _)| key);
    }
    if explicit {
        bail!(
            "CIAM_MASTER_KEY_FILE names {}, which does not exist",
            path.display()
        );
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Development keys used to be made in the working directory; one found there is copied to
    // the fixed place, so a database set up with it keeps working.
    let old = PathBuf::from(".ciam/master.key");
    if old.exists() {
        let (key, text) = read_key_file(&old)?;
        write_private(&path, &text)?;
        tracing::warn!(
            from = %old.display(),
            to = %path.display(),
            "copied the development master key from the working directory to its fixed place"
        );
        return Ok(key);
    }
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    write_private(&path, &STANDARD.encode(key))?;
    tracing::warn!(
        path = %path.display(),
        "NO MASTER KEY CONFIGURED: generated a development key. Set CIAM_MASTER_KEY or \
         CIAM_MASTER_KEY_FILE in production, and keep the key out of the database's backups."
    );
    Ok(MasterKey(key))
}

/// The master key in the file at `path`, and its text.
fn read_key_file(path: &std::path::Path) -> anyhow::Result<(MasterKey, String)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading master key file {}", path.display()))?;
    let text = text.trim().to_owned();
    let key = decode_key(&text).with_context(|| format!("master key in {}", path.display()))?;
    Ok((key, text))
}

fn decode_key(encoded: &str) -> anyhow::Result<MasterKey> {
    let bytes = STANDARD
        .decode(encoded.trim())
        .context("the master key must be base64")?;
    let key: [u8; 32] = bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("the master key must be 32 bytes"))?;
    Ok(MasterKey(key))
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("creating {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_keys_must_be_32_bytes_of_base64() {
        assert!(decode_key(&STANDARD.encode([7u8; 32])).is_ok());
        assert!(decode_key(&STANDARD.encode([7u8; 16])).is_err());
        assert!(decode_key("not base64!").is_err());
        assert_eq!(
            format!("{:?}", decode_key(&STANDARD.encode([7u8; 32])).unwrap()),
            "MasterKey([redacted])"
        );
    }
}

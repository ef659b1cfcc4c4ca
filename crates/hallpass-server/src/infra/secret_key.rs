//! The secret key file: read it, or create it (mode 0600) on first start.

use std::{
    fs::OpenOptions,
    io::{ErrorKind, Write},
    path::Path,
};

use anyhow::Context;
use hallpass_core::secret::SecretKey;

use crate::infra::random::random_bytes;

/// Reads the key at `path`, generating it if the file does not exist. Two nodes racing to
/// create it cannot both write: the file is created exclusively.
pub(crate) fn load_or_generate(path: &Path) -> anyhow::Result<SecretKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            warn_if_readable_by_others(path);
            SecretKey::parse(&text)
                .with_context(|| format!("reading the secret key {}", path.display()))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let key = SecretKey::from_bytes(random_bytes().map_err(|e| anyhow::anyhow!("{e}"))?);
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(path) {
                Ok(mut file) => {
                    file.write_all(key.to_file_contents().as_bytes())
                        .and_then(|()| file.sync_all())
                        .with_context(|| format!("writing the secret key {}", path.display()))?;
                    tracing::info!(path = %path.display(), "generated a new secret key");
                    Ok(key)
                }
                // Another process created it first: use theirs.
                Err(e) if e.kind() == ErrorKind::AlreadyExists => load_or_generate(path),
                Err(e) => {
                    Err(e).with_context(|| format!("creating the secret key {}", path.display()))
                }
            }
        }
        Err(e) => Err(e).with_context(|| format!("reading the secret key {}", path.display())),
    }
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "the secret key file is readable by other users; chmod 600 it");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_once_then_reads_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hallpass.key");
        let first = load_or_generate(&path).unwrap();
        let second = load_or_generate(&path).unwrap();
        assert_eq!(first.derive("x"), second.derive("x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }

    #[test]
    fn a_corrupt_key_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hallpass.key");
        std::fs::write(&path, "nonsense").unwrap();
        let err = load_or_generate(&path).unwrap_err();
        assert!(format!("{err:#}").contains("64 hexadecimal"), "{err:#}");
    }
}

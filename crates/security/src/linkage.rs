//! The partnership linkage key: the secret every borough's node uses to turn NI
//! numbers into pseudonyms, so the same person gets the same pseudonym in every
//! borough and nobody without the key can link anyone. It is read from a key file
//! held like a private key, and never logged, sent or stored.

use std::path::Path;

use borough_model::LinkageKey;

use crate::certs::files::{read_private_key, write_private_key};
use crate::Error;

/// Reads the linkage key file: 64 hex digits (32 bytes), mode 0600.
pub fn load_linkage_key(path: &Path) -> Result<LinkageKey, Error> {
    let text = read_private_key(path)?;
    LinkageKey::from_hex(&text).map_err(|e| Error::PrivateKey {
        path: path.to_path_buf(),
        problem: format!("not a linkage key: {e}"),
    })
}

/// Writes a new random linkage key file with mode 0600; refuses to overwrite one.
pub fn create_linkage_key(path: &Path) -> Result<(), Error> {
    // rand's thread generator is a CSPRNG seeded from the operating system.
    let bytes: [u8; 32] = rand::random();
    write_private_key(path, &format!("{}\n", hex::encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_created_key_loads_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("linkage.key");
        create_linkage_key(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        load_linkage_key(&path).unwrap();
        assert!(create_linkage_key(&path).is_err(), "overwrote a key");
    }

    #[test]
    fn a_key_of_the_wrong_length_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short.key");
        write_private_key(&path, "abcd\n").unwrap();
        let err = load_linkage_key(&path).unwrap_err().to_string();
        assert!(
            err.contains("short.key") && err.contains("not a linkage key"),
            "{err}"
        );
    }

    #[test]
    fn a_key_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("open.key");
        std::fs::write(&path, "00".repeat(32)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_linkage_key(&path).unwrap_err().to_string();
        assert!(err.contains("readable by other users"), "{err}");
    }
}

//! Partnership secret key files: 32 random bytes written as 64 hex digits and held
//! like a private key (created 0600, never overwritten, refused if other users can
//! read them). The linkage key and the perturbation key are both kept this way, so
//! they share this one code path; only the key type differs.

use std::path::Path;

use borough_model::{Invalid, LinkageKey, PerturbationKey};

use crate::certs::files::{read_private_key, write_private_key};
use crate::Error;

/// A partnership secret key type that lives in a key file.
pub(crate) trait SecretKey: Sized {
    /// What errors call it: "linkage key".
    const NAME: &'static str;
    /// Reads the key from the file's text.
    fn from_hex(text: &str) -> Result<Self, Invalid>;
}

impl SecretKey for LinkageKey {
    const NAME: &'static str = "linkage key";
    fn from_hex(text: &str) -> Result<Self, Invalid> {
        LinkageKey::from_hex(text)
    }
}

impl SecretKey for PerturbationKey {
    const NAME: &'static str = "perturbation key";
    fn from_hex(text: &str) -> Result<Self, Invalid> {
        PerturbationKey::from_hex(text)
    }
}

/// Reads a key file: 64 hex digits (32 bytes), mode 0600. Errors name the file and
/// the kind of key, never its contents.
pub(crate) fn load<K: SecretKey>(path: &Path) -> Result<K, Error> {
    let text = read_private_key(path)?;
    K::from_hex(&text).map_err(|e| Error::PrivateKey {
        path: path.to_path_buf(),
        problem: format!("not a {}: {e}", K::NAME),
    })
}

/// Writes a new random key file with mode 0600; refuses to overwrite one.
pub(crate) fn create(path: &Path) -> Result<(), Error> {
    // rand's thread generator is a CSPRNG seeded from the operating system.
    let bytes: [u8; 32] = rand::random();
    write_private_key(path, &format!("{}\n", hex::encode(bytes)))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    use crate::certs::files::write_private_key;
    use crate::linkage::{create_linkage_key, load_linkage_key};
    use crate::perturbation::{create_perturbation_key, load_perturbation_key};
    use crate::Error;

    /// A kind of key file, through its public functions: its name, a loader that
    /// drops the key, and its creator.
    struct Kind {
        name: &'static str,
        load: fn(&Path) -> Result<(), Error>,
        create: fn(&Path) -> Result<(), Error>,
    }

    fn kinds() -> [Kind; 2] {
        [
            Kind {
                name: "linkage key",
                load: |p| load_linkage_key(p).map(drop),
                create: create_linkage_key,
            },
            Kind {
                name: "perturbation key",
                load: |p| load_perturbation_key(p).map(drop),
                create: create_perturbation_key,
            },
        ]
    }

    #[test]
    fn a_created_key_loads_and_is_private() {
        for kind in kinds() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("new.key");
            (kind.create)(&path).unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", kind.name);
            (kind.load)(&path).unwrap();
        }
    }

    #[test]
    fn an_existing_key_is_never_overwritten() {
        for kind in kinds() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("new.key");
            (kind.create)(&path).unwrap();
            let before = std::fs::read(&path).unwrap();
            let err = (kind.create)(&path).unwrap_err();
            assert!(
                matches!(&err, Error::AlreadyExists { path: p } if *p == path),
                "{}: {err}",
                kind.name
            );
            assert_eq!(std::fs::read(&path).unwrap(), before, "{}", kind.name);
        }
    }

    #[test]
    fn two_created_keys_differ() {
        for kind in kinds() {
            let dir = tempfile::tempdir().unwrap();
            let (a, b) = (dir.path().join("a.key"), dir.path().join("b.key"));
            (kind.create)(&a).unwrap();
            (kind.create)(&b).unwrap();
            assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        }
    }

    #[test]
    fn a_key_of_the_wrong_length_is_refused_naming_the_file_and_the_kind() {
        for kind in kinds() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("short.key");
            write_private_key(&path, "abcd\n").unwrap();
            let err = (kind.load)(&path).unwrap_err().to_string();
            let not_a = format!("not a {}", kind.name);
            assert!(
                err.contains("short.key") && err.contains(&not_a) && !err.contains("abcd"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_key_readable_by_others_is_refused() {
        for kind in kinds() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("open.key");
            std::fs::write(&path, "00".repeat(32)).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = (kind.load)(&path).unwrap_err().to_string();
            assert!(
                err.contains("readable by other users") && err.contains("open.key"),
                "{}: {err}",
                kind.name
            );
        }
    }
}

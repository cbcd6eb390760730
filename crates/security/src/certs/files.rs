//! Reading and writing PEM files with the permissions each kind needs: keys private to
//! their owner, certificates readable by anyone.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::Error;

/// Writes a new private key file, created with mode 0600 so it is never readable by
/// other users, not even between creation and a later chmod. Never overwrites.
pub fn write_private_key(path: &Path, pem: &str) -> Result<(), Error> {
    write_new(path, pem, 0o600)
}

/// Writes a new certificate file with mode 0644. Never overwrites.
pub(crate) fn write_certificate(path: &Path, pem: &str) -> Result<(), Error> {
    write_new(path, pem, 0o644)
}

fn write_new(path: &Path, contents: &str, mode: u32) -> Result<(), Error> {
    // create_new: an existing file keeps its old (possibly looser) mode when
    // truncated, and a planted symlink would redirect the write; refuse both.
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|source| match source.kind() {
            io::ErrorKind::AlreadyExists => Error::AlreadyExists {
                path: path.to_path_buf(),
            },
            _ => io_error(path, "create", source),
        })?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|source| io_error(path, "write", source))
}

/// Reads a private key file, refusing it if other users could read it.
pub(crate) fn read_private_key(path: &Path) -> Result<String, Error> {
    let mut file = File::open(path).map_err(|source| io_error(path, "read", source))?;
    // Checked on the open file, so the mode seen is the mode of what is read.
    let mode = file
        .metadata()
        .map_err(|source| io_error(path, "read", source))?
        .permissions()
        .mode()
        & 0o7777;
    if mode & 0o077 != 0 {
        return Err(Error::KeyReadableByOthers {
            path: path.to_path_buf(),
            mode,
        });
    }
    let mut pem = String::new();
    file.read_to_string(&mut pem)
        .map_err(|source| io_error(path, "read", source))?;
    Ok(pem)
}

/// Reads a text file such as a certificate.
pub(crate) fn read_text(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| io_error(path, "read", source))
}

pub(crate) fn io_error(path: &Path, action: &'static str, source: io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

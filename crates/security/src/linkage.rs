//! The partnership linkage key: the secret every borough's node uses to turn NI
//! numbers into pseudonyms, so the same person gets the same pseudonym in every
//! borough and nobody without the key can link anyone. It is read from a key file
//! held like a private key, and never logged, sent or stored.

use std::path::Path;

use borough_model::LinkageKey;

use crate::{secret_key, Error};

/// Reads the linkage key file: 64 hex digits (32 bytes), mode 0600.
pub fn load_linkage_key(path: &Path) -> Result<LinkageKey, Error> {
    secret_key::load(path)
}

/// Writes a new random linkage key file with mode 0600; refuses to overwrite one.
pub fn create_linkage_key(path: &Path) -> Result<(), Error> {
    secret_key::create(path)
}

//! The partnership perturbation key: the secret every borough's node uses to give
//! each person a record key for cell-key perturbation of released figures. It is
//! read from a key file held like a private key (exactly like the linkage key), and
//! never logged, sent or stored: without it a perturbed figure cannot be unpicked.

use std::path::Path;

use borough_model::PerturbationKey;

use crate::{secret_key, Error};

/// Reads the perturbation key file: 64 hex digits (32 bytes), mode 0600.
pub fn load_perturbation_key(path: &Path) -> Result<PerturbationKey, Error> {
    secret_key::load(path)
}

/// Writes a new random perturbation key file with mode 0600; refuses to overwrite
/// one.
pub fn create_perturbation_key(path: &Path) -> Result<(), Error> {
    secret_key::create(path)
}

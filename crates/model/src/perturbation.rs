//! The partnership perturbation key and record keys for cell-key perturbation (the
//! ONS method): every person gets a record key, a byte derived from their pseudonym
//! under a secret key, so the same set of people always gets the same perturbation
//! and a figure cannot be averaged away by asking again. The key never leaves a
//! node: without it record keys cannot be worked out, so a published figure cannot
//! be unpicked.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::pseudonym::key_from_hex;
use crate::Invalid;

/// The domain prefix of a record key, so it can never stand in for another HMAC
/// under the same key.
const RECORD_KEY_DOMAIN: &[u8] = b"borough-net record key v1\0";

/// The secret key record keys are computed under: 32 bytes, shared by the
/// partnership's nodes and held like a private key. Never printed: `Debug` is
/// redacted and there is no `Display`.
#[derive(Clone)]
pub struct PerturbationKey([u8; 32]);

impl PerturbationKey {
    /// Reads a key written as exactly 64 hex digits; surrounding whitespace (such
    /// as a key file's final newline) is ignored. Errors give the length found,
    /// never the characters.
    pub fn from_hex(s: &str) -> Result<PerturbationKey, Invalid> {
        key_from_hex(s, "perturbation key").map(PerturbationKey)
    }

    /// A key from raw bytes (for a node that generated them).
    pub fn from_bytes(bytes: [u8; 32]) -> PerturbationKey {
        PerturbationKey(bytes)
    }

    /// The record key of `subject` (a person's pseudonym bytes): the first byte of
    /// HMAC-SHA256(key, `borough-net record key v1\0` + subject), uniform over
    /// 0..=255. The same subject under the same key always gets the same value.
    pub fn record_key(&self, subject: &[u8]) -> u8 {
        // HMAC takes a key of any length, so this cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC accepts any key");
        mac.update(RECORD_KEY_DOMAIN);
        mac.update(subject);
        mac.finalize().into_bytes()[0]
    }
}

impl fmt::Debug for PerturbationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PerturbationKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests;

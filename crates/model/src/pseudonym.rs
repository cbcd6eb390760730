//! Pseudonyms: keyed hashes (HMAC-SHA256) of normalised National Insurance numbers
//! under a borough-net linkage key, so records about one person can be linked
//! without anyone holding the NI number. Each use has its own domain prefix
//! (`ni:` for the participant pseudonym, `family:<round>:` for a round's family
//! link), so one hash can never stand in for another.

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{Invalid, Term};

/// The secret key every pseudonym is computed under: 32 bytes, shared by the
/// boroughs whose records are to link. Never printed: `Debug` is redacted and there
/// is no `Display`.
#[derive(Clone)]
pub struct LinkageKey([u8; 32]);

impl LinkageKey {
    /// Reads a key written as exactly 64 hex digits; surrounding whitespace (such
    /// as a key file's final newline) is ignored. Errors give the length found,
    /// never the characters.
    pub fn from_hex(s: &str) -> Result<LinkageKey, Invalid> {
        key_from_hex(s, "linkage key").map(LinkageKey)
    }

    /// A key from raw bytes (for a node that generated them).
    pub fn from_bytes(bytes: [u8; 32]) -> LinkageKey {
        LinkageKey(bytes)
    }

    /// HMAC-SHA256 over the concatenated `parts`.
    fn mac(&self, parts: &[&[u8]]) -> Pseudonym {
        // HMAC takes a key of any length, so this cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC accepts any key");
        for part in parts {
            mac.update(part);
        }
        Pseudonym(mac.finalize().into_bytes().into())
    }
}

/// Reads a 32-byte secret key written as exactly 64 hex digits, ignoring
/// surrounding whitespace; `what` names the key in errors ("linkage key"). Errors
/// give the length found, never the characters.
pub(crate) fn key_from_hex(s: &str, what: &str) -> Result<[u8; 32], Invalid> {
    let s = s.trim();
    let len = s.chars().count();
    if len != 64 {
        return Err(Invalid::field(
            "",
            format!("a {what} must be 64 hex digits (32 bytes), found {len} characters"),
        ));
    }
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(s, &mut bytes).map_err(|_| {
        Invalid::field(
            "",
            format!("a {what} may hold only the hex digits 0-9 and a-f"),
        )
    })?;
    Ok(bytes)
}

impl fmt::Debug for LinkageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkageKey(<redacted>)")
    }
}

/// A National Insurance number in normal form (`AB123456C`). Identifiable: `Debug`
/// is redacted, there is no `Display`, and it is only ever used to compute
/// pseudonyms.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NiNumber(String);

/// Prefixes HMRC never issues.
const BARRED_PREFIXES: [&str; 7] = ["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"];

impl NiNumber {
    /// Normalises (upper case, all whitespace removed: `ab 12 34 56 c` →
    /// `AB123456C`) and checks the format: two prefix letters (the first not D, F,
    /// I, Q, U or V; the second not D, F, I, O, Q, U or V; not BG, GB, KN, NK, NT,
    /// TN or ZZ), six digits and a suffix letter A–D. Errors never repeat the value.
    pub fn parse(s: &str) -> Result<NiNumber, Invalid> {
        let n: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let shape = n.len() == 9
            && n.bytes().take(2).all(|b| b.is_ascii_uppercase())
            && n.bytes().skip(2).take(6).all(|b| b.is_ascii_digit())
            && n.as_bytes().get(8).is_some_and(|b| b.is_ascii_uppercase());
        // Indexing below is safe: `shape` holds only for nine ASCII characters.
        let b = n.as_bytes();
        let problem = if !shape {
            "must be two letters, six digits and a letter, as in AB123456C"
        } else if b"DFIQUV".contains(&b[0]) {
            "the first letter cannot be D, F, I, Q, U or V"
        } else if b"DFIOQUV".contains(&b[1]) {
            "the second letter cannot be D, F, I, O, Q, U or V"
        } else if BARRED_PREFIXES.contains(&&n[..2]) {
            "the two-letter prefix is one HMRC never issues (BG, GB, KN, NK, NT, TN, ZZ)"
        } else if !b"ABCD".contains(&b[8]) {
            "the final letter must be A, B, C or D"
        } else {
            return Ok(NiNumber(n));
        };
        Err(Invalid::field("", problem))
    }

    /// The participant pseudonym: HMAC-SHA256(key, `ni:` + normalised NI number).
    /// The same person gets the same pseudonym in every dataset and round.
    pub fn pseudonym(&self, key: &LinkageKey) -> Pseudonym {
        key.mac(&[b"ni:", self.0.as_bytes()])
    }

    /// The family link for one allocation round: HMAC-SHA256(key, `family:` +
    /// round id + `:` + normalised NI number), where the round id is the term's
    /// text (`2026-autumn`). It differs per round, so a family's requests link
    /// within a round but cannot be followed from one round to the next.
    pub fn family_link(&self, key: &LinkageKey, round: Term) -> Pseudonym {
        let round = round.to_string();
        key.mac(&[b"family:", round.as_bytes(), b":", self.0.as_bytes()])
    }
}

impl fmt::Debug for NiNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NiNumber(<redacted>)")
    }
}

impl FromStr for NiNumber {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        NiNumber::parse(s)
    }
}

/// A 32-byte pseudonym, written as 64 lower-case hex digits. Without the linkage
/// key it cannot be turned back into the NI number, so it may be shared.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pseudonym([u8; 32]);

impl Pseudonym {
    /// Parses the 64-hex-digit form (either case).
    pub fn from_hex(s: &str) -> Result<Pseudonym, Invalid> {
        let mut bytes = [0u8; 32];
        match hex::decode_to_slice(s.trim(), &mut bytes) {
            Ok(()) => Ok(Pseudonym(bytes)),
            Err(_) => Err(Invalid::field("", "must be a pseudonym: 64 hex digits")),
        }
    }

    /// A pseudonym from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Pseudonym {
        Pseudonym(bytes)
    }

    /// The pseudonym's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pseudonym({self})")
    }
}

impl FromStr for Pseudonym {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Pseudonym::from_hex(s)
    }
}

#[cfg(test)]
mod tests;

//! Local references: the borough case system's own id for a record, kept with the
//! record the node made for it. It stays on this node: it is never in the change
//! log, a `Change`, or anything served to peers.

use std::fmt;

use borough_model::{Invalid, RecordId, Seq};

use crate::IngestOutcome;

/// The longest local reference accepted, in bytes.
pub const MAX_LOCAL_REF_LEN: usize = 128;

/// The borough case system's own id for a record (an opaque printable string of at
/// most [`MAX_LOCAL_REF_LEN`] bytes). It can lead back to a person's case, so its
/// `Debug` form is redacted, it has no `Display`, and errors never include it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LocalRef(String);

impl LocalRef {
    /// Checks and wraps a reference: non-empty, at most [`MAX_LOCAL_REF_LEN`] bytes,
    /// no control characters and no leading or trailing whitespace (so `"A1 "` and
    /// `"A1"` cannot become two cases). Errors describe the problem, never the value.
    pub fn parse(s: &str) -> Result<LocalRef, Invalid> {
        let problem = if s.is_empty() {
            "is empty".to_string()
        } else if s.len() > MAX_LOCAL_REF_LEN {
            format!("is {} bytes, longer than {MAX_LOCAL_REF_LEN}", s.len())
        } else if s.chars().any(char::is_control) {
            "holds a control character".to_string()
        } else if s.trim() != s {
            "has leading or trailing whitespace".to_string()
        } else {
            return Ok(LocalRef(s.to_string()));
        };
        Err(Invalid::field("local_ref", problem))
    }

    /// The reference as text, for the reply to the borough system. Do not log it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LocalRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LocalRef(<redacted>)")
    }
}

/// One change a borough system makes to its own records, named by its local
/// reference rather than by record id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalIngest {
    /// Create the record (assigning it a new record id if the reference is new),
    /// or replace its payload.
    Upsert {
        /// The borough system's reference for the record.
        local_ref: LocalRef,
        /// The record, encoded by the caller; opaque to the store.
        payload: Vec<u8>,
    },
    /// Delete the record; its tombstone keeps the reference, so a re-created case
    /// keeps its id.
    Delete {
        /// The borough system's reference for the record.
        local_ref: LocalRef,
    },
}

/// One local reference of a [`Store::ingest_local`](crate::Store::ingest_local)
/// batch and the record id it maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMapping<'a> {
    /// The borough system's reference, borrowed from the batch.
    pub local_ref: &'a LocalRef,
    /// The record id it maps to.
    pub id: RecordId,
    /// True if this call assigned the id (the reference was new).
    pub assigned: bool,
}

/// What a [`Store::ingest_local`](crate::Store::ingest_local) call did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocalIngestOutcome<'a> {
    /// The counts and head, as for an ingest by record id.
    pub outcome: IngestOutcome,
    /// Every reference of the batch that maps to a record, once each, in the order
    /// first seen (a delete of an unknown reference maps to nothing).
    pub mappings: Vec<LocalMapping<'a>>,
}

/// What a [`Store::erase`](crate::Store::erase) call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    /// The record erased.
    pub id: RecordId,
    /// The seq of its tombstone in this node's log, which peers will receive.
    pub seq: Seq,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_ref_accepts_printable_text_up_to_the_limit() {
        assert!(LocalRef::parse("CASE/2024/00017").is_ok());
        assert!(LocalRef::parse("Dossier é 7").is_ok());
        assert!(LocalRef::parse(&"a".repeat(MAX_LOCAL_REF_LEN)).is_ok());
    }

    #[test]
    fn local_ref_refuses_empty_long_control_or_padded_text() {
        for bad in [
            String::new(),
            "a".repeat(MAX_LOCAL_REF_LEN + 1),
            "A\n1".to_string(),
            " A1".to_string(),
            "A1 ".to_string(),
        ] {
            let err = LocalRef::parse(&bad).unwrap_err();
            assert_eq!(err.0[0].field, "local_ref");
        }
    }

    #[test]
    fn local_ref_errors_and_debug_never_show_the_value() {
        let err = LocalRef::parse(" SECRET-CASE").unwrap_err();
        assert!(!err.to_string().contains("SECRET"), "{err}");
        let local_ref = LocalRef::parse("SECRET-CASE").unwrap();
        assert!(!format!("{local_ref:?}").contains("SECRET"));
        let item = LocalIngest::Delete { local_ref };
        assert!(!format!("{item:?}").contains("SECRET"));
    }
}

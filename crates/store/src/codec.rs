//! Tree names and the byte layout of keys and values in the `state` tree.
//!
//! Integers are big-endian so keys sort numerically; a GSS code is its 9 ASCII bytes
//! and a record id its ASCII bytes (ids are `[A-Za-z0-9._:-]`), so record keys sort
//! in id order. Each key space starts with one letter:
//!
//! - `R | tag | origin | id` → record: version, seq, flags, [applied-at],
//!   [local reference], payload. Peer records and tombstones set the `APPLIED_AT`
//!   flag and carry the unix seconds at which they were applied here (for
//!   retention); own records do not. An own record created by a borough system's
//!   local reference sets `LOCAL_REF_FLAG` and carries the reference (one length byte,
//!   then its bytes); decoding hands it back apart from the payload, so nothing
//!   that serves payloads can pass it on. A value with neither flag is exactly the
//!   version-1 layout.
//! - `L | tag | first seq` → own change log run: count, then each id's length and
//!   id, for the consecutive seqs from `first seq` (one run per own batch)
//! - `H | tag` → own log head (last seq assigned)
//! - `C | tag | peer` → checkpoint: last seq of the peer's log applied here
//! - `N | tag | origin` → number of live records of that origin, kept in step with
//!   `R` in the same batch so `count` needs no scan
//! - `X | tag | local_ref` → own record id: how schema version 2 kept local
//!   references. Opening a version-2 directory moves each into its record and
//!   removes the key; nothing writes one any more. The key holds a borough case
//!   reference, so errors never show it.

use std::fmt;

use borough_model::{Dataset, GssCode, RecordId};

use crate::{Error, LocalRef};

/// Holds every record, log entry, head, checkpoint and count, so one
/// `Tree::apply_batch` commits a whole batch atomically.
pub(crate) const STATE_TREE: &str = "state";
/// The hash-chained audit log.
pub(crate) const AUDIT_TREE: &str = "audit";
/// Schema version and the owning borough.
pub(crate) const META_TREE: &str = "meta";

/// Key in `meta` holding the schema version (u32 BE).
pub(crate) const SCHEMA_VERSION_KEY: &[u8] = b"schema_version";
/// Key in `meta` holding the owning borough's GSS code (9 ASCII bytes).
pub(crate) const OWN_BOROUGH_KEY: &[u8] = b"own_borough";

const RECORD: u8 = b'R';
const LOG: u8 = b'L';
const HEAD: u8 = b'H';
const CHECKPOINT: u8 = b'C';
const COUNT: u8 = b'N';
const LEGACY_LOCAL_REF: u8 = b'X';

/// Flag bit: the record (or change) is a deletion.
const TOMBSTONE: u8 = 0b0000_0001;
/// Flag bit (record values only): an 8-byte applied-at time follows the flags.
const APPLIED_AT: u8 = 0b0000_0010;
/// Flag bit (own record values only): a local reference follows the flags.
const LOCAL_REF_FLAG: u8 = 0b0000_0100;

/// Length of `R | tag | origin`, the prefix shared by one origin's records.
pub(crate) const RECORD_PREFIX_LEN: usize = 2 + 9;
/// Length of a record value's fixed header: version, seq, flags.
const RECORD_HEADER_LEN: usize = 8 + 8 + 1;
/// Length of the applied-at time in a peer record value.
const APPLIED_AT_LEN: usize = 8;

/// The 9 ASCII bytes of a GSS code (`E09000022`).
pub(crate) fn gss_bytes(gss: GssCode) -> [u8; 9] {
    let text = gss.to_string();
    let mut out = [0u8; 9];
    // Display always yields `E09` and six digits, so this copies exactly 9 bytes.
    out.copy_from_slice(&text.as_bytes()[..9]);
    out
}

/// Parses the 9 ASCII bytes of a stored GSS code.
pub(crate) fn parse_gss(bytes: &[u8]) -> Result<GssCode, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "GSS code is not ASCII".to_string())?;
    GssCode::parse(text).map_err(|e| e.to_string())
}

/// `R | tag | origin`: the prefix of one origin's records in one dataset.
pub(crate) fn record_prefix(dataset: Dataset, origin: GssCode) -> [u8; RECORD_PREFIX_LEN] {
    let mut key = [0u8; RECORD_PREFIX_LEN];
    key[0] = RECORD;
    key[1] = dataset.tag();
    key[2..].copy_from_slice(&gss_bytes(origin));
    key
}

/// `R | tag | origin | id`, built from a prefix computed once per batch.
pub(crate) fn record_key(prefix: &[u8; RECORD_PREFIX_LEN], id: &RecordId) -> Vec<u8> {
    let mut key = Vec::with_capacity(RECORD_PREFIX_LEN + id.as_str().len());
    key.extend_from_slice(prefix);
    key.extend_from_slice(id.as_str().as_bytes());
    key
}

/// The record id at the end of a record key.
pub(crate) fn record_id_from_key(key: &[u8]) -> Result<RecordId, Error> {
    let problem = match key.get(RECORD_PREFIX_LEN..) {
        None => "record key shorter than its prefix".to_string(),
        Some(id) => match std::str::from_utf8(id) {
            Err(_) => "record id is not ASCII".to_string(),
            Ok(text) => match RecordId::parse(text) {
                Ok(id) => return Ok(id),
                Err(e) => format!("record id: {e}"),
            },
        },
    };
    Err(corrupt(STATE_TREE, key, problem))
}

/// `L | tag | seq`: the key of the log run starting at `seq`.
pub(crate) fn log_key(dataset: Dataset, seq: u64) -> [u8; 10] {
    let mut key = [0u8; 10];
    key[0] = LOG;
    key[1] = dataset.tag();
    key[2..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// The seq at the end of a log key.
pub(crate) fn seq_from_log_key(key: &[u8]) -> Result<u64, Error> {
    key.get(2..)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| corrupt(STATE_TREE, key, "log key is not 10 bytes"))
}

/// `H | tag`.
pub(crate) fn head_key(dataset: Dataset) -> [u8; 2] {
    [HEAD, dataset.tag()]
}

/// `C | tag | peer`.
pub(crate) fn checkpoint_key(dataset: Dataset, peer: GssCode) -> [u8; 11] {
    let mut key = [0u8; 11];
    key[0] = CHECKPOINT;
    key[1] = dataset.tag();
    key[2..].copy_from_slice(&gss_bytes(peer));
    key
}

/// `N | tag | origin`.
pub(crate) fn count_key(dataset: Dataset, origin: GssCode) -> [u8; 11] {
    let mut key = [0u8; 11];
    key[0] = COUNT;
    key[1] = dataset.tag();
    key[2..].copy_from_slice(&gss_bytes(origin));
    key
}

/// The first byte of every version-2 local-reference key.
pub(crate) const LEGACY_LOCAL_REF_PREFIX: [u8; 1] = [LEGACY_LOCAL_REF];

/// One version-2 local-reference entry, decoded.
#[derive(Debug)]
pub(crate) struct LegacyLocalRef {
    pub(crate) dataset: Dataset,
    pub(crate) local_ref: LocalRef,
    pub(crate) id: RecordId,
}

/// Decodes a version-2 `X | tag | local_ref` → id entry.
pub(crate) fn decode_legacy_local_ref(key: &[u8], value: &[u8]) -> Result<LegacyLocalRef, Error> {
    let tag = key.get(1).copied().unwrap_or_default();
    let withheld = |problem: String| Error::Corrupt {
        tree: STATE_TREE,
        // The rest of the key is a borough case reference: never shown.
        key: format!(
            "{}<local reference withheld>",
            hex::encode([LEGACY_LOCAL_REF, tag])
        ),
        problem,
    };
    let dataset = Dataset::ALL
        .into_iter()
        .find(|d| d.tag() == tag)
        .ok_or_else(|| withheld(format!("unknown dataset tag {tag}")))?;
    let local_ref = std::str::from_utf8(key.get(2..).unwrap_or_default())
        .map_err(|_| "local reference is not UTF-8".to_string())
        .and_then(|text| LocalRef::parse(text).map_err(|e| e.to_string()))
        .map_err(withheld)?;
    let id = std::str::from_utf8(value)
        .map_err(|_| "record id is not ASCII".to_string())
        .and_then(|text| RecordId::parse(text).map_err(|e| format!("record id: {e}")))
        .map_err(withheld)?;
    Ok(LegacyLocalRef {
        dataset,
        local_ref,
        id,
    })
}

/// A u64 value (head, checkpoint, count); absent means 0.
pub(crate) fn decode_u64(key: &[u8], value: Option<&[u8]>) -> Result<u64, Error> {
    match value {
        None => Ok(0),
        Some(v) => <[u8; 8]>::try_from(v).map(u64::from_be_bytes).map_err(|_| {
            corrupt(
                STATE_TREE,
                key,
                format!("expected 8 bytes, found {}", v.len()),
            )
        }),
    }
}

/// A stored record as decoded from `R`, borrowing its payload. Its `Debug` form
/// leaves out the local reference and the payload.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordValue<'a> {
    pub(crate) version: u64,
    pub(crate) seq: u64,
    pub(crate) tombstone: bool,
    /// When a peer record was applied here (unix seconds); `None` for own records
    /// and for peer records written before the time was recorded.
    pub(crate) applied_at: Option<u64>,
    /// The borough system's reference, for an own record created by one (kept by a
    /// deletion, dropped by an erasure). Local only: never served.
    pub(crate) local_ref: Option<&'a [u8]>,
    /// Empty for tombstones: a deletion keeps no payload.
    pub(crate) payload: &'a [u8],
}

impl fmt::Debug for RecordValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordValue")
            .field("version", &self.version)
            .field("seq", &self.seq)
            .field("tombstone", &self.tombstone)
            .field("applied_at", &self.applied_at)
            .field("local_ref", &self.local_ref.map(|_| "<redacted>"))
            .field("payload_bytes", &self.payload.len())
            .finish()
    }
}

/// What an `R` value carries besides its version, seq and payload: the time a
/// peer record was applied here, or an own record's local reference. Its `Debug`
/// form leaves out the reference.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp<'a> {
    /// An own record with no local reference.
    Plain,
    /// A peer record or tombstone, applied here at this unix time.
    AppliedAt(u64),
    /// An own record or tombstone created by this local reference (the bytes of a
    /// [`LocalRef`], at most [`crate::MAX_LOCAL_REF_LEN`] long).
    LocalRef(&'a [u8]),
}

impl fmt::Debug for Stamp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stamp::Plain => f.write_str("Plain"),
            Stamp::AppliedAt(at) => f.debug_tuple("AppliedAt").field(at).finish(),
            Stamp::LocalRef(_) => f.write_str("LocalRef(<redacted>)"),
        }
    }
}

/// Encodes an `R` value.
pub(crate) fn encode_record(
    version: u64,
    seq: u64,
    payload: Option<&[u8]>,
    stamp: Stamp<'_>,
) -> Vec<u8> {
    let body = payload.unwrap_or_default();
    let stamp_len = match stamp {
        Stamp::Plain => 0,
        Stamp::AppliedAt(_) => APPLIED_AT_LEN,
        Stamp::LocalRef(local_ref) => 1 + local_ref.len(),
    };
    let mut out = Vec::with_capacity(RECORD_HEADER_LEN + stamp_len + body.len());
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    let tombstone = if payload.is_none() { TOMBSTONE } else { 0 };
    match stamp {
        Stamp::Plain => out.push(tombstone),
        Stamp::AppliedAt(at) => {
            out.push(tombstone | APPLIED_AT);
            out.extend_from_slice(&at.to_be_bytes());
        }
        Stamp::LocalRef(local_ref) => {
            out.push(tombstone | LOCAL_REF_FLAG);
            // Every reference stored comes from a LocalRef, at most
            // MAX_LOCAL_REF_LEN (128) bytes, so its length fits the byte; a longer
            // one would move the payload's start, so it is cut to the limit rather.
            debug_assert!(local_ref.len() <= crate::MAX_LOCAL_REF_LEN);
            let len = local_ref.len().min(crate::MAX_LOCAL_REF_LEN);
            out.push(len as u8);
            out.extend_from_slice(&local_ref[..len]);
        }
    }
    out.extend_from_slice(body);
    out
}

/// Decodes an `R` value.
pub(crate) fn decode_record<'a>(key: &[u8], value: &'a [u8]) -> Result<RecordValue<'a>, Error> {
    if value.len() < RECORD_HEADER_LEN {
        return Err(corrupt(
            STATE_TREE,
            key,
            format!(
                "record value is {} bytes, shorter than its header",
                value.len()
            ),
        ));
    }
    let (version, rest) = value.split_at(8);
    let (seq, rest) = rest.split_at(8);
    let (flags, rest) = rest.split_at(1);
    let flags = decode_flags(key, flags[0], TOMBSTONE | APPLIED_AT | LOCAL_REF_FLAG)?;
    if flags & APPLIED_AT != 0 && flags & LOCAL_REF_FLAG != 0 {
        return Err(corrupt(
            STATE_TREE,
            key,
            "record value is marked both a peer's and a local reference's",
        ));
    }
    let (applied_at, rest) = if flags & APPLIED_AT == 0 {
        (None, rest)
    } else if rest.len() < APPLIED_AT_LEN {
        return Err(corrupt(
            STATE_TREE,
            key,
            "record value shorter than its applied-at time",
        ));
    } else {
        let (at, rest) = rest.split_at(APPLIED_AT_LEN);
        (Some(u64_at(at)), rest)
    };
    let (local_ref, payload) = if flags & LOCAL_REF_FLAG == 0 {
        (None, rest)
    } else {
        // The reference's bytes are never put in an error.
        let (&len, rest) = rest.split_first().ok_or_else(|| {
            corrupt(
                STATE_TREE,
                key,
                "record value shorter than its local reference",
            )
        })?;
        if usize::from(len) > crate::MAX_LOCAL_REF_LEN {
            return Err(corrupt(
                STATE_TREE,
                key,
                format!("local reference of {len} bytes, over the limit"),
            ));
        }
        let (local_ref, payload) = rest.split_at_checked(usize::from(len)).ok_or_else(|| {
            corrupt(
                STATE_TREE,
                key,
                "record value shorter than its local reference",
            )
        })?;
        (Some(local_ref), payload)
    };
    Ok(RecordValue {
        version: u64_at(version),
        seq: u64_at(seq),
        tombstone: flags & TOMBSTONE != 0,
        applied_at,
        local_ref,
        payload,
    })
}

/// Encodes an `L` value: the ids of one own batch's changes, which took the
/// consecutive seqs from the key's seq on. A run holds no version, flag or
/// payload: the record holds those, and a change whose record has moved on to a
/// later seq is superseded and skipped when read. One log write per batch, not
/// per change, is what lets an own batch cost little more than its records.
pub(crate) fn encode_log_run<'a>(ids: impl ExactSizeIterator<Item = &'a RecordId>) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + ids.len() * 25);
    out.extend_from_slice(&(ids.len() as u32).to_be_bytes());
    for id in ids {
        let id = id.as_str().as_bytes();
        // RecordId is at most MAX_RECORD_ID_LEN (64) bytes, so its length fits a byte.
        out.push(id.len() as u8);
        out.extend_from_slice(id);
    }
    out
}

/// Decodes an `L` value into its ids, in seq order.
pub(crate) fn decode_log_run(key: &[u8], value: &[u8]) -> Result<Vec<RecordId>, Error> {
    let bad = |problem: &str| corrupt(STATE_TREE, key, problem.to_string());
    let (count, mut rest) = value
        .split_first_chunk::<4>()
        .ok_or_else(|| bad("log run shorter than its count"))?;
    let count = u32::from_be_bytes(*count) as usize;
    let mut ids = Vec::with_capacity(count.min(rest.len()));
    for _ in 0..count {
        let (&len, tail) = rest
            .split_first()
            .ok_or_else(|| bad("log run shorter than its count says"))?;
        let (id, tail) = tail
            .split_at_checked(usize::from(len))
            .ok_or_else(|| bad("log run shorter than a record id"))?;
        let id = std::str::from_utf8(id)
            .ok()
            .and_then(|text| RecordId::parse(text).ok())
            .ok_or_else(|| bad("log run holds a malformed record id"))?;
        ids.push(id);
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(bad("log run carries bytes after its last record id"));
    }
    Ok(ids)
}

/// Returns the flags if only bits in `known` are set. Unknown flag bits mean a
/// newer or damaged layout; refusing beats misreading.
fn decode_flags(key: &[u8], flags: u8, known: u8) -> Result<u8, Error> {
    if flags & !known != 0 {
        return Err(corrupt(
            STATE_TREE,
            key,
            format!("unknown flag bits {flags:#010b}"),
        ));
    }
    Ok(flags)
}

/// Callers pass exactly 8 bytes (split from a length-checked value).
fn u64_at(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    buf.copy_from_slice(bytes);
    u64::from_be_bytes(buf)
}

/// A `Corrupt` error; keys are hex-encoded because they are binary.
pub(crate) fn corrupt(tree: &'static str, key: &[u8], problem: impl Into<String>) -> Error {
    Error::Corrupt {
        tree,
        key: hex::encode(key),
        problem: problem.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lambeth() -> GssCode {
        GssCode::parse("E09000022").unwrap()
    }

    #[test]
    fn record_values_round_trip_live_and_tombstoned() {
        let live = encode_record(3, 7, Some(b"opaque"), Stamp::Plain);
        let decoded = decode_record(b"k", &live).unwrap();
        assert_eq!(
            (decoded.version, decoded.seq, decoded.tombstone),
            (3, 7, false)
        );
        assert_eq!(decoded.payload, b"opaque");

        let dead = encode_record(4, 8, None, Stamp::Plain);
        let decoded = decode_record(b"k", &dead).unwrap();
        assert_eq!(
            (decoded.version, decoded.seq, decoded.tombstone),
            (4, 8, true)
        );
        assert!(decoded.payload.is_empty());
    }

    #[test]
    fn peer_record_values_carry_their_applied_at_time() {
        let live = encode_record(3, 7, Some(b"opaque"), Stamp::AppliedAt(1_700_000_000));
        let decoded = decode_record(b"k", &live).unwrap();
        assert_eq!(decoded.applied_at, Some(1_700_000_000));
        assert_eq!(decoded.payload, b"opaque");

        let dead = encode_record(4, 8, None, Stamp::AppliedAt(5));
        let decoded = decode_record(b"k", &dead).unwrap();
        assert_eq!((decoded.tombstone, decoded.applied_at), (true, Some(5)));
        assert!(decoded.payload.is_empty());

        let truncated = &live[..RECORD_HEADER_LEN + 3];
        assert!(matches!(
            decode_record(b"k", truncated),
            Err(Error::Corrupt { .. })
        ));
    }

    #[test]
    fn version_one_record_values_still_decode() {
        // The version-1 layout, written out by hand: version, seq, flags, payload.
        let mut v1 = Vec::new();
        v1.extend_from_slice(&2u64.to_be_bytes());
        v1.extend_from_slice(&9u64.to_be_bytes());
        v1.push(0);
        v1.extend_from_slice(b"old");
        let decoded = decode_record(b"k", &v1).unwrap();
        assert_eq!(
            (decoded.version, decoded.seq, decoded.applied_at),
            (2, 9, None)
        );
        assert_eq!(decoded.payload, b"old");
        assert_eq!(encode_record(2, 9, Some(b"old"), Stamp::Plain), v1);
    }

    #[test]
    fn own_record_values_carry_their_local_reference_apart_from_the_payload() {
        let live = encode_record(3, 7, Some(b"opaque"), Stamp::LocalRef(b"CASE-1"));
        let decoded = decode_record(b"k", &live).unwrap();
        assert_eq!(decoded.local_ref, Some(&b"CASE-1"[..]));
        assert_eq!(
            (decoded.payload, decoded.applied_at),
            (&b"opaque"[..], None)
        );

        let dead = encode_record(4, 8, None, Stamp::LocalRef(b"CASE-1"));
        let decoded = decode_record(b"k", &dead).unwrap();
        assert_eq!(
            (decoded.tombstone, decoded.local_ref),
            (true, Some(&b"CASE-1"[..]))
        );
        assert!(decoded.payload.is_empty());

        let longest = "a".repeat(crate::MAX_LOCAL_REF_LEN);
        let value = encode_record(1, 1, Some(b"p"), Stamp::LocalRef(longest.as_bytes()));
        let decoded = decode_record(b"k", &value).unwrap();
        assert_eq!(decoded.local_ref, Some(longest.as_bytes()));
        assert_eq!(decoded.payload, b"p");
    }

    #[test]
    fn damaged_local_reference_is_corrupt_and_not_shown() {
        let value = encode_record(3, 7, None, Stamp::LocalRef(b"CASE-SECRET-42"));
        let mut both = value.clone();
        both[16] |= APPLIED_AT;
        for damaged in [
            &value[..RECORD_HEADER_LEN],
            &value[..value.len() - 1],
            &both,
        ] {
            let err = decode_record(b"k", damaged).unwrap_err();
            let text = err.to_string();
            assert!(matches!(err, Error::Corrupt { .. }), "{text}");
            assert!(
                !text.contains("CASE") && !text.contains(&hex::encode(b"CASE")),
                "{text}"
            );
        }
    }

    #[test]
    fn corrupt_legacy_local_ref_entry_does_not_show_the_reference() {
        let mut key = b"X\x01".to_vec();
        key.extend_from_slice(b"CASE-SECRET-42");
        let entry = decode_legacy_local_ref(&key, b"id-1").unwrap();
        assert_eq!(entry.dataset, Dataset::ChildcarePlaces);
        assert_eq!(entry.local_ref.as_str(), "CASE-SECRET-42");
        assert_eq!(entry.id.as_str(), "id-1");

        let err = decode_legacy_local_ref(&key, b"not an id!").unwrap_err();
        let text = err.to_string();
        assert!(
            !text.contains("CASE") && !text.contains(&hex::encode(b"CASE")),
            "{text}"
        );
    }

    #[test]
    fn log_runs_round_trip_their_record_ids_in_order() {
        let ids = ["place-00017", "a", "b.c"].map(|t| RecordId::parse(t).unwrap());
        let value = encode_log_run(ids.iter());
        assert_eq!(decode_log_run(b"k", &value).unwrap(), ids.to_vec());
        assert_eq!(
            decode_log_run(b"k", &encode_log_run([].iter())).unwrap(),
            vec![]
        );
    }

    #[test]
    fn damaged_log_runs_are_reported_corrupt() {
        let ids = ["one", "two"].map(|t| RecordId::parse(t).unwrap());
        let value = encode_log_run(ids.iter());
        let mut trailing = value.clone();
        trailing.push(b'x');
        let mut bad_id = value.clone();
        bad_id[5] = b'/';
        for damaged in [&value[..3], &value[..value.len() - 1], &trailing, &bad_id] {
            assert!(
                matches!(decode_log_run(b"k", damaged), Err(Error::Corrupt { .. })),
                "{damaged:?}"
            );
        }
    }

    #[test]
    fn record_keys_carry_dataset_origin_and_id() {
        let prefix = record_prefix(Dataset::ChildcarePlaces, lambeth());
        assert_eq!(&prefix[..], b"R\x01E09000022");
        let id = RecordId::parse("a.b").unwrap();
        let key = record_key(&prefix, &id);
        assert_eq!(record_id_from_key(&key).unwrap(), id);
    }

    #[test]
    fn log_keys_sort_by_seq() {
        let d = Dataset::ChildcarePlaces;
        assert!(log_key(d, 255) < log_key(d, 256));
        assert_eq!(seq_from_log_key(&log_key(d, 256)).unwrap(), 256);
    }

    #[test]
    fn truncated_or_unknown_values_are_reported_corrupt() {
        assert!(matches!(
            decode_record(b"k", &[0; 5]),
            Err(Error::Corrupt { .. })
        ));
        let mut bad_flags = encode_record(1, 1, Some(b"x"), Stamp::Plain);
        bad_flags[16] = 0x80;
        let err = decode_record(b"k", &bad_flags).unwrap_err();
        assert!(err.to_string().contains("unknown flag bits"), "{err}");
        assert!(matches!(
            decode_log_run(b"k", &[0; 3]),
            Err(Error::Corrupt { .. })
        ));
        assert!(matches!(
            decode_u64(b"k", Some(&[1, 2])),
            Err(Error::Corrupt { .. })
        ));
    }
}

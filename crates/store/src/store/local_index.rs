//! The in-memory index from a local reference to the own record holding it.
//!
//! Each own record created by a local reference carries the reference in its
//! stored value, so the store writes one key per imported record. This index,
//! rebuilt from those records when the store opens, finds the record for a
//! reference without a second key on disk. It holds a keyed 64-bit hash of each
//! reference, never the reference: two references may share a hash, so a caller
//! reads each candidate record and keeps the one whose stored reference matches.
//! The ids a node assigns (24 hex digits) are held in 12 bytes, so an entry is 24
//! bytes plus a control byte; with the table's spare room that came to 34 bytes per
//! record holding a reference at 100,000 records and 52 at 1,000,000. The index also
//! keeps the greatest own record id, so that a new id above it (as the node's
//! rising ids always are) needs no read to know it is free.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

use borough_model::RecordId;

/// The hash of a reference under this process's random key.
pub(crate) type RefHash = u64;

/// Maps the hash of each reference held by an own record of one dataset to the
/// ids of the records holding references with that hash.
#[derive(Debug, Default)]
pub(crate) struct LocalIndex {
    /// The first id seen for each hash, if it packs: nearly every hash has
    /// exactly one id, and nearly every id is one the node assigned.
    packed: HashMap<RefHash, PackedId, BuildHasherDefault<Prehashed>>,
    /// Every other id, by hash: ids that do not pack, and further ids whose
    /// references share a hash with another's (rare).
    more: HashMap<RefHash, Vec<RecordId>, BuildHasherDefault<Prehashed>>,
    /// The greatest id of any own record of the dataset, with or without a
    /// reference, in key order.
    greatest: Option<RecordId>,
}

/// A record id of 24 lowercase hex digits, as the node assigns, in 12 bytes.
type PackedId = [u8; 12];

/// `id` packed, if it is 24 lowercase hex digits.
fn pack(id: &RecordId) -> Option<PackedId> {
    let text = id.as_str().as_bytes();
    if text.len() != 24 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 12];
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        *byte = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

/// The id `packed` was packed from.
fn unpack(packed: &PackedId) -> RecordId {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(24);
    for byte in packed {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    // Hex digits always make a valid record id; `pack` only took such ids.
    RecordId::parse(&text).unwrap_or_else(|_| unreachable!("24 hex digits are a record id"))
}

/// How references are hashed.
#[derive(Debug, Clone)]
pub(crate) enum Hashing {
    /// SipHash under a key drawn at random when the process starts, so that
    /// nobody can choose references that collide.
    Keyed(RandomState),
    /// Every reference hashes alike: for tests of the collision path.
    #[cfg(test)]
    Colliding,
}

impl Hashing {
    /// A fresh random key.
    pub(crate) fn keyed() -> Hashing {
        Hashing::Keyed(RandomState::new())
    }

    /// The hash of a reference's bytes.
    pub(crate) fn hash(&self, local_ref: &[u8]) -> RefHash {
        match self {
            Hashing::Keyed(keys) => keys.hash_one(local_ref),
            #[cfg(test)]
            Hashing::Colliding => 0,
        }
    }
}

impl LocalIndex {
    /// The ids of every record whose reference has `hash`; the one holding the
    /// reference asked for, if any, is among them.
    pub(crate) fn candidates(&self, hash: RefHash) -> Vec<RecordId> {
        let mut ids: Vec<RecordId> = self.packed.get(&hash).map(unpack).into_iter().collect();
        if let Some(more) = self.more.get(&hash) {
            ids.extend(more.iter().cloned());
        }
        ids
    }

    /// Notes that record `id` holds a reference with `hash`.
    pub(crate) fn insert(&mut self, hash: RefHash, id: RecordId) {
        if self.more.get(&hash).is_some_and(|more| more.contains(&id)) {
            return;
        }
        match (pack(&id), self.packed.get(&hash)) {
            (Some(packed), Some(first)) if packed == *first => {}
            (Some(packed), None) => {
                self.packed.insert(hash, packed);
            }
            _ => self.more.entry(hash).or_default().push(id),
        }
    }

    /// Notes that record `id` no longer holds a reference with `hash`.
    pub(crate) fn remove(&mut self, hash: RefHash, id: &RecordId) {
        match pack(id) {
            Some(packed) if self.packed.get(&hash) == Some(&packed) => {
                self.packed.remove(&hash);
            }
            _ => {
                if let Some(more) = self.more.get_mut(&hash) {
                    more.retain(|other| other != id);
                    if more.is_empty() {
                        self.more.remove(&hash);
                    }
                }
            }
        }
    }

    /// Whether an own record with `id` may exist: not if `id` sorts after every own
    /// record's id.
    pub(crate) fn may_exist(&self, id: &RecordId) -> bool {
        self.greatest
            .as_ref()
            .is_some_and(|greatest| id.as_str() <= greatest.as_str())
    }

    /// Notes that an own record with `id` exists (record ids sort as their keys).
    pub(crate) fn note_exists(&mut self, id: &RecordId) {
        if !self.may_exist(id) {
            self.greatest = Some(id.clone());
        }
    }

    /// How many records the index knows of.
    pub(crate) fn len(&self) -> usize {
        self.packed.len() + self.more.values().map(Vec::len).sum::<usize>()
    }
}

/// A hasher for keys that are already keyed hashes: hashing them again would
/// only cost time.
#[derive(Debug, Default)]
pub(crate) struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used for a `RefHash`; fold anything else in.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> RecordId {
        RecordId::parse(s).unwrap()
    }

    #[test]
    fn a_reference_hashes_the_same_each_time_and_unlike_another() {
        let hashing = Hashing::keyed();
        assert_eq!(hashing.hash(b"CASE-1"), hashing.hash(b"CASE-1"));
        assert_ne!(hashing.hash(b"CASE-1"), hashing.hash(b"CASE-2"));
    }

    #[test]
    fn inserted_ids_are_candidates_until_removed() {
        let mut index = LocalIndex::default();
        let hashing = Hashing::keyed();
        let h = hashing.hash(b"CASE-1");
        assert!(index.candidates(h).is_empty());
        index.insert(h, id("a"));
        index.insert(h, id("a"));
        assert_eq!(index.candidates(h), vec![id("a")]);
        assert_eq!(index.len(), 1);
        index.remove(h, &id("a"));
        assert!(index.candidates(h).is_empty());
        assert_eq!(index.len(), 0);
    }

    #[test]
    fn an_id_may_exist_only_up_to_the_greatest_noted() {
        let mut index = LocalIndex::default();
        assert!(!index.may_exist(&id("a")));
        index.note_exists(&id("m"));
        index.note_exists(&id("c"));
        assert!(index.may_exist(&id("a")) && index.may_exist(&id("m")));
        assert!(!index.may_exist(&id("n")) && !index.may_exist(&id("m0")));
    }

    #[test]
    fn node_assigned_ids_pack_into_twelve_bytes_and_back() {
        let assigned = id("0188f3a2b4c5d6e7f8091a2b");
        assert_eq!(unpack(&pack(&assigned).unwrap()), assigned);
        for other in [
            "n1",
            "0188F3A2B4C5D6E7F8091A2B",
            "0188f3a2b4c5d6e7f8091a2",
            "x188f3a2b4c5d6e7f8091a2b",
        ] {
            assert_eq!(pack(&id(other)), None, "{other}");
        }
    }

    #[test]
    fn packed_and_unpacked_ids_sharing_a_hash_are_all_candidates() {
        let mut index = LocalIndex::default();
        let hashing = Hashing::Colliding;
        let h = hashing.hash(b"any");
        let (hex_a, hex_b) = (
            id("000000000000000000000001"),
            id("000000000000000000000002"),
        );
        for each in [&hex_a, &id("n1"), &hex_b] {
            index.insert(h, each.clone());
        }
        assert_eq!(
            index.candidates(h),
            vec![hex_a.clone(), id("n1"), hex_b.clone()]
        );
        index.remove(h, &hex_a);
        assert_eq!(index.candidates(h), vec![id("n1"), hex_b.clone()]);
        index.remove(h, &hex_b);
        index.remove(h, &id("n1"));
        assert!(index.candidates(h).is_empty());
        assert_eq!(index.len(), 0);
    }

    #[test]
    fn a_packable_id_left_among_the_others_is_not_listed_twice() {
        let mut index = LocalIndex::default();
        let h = Hashing::Colliding.hash(b"any");
        let (hex_a, hex_b) = (
            id("00000000000000000000000a"),
            id("00000000000000000000000b"),
        );
        index.insert(h, hex_a.clone());
        index.insert(h, hex_b.clone());
        index.remove(h, &hex_a);
        index.insert(h, hex_b.clone());
        assert_eq!(index.candidates(h), vec![hex_b.clone()]);
        assert_eq!(index.len(), 1);
    }

    #[test]
    fn ids_sharing_a_hash_are_all_candidates_and_removed_one_by_one() {
        let mut index = LocalIndex::default();
        let hashing = Hashing::Colliding;
        let h = hashing.hash(b"any");
        for name in ["a", "b", "c"] {
            index.insert(h, id(name));
        }
        assert_eq!(index.candidates(h), vec![id("a"), id("b"), id("c")]);
        assert_eq!(index.len(), 3);

        index.remove(h, &id("a"));
        assert_eq!(index.candidates(h), vec![id("b"), id("c")]);
        index.remove(h, &id("c"));
        assert_eq!(index.candidates(h), vec![id("b")]);
        index.remove(h, &id("b"));
        assert!(index.candidates(h).is_empty());
        assert_eq!(index.len(), 0);
    }
}

//! Own ingest by local reference, resolving references, and erasure. All writes
//! go through [`Store::ingest_locked`], the one own-write path.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use borough_model::{Dataset, RecordId, Seq};

use super::{MakeAudit, OwnChange, OwnExtras, RefChange, Stored};
use crate::codec::{
    decode_record, encode_record, record_key, record_prefix, Stamp, RECORD_PREFIX_LEN,
};
use crate::store::local_index::{Prehashed, RefHash};
use crate::store::Applied;
use crate::{
    AuditEntry, Erased, Error, IngestOutcome, LocalIngest, LocalIngestOutcome, LocalMapping,
    LocalRef, Store,
};

/// An own record found by its local reference, with its stored value.
struct Found {
    id: RecordId,
    value: sled::IVec,
}

impl Store {
    /// The record id `local_ref` maps to in this borough's `dataset`, if any. An
    /// erased reference maps to nothing.
    pub fn resolve_local_ref(
        &self,
        dataset: Dataset,
        local_ref: &LocalRef,
    ) -> Result<Option<RecordId>, Error> {
        let inner = &*self.inner;
        let hash = inner.hashing.hash(local_ref.as_str().as_bytes());
        let prefix = record_prefix(dataset, inner.own);
        let found = self.find_local(dataset, &prefix, local_ref, hash)?;
        Ok(found.map(|found| found.id))
    }

    /// The own record holding `local_ref`, whose hash is `hash`: the index names
    /// the records whose references share the hash, and the one whose stored
    /// reference is `local_ref` is it. `prefix` is the dataset's own records'.
    fn find_local(
        &self,
        dataset: Dataset,
        prefix: &[u8; RECORD_PREFIX_LEN],
        local_ref: &LocalRef,
        hash: RefHash,
    ) -> Result<Option<Found>, Error> {
        let inner = &*self.inner;
        let candidates = inner.local_index(dataset).candidates(hash);
        for id in candidates {
            let key = record_key(prefix, &id);
            let Some(value) = inner
                .state
                .get(&key)
                .map_err(inner.sled("reading a record"))?
            else {
                continue;
            };
            if decode_record(&key, &value)?.local_ref == Some(local_ref.as_str().as_bytes()) {
                return Ok(Some(Found { id, value }));
            }
        }
        Ok(None)
    }

    /// Like [`Store::ingest_audited`], naming records by the borough system's local
    /// reference. An upsert of a new reference takes `new_id()` as its record id,
    /// and the record keeps the reference in its stored value (never served); a
    /// known reference reuses its id, so re-importing the same data is unchanged. A
    /// delete of a known reference writes a tombstone exactly as
    /// [`crate::Ingest::Delete`] and the tombstone keeps the reference, so a
    /// re-created case keeps its id (and continues its version); a delete of an
    /// unknown reference is not found. Only [`Store::erase`] drops a reference.
    /// Fails with `RecordIdInUse`, writing nothing, if `new_id()` returns an id some
    /// own record already has.
    pub fn ingest_local<'a>(
        &self,
        dataset: Dataset,
        batch: &'a [LocalIngest],
        new_id: impl FnMut() -> RecordId,
        audit: impl FnOnce(&IngestOutcome) -> AuditEntry,
    ) -> Result<LocalIngestOutcome<'a>, Error> {
        let (applied, mappings) = self.ingest_local_applied(dataset, batch, new_id, audit)?;
        let outcome = applied.flush()?;
        Ok(LocalIngestOutcome { outcome, mappings })
    }

    /// [`Store::ingest_local`] up to the flush: the batch is written and audited but
    /// durable only once the returned [`Applied`] is flushed. The writer lock is
    /// released on return, so a stream of batches can apply the next one while this
    /// one waits for the disk.
    pub fn ingest_local_applied<'a>(
        &self,
        dataset: Dataset,
        batch: &'a [LocalIngest],
        mut new_id: impl FnMut() -> RecordId,
        audit: impl FnOnce(&IngestOutcome) -> AuditEntry,
    ) -> Result<(Applied, Vec<LocalMapping<'a>>), Error> {
        let inner = &*self.inner;
        let _writer = inner.writer(dataset, inner.own);
        let prefix = record_prefix(dataset, inner.own);
        // Resolve every reference once, under the writer lock so no other own write
        // can assign it meanwhile: from earlier in this batch, else from the index.
        // `known` goes by the reference's hash; references sharing one are told
        // apart by comparing them.
        let mut known: HashMap<RefHash, usize, BuildHasherDefault<Prehashed>> =
            HashMap::with_capacity_and_hasher(batch.len(), BuildHasherDefault::default());
        let mut mappings: Vec<LocalMapping<'a>> = Vec::with_capacity(batch.len());
        // Per mapping, its record's stored value (`None`: a new record).
        let mut stored: Vec<Option<sled::IVec>> = Vec::with_capacity(batch.len());
        // The greatest id assigned in this batch: a new id above it and above every
        // own record's is free without a look.
        let mut assigned_greatest: Option<RecordId> = None;
        let mut extras = OwnExtras::default();
        // Per batch item, the index of its mapping (None: a delete of an unknown ref).
        let mut resolved: Vec<Option<usize>> = Vec::with_capacity(batch.len());
        for item in batch {
            let (local_ref, is_upsert) = match item {
                LocalIngest::Upsert { local_ref, .. } => (local_ref, true),
                LocalIngest::Delete { local_ref } => (local_ref, false),
            };
            let hash = inner.hashing.hash(local_ref.as_str().as_bytes());
            let earlier = known.get(&hash).and_then(|&first| {
                (first..mappings.len()).find(|&i| mappings[i].local_ref == local_ref)
            });
            if let Some(index) = earlier {
                resolved.push(Some(index));
                continue;
            }
            let (id, value, assigned) = match self.find_local(dataset, &prefix, local_ref, hash)? {
                Some(Found { id, value }) => (id, Some(value), false),
                None if is_upsert => {
                    let id = new_id();
                    if self.assigned_id_taken(
                        dataset,
                        &prefix,
                        &id,
                        &mappings,
                        &assigned_greatest,
                    )? {
                        return Err(Error::RecordIdInUse { dataset, id });
                    }
                    if assigned_greatest
                        .as_ref()
                        .is_none_or(|g| id.as_str() > g.as_str())
                    {
                        assigned_greatest = Some(id.clone());
                    }
                    extras.indexed.push((hash, id.clone()));
                    (id, None, true)
                }
                None => {
                    extras.not_found += 1;
                    resolved.push(None);
                    continue;
                }
            };
            known.entry(hash).or_insert(mappings.len());
            resolved.push(Some(mappings.len()));
            mappings.push(LocalMapping {
                local_ref,
                id,
                assigned,
            });
            stored.push(value);
        }
        // Two references never share a record, so every record changes once unless
        // a reference appears twice.
        extras.distinct = resolved.iter().flatten().count() == mappings.len();
        let mut changes: Vec<OwnChange<'_>> = Vec::with_capacity(batch.len());
        for (item, index) in batch.iter().zip(&resolved) {
            let Some(index) = *index else {
                continue;
            };
            let payload = match item {
                LocalIngest::Upsert { payload, .. } => Some(payload.as_slice()),
                LocalIngest::Delete { .. } => None,
            };
            changes.push(OwnChange {
                id: &mappings[index].id,
                payload,
                local_ref: RefChange::Set(mappings[index].local_ref),
                stored: match &stored[index] {
                    Some(value) => Stored::Value(value),
                    None => Stored::Absent,
                },
            });
        }
        let audit: MakeAudit<'_> = Box::new(audit);
        let applied = self.ingest_locked(dataset, &changes, extras, Some(audit))?;
        Ok((applied, mappings))
    }

    /// Whether `id`, just given by the caller for a new reference, is held already:
    /// by an own record, or by a reference assigned earlier in this batch
    /// (`mappings`, the greatest of whose new ids is `assigned_greatest`). The ids
    /// a node gives rise, so they sort after both and need no look; ids that do not
    /// are looked for on disk and among the batch's.
    fn assigned_id_taken(
        &self,
        dataset: Dataset,
        prefix: &[u8; RECORD_PREFIX_LEN],
        id: &RecordId,
        mappings: &[LocalMapping<'_>],
        assigned_greatest: &Option<RecordId>,
    ) -> Result<bool, Error> {
        let inner = &*self.inner;
        let in_batch = assigned_greatest
            .as_ref()
            .is_some_and(|g| id.as_str() <= g.as_str())
            && mappings.iter().any(|m| m.id == *id);
        if in_batch {
            return Ok(true);
        }
        if !inner.local_index(dataset).may_exist(id) {
            return Ok(false);
        }
        inner
            .state
            .contains_key(record_key(prefix, id))
            .map_err(inner.sled("reading a record"))
    }

    /// Erases the record `local_ref` maps to: in one atomic batch, writes a tombstone
    /// (new version and seq; the payload is removed, and the earlier change is no
    /// longer served) that no longer holds the reference, so nothing here links the
    /// record back to the case any more; appends the audit entry `audit` makes from
    /// the record id; flushes; then publishes the head so peers receive the
    /// tombstone. `Ok(None)` if the reference maps to nothing (unknown or already
    /// erased). If the record was already deleted, only the reference is dropped
    /// from its tombstone (and audited), and `seq` is that of the existing tombstone.
    pub fn erase(
        &self,
        dataset: Dataset,
        local_ref: &LocalRef,
        audit: impl FnOnce(&RecordId) -> AuditEntry,
    ) -> Result<Option<Erased>, Error> {
        let inner = &*self.inner;
        let _writer = inner.writer(dataset, inner.own);
        let hash = inner.hashing.hash(local_ref.as_str().as_bytes());
        let prefix = record_prefix(dataset, inner.own);
        let Some(Found { id, value }) = self.find_local(dataset, &prefix, local_ref, hash)? else {
            return Ok(None);
        };
        let key = record_key(&prefix, &id);
        let record = decode_record(&key, &value)?;
        let (live, stored_seq) = (!record.tombstone, record.seq);
        let mut extras = OwnExtras {
            unindexed: vec![(hash, id.clone())],
            ..OwnExtras::default()
        };
        if !live {
            // The tombstone stays as peers have it (same version and seq), only
            // without the reference.
            let bare = encode_record(record.version, record.seq, None, Stamp::Plain);
            extras.writes.push((key, Some(bare)));
        }
        let changes: Vec<OwnChange<'_>> = match live {
            true => vec![OwnChange {
                id: &id,
                payload: None,
                local_ref: RefChange::Clear,
                stored: Stored::Value(&value),
            }],
            false => Vec::new(),
        };
        let audited_id = id.clone();
        let audit: MakeAudit<'_> = Box::new(move |_: &IngestOutcome| audit(&audited_id));
        let outcome = self
            .ingest_locked(dataset, &changes, extras, Some(audit))?
            .flush()?;
        let seq = match live {
            true => outcome.head,
            false => Seq(stored_seq),
        };
        tracing::info!(dataset = %dataset, id = %id, seq = seq.0, "record erased");
        Ok(Some(Erased { id, seq }))
    }
}

#[cfg(test)]
mod tests;

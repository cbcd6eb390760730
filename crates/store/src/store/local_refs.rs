//! Own ingest by local reference, resolving references, and erasure. All writes
//! go through [`Store::ingest_locked`], the one own-write path.

use std::collections::HashSet;

use borough_model::{Dataset, RecordId, Seq};

use super::{Inner, MakeAudit, OwnChange, OwnExtras};
use crate::codec::{decode_local_ref, local_ref_key, record_key, record_prefix};
use crate::store::Applied;
use crate::{
    AuditEntry, Erased, Error, IngestOutcome, LocalIngest, LocalIngestOutcome, LocalMapping,
    LocalRef, Store,
};

impl Store {
    /// The record id `local_ref` maps to in this borough's `dataset`, if any. An
    /// erased reference maps to nothing.
    pub fn resolve_local_ref(
        &self,
        dataset: Dataset,
        local_ref: &LocalRef,
    ) -> Result<Option<RecordId>, Error> {
        let inner = &*self.inner;
        inner
            .state
            .get(local_ref_key(dataset, local_ref))
            .map_err(inner.sled("reading a local reference"))?
            .map(|value| decode_local_ref(dataset, &value))
            .transpose()
    }

    /// Like [`Store::ingest_audited`], naming records by the borough system's local
    /// reference. An upsert of a new reference takes `new_id()` as its record id and
    /// stores the mapping in the same atomic batch as the record; a known reference
    /// reuses its id, so re-importing the same data is unchanged. A delete of a known
    /// reference writes a tombstone exactly as [`crate::Ingest::Delete`] and keeps the
    /// mapping, so a re-created case keeps its id (and continues its version); a
    /// delete of an unknown reference is not found. Only [`Store::erase`] removes a
    /// mapping. Fails with `RecordIdInUse`, writing nothing, if `new_id()` returns an
    /// id some own record already has.
    pub fn ingest_local(
        &self,
        dataset: Dataset,
        batch: &[LocalIngest],
        new_id: impl FnMut() -> RecordId,
        audit: impl FnOnce(&IngestOutcome) -> AuditEntry,
    ) -> Result<LocalIngestOutcome, Error> {
        let (applied, mappings) = self.ingest_local_applied(dataset, batch, new_id, audit)?;
        let outcome = applied.flush()?;
        Ok(LocalIngestOutcome { outcome, mappings })
    }

    /// [`Store::ingest_local`] up to the flush: the batch is written and audited but
    /// durable only once the returned [`Applied`] is flushed. The writer lock is
    /// released on return, so a stream of batches can apply the next one while this
    /// one waits for the disk.
    pub fn ingest_local_applied(
        &self,
        dataset: Dataset,
        batch: &[LocalIngest],
        mut new_id: impl FnMut() -> RecordId,
        audit: impl FnOnce(&IngestOutcome) -> AuditEntry,
    ) -> Result<(Applied, Vec<LocalMapping>), Error> {
        let inner = &*self.inner;
        let _writer = inner.writer(dataset, inner.own);
        let prefix = record_prefix(dataset, inner.own);

        // The batch's distinct references in key order (`slots`), and for every item
        // the slot of its reference. Sorting finds repeats without hashing and lets
        // one range scan resolve the lot.
        let mut keyed: Vec<(Vec<u8>, usize)> = batch
            .iter()
            .enumerate()
            .map(|(i, item)| (local_ref_key(dataset, item.local_ref()), i))
            .collect();
        keyed.sort_unstable();
        let mut slots: Vec<Slot> = Vec::with_capacity(keyed.len());
        let mut slot_of = vec![0usize; batch.len()];
        for (key, i) in keyed {
            match slots.last_mut() {
                Some(slot) if slot.key == key => slot.items += 1,
                _ => slots.push(Slot {
                    key,
                    items: 1,
                    stored: None,
                    mapping: None,
                }),
            }
            slot_of[i] = slots.len() - 1;
        }
        // Under the writer lock, so no other own write can map a reference meanwhile.
        inner.resolve_sorted(dataset, &mut slots)?;

        let mut mappings: Vec<LocalMapping> = Vec::new();
        let mut extras = OwnExtras::default();
        // Every own record key is at most `ceiling`, once read; a new id whose key
        // is above it is certainly unused, which is every id when ids rise.
        let mut ceiling: Option<Vec<u8>> = None;
        // The ids assigned so far, kept only once an id fails to rise above `ceiling`.
        let mut assigned: Option<HashSet<RecordId>> = None;
        let mut changes: Vec<OwnChange<'_>> = Vec::with_capacity(batch.len());
        // Mapping indexes are settled first, then the changes borrow their ids.
        let mut planned: Vec<(usize, usize)> = Vec::with_capacity(batch.len());
        for (i, item) in batch.iter().enumerate() {
            let slot = &mut slots[slot_of[i]];
            let index = match slot.mapping {
                Some(index) => index,
                None => match (slot.stored.take(), item) {
                    (Some(id), _) => {
                        mappings.push(LocalMapping {
                            local_ref: item.local_ref().clone(),
                            id,
                            assigned: false,
                        });
                        mappings.len() - 1
                    }
                    (None, LocalIngest::Upsert { .. }) => {
                        let id = new_id();
                        let key = record_key(&prefix, &id);
                        let ceiling = match &mut ceiling {
                            Some(ceiling) => ceiling,
                            None => ceiling.insert(inner.last_key(&prefix)?),
                        };
                        if key > *ceiling {
                            *ceiling = key;
                        } else {
                            // Not above every key: check this batch and the disk.
                            let assigned = assigned.get_or_insert_with(|| {
                                mappings
                                    .iter()
                                    .filter(|m| m.assigned)
                                    .map(|m| m.id.clone())
                                    .collect()
                            });
                            let taken = assigned.contains(&id)
                                || inner
                                    .state
                                    .contains_key(&key)
                                    .map_err(inner.sled("reading a record"))?;
                            if taken {
                                return Err(Error::RecordIdInUse { dataset, id });
                            }
                        }
                        if let Some(assigned) = &mut assigned {
                            assigned.insert(id.clone());
                        }
                        extras.writes.push((
                            std::mem::take(&mut slot.key),
                            Some(id.as_str().as_bytes().to_vec()),
                        ));
                        mappings.push(LocalMapping {
                            local_ref: item.local_ref().clone(),
                            id,
                            assigned: true,
                        });
                        mappings.len() - 1
                    }
                    (None, LocalIngest::Delete { .. }) => {
                        // An unknown reference: a later upsert in the batch may
                        // still create it.
                        extras.not_found += 1;
                        continue;
                    }
                },
            };
            slot.mapping = Some(index);
            planned.push((i, index));
        }
        for (i, index) in planned {
            let mapping = &mappings[index];
            let repeats = slots[slot_of[i]].items > 1;
            changes.push(OwnChange {
                id: &mapping.id,
                payload: match &batch[i] {
                    LocalIngest::Upsert { payload, .. } => Some(payload.as_slice()),
                    LocalIngest::Delete { .. } => None,
                },
                fresh: mapping.assigned,
                may_repeat: repeats,
            });
        }
        let audit: MakeAudit<'_> = Box::new(audit);
        let applied = self.ingest_locked(dataset, &changes, extras, Some(audit))?;
        Ok((applied, mappings))
    }

    /// Erases the record `local_ref` maps to: in one atomic batch, writes a tombstone
    /// (new version and seq; the payload is removed, and the earlier change is no
    /// longer served) and removes the mapping, so nothing here links the record
    /// back to the case any more; appends the audit entry `audit` makes from the
    /// record id; flushes; then publishes the head so peers receive the tombstone.
    /// `Ok(None)` if the reference maps to nothing (unknown or already erased). If the
    /// record was already deleted, only the mapping is removed (and audited), and
    /// `seq` is that of the existing tombstone.
    pub fn erase(
        &self,
        dataset: Dataset,
        local_ref: &LocalRef,
        audit: impl FnOnce(&RecordId) -> AuditEntry,
    ) -> Result<Option<Erased>, Error> {
        let inner = &*self.inner;
        let _writer = inner.writer(dataset, inner.own);
        let Some(id) = self.resolve_local_ref(dataset, local_ref)? else {
            return Ok(None);
        };
        let key = record_key(&record_prefix(dataset, inner.own), &id);
        let (prior, _) = inner.prior_on_disk(&key, None)?;
        let extras = OwnExtras {
            writes: vec![(local_ref_key(dataset, local_ref), None)],
            ..OwnExtras::default()
        };
        let changes: Vec<OwnChange<'_>> = match prior {
            Some(p) if p.live => vec![OwnChange::of(&id, None)],
            _ => Vec::new(),
        };
        let audited_id = id.clone();
        let audit: MakeAudit<'_> = Box::new(move |_: &IngestOutcome| audit(&audited_id));
        let outcome = self
            .ingest_locked(dataset, &changes, extras, Some(audit))?
            .flush()?;
        let seq = match prior {
            Some(p) if p.live => outcome.head,
            Some(p) => Seq(p.seq),
            // A mapping always comes with its record, so this is not expected; the
            // mapping is removed all the same.
            None => return Ok(None),
        };
        tracing::info!(dataset = %dataset, id = %id, seq = seq.0, "record erased");
        Ok(Some(Erased { id, seq }))
    }
}

/// One distinct local reference of an `ingest_local` batch.
struct Slot {
    /// Its mapping key (taken when a new mapping is written).
    key: Vec<u8>,
    /// How many items of the batch name it.
    items: usize,
    /// The record id it maps to on disk, if any.
    stored: Option<RecordId>,
    /// Its entry in the call's mappings, once resolved.
    mapping: Option<usize>,
}

/// How many keys beyond the batch's own a resolving scan may pass before it gives
/// way to a lookup per remaining reference.
const SCAN_SLACK: usize = 64;

impl Inner {
    /// Fills `stored` for every slot (sorted by key, distinct). A case system's
    /// references mostly rise, so a batch's keys sit together and one range scan
    /// answers them all; when the range holds many other references, the scan stops
    /// after about twice the batch and the rest are looked up one by one.
    fn resolve_sorted(&self, dataset: Dataset, slots: &mut [Slot]) -> Result<(), Error> {
        let (Some(first), Some(last)) = (slots.first(), slots.last()) else {
            return Ok(());
        };
        let mut budget = 2 * slots.len() + SCAN_SLACK;
        // Slots before `next` are settled.
        let mut next = 0;
        let mut scan = self.state.range(first.key.as_slice()..=last.key.as_slice());
        while next < slots.len() {
            if budget == 0 {
                break;
            }
            budget -= 1;
            let Some(item) = scan.next() else {
                // Nothing more in the range: the rest map to nothing.
                return Ok(());
            };
            let (key, value) = item.map_err(self.sled("reading local references"))?;
            while next < slots.len() && slots[next].key.as_slice() < &key[..] {
                next += 1;
            }
            if let Some(slot) = slots.get_mut(next) {
                if slot.key.as_slice() == &key[..] {
                    slot.stored = Some(decode_local_ref(dataset, &value)?);
                    next += 1;
                }
            }
        }
        for slot in &mut slots[next..] {
            slot.stored = self
                .state
                .get(&slot.key)
                .map_err(self.sled("reading a local reference"))?
                .map(|value| decode_local_ref(dataset, &value))
                .transpose()?;
        }
        Ok(())
    }

    /// The greatest key under `prefix` (empty if there is none).
    fn last_key(&self, prefix: &[u8]) -> Result<Vec<u8>, Error> {
        Ok(self
            .state
            .scan_prefix(prefix)
            .next_back()
            .transpose()
            .map_err(self.sled("reading the last record key"))?
            .map(|(key, _)| key.to_vec())
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests;

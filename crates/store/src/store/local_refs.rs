//! Own ingest by local reference, resolving references, and erasure. All writes
//! go through [`Store::ingest_locked`], the one own-write path.

use std::collections::{HashMap, HashSet};

use borough_model::{Dataset, RecordId, Seq};

use super::{MakeAudit, OwnChange, OwnExtras};
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
        // Resolve every reference once, under the writer lock so no other own write
        // can assign it meanwhile: from earlier in this batch, else from disk.
        let mut known: HashMap<&LocalRef, usize> = HashMap::new();
        let mut mappings: Vec<LocalMapping> = Vec::new();
        let mut extras = OwnExtras::default();
        let mut fresh: HashSet<RecordId> = HashSet::new();
        // Per batch item, the index of its mapping (None: a delete of an unknown ref).
        let mut resolved: Vec<Option<usize>> = Vec::with_capacity(batch.len());
        for item in batch {
            let (local_ref, is_upsert) = match item {
                LocalIngest::Upsert { local_ref, .. } => (local_ref, true),
                LocalIngest::Delete { local_ref } => (local_ref, false),
            };
            if let Some(&index) = known.get(local_ref) {
                resolved.push(Some(index));
                continue;
            }
            let (id, assigned) = match self.resolve_local_ref(dataset, local_ref)? {
                Some(id) => (id, false),
                None if is_upsert => {
                    let id = new_id();
                    let taken = fresh.contains(&id)
                        || inner
                            .state
                            .contains_key(record_key(&prefix, &id))
                            .map_err(inner.sled("reading a record"))?;
                    if taken {
                        return Err(Error::RecordIdInUse { dataset, id });
                    }
                    fresh.insert(id.clone());
                    extras.writes.push((
                        local_ref_key(dataset, local_ref),
                        Some(id.as_str().as_bytes().to_vec()),
                    ));
                    (id, true)
                }
                None => {
                    extras.not_found += 1;
                    resolved.push(None);
                    continue;
                }
            };
            known.insert(local_ref, mappings.len());
            resolved.push(Some(mappings.len()));
            mappings.push(LocalMapping {
                local_ref: local_ref.clone(),
                id,
                assigned,
            });
        }
        let changes: Vec<OwnChange<'_>> = batch
            .iter()
            .zip(&resolved)
            .filter_map(|(item, index)| {
                let id = &mappings[(*index)?].id;
                Some(match item {
                    LocalIngest::Upsert { payload, .. } => OwnChange::of(id, Some(payload)),
                    LocalIngest::Delete { .. } => OwnChange::of(id, None),
                })
            })
            .collect();
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

#[cfg(test)]
mod tests;

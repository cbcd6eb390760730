//! Retention: purging peers' replicas once they have been held here too long.

use borough_model::{Dataset, GssCode};

use crate::codec::{count_key, decode_record, record_id_from_key, record_prefix};
use crate::store::RecordChange;
use crate::{AuditEntry, Error, Store};

/// The most keys examined (so the most removed) per `apply_batch` of a purge, so a
/// huge purge never builds one giant batch or holds the peer's writer lock long.
const PURGE_BATCH: usize = 10_000;

impl Store {
    /// Removes every record and tombstone of `peer` in `dataset` applied here before
    /// `applied_before_unix` (records written before applied-at times were recorded
    /// count as applied at 0), in batches of at most 10,000 keys, each committed with
    /// the live count. Own records, other peers' records and the checkpoint are not
    /// touched: purged records are not fetched again unless the peer changes them.
    /// If anything was purged, appends the audit entry `audit` makes from the number
    /// purged; flushes; returns that number. A crash part-way leaves a consistent
    /// partial purge (without its audit entry) that the next call completes.
    pub fn purge_replicas(
        &self,
        peer: GssCode,
        dataset: Dataset,
        applied_before_unix: u64,
        audit: impl FnOnce(u64) -> AuditEntry,
    ) -> Result<u64, Error> {
        let inner = &*self.inner;
        if peer == inner.own {
            return Err(Error::OwnBoroughAsPeer { peer, dataset });
        }
        let prefix = record_prefix(dataset, peer);
        let ckey = count_key(dataset, peer);
        let mut from = prefix.to_vec();
        let mut purged = 0u64;
        loop {
            // Taken per batch, so the peer's link can apply batches in between; values
            // are read under the lock, so a record re-applied meanwhile is judged by
            // its new time.
            let _writer = inner.writer(dataset, peer);
            let start_count = inner.read_u64(&ckey, "reading a record count")?;
            let mut count = start_count;
            let mut writes = sled::Batch::default();
            let mut removed = 0u64;
            let mut gone = Vec::new();
            let mut next = None;
            for (examined, item) in inner.state.range(from.as_slice()..).enumerate() {
                let (key, value) = item.map_err(inner.sled("reading records to purge"))?;
                if !key.starts_with(&prefix) {
                    break;
                }
                if examined == PURGE_BATCH {
                    next = Some(key.to_vec());
                    break;
                }
                let record = decode_record(&key, &value)?;
                if record.applied_at.unwrap_or(0) < applied_before_unix {
                    if !record.tombstone {
                        count = count.saturating_sub(1);
                    }
                    if self.observed() {
                        gone.push(record_id_from_key(&key)?);
                    }
                    writes.remove(key);
                    removed += 1;
                }
            }
            if removed > 0 {
                if count != start_count {
                    writes.insert(&ckey[..], &count.to_be_bytes()[..]);
                }
                inner
                    .state
                    .apply_batch(writes)
                    .map_err(inner.sled("purging replicas"))?;
                let changes: Vec<RecordChange<'_>> = gone
                    .iter()
                    .map(|id| RecordChange { id, payload: None })
                    .collect();
                self.notify(dataset, peer, &changes);
                purged += removed;
            }
            match next {
                Some(key) => from = key,
                None => break,
            }
        }
        if purged > 0 {
            self.audit().append(audit(purged))?;
            inner.flush()?;
        }
        tracing::info!(
            dataset = %dataset,
            peer = %peer,
            applied_before_unix,
            purged,
            "replicas purged"
        );
        Ok(purged)
    }
}

#[cfg(test)]
mod tests;

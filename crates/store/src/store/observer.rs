//! Observers: something outside the store (the analytics view) kept exactly in
//! step with the live records, without reading the store on every question.

use std::sync::{Arc, MutexGuard};

use borough_model::{Borough, Dataset, GssCode, RecordId};

use crate::codec::{decode_record, record_id_from_key, record_prefix};
use crate::{Error, Store};

/// How many records one catch-up call hands the observer at a time.
const CATCH_UP_CHUNK: usize = 4096;

/// One record's state after a write: its payload, or `None` once it is gone
/// (deleted, erased or purged).
#[derive(Debug, Clone, Copy)]
pub struct RecordChange<'a> {
    /// The record's id within (dataset, origin).
    pub id: &'a RecordId,
    /// The record's payload now, opaque to the store; `None` if it is gone.
    pub payload: Option<&'a [u8]>,
}

/// Kept in step with the store's live records. The store calls it under the
/// writer lock of the (dataset, origin) it writes, right after the write reaches
/// sled, so calls for one (dataset, origin) never interleave and come in the
/// order written. It must be quick and must not call the store's write paths.
pub trait Observer: Send + Sync {
    /// Records of one (dataset, origin) changed, in the order written; a record
    /// may appear more than once, and only its last state counts. A removal may
    /// name a record the observer never saw (a tombstone purged).
    fn records_changed(&self, dataset: Dataset, origin: GssCode, changes: &[RecordChange<'_>]);
}

impl Store {
    /// Attaches `observer`: hands it every live record of every dataset and origin,
    /// then every later change. Writes wait while it catches up, so it misses
    /// nothing and sees nothing twice. Only one observer may be attached.
    pub fn observe(&self, observer: Arc<dyn Observer>) -> Result<(), Error> {
        let inner = &*self.inner;
        if inner.observer.get().is_some() {
            return Err(Error::AlreadyObserved {
                path: inner.path.clone(),
            });
        }
        // Every writer lock, so no write lands between the catch-up and attaching.
        let _writers: Vec<MutexGuard<'_, ()>> = Dataset::ALL
            .iter()
            .flat_map(|&dataset| Borough::all().iter().map(move |b| (dataset, b.gss)))
            .map(|(dataset, origin)| inner.writer(dataset, origin))
            .collect();
        let started = std::time::Instant::now();
        let mut handed = 0u64;
        for dataset in Dataset::ALL {
            for borough in Borough::all() {
                handed += catch_up(self, observer.as_ref(), dataset, borough.gss)?;
            }
        }
        inner
            .observer
            .set(observer)
            .map_err(|_| Error::AlreadyObserved {
                path: inner.path.clone(),
            })?;
        tracing::info!(
            records = handed,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "observer attached"
        );
        Ok(())
    }

    /// Tells the attached observer, if any, about `changes`; the caller holds the
    /// (dataset, origin) writer lock and the changes have reached sled.
    pub(crate) fn notify(&self, dataset: Dataset, origin: GssCode, changes: &[RecordChange<'_>]) {
        if changes.is_empty() {
            return;
        }
        if let Some(observer) = self.inner.observer.get() {
            observer.records_changed(dataset, origin, changes);
        }
    }

    /// Whether an observer is attached, so write paths collect changes only then.
    pub(crate) fn observed(&self) -> bool {
        self.inner.observer.get().is_some()
    }
}

/// Hands `observer` the live records of one (dataset, origin) in chunks.
fn catch_up(
    store: &Store,
    observer: &dyn Observer,
    dataset: Dataset,
    origin: GssCode,
) -> Result<u64, Error> {
    let inner = &*store.inner;
    let mut handed = 0u64;
    let mut chunk: Vec<(RecordId, sled::IVec)> = Vec::with_capacity(CATCH_UP_CHUNK);
    let mut hand = |chunk: &mut Vec<(RecordId, sled::IVec)>| {
        let changes: Vec<RecordChange<'_>> = chunk
            .iter()
            .map(|(id, value)| RecordChange {
                id,
                payload: Some(value.as_ref()),
            })
            .collect();
        observer.records_changed(dataset, origin, &changes);
        handed += chunk.len() as u64;
        chunk.clear();
    };
    for item in inner.state.scan_prefix(record_prefix(dataset, origin)) {
        let (key, value) = item.map_err(inner.sled("reading records for an observer"))?;
        let record = decode_record(&key, &value)?;
        if record.tombstone {
            continue;
        }
        let id = record_id_from_key(&key)?;
        chunk.push((id, sled::IVec::from(record.payload)));
        if chunk.len() == CATCH_UP_CHUNK {
            hand(&mut chunk);
        }
    }
    hand(&mut chunk);
    Ok(handed)
}

#[cfg(test)]
mod tests;

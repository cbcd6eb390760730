//! Where the time goes: the store's own write paths timed alone, without gRPC, TLS,
//! validation or decoding, each on a fresh `borough_store::Store` in a temporary
//! folder. Set beside the ceilings and the end-to-end figures, they split the
//! initial sync and the load into storage and everything else.

use std::time::{Duration, Instant};

use borough_model::{Dataset, Seq, Version};
use borough_store::{AuditAction, AuditEntry, AuditOutcome, Change, LocalIngest, LocalRef, Store};

use crate::records::{gss, RecordSet, LAMBETH, SOUTHWARK};

/// One store path timed alone.
#[derive(Debug, Clone)]
pub struct StorePath {
    /// Records written.
    pub records: u64,
    /// Records per call.
    pub batch_size: usize,
    /// Time inside the store calls only (building the inputs is not counted).
    pub elapsed: Duration,
}

impl StorePath {
    /// Records per second.
    pub fn records_per_s(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64()
    }
}

/// `Store::apply_peer_batch` alone, as Southwark's link calls it: Lambeth's
/// records `0..records` as version-1 changes in batches of `batch_size`, each with
/// its checkpoint. Blocking.
pub fn peer_apply(set: &RecordSet, records: u64, batch_size: usize) -> anyhow::Result<StorePath> {
    let dir = tempfile::Builder::new()
        .prefix("borough-bench-peer-")
        .tempdir()?;
    let (lambeth, southwark) = (gss(LAMBETH)?, gss(SOUTHWARK)?);
    let store = Store::open(dir.path(), southwark)?;
    let batch_size = batch_size.max(1);
    let mut elapsed = Duration::ZERO;
    let mut i = 0;
    while i < records {
        let end = (i + batch_size as u64).min(records);
        let changes = (i..end)
            .map(|r| {
                Ok(Change {
                    seq: Seq(r + 1),
                    id: RecordSet::record_id(r)?,
                    version: Version(1),
                    payload: Some(set.payload(r).to_vec()),
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let started = Instant::now();
        store.apply_peer_batch(lambeth, Dataset::ChildcarePlaces, &changes, Seq(end))?;
        elapsed += started.elapsed();
        i = end;
    }
    let held = store.count(Dataset::ChildcarePlaces, lambeth)?;
    anyhow::ensure!(
        held == records,
        "peer apply: the store holds {held} of {records}"
    );
    Ok(StorePath {
        records,
        batch_size,
        elapsed,
    })
}

/// `Store::ingest_local` alone, as Lambeth's Ingest service calls it: records
/// `0..records` as upserts of new local references (each given a fresh random-
/// looking record id) with an audit entry per batch, in batches of `batch_size`.
/// Blocking.
pub fn own_ingest(set: &RecordSet, records: u64, batch_size: usize) -> anyhow::Result<StorePath> {
    let dir = tempfile::Builder::new()
        .prefix("borough-bench-ingest-")
        .tempdir()?;
    let store = Store::open(dir.path(), gss(LAMBETH)?)?;
    let batch_size = batch_size.max(1);
    let spare = RecordSet::record_id(u64::MAX)?;
    let mut elapsed = Duration::ZERO;
    let mut i = 0;
    while i < records {
        let end = (i + batch_size as u64).min(records);
        let batch = (i..end)
            .map(|r| {
                Ok(LocalIngest::Upsert {
                    local_ref: LocalRef::parse(&RecordSet::local_ref(r))
                        .map_err(|e| anyhow::anyhow!("local reference: {e}"))?,
                    payload: set.payload(r).to_vec(),
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut ids = (i..end)
            .map(RecordSet::record_id)
            .collect::<anyhow::Result<Vec<_>>>()?
            .into_iter();
        let started = Instant::now();
        store.ingest_local(
            Dataset::ChildcarePlaces,
            &batch,
            // One id was made for each upsert; the spare is never needed.
            || ids.next().unwrap_or_else(|| spare.clone()),
            |outcome| AuditEntry {
                at_unix_ms: 0,
                actor: "bench".into(),
                action: AuditAction::Ingested,
                dataset: Some(Dataset::ChildcarePlaces),
                peer: None,
                records: outcome.written + outcome.deleted,
                outcome: AuditOutcome::Allowed,
                detail: String::new(),
            },
        )?;
        elapsed += started.elapsed();
        i = end;
    }
    let head = store.head(Dataset::ChildcarePlaces)?.0;
    anyhow::ensure!(
        head == records,
        "own ingest: head {head} after {records} records"
    );
    Ok(StorePath {
        records,
        batch_size,
        elapsed,
    })
}

//! Ceiling 2: sled's batched insert rate with the durability the store gives a peer
//! batch: a fresh database opened as `Store::open` opens it (`StoreOptions`), one
//! tree, each batch of `batch_size` records plus a checkpoint key applied with one
//! `Tree::apply_batch` and then `Db::flush`, before the next batch starts. No
//! reads, no decoding, no network.

use std::time::{Duration, Instant};

use crate::records::RecordSet;

/// Length of the store's record keys: an 11-byte prefix (key space, dataset,
/// origin's GSS code) and the 24-digit record id.
pub const KEY_BYTES: usize = 11 + 24;

/// Length of the fixed header the store puts before a record's payload (version,
/// seq, flags), added to each value so values are as long as a peer's replica in
/// the store. An own record imported by local reference is longer by its
/// reference and a length byte (about 15 B for the benchmark's).
pub const RECORD_HEADER_BYTES: usize = 8 + 8 + 1;

/// What the sled run measured.
#[derive(Debug, Clone)]
pub struct SledCeiling {
    /// Records written.
    pub records: u64,
    /// Records per batch.
    pub batch_size: usize,
    /// Batches written (each applied and flushed).
    pub batches: u64,
    /// Mean value length in bytes.
    pub mean_value_bytes: f64,
    /// Wall time for all batches, apply and flush.
    pub elapsed: Duration,
    /// Of which in `Tree::apply_batch`.
    pub apply: Duration,
    /// Of which in `Db::flush`.
    pub flush: Duration,
    /// The slowest single flush.
    pub flush_max: Duration,
}

impl SledCeiling {
    /// Records per second, apply and flush included.
    pub fn records_per_s(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64()
    }
}

/// Writes `records` values (store header + a derived record) under record keys
/// whose ids rise as a node's do into a fresh sled database in a temporary folder,
/// in batches of `batch_size`. Blocking: call it from `spawn_blocking` or a plain
/// thread.
pub fn measure(set: &RecordSet, records: u64, batch_size: usize) -> anyhow::Result<SledCeiling> {
    let dir = tempfile::Builder::new()
        .prefix("borough-bench-sled-")
        .tempdir()?;
    let db = borough_store::StoreOptions::default()
        .sled_config(dir.path())
        .open()?;
    let tree = db.open_tree("state")?;
    let batch_size = batch_size.max(1);
    let mut apply = Duration::ZERO;
    let mut flush = Duration::ZERO;
    let mut flush_max = Duration::ZERO;
    let mut batches = 0u64;
    let mut value_bytes = 0u64;
    let started = Instant::now();
    let mut i = 0u64;
    while i < records {
        let end = (i + batch_size as u64).min(records);
        let mut batch = sled::Batch::default();
        for r in i..end {
            // Keyed as the store keys records, by ids that rise as a node's do.
            let mut key = Vec::with_capacity(KEY_BYTES);
            key.extend_from_slice(b"R\x01E09000022");
            key.extend_from_slice(RecordSet::record_id(r)?.as_str().as_bytes());
            let payload = set.payload(r);
            let mut value = Vec::with_capacity(RECORD_HEADER_BYTES + payload.len());
            value.extend_from_slice(&1u64.to_be_bytes());
            value.extend_from_slice(&(r + 1).to_be_bytes());
            value.push(0);
            value.extend_from_slice(payload);
            value_bytes += value.len() as u64;
            batch.insert(key, value);
        }
        batch.insert(&b"C-checkpoint"[..], &end.to_be_bytes()[..]);
        let t = Instant::now();
        tree.apply_batch(batch)?;
        let applied = Instant::now();
        db.flush()?;
        let flushed = applied.elapsed();
        apply += applied - t;
        flush += flushed;
        flush_max = flush_max.max(flushed);
        batches += 1;
        i = end;
    }
    let elapsed = started.elapsed();
    let expected = records + u64::from(records > 0);
    anyhow::ensure!(
        tree.len() as u64 == expected,
        "sled ceiling: wrote {} keys, expected {expected}",
        tree.len(),
    );
    drop(tree);
    drop(db);
    Ok(SledCeiling {
        records,
        batch_size,
        batches,
        mean_value_bytes: if records == 0 {
            0.0
        } else {
            value_bytes as f64 / records as f64
        },
        elapsed,
        apply,
        flush,
        flush_max,
    })
}

//! Store: this node's sled database (records, change log, checkpoints, audit).
//!
//! Owns: tree names and key encoding, the schema-version check on open, and the
//! atomic write of a peer batch with its checkpoint.
//! Must not: know about gRPC, TLS, peers' addresses or agreements; decide what may
//! leave the borough; hold a lock across `.await` (the crate is synchronous: async
//! callers use `spawn_blocking`).
//! Invariants:
//! - All record state (records, own change log, heads, checkpoints, counts) lives in
//!   one tree, `state`, so every own or peer batch commits with a single
//!   `Tree::apply_batch` and is flushed before the call returns.
//! - A peer's records and the checkpoint saying they were applied are written in
//!   the same batch: after a crash both are present or neither is.
//! - Own seqs are assigned one per change with no gaps; the log keeps only the
//!   newest change per record, so superseded (and erased) payloads do not remain.
//! - Readers and subscribers see only heads that have been flushed, so a seq seen
//!   by a peer is never reassigned after a crash.
//! - Payloads are opaque bytes and are never logged.
//! - The audit log is append-only and hash-chained; `AuditLog::verify` detects an
//!   edited, removed or reordered entry.

mod audit;
mod codec;
mod error;
mod store;

pub use audit::{AuditAction, AuditEntry, AuditLog, AuditOutcome, AuditRecord};
pub use error::Error;
pub use store::{Change, Ingest, IngestOutcome, Store, StoredRecord};

/// The on-disk layout version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

//! Store: this node's sled database (records, change log, checkpoints, audit).
//!
//! Owns: tree names and key encoding, the schema-version check on open, the atomic
//! write of a peer batch with its checkpoint, local references and erasure, and the
//! retention purge of peers' replicas.
//! Must not: know about gRPC, TLS, peers' addresses or agreements; decide what may
//! leave the borough; hold a lock across `.await` (the crate is synchronous: async
//! callers use `spawn_blocking`).
//! Invariants:
//! - All record state (records, own change log, heads, checkpoints, counts, local
//!   references) lives in one tree, `state`, so every own or peer batch commits with
//!   a single `Tree::apply_batch` and is flushed before the call returns.
//! - A peer's records and the checkpoint saying they were applied are written in
//!   the same batch: after a crash both are present or neither is.
//! - Own seqs are assigned one per change with no gaps. The log holds one run of
//!   record ids per own batch and no payloads; a change is read as its record now
//!   stands, and skipped if the record has moved on to a later seq, so superseded
//!   (and erased) payloads do not remain anywhere.
//! - Readers and subscribers see only heads that have been flushed, so a seq seen
//!   by a peer is never reassigned after a crash.
//! - A local reference (the borough case system's id for a record) is kept in the
//!   stored value of the own record it names, apart from the payload, so it is
//!   written in the same key as its record. It is local only: never in the change
//!   log, a `Change`, a `StoredRecord` or anything served to peers, never logged or
//!   shown in errors. A delete keeps it (a re-created case keeps its id); only
//!   `erase` drops it, with the record's tombstone. The in-memory `LocalIndex`
//!   (hash of reference → record ids) is rebuilt from the records on open and
//!   changed only after the write it describes has reached sled.
//! - Every peer record and tombstone carries the time it was applied here, so
//!   `purge_replicas` can remove a peer's replicas past their retention period in
//!   bounded batches, keeping counts right and leaving the checkpoint alone.
//! - Payloads are opaque bytes and are never logged.
//! - The audit log is append-only and hash-chained; `AuditLog::verify` detects an
//!   edited, removed or reordered entry.

mod audit;
mod codec;
mod error;
mod local;
mod store;

pub use audit::{AuditAction, AuditEntry, AuditLog, AuditOutcome, AuditRecord};
pub use error::Error;
pub use local::{
    Erased, LocalIngest, LocalIngestOutcome, LocalMapping, LocalRef, MAX_LOCAL_REF_LEN,
};
pub use store::{
    Applied, BudgetSpent, Change, Ingest, IngestOutcome, Observer, RecordChange, Store,
    StoreOptions, StoredRecord,
};

/// The on-disk layout version this build reads and writes. 2: own log entries no
/// longer repeat the record's payload (version 1 did), so a version-1 directory is
/// refused rather than misread. 3: local references live in their records, not in
/// `X` keys; a version-2 directory is brought up to 3 when it is opened.
pub const SCHEMA_VERSION: u32 = 3;

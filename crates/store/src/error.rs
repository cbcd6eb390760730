//! The store's one error type: every variant names the directory, tree, dataset,
//! peer or audit index involved, so an operator can act on it without a debugger.

use std::path::PathBuf;

use borough_model::{Dataset, GssCode, RecordId};

/// Everything that can go wrong opening or using the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The directory was written by a store with a different on-disk layout.
    #[error(
        "store at {} has schema version {found}, but this build reads version {supported} (and brings version 2 up to it)",
        path.display()
    )]
    UnknownSchemaVersion {
        /// The data directory.
        path: PathBuf,
        /// The version recorded in the directory.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },

    /// The directory holds data trees but no schema version, so its layout is unknown.
    #[error(
        "store at {} holds data but no schema version; refusing to guess its layout",
        path.display()
    )]
    MissingSchemaVersion {
        /// The data directory.
        path: PathBuf,
    },

    /// The directory belongs to another borough's node.
    #[error(
        "store at {} belongs to borough {stored}, not {requested}",
        path.display()
    )]
    WrongBorough {
        /// The data directory.
        path: PathBuf,
        /// The borough recorded when the directory was created.
        stored: GssCode,
        /// The borough this node was started as.
        requested: GssCode,
    },

    /// Another process (or another open `Store` in this one) holds the directory.
    #[error(
        "store at {} is locked by another process or another open store",
        path.display()
    )]
    Locked {
        /// The data directory.
        path: PathBuf,
    },

    /// A differentially private answer would pass a researcher's budget.
    #[error("{researcher} has spent {spent} of a privacy budget of {limit} (millionths of ε); {asked} more would pass it")]
    BudgetExhausted {
        /// Who asked.
        researcher: String,
        /// Spent before this request.
        spent: u64,
        /// What this request would spend.
        asked: u64,
        /// The budget.
        limit: u64,
    },

    /// A second observer was attached; a store keeps exactly one in step.
    #[error("store at {} already has an observer attached", path.display())]
    AlreadyObserved {
        /// The data directory.
        path: PathBuf,
    },

    /// A stored value or key could not be decoded.
    #[error("corrupt entry in tree `{tree}` at key {key}: {problem}")]
    Corrupt {
        /// The sled tree holding the entry.
        tree: &'static str,
        /// The key, hex-encoded; for a local-reference key only its prefix, since
        /// the rest is a borough case reference.
        key: String,
        /// What is wrong with it.
        problem: String,
    },

    /// A peer batch named this node's own borough as the peer.
    #[error("refusing to apply {dataset} changes from {peer}: that is this node's own borough")]
    OwnBoroughAsPeer {
        /// The borough named as the peer.
        peer: GssCode,
        /// The dataset of the batch.
        dataset: Dataset,
    },

    /// A peer batch holds a change beyond the checkpoint it claims to reach, so
    /// recording the checkpoint would misstate what has been applied.
    #[error("{dataset} batch from {peer} holds change seq {seq} beyond its checkpoint {up_to}")]
    ChangeBeyondCheckpoint {
        /// The peer whose batch it is.
        peer: GssCode,
        /// The dataset of the batch.
        dataset: Dataset,
        /// The offending change's sequence number.
        seq: u64,
        /// The checkpoint the batch claims to reach.
        up_to: u64,
    },

    /// The id chosen for a new local reference already belongs to an own record, so
    /// using it would overwrite another case's record. Nothing was written.
    #[error("new {dataset} record id {id} is already in use; record ids must not be reused")]
    RecordIdInUse {
        /// The dataset of the batch.
        dataset: Dataset,
        /// The id that was offered.
        id: RecordId,
    },

    /// The audit log's hash chain does not hold: an entry was edited, removed or moved.
    #[error("audit chain broken at entry {index}: {problem}")]
    AuditChainBroken {
        /// The first entry index at which the chain fails.
        index: u64,
        /// What does not match.
        problem: String,
    },

    /// An audit entry could not be encoded for storage.
    #[error("could not encode audit entry {index}: {source}")]
    AuditEncode {
        /// The index the entry would have had.
        index: u64,
        /// The encoder's error.
        source: serde_json::Error,
    },

    /// The sled database failed.
    #[error("store at {} failed while {during}: {source}", path.display())]
    Sled {
        /// The data directory.
        path: PathBuf,
        /// What the store was doing.
        during: &'static str,
        /// Sled's error.
        source: sled::Error,
    },
}

/// Wraps a sled error with the directory and what the store was doing.
pub(crate) fn sled_error<'a>(
    path: &'a std::path::Path,
    during: &'static str,
) -> impl FnOnce(sled::Error) -> Error + 'a {
    move |source| Error::Sled {
        path: path.to_path_buf(),
        during,
        source,
    }
}

//! Sync errors, and their one mapping to gRPC statuses.

use borough_model::{Dataset, GssCode};

/// What can go wrong while serving or pulling changes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store failed underneath.
    #[error(transparent)]
    Store(#[from] borough_store::Error),
    /// A peer sent a record that does not decode or validate.
    #[error("{peer} sent an invalid {dataset} record `{id}` at seq {seq}: {problem}")]
    InvalidRecord {
        /// The sending peer.
        peer: GssCode,
        /// The dataset.
        dataset: Dataset,
        /// The record id as sent (ids are printable tokens, never personal data).
        id: String,
        /// The change's sequence number.
        seq: u64,
        /// What is wrong with it.
        problem: String,
    },
    /// A batch broke the protocol (sequence going backwards, checkpoint regressing).
    #[error("{peer} broke the replication protocol for {dataset}: {problem}")]
    Protocol {
        /// The peer.
        peer: GssCode,
        /// The dataset.
        dataset: Dataset,
        /// What it did.
        problem: String,
    },
    /// A blocking store task was cancelled or panicked.
    #[error("store task failed: {0}")]
    Task(String),
}

impl From<&Error> for tonic::Status {
    fn from(e: &Error) -> Self {
        match e {
            Error::Store(_) | Error::Task(_) => {
                tonic::Status::internal("the node's store failed; see its log")
            }
            Error::InvalidRecord { .. } | Error::Protocol { .. } => {
                tonic::Status::failed_precondition(e.to_string())
            }
        }
    }
}

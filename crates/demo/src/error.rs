//! Demo errors: what stops the demo, naming the borough, file or flow involved.

use std::path::PathBuf;
use std::time::Duration;

use borough_model::{Dataset, GssCode};

/// What can stop `borough demo`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The temporary working folder could not be created.
    #[error("cannot create a temporary folder: {0}")]
    TempDir(#[source] std::io::Error),
    /// A node could not be laid out, started, reached or stopped.
    #[error(transparent)]
    Node(#[from] borough_node::Error),
    /// A borough's node is not running when the demo needs it.
    #[error("{0}'s node is not running")]
    NotRunning(GssCode),
    /// The synthetic data could not be generated or written.
    #[error("generating synthetic data: {0}")]
    Synth(#[from] borough_synth::Error),
    /// A generated file could not be imported.
    #[error("importing {} into {}'s node as {dataset}: {source}", file.display(), borough.name())]
    Import {
        /// The borough whose node it was sent to.
        borough: GssCode,
        /// The dataset.
        dataset: Dataset,
        /// The generated file.
        file: PathBuf,
        /// Why.
        #[source]
        source: borough_import::Error,
    },
    /// The agreements written for the demo could not be read back.
    #[error("reading the demo's agreements: {0}")]
    Agreements(#[source] borough_security::Error),
    /// The nodes did not come to hold what the agreements allow in time.
    #[error("the federation did not converge within {within:?}: {}", mismatches.join("; "))]
    NotConverged {
        /// How long the demo waited.
        within: Duration,
        /// Every (node, dataset, origin) that still differed from its expectation.
        mismatches: Vec<String>,
    },
    /// A blocking task of the demo failed.
    #[error("{0}")]
    Task(String),
}

//! The demo's data: `borough gen`'s synthetic files for every borough and dataset,
//! written under the working folder and imported at each borough's node exactly
//! as `borough import` imports them (through the node's Ingest RPC, as its `system`
//! user), so a user can re-import any of them by hand.

use std::path::{Path, PathBuf};

use borough_import::{ImportOptions, ImportSummary};
use borough_model::{Dataset, GssCode};
use borough_node::federation::LocalFederation;
use borough_synth::{GenPlan, GenReport};
use time::Date;

use crate::Error;

/// Where the generated files go under the working folder.
pub(crate) const FOLDER: &str = "synthetic";

/// Writes the plan's files under `root/synthetic` as `<GSS>/<dataset>.csv`.
pub(crate) async fn generate(
    root: &Path,
    boroughs: &[GssCode],
    seed: u64,
    records: usize,
    today: Date,
) -> Result<GenReport, Error> {
    let plan = GenPlan {
        boroughs: boroughs.to_vec(),
        seed,
        records,
        today,
    };
    let out = root.join(FOLDER);
    tokio::task::spawn_blocking(move || borough_synth::generate(&plan, &out))
        .await
        .map_err(|e| Error::Task(format!("generating synthetic data failed: {e}")))?
        .map_err(Error::from)
}

/// One generated file, imported.
#[derive(Debug, Clone)]
pub(crate) struct Imported {
    /// The borough whose node took it in.
    pub(crate) borough: GssCode,
    /// Its dataset.
    pub(crate) dataset: Dataset,
    /// The file.
    pub(crate) path: PathBuf,
    /// What the import did.
    pub(crate) summary: ImportSummary,
}

/// Imports one generated file at its borough's node, as `borough import` would.
pub(crate) async fn import(
    federation: &LocalFederation,
    borough: GssCode,
    dataset: Dataset,
    path: &Path,
) -> Result<Imported, Error> {
    let node = federation.node(borough).ok_or(Error::NotRunning(borough))?;
    let summary = borough_import::import(&node.config, dataset, path, &ImportOptions::default())
        .await
        .map_err(|source| Error::Import {
            borough,
            dataset,
            file: path.to_path_buf(),
            source,
        })?;
    Ok(Imported {
        borough,
        dataset,
        path: path.to_path_buf(),
        summary,
    })
}

//! The two real nodes the sync measurements run against: Lambeth and Southwark,
//! started in this process by `LocalFederation` in a temporary folder, with fresh
//! certificates, the example agreements and default limits, talking gRPC over
//! mutual TLS on 127.0.0.1 and storing in sled, exactly as `borough demo` does.

use borough_model::{Dataset, GssCode, Seq};
use borough_node::demo::EXAMPLE_AGREEMENTS;
use borough_node::federation::LocalFederation;
use borough_store::Store;
use tonic::transport::Channel;

use crate::records::{gss, LAMBETH, SOUTHWARK};

/// A running Lambeth–Southwark federation, removed from disk when dropped.
pub struct Cluster {
    /// The federation (nodes, addresses, configuration files).
    pub federation: LocalFederation,
    /// Lambeth: ingests the records and serves them.
    pub lambeth: GssCode,
    /// Southwark: pulls Lambeth's records.
    pub southwark: GssCode,
    dir: tempfile::TempDir,
}

impl Cluster {
    /// Lays out and starts both nodes under the example agreements.
    pub async fn start() -> anyhow::Result<Cluster> {
        let dir = tempfile::Builder::new()
            .prefix("borough-bench-")
            .tempdir()?;
        let (lambeth, southwark) = (gss(LAMBETH)?, gss(SOUTHWARK)?);
        let agreements: Vec<(String, String)> = EXAMPLE_AGREEMENTS
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        let federation =
            LocalFederation::start(dir.path(), &[lambeth, southwark], &agreements, "").await?;
        Ok(Cluster {
            federation,
            lambeth,
            southwark,
            dir,
        })
    }

    /// The folder holding certificates, configuration and both data directories.
    pub fn root(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// A running node's store.
    pub fn store(&self, borough: GssCode) -> anyhow::Result<&Store> {
        self.federation
            .node(borough)
            .map(|n| &n.store)
            .ok_or_else(|| anyhow::anyhow!("{} is not running", borough.name()))
    }

    /// A channel to Lambeth's node with Lambeth's `system` certificate, the role
    /// allowed to ingest.
    pub async fn lambeth_system(&self) -> anyhow::Result<Channel> {
        let node = self
            .federation
            .node(self.lambeth)
            .ok_or_else(|| anyhow::anyhow!("Lambeth is not running"))?;
        let certs = self.root().join("certs").join(self.lambeth.to_string());
        Ok(borough_node::client::connect_as(
            &node.config,
            &certs.join("system.pem"),
            &certs.join("system.key"),
        )
        .await?)
    }

    /// Lambeth's own log head for childcare places.
    pub fn lambeth_head(&self) -> anyhow::Result<Seq> {
        Ok(self.store(self.lambeth)?.head(Dataset::ChildcarePlaces)?)
    }

    /// Southwark's checkpoint of Lambeth's childcare places.
    pub fn southwark_checkpoint(&self) -> anyhow::Result<Seq> {
        Ok(self
            .store(self.southwark)?
            .checkpoint(self.lambeth, Dataset::ChildcarePlaces)?)
    }

    /// Stops both nodes and removes the folder.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.federation.shutdown().await?;
        drop(self.dir);
        Ok(())
    }
}

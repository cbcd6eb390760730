//! Calling a node as one of its users (system, admin …) from tools and tests.

use std::path::Path;

use borough_security::certs::node_server_name;
use borough_security::tls::{self, Credentials, TrustAnchors};
use borough_sync::{dial, SyncLimits};
use tonic::transport::Channel;

use crate::status::local_address;
use crate::{Error, NodeConfig};

/// A channel to the node `config` describes, presenting the certificate `cert`
/// and key `key`, and trusting only the node's own borough CA.
pub async fn connect_as(config: &NodeConfig, cert: &Path, key: &Path) -> Result<Channel, Error> {
    let security = |key: &str| Error::security_at(&config.source, key);
    let credentials = Credentials::load(cert, key).map_err(|e| {
        let which = Error::credentials_key(&e, key, "client certificate", "client key");
        security(which)(e)
    })?;
    let mut anchors = TrustAnchors::new();
    anchors
        .insert(config.borough, &config.tls.ca)
        .map_err(security("tls.ca"))?;
    let tls = tls::user_client_config(&credentials, config.borough, &anchors)
        .map_err(security("client certificate"))?;
    let address = local_address(config.listen).to_string();
    dial(
        &address,
        &node_server_name(config.borough),
        tls,
        &SyncLimits::default(),
    )
    .await
    .map_err(|e| Error::Unreachable(format!("{e} (is the node running?)")))
}

/// Erases the record a borough system knows as `local_ref`, as the node's `system`
/// user: the record becomes a tombstone that every peer applies, and the link from
/// the reference is removed. Returns the tombstone's sequence number, or `None`
/// when no record had that reference.
pub async fn erase(
    config: &NodeConfig,
    dataset: borough_model::Dataset,
    local_ref: &str,
) -> Result<Option<u64>, Error> {
    let channel = connect_as(config, &config.tools.system_cert, &config.tools.system_key).await?;
    let reply = borough_proto::v1::ingest_client::IngestClient::new(channel)
        .erase(borough_proto::v1::EraseRequest {
            dataset: dataset.as_str().to_string(),
            local_ref: local_ref.to_string(),
        })
        .await
        .map_err(|s| Error::Unreachable(format!("the node refused the erasure: {}", s.message())))?
        .into_inner();
    Ok(reply.erased.then_some(reply.seq))
}

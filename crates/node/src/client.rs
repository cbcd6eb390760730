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
    .map_err(|e| Error::Serve(e.to_string()))
}

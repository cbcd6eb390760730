//! Opening a gRPC channel to a node over this node's mutual-TLS client configuration.

use std::sync::Arc;

use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint};

use crate::SyncLimits;

/// A node could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum DialError {
    /// The address is not usable as a gRPC endpoint.
    #[error("address `{address}` is not usable: {problem}")]
    Address {
        /// The address given.
        address: String,
        /// Why not.
        problem: String,
    },
    /// TCP connect, TLS handshake or HTTP/2 set-up failed.
    #[error("cannot reach {address}: {problem}")]
    Unreachable {
        /// The address dialled.
        address: String,
        /// What failed, including the TLS alert if the handshake was refused.
        problem: String,
    },
}

/// Connects to `address`, verifies the server as `server_name` under `tls`, and
/// returns a channel. The TLS is ours, not tonic's, so the endpoint is plain `http`.
pub async fn dial(
    address: &str,
    server_name: &str,
    tls: Arc<rustls::ClientConfig>,
    limits: &SyncLimits,
) -> Result<Channel, DialError> {
    let name = ServerName::try_from(server_name.to_string()).map_err(|e| DialError::Address {
        address: address.to_string(),
        problem: format!("server name `{server_name}`: {e}"),
    })?;
    let endpoint = Endpoint::from_shared(format!("http://{address}"))
        .map_err(|e| DialError::Address {
            address: address.to_string(),
            problem: e.to_string(),
        })?
        .connect_timeout(limits.connect_timeout)
        .http2_keep_alive_interval(limits.keepalive_interval)
        .keep_alive_timeout(limits.keepalive_interval)
        .keep_alive_while_idle(true)
        .tcp_nodelay(true);
    let target = address.to_string();
    let connector = tower::service_fn(move |_| {
        let connector = TlsConnector::from(tls.clone());
        let name = name.clone();
        let target = target.clone();
        async move {
            let tcp = TcpStream::connect(&target).await?;
            tcp.set_nodelay(true)?;
            let tls = connector.connect(name, tcp).await?;
            Ok::<_, std::io::Error>(TokioIo::new(tls))
        }
    });
    endpoint
        .connect_with_connector(connector)
        .await
        .map_err(|e| DialError::Unreachable {
            address: address.to_string(),
            problem: error_chain(&e),
        })
}

/// The error and its causes on one line, so a TLS alert buried under transport
/// errors reaches the operator.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

//! The two refusals an operator should see: a certificate from a CA no node
//! trusts, and a peer asking for a dataset no agreement lets it have. Each attempt
//! reports the node's verdict as a line of text.

use std::time::Duration;

use borough_model::{Dataset, GssCode, PeerIdentity, Role};
use borough_node::federation::LocalFederation;
use borough_node::status::local_address;
use borough_proto::v1;
use borough_security::certs::{node_server_name, BoroughCa, Validity};
use borough_security::tls::{self, Credentials, TrustAnchors};
use borough_sync::{dial, status_text, SyncLimits};
use rustls::pki_types::ServerName;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Connects to a node with an admin certificate from a CA no node trusts, and
/// reports the node's verdict. In TLS 1.3 the server judges the client certificate
/// after the client has sent its last handshake message, so the refusal arrives as
/// an alert on the first read.
pub(crate) async fn unknown_ca_attempt(federation: &LocalFederation, target: GssCode) -> String {
    let attempt = async {
        let stranger = BoroughCa::generate(target).map_err(|e| e.to_string())?;
        let identity = PeerIdentity {
            borough: target,
            role: Role::Admin,
            name: Some("intruder".into()),
        };
        let issued = stranger
            .issue(&identity, Validity::days_from_now(1))
            .map_err(|e| e.to_string())?;
        let credentials =
            Credentials::from_pem(&issued.cert_pem, &issued.key_pem).map_err(|e| e.to_string())?;
        let mut anchors = TrustAnchors::new();
        let ca = federation
            .root()
            .join("certs")
            .join(target.to_string())
            .join("ca.pem");
        anchors.insert(target, &ca).map_err(|e| e.to_string())?;
        let tls =
            tls::user_client_config(&credentials, target, &anchors).map_err(|e| e.to_string())?;
        let address = local_address(federation.addresses()[&target]);
        let tcp = TcpStream::connect(address)
            .await
            .map_err(|e| e.to_string())?;
        let name = ServerName::try_from(node_server_name(target)).map_err(|e| e.to_string())?;
        let mut stream = TlsConnector::from(tls)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake failed: {e}"))?;
        let mut byte = [0u8; 1];
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte)).await {
            Ok(Err(e)) => Err(format!("TLS handshake failed: {e}")),
            Ok(Ok(0)) => Err("the node closed the connection".to_string()),
            Ok(Ok(_)) => Ok(()),
            Err(_) => Ok(()),
        }
    };
    match attempt.await {
        Ok(()) => "UNEXPECTED: the connection was accepted".into(),
        Err(e) => format!("refused: {e}"),
    }
}

/// Asks `server` for `dataset` with `caller`'s node certificate, where no agreement
/// lets `server` disclose it to `caller`.
pub(crate) async fn outside_agreement_attempt(
    federation: &LocalFederation,
    caller: GssCode,
    server: GssCode,
    dataset: Dataset,
) -> String {
    let attempt = async {
        let certs = federation.root().join("certs");
        let credentials = Credentials::load(
            &certs.join(caller.to_string()).join("node.pem"),
            &certs.join(caller.to_string()).join("node.key"),
        )
        .map_err(|e| e.to_string())?;
        let mut anchors = TrustAnchors::new();
        anchors
            .insert(server, &certs.join(server.to_string()).join("ca.pem"))
            .map_err(|e| e.to_string())?;
        let tls = tls::client_config(&credentials, server, &anchors).map_err(|e| e.to_string())?;
        let address = local_address(federation.addresses()[&server]).to_string();
        let channel = dial(
            &address,
            &node_server_name(server),
            tls,
            &SyncLimits::default(),
        )
        .await
        .map_err(|e| e.to_string())?;
        let mut stream = v1::replication_client::ReplicationClient::new(channel)
            .changes(v1::ChangesRequest {
                dataset: dataset.as_str().into(),
                since_seq: 0,
                agreement_id: String::new(),
                agreement_hash: String::new(),
            })
            .await
            .map_err(|s| status_text(&s))?
            .into_inner();
        stream
            .message()
            .await
            .map(|_| ())
            .map_err(|s| status_text(&s))
    };
    match attempt.await {
        Ok(()) => "UNEXPECTED: records were served".into(),
        Err(e) => format!("refused: {e} (audited at {})", server.name()),
    }
}

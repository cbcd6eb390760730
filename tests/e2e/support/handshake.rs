//! Building TLS clients from raw PEM, so tests can present certificates no tool
//! would (none at all, a stranger's, an expired one, a TLS 1.2-only client), and
//! making a call whose failure is returned as text naming the cause.

use std::sync::Arc;
use std::time::Duration;

use borough_model::{Dataset, PeerIdentity, Role};
use borough_proto::v1;
use borough_security::certs::{node_server_name, BoroughCa, Issued, Validity};
use borough_sync::{dial, status_text, SyncLimits};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};
use tonic::transport::Channel;

use super::{gss, Federation};

/// A certificate and its private key, both PEM.
#[derive(Clone)]
pub struct Pems {
    pub cert: String,
    pub key: String,
}

impl From<Issued> for Pems {
    fn from(issued: Issued) -> Pems {
        Pems {
            cert: issued.cert_pem,
            key: issued.key_pem,
        }
    }
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The certificate `borough certs init` wrote for `borough`'s `stem` (node, admin …).
pub fn pems(fed: &Federation, borough: &str, stem: &str) -> Pems {
    let dir = fed.certs(borough);
    Pems {
        cert: read(&dir.join(format!("{stem}.pem"))),
        key: read(&dir.join(format!("{stem}.key"))),
    }
}

/// `borough`'s CA certificate, PEM.
pub fn ca_pem(fed: &Federation, borough: &str) -> String {
    read(&fed.certs(borough).join("ca.pem"))
}

/// `borough`'s CA, loaded with its key, to issue certificates the tests need.
pub fn load_ca(fed: &Federation, borough: &str) -> BoroughCa {
    let dir = fed.certs(borough);
    BoroughCa::load(&dir.join("ca.pem"), &dir.join("ca.key")).expect("load borough CA")
}

/// An identity of `borough` in `role`.
pub fn identity(borough: &str, role: Role, name: Option<&str>) -> PeerIdentity {
    PeerIdentity {
        borough: gss(borough),
        role,
        name: name.map(str::to_string),
    }
}

/// Issues a certificate for (`borough`, `role`) from `ca`, valid for `validity`.
pub fn issue(ca: &BoroughCa, borough: &str, role: Role, validity: Validity) -> Pems {
    let name = (role != Role::Node).then(|| role.as_str());
    ca.issue(&identity(borough, role, name), validity)
        .expect("issue certificate")
        .into()
}

/// A plain rustls client speaking only `versions`, trusting only `trust_ca_pem` for
/// the server, and presenting `client` (or no certificate at all).
pub fn client_config(
    versions: &[&'static SupportedProtocolVersion],
    client: Option<&Pems>,
    trust_ca_pem: &str,
) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for der in CertificateDer::pem_slice_iter(trust_ca_pem.as_bytes()) {
        roots
            .add(der.expect("CA PEM"))
            .expect("CA is a trust anchor");
    }
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(versions)
            .expect("protocol versions")
            .with_root_certificates(roots);
    let mut config = match client {
        None => builder.with_no_client_auth(),
        Some(pems) => {
            let chain = CertificateDer::pem_slice_iter(pems.cert.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .expect("certificate PEM");
            let key = PrivateKeyDer::from_pem_slice(pems.key.as_bytes()).expect("key PEM");
            builder
                .with_client_auth_cert(chain, key)
                .expect("client certificate and key")
        }
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

/// A TLS 1.3 client presenting `client` (or nothing) and trusting `borough`'s CA.
pub fn tls13_client(fed: &Federation, borough: &str, client: Option<&Pems>) -> Arc<ClientConfig> {
    client_config(&[&rustls::version::TLS13], client, &ca_pem(fed, borough))
}

/// The address of `borough`'s node.
pub fn address(fed: &Federation, borough: &str) -> String {
    fed.inner.addresses()[&gss(borough)].to_string()
}

fn limits() -> SyncLimits {
    SyncLimits {
        connect_timeout: Duration::from_secs(5),
        ..SyncLimits::default()
    }
}

/// A channel to `borough`'s node under `tls`; a failed dial comes back as its text.
pub async fn channel(
    fed: &Federation,
    borough: &str,
    tls: Arc<ClientConfig>,
) -> Result<Channel, String> {
    dial(
        &address(fed, borough),
        &node_server_name(gss(borough)),
        tls,
        &limits(),
    )
    .await
    .map_err(|e| e.to_string())
}

/// A channel to `target`'s node presenting the certificate `borough certs init`
/// wrote for `owner`'s `stem`, trusting `target`'s CA. Panics if the dial fails.
pub async fn channel_as(fed: &Federation, target: &str, owner: &str, stem: &str) -> Channel {
    let tls = tls13_client(fed, target, Some(&pems(fed, owner, stem)));
    channel(fed, target, tls)
        .await
        .unwrap_or_else(|e| panic!("dial {target} as {owner}'s {stem}: {e}"))
}

/// Calls `borough.v1.Admin/Status` on `borough`'s node under `tls`. A refusal,
/// whether it surfaces while dialling or on the call, comes back as text holding
/// the whole error chain (the TLS alert, if the handshake was refused).
pub async fn status_call(
    fed: &Federation,
    borough: &str,
    tls: Arc<ClientConfig>,
) -> Result<v1::StatusReply, String> {
    let channel = channel(fed, borough, tls).await?;
    v1::admin_client::AdminClient::new(channel)
        .status(v1::StatusRequest {})
        .await
        .map(|r| r.into_inner())
        .map_err(|s| status_text(&s))
}

/// Calls `grpc.health.v1.Health/Check` for `service` on `borough`'s node under `tls`;
/// the serving status, or the error as text.
pub async fn health_call(
    fed: &Federation,
    borough: &str,
    tls: Arc<ClientConfig>,
    service: &str,
) -> Result<i32, String> {
    use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};
    let channel = channel(fed, borough, tls).await?;
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_string(),
        })
        .await
        .map(|r| r.into_inner().status)
        .map_err(|s| status_text(&s))
}

/// Asserts that a refusal's text is a TLS handshake refusal carrying `alert`
/// (rustls's name for it, e.g. `UnknownCA`), and returns the text.
pub fn assert_handshake_refused(
    result: Result<impl std::fmt::Debug, String>,
    alert: &str,
) -> String {
    let text = match result {
        Ok(v) => panic!("expected a TLS refusal ({alert}), but the call succeeded: {v:?}"),
        Err(text) => text,
    };
    assert!(
        text.contains(&format!("received fatal alert: {alert}")),
        "expected the handshake to be refused with TLS alert {alert}, got: {text}"
    );
    text
}

/// Opens `Replication/Changes` on `channel` and returns the refusal, from the call
/// or from the stream's first message. Panics if a batch of records is served.
pub async fn changes_refusal(channel: Channel, request: v1::ChangesRequest) -> tonic::Status {
    let mut client = v1::replication_client::ReplicationClient::new(channel);
    match client.changes(request).await {
        Err(status) => status,
        Ok(response) => match response.into_inner().message().await {
            Err(status) => status,
            Ok(batch) => panic!("expected a refusal, but the node served {batch:?}"),
        },
    }
}

/// A `Changes` request for `dataset` from seq 0 under `agreement_id` / `hash`.
pub fn changes_request(dataset: &str, agreement_id: &str, hash: &str) -> v1::ChangesRequest {
    v1::ChangesRequest {
        dataset: dataset.to_string(),
        since_seq: 0,
        agreement_id: agreement_id.to_string(),
        agreement_hash: hash.to_string(),
    }
}

/// The `childcare-places` dataset name.
pub fn childcare() -> &'static str {
    Dataset::ChildcarePlaces.as_str()
}

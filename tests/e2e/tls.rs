//! Mutual TLS 1.3: a node refuses, at the handshake, every caller without a
//! certificate that chains to the CA of the borough it names and is in date, and
//! every client that cannot speak TLS 1.3. Health and reflection sit behind the
//! same handshake.

use borough_model::Role;
use borough_security::certs::{BoroughCa, Validity};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_reflection::pb::v1::{
    server_reflection_client::ServerReflectionClient, server_reflection_request::MessageRequest,
    server_reflection_response::MessageResponse, ServerReflectionRequest,
};

use crate::support::handshake::*;
use crate::support::*;

/// Control for the refusals below: the same kind of client, built the same way,
/// presenting Lambeth's admin certificate, reads Lambeth's status.
#[tokio::test]
async fn admin_certificate_of_lambeth_reads_lambeths_status() {
    let fed = Federation::start(&[LAMBETH]).await;
    let tls = tls13_client(&fed, LAMBETH, Some(&pems(&fed, LAMBETH, "admin")));
    let reply = status_call(&fed, LAMBETH, tls)
        .await
        .expect("status with a good certificate");
    assert_eq!(reply.borough, LAMBETH);
}

/// A client that presents no certificate is refused at the handshake: the node
/// requires one from every caller (TLS alert `certificate_required`).
#[tokio::test]
async fn client_without_a_certificate_is_refused_at_the_handshake() {
    let fed = Federation::start(&[LAMBETH]).await;
    let tls = tls13_client(&fed, LAMBETH, None);
    assert_handshake_refused(status_call(&fed, LAMBETH, tls).await, "CertificateRequired");
}

/// A certificate naming Lambeth's admin but issued by a CA no node trusts is
/// refused at the handshake. The stranger CA carries the same subject name as
/// Lambeth's real CA, so the chain is matched to the real CA by name and fails on
/// its signature (TLS alert `decrypt_error`).
#[tokio::test]
async fn certificate_from_an_unknown_ca_is_refused_at_the_handshake() {
    let fed = Federation::start(&[LAMBETH]).await;
    let stranger = BoroughCa::generate(gss(LAMBETH)).expect("stranger CA");
    let forged = issue(&stranger, LAMBETH, Role::Admin, Validity::days_from_now(1));
    let tls = tls13_client(&fed, LAMBETH, Some(&forged));
    assert_handshake_refused(status_call(&fed, LAMBETH, tls).await, "DecryptError");
}

/// A borough's identities are accepted only from that borough's own CA: a node
/// certificate naming Southwark but issued by Lambeth's CA is refused by
/// Southwark's node at the handshake (TLS alert `unknown_ca`).
#[tokio::test]
async fn certificate_naming_southwark_issued_by_lambeth_ca_is_refused_by_southwarks_node() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK]).await;
    let lambeth_ca = load_ca(&fed, LAMBETH);
    let forged = issue(
        &lambeth_ca,
        SOUTHWARK,
        Role::Node,
        Validity::days_from_now(1),
    );
    let tls = tls13_client(&fed, SOUTHWARK, Some(&forged));
    let refused = changes_call(&fed, SOUTHWARK, tls).await;
    assert_handshake_refused(refused, "UnknownCA");
}

/// Trusting Lambeth's CA for Lambeth's identities does not make Lambeth's node
/// accept a Southwark identity from it: a node certificate naming Southwark issued
/// by Lambeth's CA is refused by Lambeth's own node at the handshake.
#[tokio::test]
async fn certificate_naming_southwark_issued_by_lambeth_ca_is_refused_by_lambeths_node() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK]).await;
    let lambeth_ca = load_ca(&fed, LAMBETH);
    let forged = issue(
        &lambeth_ca,
        SOUTHWARK,
        Role::Node,
        Validity::days_from_now(1),
    );
    let tls = tls13_client(&fed, LAMBETH, Some(&forged));
    let refused = changes_call(&fed, LAMBETH, tls).await;
    assert_handshake_refused(refused, "UnknownCA");
}

/// An expired certificate is refused at the handshake even when the right CA
/// issued it (TLS alert `certificate_expired`).
#[tokio::test]
async fn expired_certificate_from_the_right_ca_is_refused_at_the_handshake() {
    let fed = Federation::start(&[LAMBETH]).await;
    let lambeth_ca = load_ca(&fed, LAMBETH);
    let expired = issue(&lambeth_ca, LAMBETH, Role::Admin, Validity::expired());
    let tls = tls13_client(&fed, LAMBETH, Some(&expired));
    assert_handshake_refused(status_call(&fed, LAMBETH, tls).await, "CertificateExpired");
}

/// Nodes speak TLS 1.3 only: a TLS 1.2-only client is refused at the handshake
/// (TLS alert `protocol_version`) even with a valid admin certificate.
#[tokio::test]
async fn tls12_only_client_is_refused_at_the_handshake() {
    let fed = Federation::start(&[LAMBETH]).await;
    let tls = client_config(
        &[&rustls::version::TLS12],
        Some(&pems(&fed, LAMBETH, "admin")),
        &ca_pem(&fed, LAMBETH),
    );
    assert_handshake_refused(status_call(&fed, LAMBETH, tls).await, "ProtocolVersion");
}

/// gRPC health is served over mutual TLS: with Lambeth's admin certificate,
/// `Health/Check` reports SERVING for the server as a whole and for Ingest.
#[tokio::test]
async fn health_reports_serving_over_mutual_tls() {
    let fed = Federation::start(&[LAMBETH]).await;
    let admin = pems(&fed, LAMBETH, "admin");
    for service in ["", "borough.v1.Ingest"] {
        let tls = tls13_client(&fed, LAMBETH, Some(&admin));
        let status = health_call(&fed, LAMBETH, tls, service)
            .await
            .unwrap_or_else(|e| panic!("health check of {service:?}: {e}"));
        assert_eq!(
            status,
            ServingStatus::Serving as i32,
            "health of {service:?}"
        );
    }
}

/// Without a client certificate even the health check is refused at the handshake.
#[tokio::test]
async fn health_without_a_client_certificate_is_refused_at_the_handshake() {
    let fed = Federation::start(&[LAMBETH]).await;
    let tls = tls13_client(&fed, LAMBETH, None);
    assert_handshake_refused(
        health_call(&fed, LAMBETH, tls, "").await,
        "CertificateRequired",
    );
}

/// gRPC reflection (v1) is served over mutual TLS and lists the borough services.
#[tokio::test]
async fn reflection_lists_the_borough_services_over_mutual_tls() {
    let fed = Federation::start(&[LAMBETH]).await;
    let channel = channel_as(&fed, LAMBETH, LAMBETH, "admin").await;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut replies = ServerReflectionClient::new(channel)
        .server_reflection_info(tonic::codegen::tokio_stream::iter([request]))
        .await
        .expect("reflection call")
        .into_inner();
    let reply = replies
        .message()
        .await
        .expect("reflection reply")
        .expect("one reply");
    let Some(MessageResponse::ListServicesResponse(list)) = reply.message_response else {
        panic!("expected a list of services, got {reply:?}");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    for expected in [
        "borough.v1.Replication",
        "borough.v1.Ingest",
        "borough.v1.Admin",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
}

/// Opens `Replication/Changes` for childcare places on `borough`'s node under
/// `tls`; the refusal as text (from the dial, the call or the first message).
async fn changes_call(
    fed: &Federation,
    borough: &str,
    tls: std::sync::Arc<rustls::ClientConfig>,
) -> Result<(), String> {
    let channel = channel(fed, borough, tls).await?;
    let status = changes_refusal(channel, changes_request(childcare(), "", "")).await;
    Err(borough_sync::status_text(&status))
}

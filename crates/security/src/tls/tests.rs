use std::fs;
use std::os::unix::fs::PermissionsExt;

use borough_model::{GssCode, PeerIdentity, Role};
use rustls::{ClientConnection, Connection, ServerConnection};

use super::*;
use crate::certs::{init, BoroughCa, Validity};

const LAMBETH: &str = "E09000022";
const LEWISHAM: &str = "E09000023";
const SOUTHWARK: &str = "E09000028";

fn gss(code: &str) -> GssCode {
    GssCode::parse(code).unwrap()
}

fn ca(borough: &str) -> BoroughCa {
    BoroughCa::generate(gss(borough)).unwrap()
}

fn issue(ca: &BoroughCa, identity: PeerIdentity, validity: Validity) -> Credentials {
    let issued = ca.issue(&identity, validity).unwrap();
    Credentials::from_pem(&issued.cert_pem, &issued.key_pem).unwrap()
}

fn node_of(ca: &BoroughCa, borough: &str) -> Credentials {
    let identity = PeerIdentity {
        borough: gss(borough),
        role: Role::Node,
        name: None,
    };
    issue(ca, identity, Validity::days_from_now(30))
}

fn user_of(ca: &BoroughCa, role: Role, name: &str) -> Credentials {
    let identity = PeerIdentity {
        borough: ca.borough(),
        role,
        name: Some(name.to_string()),
    };
    issue(ca, identity, Validity::days_from_now(30))
}

fn anchors(cas: &[&BoroughCa]) -> TrustAnchors {
    let mut anchors = TrustAnchors::new();
    for ca in cas {
        anchors.insert_pem(ca.borough(), ca.cert_pem()).unwrap();
    }
    anchors
}

/// What each side of an in-memory handshake made of it.
struct Outcome {
    client_error: Option<rustls::Error>,
    server_error: Option<rustls::Error>,
    client: Connection,
    server: Connection,
}

impl Outcome {
    fn succeeded(&self) -> bool {
        self.client_error.is_none()
            && self.server_error.is_none()
            && !self.client.is_handshaking()
            && !self.server.is_handshaking()
    }

    /// The identity the server read from the client's verified certificate.
    fn client_identity(&self) -> PeerIdentity {
        let chain = self.server.peer_certificates().unwrap();
        identity_from_cert(&chain[0]).unwrap()
    }

    fn server_error(&self) -> &rustls::Error {
        self.server_error
            .as_ref()
            .unwrap_or_else(|| panic!("server accepted; client error {:?}", self.client_error))
    }

    fn client_error(&self) -> &rustls::Error {
        self.client_error
            .as_ref()
            .unwrap_or_else(|| panic!("client accepted; server error {:?}", self.server_error))
    }
}

/// Runs a handshake by passing bytes between the two sides until neither has more.
fn handshake(client: Arc<ClientConfig>, server: Arc<ServerConfig>) -> Outcome {
    // Deliberately not the peer's node name: the client pins that itself.
    let dialled = ServerName::try_from("localhost").unwrap();
    let mut client = Connection::Client(ClientConnection::new(client, dialled).unwrap());
    let mut server = Connection::Server(ServerConnection::new(server).unwrap());
    let mut client_error = None;
    let mut server_error = None;
    for _ in 0..20 {
        let to_server = transfer(&mut client, &mut server, &mut server_error);
        let to_client = transfer(&mut server, &mut client, &mut client_error);
        if !to_server && !to_client {
            break;
        }
    }
    Outcome {
        client_error,
        server_error,
        client,
        server,
    }
}

/// Moves pending bytes from one side to the other; false if there were none.
fn transfer(from: &mut Connection, to: &mut Connection, error: &mut Option<rustls::Error>) -> bool {
    let mut bytes = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut bytes).unwrap();
    }
    if bytes.is_empty() {
        return false;
    }
    if to.read_tls(&mut bytes.as_slice()).is_ok() {
        if let Err(e) = to.process_new_packets() {
            error.get_or_insert(e);
        }
    }
    true
}

fn is_other_error_containing(error: &rustls::Error, text: &str) -> bool {
    matches!(
        error,
        rustls::Error::InvalidCertificate(CertificateError::Other(other))
            if other.0.to_string().contains(text)
    )
}

#[test]
fn a_lambeth_node_and_a_southwark_node_complete_a_handshake() {
    let (lambeth, southwark) = (ca(LAMBETH), ca(SOUTHWARK));
    let client = client_config(
        &node_of(&lambeth, LAMBETH),
        gss(SOUTHWARK),
        &anchors(&[&southwark]),
    )
    .unwrap();
    let server = server_config(
        &node_of(&southwark, SOUTHWARK),
        &anchors(&[&lambeth, &southwark]),
    )
    .unwrap();
    let outcome = handshake(client, server);
    assert!(
        outcome.succeeded(),
        "{:?} / {:?}",
        outcome.client_error,
        outcome.server_error
    );
    assert_eq!(
        outcome.client_identity(),
        PeerIdentity {
            borough: gss(LAMBETH),
            role: Role::Node,
            name: None
        }
    );
}

#[test]
fn both_sides_agree_on_tls13_and_h2() {
    let (lambeth, southwark) = (ca(LAMBETH), ca(SOUTHWARK));
    let client = client_config(
        &node_of(&lambeth, LAMBETH),
        gss(SOUTHWARK),
        &anchors(&[&southwark]),
    )
    .unwrap();
    let server = server_config(
        &node_of(&southwark, SOUTHWARK),
        &anchors(&[&lambeth, &southwark]),
    )
    .unwrap();
    let outcome = handshake(client, server);
    assert!(outcome.succeeded());
    assert_eq!(outcome.server.alpn_protocol(), Some(&b"h2"[..]));
    assert_eq!(
        outcome.server.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
}

#[test]
fn a_lambeth_user_reaches_the_lambeth_node() {
    let lambeth = ca(LAMBETH);
    let own = anchors(&[&lambeth]);
    let client =
        user_client_config(&user_of(&lambeth, Role::Admin, "ops"), gss(LAMBETH), &own).unwrap();
    let server = server_config(&node_of(&lambeth, LAMBETH), &own).unwrap();
    let outcome = handshake(client, server);
    assert!(
        outcome.succeeded(),
        "{:?} / {:?}",
        outcome.client_error,
        outcome.server_error
    );
    assert_eq!(outcome.client_identity().role, Role::Admin);
}

#[test]
fn credentials_written_by_init_complete_a_handshake() {
    let out = tempfile::tempdir().unwrap();
    init(out.path(), &[gss(LAMBETH), gss(SOUTHWARK)]).unwrap();
    let file = |borough: &str, name: &str| out.path().join(borough).join(name);
    let mut trusted = TrustAnchors::new();
    trusted
        .insert(gss(LAMBETH), &file(LAMBETH, "ca.pem"))
        .unwrap();
    trusted
        .insert(gss(SOUTHWARK), &file(SOUTHWARK, "ca.pem"))
        .unwrap();
    let lambeth_node =
        Credentials::load(&file(LAMBETH, "node.pem"), &file(LAMBETH, "node.key")).unwrap();
    let southwark_node =
        Credentials::load(&file(SOUTHWARK, "node.pem"), &file(SOUTHWARK, "node.key")).unwrap();
    let outcome = handshake(
        client_config(&lambeth_node, gss(SOUTHWARK), &trusted).unwrap(),
        server_config(&southwark_node, &trusted).unwrap(),
    );
    assert!(
        outcome.succeeded(),
        "{:?} / {:?}",
        outcome.client_error,
        outcome.server_error
    );
}

#[test]
fn a_leaf_issued_by_a_reloaded_ca_is_accepted() {
    let out = tempfile::tempdir().unwrap();
    init(out.path(), &[gss(LAMBETH)]).unwrap();
    let dir = out.path().join(LAMBETH);
    let reloaded = BoroughCa::load(&dir.join("ca.pem"), &dir.join("ca.key")).unwrap();
    let own = anchors(&[&reloaded]);
    let node = Credentials::load(&dir.join("node.pem"), &dir.join("node.key")).unwrap();
    let outcome = handshake(
        user_client_config(
            &user_of(&reloaded, Role::Analyst, "new"),
            gss(LAMBETH),
            &own,
        )
        .unwrap(),
        server_config(&node, &own).unwrap(),
    );
    assert!(
        outcome.succeeded(),
        "{:?} / {:?}",
        outcome.client_error,
        outcome.server_error
    );
}

#[test]
fn the_server_refuses_a_client_without_a_certificate() {
    let southwark = ca(SOUTHWARK);
    let trusted = anchors(&[&southwark]);
    let provider = provider();
    let verifier = PeerNodeVerifier::new(gss(SOUTHWARK), &trusted, &provider).unwrap();
    let anonymous = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    let server = server_config(&node_of(&southwark, SOUTHWARK), &trusted).unwrap();
    let outcome = handshake(Arc::new(anonymous), server);
    assert!(
        matches!(
            outcome.server_error(),
            rustls::Error::NoCertificatesPresented
        ),
        "{:?}",
        outcome.server_error
    );
}

#[test]
fn the_server_refuses_a_certificate_from_an_unknown_ca() {
    let (lambeth, southwark) = (ca(LAMBETH), ca(SOUTHWARK));
    let impostor = ca(LAMBETH);
    let client = client_config(
        &node_of(&impostor, LAMBETH),
        gss(SOUTHWARK),
        &anchors(&[&southwark]),
    )
    .unwrap();
    let server = server_config(
        &node_of(&southwark, SOUTHWARK),
        &anchors(&[&lambeth, &southwark]),
    )
    .unwrap();
    let outcome = handshake(client, server);
    // The impostor CA has the real one's subject, so webpki finds a candidate issuer
    // by name and then fails its signature.
    assert!(
        matches!(
            outcome.server_error(),
            rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer | CertificateError::BadSignature
            )
        ),
        "{:?}",
        outcome.server_error
    );
}

#[test]
fn the_server_refuses_a_certificate_naming_southwark_issued_by_lambeths_ca() {
    let (lambeth, southwark, lewisham) = (ca(LAMBETH), ca(SOUTHWARK), ca(LEWISHAM));
    let forged = node_of(&lambeth, SOUTHWARK);
    let client = client_config(&forged, gss(LEWISHAM), &anchors(&[&lewisham])).unwrap();
    let server = server_config(
        &node_of(&lewisham, LEWISHAM),
        &anchors(&[&lambeth, &southwark, &lewisham]),
    )
    .unwrap();
    let outcome = handshake(client, server);
    assert!(
        matches!(
            outcome.server_error(),
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
        ),
        "{:?}",
        outcome.server_error
    );
}

#[test]
fn the_server_refuses_a_borough_whose_ca_it_does_not_hold() {
    let (lambeth, southwark) = (ca(LAMBETH), ca(SOUTHWARK));
    let client = client_config(
        &node_of(&lambeth, LAMBETH),
        gss(SOUTHWARK),
        &anchors(&[&southwark]),
    )
    .unwrap();
    let server = server_config(&node_of(&southwark, SOUTHWARK), &anchors(&[&southwark])).unwrap();
    let outcome = handshake(client, server);
    assert!(
        is_other_error_containing(
            outcome.server_error(),
            "no CA certificate is configured for Lambeth"
        ),
        "{:?}",
        outcome.server_error
    );
}

#[test]
fn the_server_refuses_a_certificate_without_a_borough_net_identity() {
    let southwark = ca(SOUTHWARK);
    let trusted = anchors(&[&southwark]);
    // A CA-signed leaf with no URI SAN at all, built directly with rcgen.
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, southwark.issuer()).unwrap();
    let anonymous = Credentials::from_pem(&cert.pem(), &key.serialize_pem()).unwrap();
    let client = client_config(&anonymous, gss(SOUTHWARK), &trusted).unwrap();
    let server = server_config(&node_of(&southwark, SOUTHWARK), &trusted).unwrap();
    let outcome = handshake(client, server);
    assert!(
        is_other_error_containing(outcome.server_error(), "no borough-net identity"),
        "{:?}",
        outcome.server_error
    );
}

#[test]
fn the_server_refuses_an_expired_client_certificate() {
    let (lambeth, southwark) = (ca(LAMBETH), ca(SOUTHWARK));
    let expired = issue(
        &lambeth,
        PeerIdentity {
            borough: gss(LAMBETH),
            role: Role::Node,
            name: None,
        },
        Validity::expired(),
    );
    let client = client_config(&expired, gss(SOUTHWARK), &anchors(&[&southwark])).unwrap();
    let server = server_config(
        &node_of(&southwark, SOUTHWARK),
        &anchors(&[&lambeth, &southwark]),
    )
    .unwrap();
    let outcome = handshake(client, server);
    assert!(
        matches!(
            outcome.server_error(),
            rustls::Error::InvalidCertificate(
                CertificateError::Expired | CertificateError::ExpiredContext { .. }
            )
        ),
        "{:?}",
        outcome.server_error
    );
}

#[test]
fn the_client_refuses_an_expired_server_certificate() {
    let (lambeth, southwark) = (ca(LAMBETH), ca(SOUTHWARK));
    let expired = issue(
        &southwark,
        PeerIdentity {
            borough: gss(SOUTHWARK),
            role: Role::Node,
            name: None,
        },
        Validity::expired(),
    );
    let client = client_config(
        &node_of(&lambeth, LAMBETH),
        gss(SOUTHWARK),
        &anchors(&[&southwark]),
    )
    .unwrap();
    let server = server_config(&expired, &anchors(&[&lambeth, &southwark])).unwrap();
    let outcome = handshake(client, server);
    assert!(
        matches!(
            outcome.client_error(),
            rustls::Error::InvalidCertificate(
                CertificateError::Expired | CertificateError::ExpiredContext { .. }
            )
        ),
        "{:?}",
        outcome.client_error
    );
}

#[test]
fn the_server_refuses_a_client_offering_only_tls12() {
    let (lambeth, southwark) = (ca(LAMBETH), ca(SOUTHWARK));
    let trusted = anchors(&[&lambeth, &southwark]);
    let provider = provider();
    let verifier = PeerNodeVerifier::new(gss(SOUTHWARK), &trusted, &provider).unwrap();
    let credentials = node_of(&lambeth, LAMBETH);
    let tls12 = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_auth_cert(credentials.chain.clone(), credentials.key.clone_key())
        .unwrap();
    let server = server_config(&node_of(&southwark, SOUTHWARK), &trusted).unwrap();
    let outcome = handshake(Arc::new(tls12), server);
    assert!(
        matches!(outcome.server_error(), rustls::Error::PeerIncompatible(_)),
        "{:?}",
        outcome.server_error
    );
}

#[test]
fn the_client_refuses_a_node_of_another_borough() {
    let (lambeth, southwark, lewisham) = (ca(LAMBETH), ca(SOUTHWARK), ca(LEWISHAM));
    // The client trusts Lewisham's CA too, but only for Lewisham.
    let client = client_config(
        &node_of(&lambeth, LAMBETH),
        gss(SOUTHWARK),
        &anchors(&[&southwark, &lewisham]),
    )
    .unwrap();
    let server = server_config(
        &node_of(&lewisham, LEWISHAM),
        &anchors(&[&lambeth, &lewisham]),
    )
    .unwrap();
    let outcome = handshake(client, server);
    assert!(
        matches!(
            outcome.client_error(),
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
        ),
        "{:?}",
        outcome.client_error
    );
}

#[test]
fn the_client_refuses_a_peer_certificate_whose_uri_names_another_borough() {
    let (lambeth, southwark) = (ca(LAMBETH), ca(SOUTHWARK));
    // Southwark's server name and CA, but Lewisham's identity URI.
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![node_server_name(gss(SOUTHWARK))]).unwrap();
    params.subject_alt_names.push(rcgen::SanType::URI(
        "spiffe://borough-net/borough/E09000023/node"
            .try_into()
            .unwrap(),
    ));
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let cert = params.signed_by(&key, southwark.issuer()).unwrap();
    let mislabelled = Credentials::from_pem(&cert.pem(), &key.serialize_pem()).unwrap();
    let trusted = anchors(&[&lambeth, &southwark]);
    let client = client_config(&node_of(&lambeth, LAMBETH), gss(SOUTHWARK), &trusted).unwrap();
    // server_config insists on a node of the CA's own borough, so build this one by hand.
    let provider = provider();
    let mut server = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_client_cert_verifier(Arc::new(
            BoroughClientVerifier::new(&trusted, &provider).unwrap(),
        ))
        .with_single_cert(mislabelled.chain.clone(), mislabelled.key.clone_key())
        .unwrap();
    server.alpn_protocols = vec![b"h2".to_vec()];
    let outcome = handshake(client, Arc::new(server));
    assert!(
        is_other_error_containing(outcome.client_error(), "E09000023/node"),
        "{:?}",
        outcome.client_error
    );
}

#[test]
fn a_user_certificate_cannot_be_used_to_serve() {
    let lambeth = ca(LAMBETH);
    let err = server_config(
        &user_of(&lambeth, Role::Admin, "ops"),
        &anchors(&[&lambeth]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("node certificate"), "{err}");
}

#[test]
fn a_server_needs_its_own_boroughs_ca() {
    let (lambeth, southwark) = (ca(LAMBETH), ca(SOUTHWARK));
    let err = server_config(&node_of(&lambeth, LAMBETH), &anchors(&[&southwark])).unwrap_err();
    assert!(
        matches!(err, Error::NoTrustAnchor { borough } if borough == gss(LAMBETH)),
        "{err}"
    );
}

#[test]
fn a_client_needs_the_peers_ca() {
    let lambeth = ca(LAMBETH);
    let err = client_config(
        &node_of(&lambeth, LAMBETH),
        gss(SOUTHWARK),
        &anchors(&[&lambeth]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("Southwark (E09000028)"), "{err}");
}

#[test]
fn loading_credentials_refuses_a_key_readable_by_others() {
    let out = tempfile::tempdir().unwrap();
    init(out.path(), &[gss(LAMBETH)]).unwrap();
    let key = out.path().join(LAMBETH).join("node.key");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    let err = Credentials::load(&out.path().join(LAMBETH).join("node.pem"), &key).unwrap_err();
    assert!(
        matches!(&err, Error::KeyReadableByOthers { path, mode: 0o644 } if *path == key),
        "{err}"
    );
    let message = err.to_string();
    assert!(message.contains(&key.display().to_string()), "{message}");
    assert!(
        message.contains("0644") && message.contains("chmod 600"),
        "{message}"
    );
}

#[test]
fn loading_credentials_names_a_missing_file() {
    let out = tempfile::tempdir().unwrap();
    let cert = out.path().join("node.pem");
    let key = out.path().join("node.key");
    let err = Credentials::load(&cert, &key).unwrap_err();
    assert!(
        matches!(&err, Error::Io { path, .. } if *path == key),
        "{err}"
    );
    assert!(
        err.to_string().contains(&key.display().to_string()),
        "{err}"
    );
}

#[test]
fn loading_credentials_refuses_a_key_that_is_not_the_certificates() {
    let out = tempfile::tempdir().unwrap();
    init(out.path(), &[gss(LAMBETH)]).unwrap();
    let dir = out.path().join(LAMBETH);
    let err = Credentials::load(&dir.join("node.pem"), &dir.join("admin.key")).unwrap_err();
    assert!(matches!(err, Error::PrivateKey { .. }), "{err}");
    assert!(err.to_string().contains("node.pem"), "{err}");
}

#[test]
fn loaded_credentials_report_their_identity() {
    let out = tempfile::tempdir().unwrap();
    init(out.path(), &[gss(LAMBETH)]).unwrap();
    let dir = out.path().join(LAMBETH);
    let credentials = Credentials::load(&dir.join("broker.pem"), &dir.join("broker.key")).unwrap();
    assert_eq!(
        credentials.identity().unwrap(),
        PeerIdentity {
            borough: gss(LAMBETH),
            role: Role::Broker,
            name: Some("broker".to_string())
        }
    );
}

#[test]
fn a_missing_trust_anchor_file_is_named() {
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("ca.pem");
    let err = TrustAnchors::new().insert(gss(LAMBETH), &path).unwrap_err();
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

#[test]
fn a_trust_anchor_file_without_a_certificate_is_refused() {
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("ca.pem");
    fs::write(&path, "hello").unwrap();
    let err = TrustAnchors::new().insert(gss(LAMBETH), &path).unwrap_err();
    assert!(
        matches!(&err, Error::Certificate { path: p, .. } if *p == path),
        "{err}"
    );
}

#[test]
fn a_leaf_certificate_is_refused_as_a_trust_anchor() {
    let lambeth = ca(LAMBETH);
    let leaf = lambeth
        .issue(
            &PeerIdentity {
                borough: gss(LAMBETH),
                role: Role::Node,
                name: None,
            },
            Validity::days_from_now(1),
        )
        .unwrap();
    let err = TrustAnchors::new()
        .insert_pem(gss(LAMBETH), &leaf.cert_pem)
        .unwrap_err();
    assert!(err.to_string().contains("not a CA certificate"), "{err}");
}

#[test]
fn another_boroughs_ca_is_refused_as_a_trust_anchor() {
    let southwark = ca(SOUTHWARK);
    let err = TrustAnchors::new()
        .insert_pem(gss(LAMBETH), southwark.cert_pem())
        .unwrap_err();
    assert!(err.to_string().contains("CA of Southwark"), "{err}");
}

#[test]
fn trust_anchors_list_their_boroughs_in_gss_order() {
    let (lambeth, southwark, lewisham) = (ca(LAMBETH), ca(SOUTHWARK), ca(LEWISHAM));
    let trusted = anchors(&[&southwark, &lambeth, &lewisham]);
    assert_eq!(
        trusted.boroughs().collect::<Vec<_>>(),
        [gss(LAMBETH), gss(LEWISHAM), gss(SOUTHWARK)]
    );
}

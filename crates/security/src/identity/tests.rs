use borough_model::{GssCode, PeerIdentity, Role};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use super::*;
use crate::certs::{BoroughCa, Validity};

fn lambeth() -> GssCode {
    GssCode::parse("E09000022").unwrap()
}

fn der_of(pem: &str) -> Vec<u8> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

fn issued_der(identity: &PeerIdentity) -> Vec<u8> {
    let ca = BoroughCa::generate(identity.borough).unwrap();
    der_of(
        &ca.issue(identity, Validity::days_from_now(1))
            .unwrap()
            .cert_pem,
    )
}

#[test]
fn a_node_identity_round_trips_through_its_certificate() {
    let node = PeerIdentity {
        borough: lambeth(),
        role: Role::Node,
        name: None,
    };
    assert_eq!(identity_from_cert(&issued_der(&node)).unwrap(), node);
}

#[test]
fn every_user_role_round_trips_through_its_certificate() {
    for role in [Role::System, Role::Analyst, Role::Broker, Role::Admin] {
        let user = PeerIdentity {
            borough: lambeth(),
            role,
            name: Some("ana.lyst_1-x".to_string()),
        };
        assert_eq!(identity_from_cert(&issued_der(&user)).unwrap(), user);
    }
}

#[test]
fn a_certificate_without_a_borough_net_uri_has_no_identity() {
    let plain = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let err = identity_from_cert(plain.cert.der()).unwrap_err();
    assert!(matches!(err, Error::NoIdentity { .. }), "{err}");
    assert!(err.to_string().contains(URI_PREFIX), "{err}");
}

#[test]
fn a_certificate_with_two_borough_net_uris_has_no_identity() {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::default();
    for uri in [
        "spiffe://borough-net/borough/E09000022/node",
        "spiffe://borough-net/borough/E09000028/node",
    ] {
        params
            .subject_alt_names
            .push(rcgen::SanType::URI(uri.try_into().unwrap()));
    }
    let cert = params.self_signed(&key).unwrap();
    let err = identity_from_cert(cert.der()).unwrap_err();
    assert!(err.to_string().contains("exactly one"), "{err}");
}

#[test]
fn bytes_that_are_not_a_certificate_have_no_identity() {
    let err = identity_from_cert(b"not a certificate").unwrap_err();
    assert!(matches!(err, Error::NoIdentity { .. }), "{err}");
}

#[test]
fn a_node_uri_with_a_name_is_refused() {
    let err = parse_uri("spiffe://borough-net/borough/E09000022/node/extra").unwrap_err();
    assert!(err.contains("must not carry a name"), "{err}");
}

#[test]
fn a_user_uri_without_a_name_is_refused() {
    let err = parse_uri("spiffe://borough-net/borough/E09000022/analyst").unwrap_err();
    assert!(err.contains("must carry a user name"), "{err}");
}

#[test]
fn a_user_name_with_other_characters_is_refused() {
    for bad in ["ana%20lyst", "ana@lambeth", ""] {
        let uri = format!("spiffe://borough-net/borough/E09000022/analyst/{bad}");
        assert!(parse_uri(&uri).is_err(), "{uri} accepted");
    }
}

#[test]
fn an_unknown_role_is_refused() {
    let err = parse_uri("spiffe://borough-net/borough/E09000022/mayor/sadiq").unwrap_err();
    assert!(err.contains("not a role"), "{err}");
}

#[test]
fn a_gss_code_outside_london_is_refused() {
    let err = parse_uri("spiffe://borough-net/borough/E08000001/node").unwrap_err();
    assert!(err.contains("E08000001"), "{err}");
}

#[test]
fn extra_path_segments_are_refused() {
    assert!(parse_uri("spiffe://borough-net/borough/E09000022/analyst/a/b").is_err());
    assert!(parse_uri("spiffe://borough-net/borough/E09000022").is_err());
}

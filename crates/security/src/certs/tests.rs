use std::fs;
use std::os::unix::fs::PermissionsExt;

use borough_model::{GssCode, PeerIdentity, Role};
use x509_parser::extensions::GeneralName;

use super::*;
use crate::identity_from_cert;

fn gss(code: &str) -> GssCode {
    GssCode::parse(code).unwrap()
}

fn node(borough: &str) -> PeerIdentity {
    PeerIdentity {
        borough: gss(borough),
        role: Role::Node,
        name: None,
    }
}

fn user(borough: &str, role: Role, name: &str) -> PeerIdentity {
    PeerIdentity {
        borough: gss(borough),
        role,
        name: Some(name.to_string()),
    }
}

fn der_of(pem: &str) -> Vec<u8> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

/// The subject alternative names of a PEM certificate, rendered as text.
fn sans(pem: &str) -> Vec<String> {
    let der = der_of(pem);
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let san = cert.subject_alternative_name().unwrap().unwrap();
    san.value
        .general_names
        .iter()
        .map(|name| match name {
            GeneralName::URI(uri) => format!("URI:{uri}"),
            GeneralName::DNSName(dns) => format!("DNS:{dns}"),
            GeneralName::IPAddress(ip) => format!("IP:{ip:?}"),
            other => format!("{other:?}"),
        })
        .collect()
}

fn mode_of(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_node_uri_names_the_borough_and_role_only() {
    assert_eq!(
        spiffe_uri(&node("E09000022")),
        "spiffe://borough-net/borough/E09000022/node"
    );
}

#[test]
fn a_user_uri_names_the_borough_role_and_user() {
    assert_eq!(
        spiffe_uri(&user("E09000022", Role::Analyst, "ana")),
        "spiffe://borough-net/borough/E09000022/analyst/ana"
    );
}

#[test]
fn the_node_server_name_is_the_lower_case_gss_code() {
    assert_eq!(
        node_server_name(gss("E09000022")),
        "e09000022.node.borough-net"
    );
}

#[test]
fn a_node_certificate_carries_its_server_name_loopback_and_uri() {
    let ca = BoroughCa::generate(gss("E09000022")).unwrap();
    let issued = ca
        .issue(&node("E09000022"), Validity::days_from_now(1))
        .unwrap();
    assert_eq!(
        sans(&issued.cert_pem),
        [
            "URI:spiffe://borough-net/borough/E09000022/node",
            "DNS:e09000022.node.borough-net",
            "DNS:localhost",
            "IP:[127, 0, 0, 1]",
        ]
    );
}

#[test]
fn a_user_certificate_carries_only_its_uri() {
    let ca = BoroughCa::generate(gss("E09000022")).unwrap();
    let issued = ca
        .issue(
            &user("E09000022", Role::Admin, "ops"),
            Validity::days_from_now(1),
        )
        .unwrap();
    assert_eq!(
        sans(&issued.cert_pem),
        ["URI:spiffe://borough-net/borough/E09000022/admin/ops"]
    );
}

#[test]
fn a_ca_can_issue_a_certificate_naming_another_borough() {
    let lambeth_ca = BoroughCa::generate(gss("E09000022")).unwrap();
    let forged = lambeth_ca
        .issue(&node("E09000028"), Validity::days_from_now(1))
        .unwrap();
    assert_eq!(
        identity_from_cert(&der_of(&forged.cert_pem)).unwrap(),
        node("E09000028")
    );
}

#[test]
fn an_identity_that_could_not_be_read_back_is_not_issued() {
    let ca = BoroughCa::generate(gss("E09000022")).unwrap();
    let nameless_analyst = PeerIdentity {
        borough: gss("E09000022"),
        role: Role::Analyst,
        name: None,
    };
    let err = ca
        .issue(&nameless_analyst, Validity::days_from_now(1))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidIdentity { .. }), "{err}");
}

#[test]
fn the_ca_subject_names_the_borough() {
    let ca = BoroughCa::generate(gss("E09000022")).unwrap();
    let der = der_of(ca.cert_pem());
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    assert_eq!(
        cert.subject().to_string(),
        "CN=borough-net Lambeth CA, O=borough-net, OU=E09000022"
    );
}

#[test]
fn init_writes_a_ca_a_node_and_five_users_per_borough() {
    let out = tempfile::tempdir().unwrap();
    let report = init(out.path(), &[gss("E09000022"), gss("E09000028")]).unwrap();
    for borough in ["E09000022", "E09000028"] {
        for stem in [
            "ca",
            "node",
            "system",
            "analyst",
            "researcher",
            "broker",
            "admin",
        ] {
            for ext in ["pem", "key"] {
                let path = out.path().join(borough).join(format!("{stem}.{ext}"));
                assert!(path.is_file(), "{} missing", path.display());
                assert!(
                    report.written.contains(&path),
                    "{} not reported",
                    path.display()
                );
            }
        }
    }
    let linkage = out.path().join(LINKAGE_KEY_FILE);
    assert!(
        report.written.contains(&linkage),
        "the linkage key is reported"
    );
    // Two files per stem per borough, and the partnership linkage and perturbation
    // keys.
    assert_eq!(report.written.len(), 2 * 7 * 2 + 2);
}

#[test]
fn init_writes_the_perturbation_key_beside_the_linkage_key() {
    let out = tempfile::tempdir().unwrap();
    let report = init(out.path(), &[gss("E09000022")]).unwrap();
    let path = out.path().join(PERTURBATION_KEY_FILE);
    assert_eq!(path, out.path().join("perturbation.key"));
    assert!(
        report.written.contains(&path),
        "the perturbation key is reported"
    );
    assert_eq!(mode_of(&path), 0o600);
    crate::perturbation::load_perturbation_key(&path).unwrap();
    // Its own secret, not a copy of the linkage key.
    assert_ne!(
        fs::read(&path).unwrap(),
        fs::read(out.path().join(LINKAGE_KEY_FILE)).unwrap()
    );
}

#[test]
fn a_later_init_keeps_the_partnership_keys() {
    let out = tempfile::tempdir().unwrap();
    init(out.path(), &[gss("E09000022")]).unwrap();
    let keys = [LINKAGE_KEY_FILE, PERTURBATION_KEY_FILE].map(|f| out.path().join(f));
    let before = keys.clone().map(|k| fs::read(k).unwrap());
    let report = init(out.path(), &[gss("E09000028")]).unwrap();
    for (key, before) in keys.iter().zip(before) {
        assert!(!report.written.contains(key), "{} rewritten", key.display());
        assert_eq!(fs::read(key).unwrap(), before, "{}", key.display());
    }
}

#[test]
fn init_adds_a_missing_perturbation_key_and_keeps_the_linkage_key() {
    let out = tempfile::tempdir().unwrap();
    crate::linkage::create_linkage_key(&out.path().join(LINKAGE_KEY_FILE)).unwrap();
    let report = init(out.path(), &[gss("E09000022")]).unwrap();
    assert!(!report.written.contains(&out.path().join(LINKAGE_KEY_FILE)));
    assert!(report
        .written
        .contains(&out.path().join(PERTURBATION_KEY_FILE)));
}

#[test]
fn init_names_each_user_after_its_role() {
    let out = tempfile::tempdir().unwrap();
    init(out.path(), &[gss("E09000022")]).unwrap();
    let pem = fs::read_to_string(out.path().join("E09000022/analyst.pem")).unwrap();
    assert_eq!(
        identity_from_cert(&der_of(&pem)).unwrap(),
        user("E09000022", Role::Analyst, "analyst")
    );
}

#[test]
fn init_writes_every_key_with_mode_0600() {
    let out = tempfile::tempdir().unwrap();
    let report = init(out.path(), &[gss("E09000022")]).unwrap();
    let keys: Vec<_> = report
        .written
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "key"))
        .collect();
    // Seven per borough, and the partnership linkage and perturbation keys.
    assert_eq!(keys.len(), 9);
    for key in keys {
        assert_eq!(mode_of(key), 0o600, "{}", key.display());
    }
}

#[test]
fn a_second_init_into_the_same_directory_refuses_naming_the_ca_key() {
    let out = tempfile::tempdir().unwrap();
    init(out.path(), &[gss("E09000022")]).unwrap();
    let before = fs::read_to_string(out.path().join("E09000022/ca.pem")).unwrap();
    let err = init(out.path(), &[gss("E09000028"), gss("E09000022")]).unwrap_err();
    let ca_key = out.path().join("E09000022/ca.key");
    assert!(
        matches!(&err, Error::AlreadyExists { path } if *path == ca_key),
        "{err}"
    );
    assert!(err.to_string().contains(&ca_key.display().to_string()));
    assert_eq!(
        fs::read_to_string(out.path().join("E09000022/ca.pem")).unwrap(),
        before
    );
    // Refused before anything was written for the other borough either.
    assert!(!out.path().join("E09000028").exists());
}

#[test]
fn a_private_key_is_created_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.key");
    write_private_key(&path, "secret").unwrap();
    assert_eq!(mode_of(&path), 0o600);
    assert_eq!(fs::read_to_string(&path).unwrap(), "secret");
}

#[test]
fn a_private_key_never_overwrites_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.key");
    fs::write(&path, "old").unwrap();
    let err = write_private_key(&path, "new").unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err}");
    assert_eq!(fs::read_to_string(&path).unwrap(), "old");
}

#[test]
fn a_ca_written_by_init_loads_with_its_borough() {
    let out = tempfile::tempdir().unwrap();
    init(out.path(), &[gss("E09000028")]).unwrap();
    let dir = out.path().join("E09000028");
    let ca = BoroughCa::load(&dir.join("ca.pem"), &dir.join("ca.key")).unwrap();
    assert_eq!(ca.borough(), gss("E09000028"));
    assert_eq!(
        ca.cert_pem(),
        fs::read_to_string(dir.join("ca.pem")).unwrap()
    );
}

#[test]
fn a_loaded_ca_issues_certificates_that_name_it_as_issuer() {
    let out = tempfile::tempdir().unwrap();
    init(out.path(), &[gss("E09000028")]).unwrap();
    let dir = out.path().join("E09000028");
    let ca = BoroughCa::load(&dir.join("ca.pem"), &dir.join("ca.key")).unwrap();
    let issued = ca
        .issue(&node("E09000028"), Validity::days_from_now(1))
        .unwrap();
    let ca_der = der_of(ca.cert_pem());
    let leaf_der = der_of(&issued.cert_pem);
    let (_, ca_cert) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
    let (_, leaf) = x509_parser::parse_x509_certificate(&leaf_der).unwrap();
    assert_eq!(leaf.issuer(), ca_cert.subject());
}

#[test]
fn loading_a_ca_refuses_a_key_readable_by_others() {
    let out = tempfile::tempdir().unwrap();
    init(out.path(), &[gss("E09000022")]).unwrap();
    let dir = out.path().join("E09000022");
    fs::set_permissions(dir.join("ca.key"), fs::Permissions::from_mode(0o640)).unwrap();
    let err = BoroughCa::load(&dir.join("ca.pem"), &dir.join("ca.key")).unwrap_err();
    assert!(
        matches!(err, Error::KeyReadableByOthers { mode: 0o640, .. }),
        "{err}"
    );
}

#[test]
fn loading_a_ca_refuses_a_key_that_is_not_its_own() {
    let out = tempfile::tempdir().unwrap();
    init(out.path(), &[gss("E09000022")]).unwrap();
    let dir = out.path().join("E09000022");
    let err = BoroughCa::load(&dir.join("ca.pem"), &dir.join("node.key")).unwrap_err();
    assert!(matches!(err, Error::PrivateKey { .. }), "{err}");
    assert!(err.to_string().contains("ca.pem"), "{err}");
}

#[test]
fn loading_a_leaf_as_a_ca_is_refused() {
    let out = tempfile::tempdir().unwrap();
    init(out.path(), &[gss("E09000022")]).unwrap();
    let dir = out.path().join("E09000022");
    let err = BoroughCa::load(&dir.join("node.pem"), &dir.join("node.key")).unwrap_err();
    assert!(err.to_string().contains("not a CA certificate"), "{err}");
}

#[test]
fn the_expired_validity_ended_before_now() {
    let v = Validity::expired();
    assert!(v.not_before < v.not_after);
    assert!(v.not_after < OffsetDateTime::now_utc());
}

#[test]
fn a_fresh_validity_tolerates_an_hour_of_clock_skew() {
    let v = Validity::days_from_now(397);
    let now = OffsetDateTime::now_utc();
    assert!(v.not_before <= now - Duration::minutes(59));
    assert!(v.not_after >= now + Duration::days(396));
}

//! Each borough's certificate authority, the node and user certificates it issues, and
//! the `borough certs init` layout on disk. Certificates are built with rcgen only.

pub(crate) mod files;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use borough_model::{GssCode, PeerIdentity, Role};
use rcgen::string::Ia5String;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

use crate::identity::{check_identity, URI_PREFIX};
use crate::Error;

pub use files::write_private_key;
pub(crate) use files::{read_private_key, read_text};

/// How long a borough CA is valid for.
const CA_VALIDITY_DAYS: i64 = 3653;
/// How long `init` makes leaf certificates valid for (the CA/Browser Forum maximum,
/// a habit worth keeping even on a private PKI).
pub const LEAF_VALIDITY_DAYS: i64 = 397;
/// The user certificates `init` issues for each borough, each named after its role.
pub const INIT_USER_ROLES: [Role; 5] = [
    Role::System,
    Role::Analyst,
    Role::Researcher,
    Role::Broker,
    Role::Admin,
];
/// The organisation named in every borough-net certificate subject.
const ORGANISATION: &str = "borough-net";

/// The SPIFFE URI that carries an identity in a certificate.
pub fn spiffe_uri(identity: &PeerIdentity) -> String {
    let PeerIdentity {
        borough,
        role,
        name,
    } = identity;
    match name {
        None => format!("{URI_PREFIX}{borough}/{role}"),
        Some(name) => format!("{URI_PREFIX}{borough}/{role}/{name}"),
    }
}

/// The DNS name a borough's node presents and peers check, e.g. `e09000022.node.borough-net`.
pub fn node_server_name(borough: GssCode) -> String {
    format!("{}.node.borough-net", borough.to_string().to_lowercase())
}

/// A freshly issued certificate and its private key, both PEM.
#[derive(Clone)]
pub struct Issued {
    /// The certificate.
    pub cert_pem: String,
    /// The private key (PKCS#8); write it with [`write_private_key`].
    pub key_pem: String,
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"[private]")
            .finish()
    }
}

/// The period a certificate is valid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// The first moment the certificate is valid.
    pub not_before: OffsetDateTime,
    /// The last moment the certificate is valid.
    pub not_after: OffsetDateTime,
}

impl Validity {
    /// Valid from an hour ago (so a peer whose clock runs slow still accepts it) until
    /// `days` days from now.
    pub fn days_from_now(days: i64) -> Validity {
        let now = OffsetDateTime::now_utc();
        Validity {
            not_before: now - Duration::hours(1),
            not_after: now + Duration::days(days),
        }
    }

    /// Valid from ten days ago until yesterday: already expired, for testing refusal.
    pub fn expired() -> Validity {
        let now = OffsetDateTime::now_utc();
        Validity {
            not_before: now - Duration::days(10),
            not_after: now - Duration::days(1),
        }
    }
}

/// A borough's certificate authority: the only issuer whose certificates may name
/// that borough.
pub struct BoroughCa {
    borough: GssCode,
    cert_pem: String,
    key_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl fmt::Debug for BoroughCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoroughCa")
            .field("borough", &self.borough)
            .finish_non_exhaustive()
    }
}

impl BoroughCa {
    /// Creates a new CA for a borough: ECDSA P-256, valid for ten years, allowed to
    /// sign leaf certificates only (no intermediates).
    pub fn generate(borough: GssCode) -> Result<BoroughCa, Error> {
        let what = || format!("the CA of {} ({borough})", borough.name());
        let key = KeyPair::generate().map_err(|source| Error::Generate {
            what: what(),
            source,
        })?;
        let validity = Validity::days_from_now(CA_VALIDITY_DAYS);
        let mut params = CertificateParams::default();
        params.not_before = validity.not_before;
        params.not_after = validity.not_after;
        params.distinguished_name = subject(&format!("borough-net {} CA", borough.name()), borough);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).map_err(|source| Error::Generate {
            what: what(),
            source,
        })?;
        Ok(BoroughCa {
            borough,
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// Loads a CA written by [`init`]. The key file must not be readable by other
    /// users, and must be the key of the certificate.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<BoroughCa, Error> {
        let key_pem = read_private_key(key_path)?;
        let cert_pem = read_text(cert_path)?;
        let der = single_certificate(&cert_pem, cert_path)?;
        let bad_cert = |problem: String| Error::Certificate {
            path: cert_path.to_path_buf(),
            problem,
        };
        let borough = ca_borough(&der, cert_path)?.ok_or_else(|| {
            bad_cert(
                "its subject names no borough (OU=<GSS code>); it was not made by `borough certs init`"
                    .to_string(),
            )
        })?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| Error::PrivateKey {
            path: key_path.to_path_buf(),
            problem: format!("not a PEM private key ({e})"),
        })?;
        if public_key_of(&der).as_deref() != Some(key.public_key_raw()) {
            return Err(Error::PrivateKey {
                path: key_path.to_path_buf(),
                problem: format!(
                    "it is not the key of CA certificate {}",
                    cert_path.display()
                ),
            });
        }
        let issuer = Issuer::from_ca_cert_der(&der, key)
            .map_err(|e| bad_cert(format!("rcgen cannot use it as an issuer ({e})")))?;
        Ok(BoroughCa {
            borough,
            cert_pem,
            key_pem,
            issuer,
        })
    }

    /// The borough this CA speaks for.
    pub fn borough(&self) -> GssCode {
        self.borough
    }

    /// The CA certificate, PEM: what peers configure as this borough's trust anchor.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA's private key, PEM.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// The rcgen issuer, for tests that must craft certificates `issue` never would.
    #[cfg(test)]
    pub(crate) fn issuer(&self) -> &Issuer<'static, KeyPair> {
        &self.issuer
    }

    /// Issues a leaf certificate for any identity, including one naming another
    /// borough: such a certificate is useless (peers check a borough's identities
    /// against that borough's CA only), which is exactly what tests need to show.
    pub fn issue(&self, identity: &PeerIdentity, validity: Validity) -> Result<Issued, Error> {
        check_identity(identity).map_err(|problem| Error::InvalidIdentity {
            identity: identity.to_string(),
            problem,
        })?;
        let generate_error = |source| Error::Generate {
            what: format!("a certificate for {identity}"),
            source,
        };
        let key = KeyPair::generate().map_err(generate_error)?;
        let mut params = CertificateParams::default();
        params.not_before = validity.not_before;
        params.not_after = validity.not_after;
        params.distinguished_name = subject(&identity.to_string(), identity.borough);
        params.subject_alt_names = vec![SanType::URI(
            Ia5String::try_from(spiffe_uri(identity)).map_err(generate_error)?,
        )];
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        if identity.role == Role::Node {
            for dns in [node_server_name(identity.borough), "localhost".to_string()] {
                params.subject_alt_names.push(SanType::DnsName(
                    Ia5String::try_from(dns).map_err(generate_error)?,
                ));
            }
            params
                .subject_alt_names
                .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
            params.extended_key_usages = vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ];
        } else {
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        }
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(generate_error)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// What `init` wrote, in the order it wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitReport {
    /// Every file written.
    pub written: Vec<PathBuf>,
}

/// `borough certs init`: for each borough, a CA, a node certificate and one user
/// certificate per role in [`INIT_USER_ROLES`] under `out/<GSS>/`, and the
/// partnership linkage key `out/linkage.key` and perturbation key
/// `out/perturbation.key`, each if there is none yet. Refuses to start if
/// any borough already has `ca.key` there, so an existing CA is never replaced.
pub fn init(out: &Path, boroughs: &[GssCode]) -> Result<InitReport, Error> {
    let mut unique: Vec<GssCode> = Vec::new();
    for &b in boroughs {
        if !unique.contains(&b) {
            unique.push(b);
        }
    }
    // Checked for every borough before anything is written, so a refusal leaves the
    // directory as it was.
    for &borough in &unique {
        let ca_key = out.join(borough.to_string()).join("ca.key");
        if ca_key.exists() {
            return Err(Error::AlreadyExists { path: ca_key });
        }
    }
    let mut report = InitReport::default();
    let validity = Validity::days_from_now(LEAF_VALIDITY_DAYS);
    for &borough in &unique {
        let dir = out.join(borough.to_string());
        std::fs::create_dir_all(&dir).map_err(|source| files::io_error(&dir, "create", source))?;
        let ca = BoroughCa::generate(borough)?;
        let mut write_pair = |stem: &str, cert_pem: &str, key_pem: &str| -> Result<(), Error> {
            let cert_path = dir.join(format!("{stem}.pem"));
            let key_path = dir.join(format!("{stem}.key"));
            write_private_key(&key_path, key_pem)?;
            report.written.push(key_path);
            files::write_certificate(&cert_path, cert_pem)?;
            report.written.push(cert_path);
            Ok(())
        };
        write_pair("ca", ca.cert_pem(), ca.key_pem())?;
        let node = ca.issue(
            &PeerIdentity {
                borough,
                role: Role::Node,
                name: None,
            },
            validity,
        )?;
        write_pair("node", &node.cert_pem, &node.key_pem)?;
        for role in INIT_USER_ROLES {
            let user = ca.issue(
                &PeerIdentity {
                    borough,
                    role,
                    name: Some(role.as_str().to_string()),
                },
                validity,
            )?;
            write_pair(role.as_str(), &user.cert_pem, &user.key_pem)?;
        }
    }
    // One linkage key and one perturbation key for the partnership, shared by every
    // borough's node; an existing key is kept, since replacing the linkage key would
    // break every pseudonym and replacing the perturbation key would change every
    // published figure's perturbation.
    type CreateKey = fn(&Path) -> Result<(), Error>;
    let keys: [(&str, CreateKey); 2] = [
        (LINKAGE_KEY_FILE, crate::linkage::create_linkage_key),
        (
            PERTURBATION_KEY_FILE,
            crate::perturbation::create_perturbation_key,
        ),
    ];
    for (file, create) in keys {
        let path = out.join(file);
        if !path.exists() {
            create(&path)?;
            report.written.push(path);
        }
    }
    Ok(report)
}

/// The file `init` writes the partnership linkage key to, inside `out`.
pub const LINKAGE_KEY_FILE: &str = "linkage.key";

/// The file `init` writes the partnership perturbation key to, inside `out`.
pub const PERTURBATION_KEY_FILE: &str = "perturbation.key";

/// Every certificate in a PEM text; `path` names where it came from in errors.
pub(crate) fn certificates(pem: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let chain = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, pem::Error>>()
        .map_err(|e| Error::Certificate {
            path: path.to_path_buf(),
            problem: format!("not valid PEM ({e})"),
        })?;
    if chain.is_empty() {
        return Err(Error::Certificate {
            path: path.to_path_buf(),
            problem: "it holds no CERTIFICATE block".to_string(),
        });
    }
    Ok(chain)
}

/// The one certificate in a PEM text that must hold exactly one, such as a CA file.
pub(crate) fn single_certificate(pem: &str, path: &Path) -> Result<CertificateDer<'static>, Error> {
    let mut chain = certificates(pem, path)?;
    match chain.len() {
        1 => Ok(chain.remove(0)),
        n => Err(Error::Certificate {
            path: path.to_path_buf(),
            problem: format!("it holds {n} certificates; a CA file must hold exactly one"),
        }),
    }
}

/// Checks that a certificate is a CA and returns the borough its subject names
/// (OU=<GSS code>), if it names one.
pub(crate) fn ca_borough(der: &[u8], path: &Path) -> Result<Option<GssCode>, Error> {
    let bad = |problem: String| Error::Certificate {
        path: path.to_path_buf(),
        problem,
    };
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| bad(format!("not an X.509 certificate ({e})")))?;
    let is_ca = cert
        .basic_constraints()
        .map_err(|e| bad(format!("its basic constraints are malformed ({e})")))?
        .is_some_and(|bc| bc.value.ca);
    if !is_ca {
        return Err(bad(
            "it is not a CA certificate (no basicConstraints CA:TRUE); use the borough's ca.pem"
                .to_string(),
        ));
    }
    let borough = cert
        .subject()
        .iter_organizational_unit()
        .filter_map(|ou| ou.as_str().ok())
        .find_map(|ou| GssCode::parse(ou).ok());
    Ok(borough)
}

/// The raw public key of a certificate, to compare with a key pair's.
fn public_key_of(der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(cert.public_key().subject_public_key.data.to_vec())
}

/// `CN=<common name>, O=borough-net, OU=<GSS>`: the OU lets a loaded CA say which
/// borough it speaks for.
fn subject(common_name: &str, borough: GssCode) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, ORGANISATION);
    dn.push(DnType::OrganizationalUnitName, borough.to_string());
    dn
}

#[cfg(test)]
mod tests;

//! rustls configurations for every borough-net connection: TLS 1.3 only, a client
//! certificate always required, and each borough's identities accepted only when they
//! chain to that borough's own CA.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use borough_model::{GssCode, PeerIdentity, Role};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::CertifiedKey;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, DistinguishedName, OtherError,
    RootCertStore, ServerConfig, SignatureScheme,
};

use crate::certs::{
    ca_borough, certificates, node_server_name, read_private_key, read_text, single_certificate,
};
use crate::identity::identity_from_cert;
use crate::Error;

/// The only application protocol spoken: gRPC over HTTP/2.
const ALPN_H2: &[u8] = b"h2";

/// For each borough, the one CA certificate allowed to issue that borough's identities.
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    cas: BTreeMap<GssCode, Anchor>,
}

#[derive(Debug, Clone)]
struct Anchor {
    der: CertificateDer<'static>,
    /// Where the certificate came from, for error messages.
    origin: PathBuf,
}

impl TrustAnchors {
    /// No boroughs trusted yet.
    pub fn new() -> TrustAnchors {
        TrustAnchors::default()
    }

    /// Trusts the CA certificate in `ca_pem_path` for `borough`'s identities, replacing
    /// any CA configured for it before.
    pub fn insert(&mut self, borough: GssCode, ca_pem_path: &Path) -> Result<(), Error> {
        let pem = read_text(ca_pem_path)?;
        self.insert_from(borough, &pem, ca_pem_path.to_path_buf())
    }

    /// Trusts a CA certificate held in memory for `borough`'s identities.
    pub fn insert_pem(&mut self, borough: GssCode, pem: &str) -> Result<(), Error> {
        self.insert_from(
            borough,
            pem,
            in_memory(&format!("CA certificate for {borough}")),
        )
    }

    /// The boroughs with a CA configured, in GSS order.
    pub fn boroughs(&self) -> impl Iterator<Item = GssCode> + '_ {
        self.cas.keys().copied()
    }

    fn insert_from(&mut self, borough: GssCode, pem: &str, origin: PathBuf) -> Result<(), Error> {
        let der = single_certificate(pem, &origin)?;
        if let Some(named) = ca_borough(&der, &origin)? {
            if named != borough {
                return Err(Error::Certificate {
                    path: origin,
                    problem: format!(
                        "it is the CA of {} ({named}), not of {} ({borough})",
                        named.name(),
                        borough.name()
                    ),
                });
            }
        }
        // Checked now so a bad anchor is reported where it is configured, not at the
        // first handshake.
        RootCertStore::empty()
            .add(der.clone())
            .map_err(|e| Error::Certificate {
                path: origin.clone(),
                problem: format!("it cannot be used as a trust anchor ({e})"),
            })?;
        self.cas.insert(borough, Anchor { der, origin });
        Ok(())
    }

    /// A root store holding only `borough`'s CA.
    fn roots_for(&self, borough: GssCode) -> Result<Arc<RootCertStore>, Error> {
        let anchor = self
            .cas
            .get(&borough)
            .ok_or(Error::NoTrustAnchor { borough })?;
        let mut roots = RootCertStore::empty();
        roots
            .add(anchor.der.clone())
            .map_err(|e| Error::Certificate {
                path: anchor.origin.clone(),
                problem: format!("it cannot be used as a trust anchor ({e})"),
            })?;
        Ok(Arc::new(roots))
    }
}

/// A certificate chain and its private key, ready to present in a handshake.
pub struct Credentials {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    /// Where the certificate came from, for error messages.
    cert_origin: PathBuf,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("certificate", &self.cert_origin)
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl Clone for Credentials {
    fn clone(&self) -> Self {
        Credentials {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
            cert_origin: self.cert_origin.clone(),
        }
    }
}

impl Credentials {
    /// Loads a certificate chain and its key from PEM files. The key file is refused
    /// if other users can read it, and must be the key of the leaf certificate.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<Credentials, Error> {
        let key_pem = read_private_key(key_path)?;
        let cert_pem = read_text(cert_path)?;
        Credentials::parse(&cert_pem, cert_path, &key_pem, key_path)
    }

    /// Credentials from PEM held in memory (no file permissions to check).
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Credentials, Error> {
        Credentials::parse(
            cert_pem,
            &in_memory("certificate"),
            key_pem,
            &in_memory("private key"),
        )
    }

    /// The identity the leaf certificate carries.
    pub fn identity(&self) -> Result<PeerIdentity, Error> {
        match self.chain.first() {
            Some(leaf) => identity_from_cert(leaf),
            // `parse` refuses an empty chain, so this is unreachable in practice.
            None => Err(Error::NoIdentity {
                problem: "no certificate was loaded".to_string(),
            }),
        }
    }

    fn parse(
        cert_pem: &str,
        cert_origin: &Path,
        key_pem: &str,
        key_origin: &Path,
    ) -> Result<Credentials, Error> {
        let chain = certificates(cert_pem, cert_origin)?;
        let bad_key = |problem: String| Error::PrivateKey {
            path: key_origin.to_path_buf(),
            problem,
        };
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| match e {
            pem::Error::NoItemsFound => bad_key("it holds no PRIVATE KEY block".to_string()),
            e => bad_key(format!("not valid PEM ({e})")),
        })?;
        // Checked now so a mismatched pair is reported with both file names rather
        // than as a bare rustls error when a configuration is built.
        CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider()).map_err(
            |e| match e {
                rustls::Error::InconsistentKeys(_) => bad_key(format!(
                    "it is not the key of certificate {}",
                    cert_origin.display()
                )),
                e => bad_key(format!("rustls cannot use it ({e})")),
            },
        )?;
        Ok(Credentials {
            chain,
            key,
            cert_origin: cert_origin.to_path_buf(),
        })
    }
}

/// The configuration a node serves with: TLS 1.3, ALPN `h2`, its node certificate, and
/// a client certificate required from every caller, verified against the CA of the
/// borough the certificate names.
pub fn server_config(
    credentials: &Credentials,
    anchors: &TrustAnchors,
) -> Result<Arc<ServerConfig>, Error> {
    let own = credentials.identity()?;
    if own.role != Role::Node {
        return Err(Error::Certificate {
            path: credentials.cert_origin.clone(),
            problem: format!(
                "it is a {} certificate; a node must serve with its node certificate (node.pem)",
                own.role
            ),
        });
    }
    // Without its own borough's CA a node could accept none of its own users.
    if !anchors.cas.contains_key(&own.borough) {
        return Err(Error::NoTrustAnchor {
            borough: own.borough,
        });
    }
    let context = || format!("the node server of {}", own.borough);
    let tls_error = |e: rustls::Error| Error::Tls {
        context: context(),
        problem: e.to_string(),
    };
    let provider = provider();
    let verifier = BoroughClientVerifier::new(anchors, &provider)?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_error)?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(credentials.chain.clone(), credentials.key.clone_key())
        .map_err(tls_error)?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Arc::new(config))
}

/// The configuration a node uses to call `peer`'s node: TLS 1.3, ALPN `h2`, presenting
/// `credentials`, and accepting only a node certificate of `peer` issued by `peer`'s CA.
///
/// The server is checked against `node_server_name(peer)` whatever name the caller
/// dials, so connecting by IP address or `localhost` pins the same identity.
pub fn client_config(
    credentials: &Credentials,
    peer: GssCode,
    peer_ca: &TrustAnchors,
) -> Result<Arc<ClientConfig>, Error> {
    let tls_error = |e: rustls::Error| Error::Tls {
        context: format!("calls to the node of {peer}"),
        problem: e.to_string(),
    };
    let provider = provider();
    let verifier = PeerNodeVerifier::new(peer, peer_ca, &provider)?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_error)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_auth_cert(credentials.chain.clone(), credentials.key.clone_key())
        .map_err(tls_error)?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Arc::new(config))
}

/// The configuration a CLI tool uses to call its own borough's node with a user
/// certificate; the same checks as [`client_config`].
pub fn user_client_config(
    credentials: &Credentials,
    node_borough: GssCode,
    anchors: &TrustAnchors,
) -> Result<Arc<ClientConfig>, Error> {
    client_config(credentials, node_borough, anchors)
}

/// The ring provider, chosen explicitly so no process-wide default is needed.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A stand-in path naming PEM that did not come from a file.
fn in_memory(what: &str) -> PathBuf {
    PathBuf::from(format!("<in-memory {what}>"))
}

/// Turns one of our errors into a handshake failure that keeps our message for logs.
fn refusal(error: Error) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(error))))
}

/// Verifies a client certificate against the CA of the borough its URI SAN names, and
/// no other: a certificate naming Southwark is accepted only from Southwark's CA.
#[derive(Debug)]
struct BoroughClientVerifier {
    by_borough: BTreeMap<GssCode, Arc<dyn ClientCertVerifier>>,
    hints: Vec<DistinguishedName>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl BoroughClientVerifier {
    fn new(anchors: &TrustAnchors, provider: &Arc<CryptoProvider>) -> Result<Self, Error> {
        let mut by_borough = BTreeMap::new();
        let mut hints = Vec::new();
        for borough in anchors.boroughs() {
            let roots = anchors.roots_for(borough)?;
            hints.extend(roots.subjects());
            let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|e| Error::Tls {
                    context: format!("client certificates of {borough}"),
                    problem: e.to_string(),
                })?;
            by_borough.insert(borough, verifier);
        }
        Ok(BoroughClientVerifier {
            by_borough,
            hints,
            algorithms: provider.signature_verification_algorithms,
        })
    }
}

impl ClientCertVerifier for BoroughClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        // The URI is read before the chain is verified only to choose which CA must
        // have signed it; the identity is trusted only once that CA's check passes.
        let claimed = identity_from_cert(end_entity).map_err(refusal)?;
        let verifier = self.by_borough.get(&claimed.borough).ok_or_else(|| {
            refusal(Error::NoTrustAnchor {
                borough: claimed.borough,
            })
        })?;
        verifier.verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Verifies that the server is `peer`'s node: chained to `peer`'s CA only, valid for
/// `node_server_name(peer)`, and carrying the identity (peer, node).
#[derive(Debug)]
struct PeerNodeVerifier {
    peer: GssCode,
    server_name: ServerName<'static>,
    chain: Arc<WebPkiServerVerifier>,
}

impl PeerNodeVerifier {
    fn new(
        peer: GssCode,
        anchors: &TrustAnchors,
        provider: &Arc<CryptoProvider>,
    ) -> Result<Self, Error> {
        let tls_error = |problem: String| Error::Tls {
            context: format!("calls to the node of {peer}"),
            problem,
        };
        let chain =
            WebPkiServerVerifier::builder_with_provider(anchors.roots_for(peer)?, provider.clone())
                .build()
                .map_err(|e| tls_error(e.to_string()))?;
        let server_name =
            ServerName::try_from(node_server_name(peer)).map_err(|e| tls_error(e.to_string()))?;
        Ok(PeerNodeVerifier {
            peer,
            server_name,
            chain,
        })
    }
}

impl ServerCertVerifier for PeerNodeVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _dialled: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.chain.verify_server_cert(
            end_entity,
            intermediates,
            &self.server_name,
            ocsp_response,
            now,
        )?;
        let presented = match identity_from_cert(end_entity) {
            Ok(identity) if identity.borough == self.peer && identity.role == Role::Node => {
                return Ok(ServerCertVerified::assertion())
            }
            Ok(identity) => identity.to_string(),
            Err(e) => e.to_string(),
        };
        Err(refusal(Error::UnexpectedPeer {
            expected: self.peer,
            presented,
        }))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chain.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests;

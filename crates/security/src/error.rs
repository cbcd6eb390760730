//! The crate's one error type: every failure names the file, key or borough involved
//! and says what an operator can do about it.

use std::io;
use std::path::PathBuf;

use borough_model::{Dataset, GssCode};

/// Everything that can go wrong issuing certificates, loading credentials, building TLS
/// configurations and reading agreements.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read, created or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being attempted: "read", "create", "write", "list".
        action: &'static str,
        /// The operating system's reason.
        source: io::Error,
    },

    /// A private key file's permissions let other users read it.
    #[error(
        "key file {} is readable by other users (mode {mode:04o}); run chmod 600 {}",
        path.display(),
        path.display()
    )]
    KeyReadableByOthers {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },

    /// A file that would be written already exists; nothing is ever overwritten.
    #[error(
        "{} already exists; refusing to overwrite it (move it away or choose another --out directory)",
        path.display()
    )]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },

    /// A certificate file (or in-memory PEM) is not a usable certificate.
    #[error("certificate {} is unusable: {problem}", path.display())]
    Certificate {
        /// The certificate file, or a description of in-memory PEM in angle brackets.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },

    /// A private key file (or in-memory PEM) is not a usable key for its certificate.
    #[error("private key {} is unusable: {problem}", path.display())]
    PrivateKey {
        /// The key file, or a description of in-memory PEM in angle brackets.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },

    /// A certificate or key could not be generated.
    #[error("cannot generate {what}: {source}")]
    Generate {
        /// What was being generated, e.g. "certificate for E09000022/analyst/ana".
        what: String,
        /// rcgen's reason.
        source: rcgen::Error,
    },

    /// A certificate was requested for an identity that no certificate may carry.
    #[error("cannot issue a certificate for {identity}: {problem}")]
    InvalidIdentity {
        /// The identity as `GSS/role[/name]`.
        identity: String,
        /// Why it cannot be issued.
        problem: String,
    },

    /// A certificate does not carry a borough-net identity.
    #[error("certificate carries no borough-net identity: {problem}")]
    NoIdentity {
        /// What is missing or malformed.
        problem: String,
    },

    /// No CA certificate is configured for a borough that must be trusted.
    #[error(
        "no CA certificate is configured for {} ({borough}); add its ca.pem to the trust anchors",
        borough.name()
    )]
    NoTrustAnchor {
        /// The borough without a CA.
        borough: GssCode,
    },

    /// A peer presented a valid certificate for someone other than the expected node.
    #[error(
        "expected the node of {} ({expected}) but the peer presented a certificate for {presented}",
        expected.name()
    )]
    UnexpectedPeer {
        /// The borough whose node was expected.
        expected: GssCode,
        /// The identity the certificate carries, or why it carries none.
        presented: String,
    },

    /// rustls refused to build a TLS configuration.
    #[error("cannot build the TLS configuration for {context}: {problem}")]
    Tls {
        /// Which configuration, e.g. "the node server of E09000022".
        context: String,
        /// rustls's reason.
        problem: String,
    },

    /// An agreement file is not valid TOML or does not have the agreement's shape.
    #[error("agreement {} cannot be read: {source}", path.display())]
    AgreementSyntax {
        /// The agreement file.
        path: PathBuf,
        /// The TOML parser's reason, which names the line and key.
        source: toml::de::Error,
    },

    /// An agreement file breaks one of the rules agreements must meet.
    #[error("agreement {}, line {line}, key `{key}`: {problem}", path.display())]
    AgreementInvalid {
        /// The agreement file.
        path: PathBuf,
        /// The line the offending key is on (1-based).
        line: usize,
        /// The offending key, e.g. `datasets[0].from`.
        key: String,
        /// What is wrong and what is expected.
        problem: String,
    },

    /// Two agreement files use the same id.
    #[error(
        "agreement id `{id}` is used by both {} and {}; ids must be unique",
        first.display(),
        second.display()
    )]
    DuplicateAgreementId {
        /// The repeated id.
        id: String,
        /// The first file using it.
        first: PathBuf,
        /// The second file using it.
        second: PathBuf,
    },

    /// Two agreements both let the same borough send the same dataset to the same peer.
    #[error(
        "agreements {} and {} both let {discloser} send {dataset} to {recipient}; \
         exactly one agreement may cover each flow, so remove the dataset from one of them",
        first.display(),
        second.display()
    )]
    AmbiguousAgreements {
        /// The borough sending the dataset.
        discloser: GssCode,
        /// The borough receiving it.
        recipient: GssCode,
        /// The dataset.
        dataset: Dataset,
        /// The first agreement file covering the flow.
        first: PathBuf,
        /// The second agreement file covering the flow.
        second: PathBuf,
    },

    /// Text that should be an agreement hash is not 64 hexadecimal digits.
    #[error("`{text}` is not an agreement hash: {problem}")]
    InvalidAgreementHash {
        /// The text given.
        text: String,
        /// What is wrong with it.
        problem: String,
    },
}

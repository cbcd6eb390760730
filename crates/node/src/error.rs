//! Node errors: configuration, start-up and serving failures, each naming the file,
//! key or address involved.

use std::path::PathBuf;

/// What can stop a node from starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration file is missing, malformed or inconsistent.
    #[error("{file}{}: {problem}", if key.is_empty() { String::new() } else { format!(": key `{key}`") })]
    Config {
        /// The configuration file.
        file: PathBuf,
        /// The key at fault (empty when the whole file is).
        key: String,
        /// What is wrong.
        problem: String,
    },
    /// A certificate, key or CA named by the configuration could not be used.
    #[error("{file}: key `{key}`: {source}")]
    Security {
        /// The configuration file.
        file: PathBuf,
        /// The key naming the certificate or key.
        key: String,
        /// The failure.
        #[source]
        source: Box<borough_security::Error>,
    },
    /// An agreement file is malformed, ambiguous or names a field that does not exist.
    #[error("{0}")]
    Agreement(String),
    /// The listen address could not be bound.
    #[error("{file}: key `listen`: cannot listen on {address}: {source}")]
    Bind {
        /// The configuration file.
        file: PathBuf,
        /// The address.
        address: std::net::SocketAddr,
        /// Why (address in use, permission denied …).
        #[source]
        source: std::io::Error,
    },
    /// The store could not be opened or failed.
    #[error(transparent)]
    Store(#[from] borough_store::Error),
    /// A node could not be reached or refused a tool's call.
    #[error("{0}")]
    Unreachable(String),
    /// The gRPC server failed.
    #[error("gRPC server failed: {0}")]
    Serve(String),
    /// A tool's command-line argument cannot be used; names the flag.
    #[error("{flag}: {problem}")]
    Argument {
        /// The flag, e.g. `--epsilon`.
        flag: &'static str,
        /// What is wrong with its value.
        problem: String,
    },
    /// An answer could not be written in the form asked for.
    #[error("{0}")]
    Render(String),
}

impl Error {
    /// The configuration key that names the file a credentials error is about:
    /// `cert_key` for the certificate, `key_key` for the private key.
    pub(crate) fn credentials_key<'a>(
        e: &borough_security::Error,
        key_path: &std::path::Path,
        cert_key: &'a str,
        key_key: &'a str,
    ) -> &'a str {
        use borough_security::Error as S;
        match e {
            S::PrivateKey { .. } | S::KeyReadableByOthers { .. } => key_key,
            S::Io { path, .. } if path == key_path => key_key,
            _ => cert_key,
        }
    }

    /// Wraps a security failure with the configuration file and key that named it.
    pub(crate) fn security_at(
        file: &std::path::Path,
        key: &str,
    ) -> impl FnOnce(borough_security::Error) -> Error {
        let (file, key) = (file.to_path_buf(), key.to_string());
        move |source| Error::Security {
            file,
            key,
            source: Box::new(source),
        }
    }
}

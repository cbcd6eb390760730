//! A caller's identity, read from the SPIFFE URI in its verified certificate.

use borough_model::{GssCode, PeerIdentity, Role};
use x509_parser::extensions::GeneralName;

use crate::Error;

/// Every borough-net identity URI starts with this; the GSS code follows.
pub(crate) const URI_PREFIX: &str = "spiffe://borough-net/borough/";

/// Reads the identity from a certificate's one borough-net URI SAN.
///
/// Call this only on a certificate whose chain the TLS handshake has verified: the URI
/// is only as trustworthy as the CA that signed it.
pub fn identity_from_cert(der: &[u8]) -> Result<PeerIdentity, Error> {
    let no_identity = |problem: String| Error::NoIdentity { problem };
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| no_identity(format!("not an X.509 certificate ({e})")))?;
    let san = cert
        .subject_alternative_name()
        .map_err(|e| no_identity(format!("its subject alternative names are malformed ({e})")))?;
    let uris: Vec<&str> = san
        .iter()
        .flat_map(|ext| ext.value.general_names.iter())
        .filter_map(|name| match name {
            GeneralName::URI(uri) if uri.starts_with(URI_PREFIX) => Some(*uri),
            _ => None,
        })
        .collect();
    match uris.as_slice() {
        [uri] => parse_uri(uri).map_err(no_identity),
        [] => Err(no_identity(format!(
            "it has no URI subject alternative name starting {URI_PREFIX}"
        ))),
        many => Err(no_identity(format!(
            "it has {} borough-net URIs ({}); exactly one is allowed",
            many.len(),
            many.join(", ")
        ))),
    }
}

/// Parses `spiffe://borough-net/borough/<GSS>/node` or `.../<GSS>/<role>/<name>`.
pub(crate) fn parse_uri(uri: &str) -> Result<PeerIdentity, String> {
    let rest = uri
        .strip_prefix(URI_PREFIX)
        .ok_or_else(|| format!("`{uri}` does not start with {URI_PREFIX}"))?;
    let parts: Vec<&str> = rest.split('/').collect();
    let (gss, role, name) = match parts.as_slice() {
        [gss, role] => (*gss, *role, None),
        [gss, role, name] => (*gss, *role, Some(name.to_string())),
        _ => {
            return Err(format!(
                "`{uri}` must be {URI_PREFIX}<GSS>/node or {URI_PREFIX}<GSS>/<role>/<name>"
            ))
        }
    };
    let borough = GssCode::parse(gss).map_err(|e| format!("`{uri}`: {e}"))?;
    let role: Role = role.parse().map_err(|e| format!("`{uri}`: {e}"))?;
    let identity = PeerIdentity {
        borough,
        role,
        name,
    };
    check_identity(&identity).map_err(|problem| format!("`{uri}`: {problem}"))?;
    Ok(identity)
}

/// The rules an identity must meet to be written into or read from a certificate.
pub(crate) fn check_identity(identity: &PeerIdentity) -> Result<(), String> {
    match (identity.role, &identity.name) {
        (Role::Node, None) => Ok(()),
        (Role::Node, Some(_)) => Err("a node identity must not carry a name".to_string()),
        (role, None) => Err(format!("a {role} identity must carry a user name")),
        (_, Some(name)) if name.is_empty() => Err("the user name is empty".to_string()),
        (_, Some(name)) => {
            if name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            {
                Ok(())
            } else {
                Err(format!(
                    "user name `{name}` may hold only letters, digits and . _ -"
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests;

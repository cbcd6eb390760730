//! Security: who may talk to a borough-net node, and on what terms.
//!
//! Owns: each borough's certificate authority and the certificates it issues
//! (`certs`), the TLS 1.3 mutual-authentication configurations every connection uses
//! (`tls`), reading a caller's identity from its verified certificate (`identity`),
//! the data-sharing agreements that say which borough may send which dataset to whom
//! (`agreements`), the role check applied to every RPC (`authorise`), and the
//! partnership secret key files: the linkage key (`linkage`) and the perturbation
//! key (`perturbation`).
//! Must not: depend on the store, the wire format or the RPC framework (no sled, no
//! tonic); open sockets; take an identity from anything but a verified certificate.
//! Invariants: a borough's identities are accepted only when they chain to that
//! borough's own CA; TLS is always 1.3 with a client certificate required; private keys
//! are never written or read while readable by other users; an agreement's hash
//! depends on its terms only, never on its formatting.

pub mod agreements;
pub mod authorise;
pub mod certs;
mod error;
pub mod identity;
pub mod linkage;
pub mod perturbation;
mod secret_key;
pub mod tls;

pub use agreements::{
    Agreement, AgreementBook, AgreementHash, AgreementState, DatasetTerms, LawfulBasis,
};
pub use authorise::{authorise, Denied, Permission};
pub use certs::{BoroughCa, InitReport, Issued, Validity};
pub use error::Error;
pub use identity::identity_from_cert;
pub use tls::{Credentials, TrustAnchors};

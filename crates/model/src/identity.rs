//! Who is calling: the borough and role named by a verified certificate.

use std::fmt;
use std::str::FromStr;

use crate::{GssCode, Invalid};

/// What a certificate holder may do. Each role may call only its own RPCs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// A peer borough's node: replication and brokerage peer calls.
    Node,
    /// A borough case system: ingest and erasure.
    System,
    /// An analyst of the partnership: aggregate queries under disclosure control.
    Analyst,
    /// A researcher outside the partnership: differentially private queries,
    /// each spending from a privacy budget.
    Researcher,
    /// A childcare broker: matching and holds.
    Broker,
    /// An operator: status and audit.
    Admin,
}

impl Role {
    /// Every role, in a stable order.
    pub const ALL: [Role; 6] = [
        Role::Node,
        Role::System,
        Role::Analyst,
        Role::Researcher,
        Role::Broker,
        Role::Admin,
    ];

    /// The role's name as it appears in certificates and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Node => "node",
            Role::System => "system",
            Role::Analyst => "analyst",
            Role::Researcher => "researcher",
            Role::Broker => "broker",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                Invalid::field(
                    "role",
                    format!(
                        "`{s}` is not a role (node, system, analyst, researcher, broker, admin)"
                    ),
                )
            })
    }
}

/// The identity proven by a verified client certificate: never taken from request
/// metadata or fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PeerIdentity {
    /// The borough whose CA issued the certificate.
    pub borough: GssCode,
    /// What the holder may do.
    pub role: Role,
    /// The user's name for user certificates; `None` for nodes.
    pub name: Option<String>,
}

impl fmt::Display for PeerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.borough, self.role)?;
        if let Some(name) = &self.name {
            write!(f, "/{name}")?;
        }
        Ok(())
    }
}

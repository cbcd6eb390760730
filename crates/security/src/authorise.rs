//! The role check every RPC makes: which role may do what, and from which borough.

use std::fmt;

use borough_model::{GssCode, PeerIdentity, Role};

/// Something an RPC does, each allowed to exactly one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Pull or push change logs between nodes (role node, another borough).
    Replicate,
    /// Write records from a case system (role system).
    Ingest,
    /// Erase records from a case system (role system).
    Erase,
    /// Run aggregate queries (role analyst).
    Query,
    /// Run differentially private queries against a privacy budget (role
    /// researcher).
    QueryPrivately,
    /// Match children to places and hold places (role broker).
    Broker,
    /// Read the node's status (role admin).
    ReadStatus,
    /// Read the audit log (role admin).
    Audit,
}

impl Permission {
    /// Every permission, in a stable order.
    pub const ALL: [Permission; 8] = [
        Permission::Replicate,
        Permission::Ingest,
        Permission::Erase,
        Permission::Query,
        Permission::QueryPrivately,
        Permission::Broker,
        Permission::ReadStatus,
        Permission::Audit,
    ];

    /// The one role that holds this permission.
    pub fn role(self) -> Role {
        match self {
            Permission::Replicate => Role::Node,
            Permission::Ingest | Permission::Erase => Role::System,
            Permission::Query => Role::Analyst,
            Permission::QueryPrivately => Role::Researcher,
            Permission::Broker => Role::Broker,
            Permission::ReadStatus | Permission::Audit => Role::Admin,
        }
    }

    /// What the permission allows, as a verb phrase for messages.
    pub fn action(self) -> &'static str {
        match self {
            Permission::Replicate => "replicate",
            Permission::Ingest => "ingest records",
            Permission::Erase => "erase records",
            Permission::Query => "run queries",
            Permission::QueryPrivately => "run differentially private queries",
            Permission::Broker => "broker places",
            Permission::ReadStatus => "read status",
            Permission::Audit => "read the audit log",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.action())
    }
}

/// A caller was refused; the reason names who tried and who may.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Denied {
    /// Who tried, what they may not do, and who may.
    pub reason: String,
}

/// Checks that `caller` may use `permission` on `this_node`: the role must be the
/// permission's role; a node must be another borough's (a node never replicates with
/// itself); a user must be this borough's (a Southwark admin cannot read Lambeth's status).
pub fn authorise(
    caller: &PeerIdentity,
    permission: Permission,
    this_node: GssCode,
) -> Result<(), Denied> {
    let required = permission.role();
    let action = permission.action();
    let deny = |reason: String| {
        Err(Denied {
            reason: format!("{caller}: {reason}"),
        })
    };
    if caller.role != required {
        let who_may = match required {
            Role::Node => "only node certificates may".to_string(),
            role => format!("only {role} certificates may"),
        };
        return deny(format!("role {} may not {action}; {who_may}", caller.role));
    }
    match (required, caller.borough == this_node) {
        (Role::Node, true) => deny(format!(
            "a node may not {action} with itself; only other boroughs' nodes may call {}'s node",
            this_node.name()
        )),
        (Role::Node, false) => Ok(()),
        (_, true) => Ok(()),
        (role, false) => deny(format!(
            "a {} {role} may not {action} on {}'s node; only {} {role} certificates may",
            caller.borough.name(),
            this_node.name(),
            this_node.name()
        )),
    }
}

#[cfg(test)]
mod tests;

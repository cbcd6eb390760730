//! Node: one borough's borough-net server — configuration, the mutual-TLS accept
//! loop, the gRPC services and their tower layers, replication links, shutdown, the
//! operator views (`borough status`), and the local federation (`federation`, with
//! its fixtures in `demo`) that the demo, the tests and the benchmarks start.
//!
//! Owns: `NodeConfig`, `Node` (everything checked and loaded before any side
//! effect), `serve` (the one entry point that runs a node), `Gatekeeper` (identity
//! from the verified certificate and the role table), the Ingest, Admin and Query
//! services, and the analyst's view of an answer (`analyst`, for `borough query`).
//! Must not: hold domain logic that belongs below it (validation is `model`'s and
//! `proto`'s, storage is `store`'s, replication is `sync`'s); read identity from
//! anything but the verified certificate; create or change a data directory before
//! the whole configuration has been checked.
//! Invariants: every listener is TLS 1.3 with a client certificate; every refused
//! call is answered `PERMISSION_DENIED` and audited.

mod accept;
mod admin;
pub mod analyst;
pub mod client;
mod config;
pub mod demo;
mod error;
pub mod federation;
mod gatekeeper;
mod ingest;
mod query;
mod retention;
mod serve;
pub mod status;

pub use config::{DisclosureSettings, Limits, NodeConfig, PeerConfig, TlsFiles, ToolFiles};
pub use error::Error;
pub use serve::{serve, Node};

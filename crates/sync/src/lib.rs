//! Sync: replication between borough nodes — the server side of `Changes` (the
//! change feed a node serves from its own log) and the client side (one link per
//! peer and dataset that pulls, applies and checkpoints).
//!
//! Owns: `ChangeFeed` (serves this node's own records to a peer, projected to the
//! agreed fields), `PeerLink` (pulls a peer's records, resuming from the checkpoint,
//! with `Backoff` between attempts), `Projection`, `FlowBoard` (per-peer status) and
//! `dial` (a gRPC channel over this node's mutual-TLS client configuration).
//! Must not: decide identity (it reads the `PeerIdentity` the node put in request
//! extensions); serve any records but this node's own (no relay); buffer records
//! without bound (every queue is a bounded channel sized in `SyncLimits`).
//! Invariants: a peer batch and its checkpoint are applied in one store write, so a
//! crash neither loses nor duplicates a change; a link never blocks another link.

mod backoff;
mod dial;
mod error;
mod feed;
mod flows;
mod limits;
mod link;
mod projection;

pub use backoff::Backoff;
pub use dial::{dial, DialError};
pub use error::Error;
pub use feed::ChangeFeed;
pub use flows::{AgreementStatus, Connection, Direction, FlowBoard, FlowStatus};
pub use limits::SyncLimits;
pub use link::{status_text, PeerLink, PeerTarget};
pub use projection::{Projection, UnknownField};

//! The bounds on replication: every queue and wait is a named, documented value.

use std::time::Duration;

/// Replication bounds, set from the node's `[limits]` configuration.
#[derive(Debug, Clone)]
pub struct SyncLimits {
    /// Changes per `ChangesBatch`. Larger batches amortise the per-batch flush on
    /// the receiver; each batch must still fit in `max_message_bytes`.
    pub batch_size: usize,
    /// Batches a `Changes` stream may queue ahead of the network. When full, the
    /// stream stops reading the log until the peer catches up, so a slow peer costs
    /// only its cursor.
    pub stream_buffer: usize,
    /// The largest gRPC message either side accepts.
    pub max_message_bytes: usize,
    /// How long a TCP connect plus TLS handshake to a peer may take.
    pub connect_timeout: Duration,
    /// First wait after a failed attempt to reach a peer.
    pub backoff_min: Duration,
    /// Longest wait between attempts.
    pub backoff_max: Duration,
    /// How often an idle connection is probed (HTTP/2 ping), so a silently dead peer
    /// is noticed and the link reconnects.
    pub keepalive_interval: Duration,
}

impl Default for SyncLimits {
    fn default() -> Self {
        SyncLimits {
            batch_size: 1_000,
            stream_buffer: 4,
            max_message_bytes: 16 * 1024 * 1024,
            connect_timeout: Duration::from_secs(5),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(30),
            keepalive_interval: Duration::from_secs(10),
        }
    }
}

//! The live state of every replication flow, for `borough status` and logs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use borough_model::{Dataset, GssCode, Seq};

/// Which way records move in a flow, seen from this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// This node pulls the peer's records.
    Inbound,
    /// The peer pulls this node's records.
    Outbound,
}

/// The state of the connection behind a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Dialling the peer or waiting for its first batch.
    Connecting,
    /// A stream is open.
    Connected,
    /// The last attempt failed; waiting before the next.
    BackingOff,
    /// Not trying: the agreement does not allow sharing now, or the node is stopping.
    Stopped,
}

impl Connection {
    /// The word shown in status output.
    pub fn as_str(self) -> &'static str {
        match self {
            Connection::Connecting => "connecting",
            Connection::Connected => "connected",
            Connection::BackingOff => "backing-off",
            Connection::Stopped => "stopped",
        }
    }
}

/// Whether the agreement behind a flow allows sharing now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgreementStatus {
    /// In force and identical on both sides.
    Active,
    /// Past its end date.
    Expired,
    /// Before its start date.
    NotYetValid,
    /// The two sides hold different terms under the same id.
    Mismatch,
    /// No agreement covers the flow.
    None,
}

impl AgreementStatus {
    /// The word shown in status output.
    pub fn as_str(&self) -> &'static str {
        match self {
            AgreementStatus::Active => "active",
            AgreementStatus::Expired => "expired",
            AgreementStatus::NotYetValid => "not-yet-valid",
            AgreementStatus::Mismatch => "mismatch",
            AgreementStatus::None => "none",
        }
    }
}

impl AgreementStatus {
    /// Why `agreement` does not allow sharing on `today`, as the status shown on
    /// both sides of a flow and the message given; `None` while it is in force.
    pub fn refusal(
        agreement: &borough_security::agreements::Agreement,
        today: time::Date,
    ) -> Option<(AgreementStatus, String)> {
        use borough_security::agreements::AgreementState;
        match agreement.state(today) {
            AgreementState::Active => None,
            AgreementState::Expired { until } => Some((
                AgreementStatus::Expired,
                format!(
                    "agreement {} expired on {until}; sharing has stopped",
                    agreement.id
                ),
            )),
            AgreementState::NotYetValid { from } => Some((
                AgreementStatus::NotYetValid,
                format!("agreement {} is not in force until {from}", agreement.id),
            )),
        }
    }
}

/// One flow's state.
#[derive(Debug, Clone)]
pub struct FlowStatus {
    /// The peer's address (inbound flows only).
    pub address: String,
    /// The connection state.
    pub connection: Connection,
    /// Whether the agreement allows sharing.
    pub agreement: AgreementStatus,
    /// The id of the agreement behind the flow.
    pub agreement_id: String,
    /// The last sequence applied here (inbound) or sent (outbound).
    pub checkpoint: Seq,
    /// The origin's log head as last reported.
    pub peer_head: Seq,
    /// When this flow last fell behind the origin's head, if it is behind now.
    pub behind_since: Option<SystemTime>,
    /// The last error, kept until the flow is healthy again.
    pub last_error: Option<String>,
    /// When a batch last arrived (inbound) or was sent (outbound).
    pub last_contact: Option<SystemTime>,
}

impl Default for FlowStatus {
    fn default() -> Self {
        FlowStatus {
            address: String::new(),
            connection: Connection::Connecting,
            agreement: AgreementStatus::None,
            agreement_id: String::new(),
            checkpoint: Seq(0),
            peer_head: Seq(0),
            behind_since: None,
            last_error: None,
            last_contact: None,
        }
    }
}

impl FlowStatus {
    /// Changes the origin has made that this flow has not yet carried.
    pub fn lag_records(&self) -> u64 {
        self.peer_head.0.saturating_sub(self.checkpoint.0)
    }

    /// How long the flow has been behind, zero when caught up.
    pub fn lag_seconds(&self, now: SystemTime) -> f64 {
        match self.behind_since {
            Some(since) if self.lag_records() > 0 => {
                now.duration_since(since).unwrap_or_default().as_secs_f64()
            }
            _ => 0.0,
        }
    }

    /// Records a new checkpoint and head, keeping `behind_since` consistent.
    pub fn progress(&mut self, checkpoint: Seq, head: Seq, now: SystemTime) {
        self.checkpoint = checkpoint;
        self.peer_head = self.peer_head.max(head);
        self.last_contact = Some(now);
        if self.lag_records() == 0 {
            self.behind_since = None;
        } else if self.behind_since.is_none() {
            self.behind_since = Some(now);
        }
    }
}

/// Identifies one flow: which way, which peer, which dataset.
type FlowKey = (Direction, GssCode, Dataset);

/// Every flow's status, shared between the links, the change feed and the admin API.
#[derive(Debug, Clone, Default)]
pub struct FlowBoard {
    flows: Arc<Mutex<BTreeMap<FlowKey, FlowStatus>>>,
}

impl FlowBoard {
    /// Applies `change` to one flow's status, creating it if new.
    pub fn update(
        &self,
        direction: Direction,
        peer: GssCode,
        dataset: Dataset,
        change: impl FnOnce(&mut FlowStatus),
    ) {
        // A poisoned lock only means another task panicked mid-update of a status
        // value; the map is still usable, so carry on with it.
        let mut flows = self.flows.lock().unwrap_or_else(|p| p.into_inner());
        change(flows.entry((direction, peer, dataset)).or_default());
    }

    /// A copy of every flow's status, in (direction, peer, dataset) order.
    pub fn snapshot(&self) -> Vec<(Direction, GssCode, Dataset, FlowStatus)> {
        let flows = self.flows.lock().unwrap_or_else(|p| p.into_inner());
        flows
            .iter()
            .map(|((d, p, ds), s)| (*d, *p, *ds, s.clone()))
            .collect()
    }

    /// One flow's status, if it exists.
    pub fn get(&self, direction: Direction, peer: GssCode, dataset: Dataset) -> Option<FlowStatus> {
        let flows = self.flows.lock().unwrap_or_else(|p| p.into_inner());
        flows.get(&(direction, peer, dataset)).cloned()
    }
}

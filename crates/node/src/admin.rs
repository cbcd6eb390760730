//! The Admin service: the node's own view of its datasets and replication flows.

use std::time::{SystemTime, UNIX_EPOCH};

use borough_model::{Dataset, GssCode};
use borough_proto::v1;
use borough_store::Store;
use borough_sync::{Direction, FlowBoard};
use tonic::{Request, Response, Status};

/// Serves `borough.v1.Admin`.
#[derive(Clone)]
pub(crate) struct AdminService {
    store: Store,
    flows: FlowBoard,
}

impl AdminService {
    pub(crate) fn new(store: Store, flows: FlowBoard) -> Self {
        AdminService { store, flows }
    }
}

fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Builds the status reply from the store and the flow board.
pub(crate) fn status_reply(
    store: &Store,
    flows: &FlowBoard,
) -> Result<v1::StatusReply, borough_store::Error> {
    let me: GssCode = store.own_borough();
    let mut own = Vec::new();
    for dataset in Dataset::ALL {
        own.push(v1::OwnDataset {
            dataset: dataset.as_str().to_string(),
            head_seq: store.head(dataset)?.0,
            records: store.count(dataset, me)?,
        });
    }
    let now = SystemTime::now();
    let (mut inbound, mut outbound) = (Vec::new(), Vec::new());
    for (direction, peer, dataset, f) in flows.snapshot() {
        let records = match direction {
            Direction::Inbound => store.count(dataset, peer)?,
            Direction::Outbound => 0,
        };
        let flow = v1::PeerFlow {
            peer: peer.to_string(),
            peer_name: peer.name().to_string(),
            dataset: dataset.as_str().to_string(),
            address: f.address.clone(),
            connection: f.connection.as_str().to_string(),
            agreement: f.agreement.as_str().to_string(),
            agreement_id: f.agreement_id.clone(),
            checkpoint: f.checkpoint.0,
            peer_head: f.peer_head.0,
            lag_records: f.lag_records(),
            lag_seconds: f.lag_seconds(now),
            last_error: f.last_error.clone().unwrap_or_default(),
            records,
            last_contact_unix_ms: f.last_contact.map(unix_ms).unwrap_or(0),
        };
        match direction {
            Direction::Inbound => inbound.push(flow),
            Direction::Outbound => outbound.push(flow),
        }
    }
    Ok(v1::StatusReply {
        borough: me.to_string(),
        borough_name: me.name().to_string(),
        own,
        inbound,
        outbound,
    })
}

#[tonic::async_trait]
impl v1::admin_server::Admin for AdminService {
    async fn status(
        &self,
        _request: Request<v1::StatusRequest>,
    ) -> Result<Response<v1::StatusReply>, Status> {
        let (store, flows) = (self.store.clone(), self.flows.clone());
        tokio::task::spawn_blocking(move || status_reply(&store, &flows))
            .await
            .map_err(|e| Status::internal(format!("status task failed: {e}")))?
            .map(Response::new)
            .map_err(|e| {
                tracing::error!(error = %e, "status read failed");
                Status::internal("the node could not read its store; see its log")
            })
    }
}

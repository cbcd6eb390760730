//! The Ingest service: a borough's own case systems upsert and delete records.
//! Every batch is checked whole before anything is written, then applied in one
//! atomic, durable store write; the acknowledgement means the batch is on disk.

use std::time::{SystemTime, UNIX_EPOCH};

use borough_model::{Dataset, GssCode, PeerIdentity, RecordId};
use borough_proto::{v1, DecodeError, Payload};
use borough_store::{AuditAction, AuditEntry, AuditOutcome, Ingest, Store};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use tracing::{info, Instrument};

/// How many problems an `INVALID_ARGUMENT` message lists before summarising.
const PROBLEMS_LISTED: usize = 20;

/// Serves `borough.v1.Ingest` over this node's store.
#[derive(Clone)]
pub(crate) struct IngestService {
    store: Store,
    max_batch: usize,
}

impl IngestService {
    pub(crate) fn new(store: Store, max_batch: usize) -> Self {
        IngestService { store, max_batch }
    }

    async fn apply_batch(
        &self,
        caller: &PeerIdentity,
        batch: v1::IngestBatch,
    ) -> Result<v1::IngestAck, Status> {
        let batch_ref = batch.batch_ref.clone();
        let (dataset, ops) = check_batch(self.store.own_borough(), batch, self.max_batch)?;
        let store = self.store.clone();
        let actor = caller.to_string();
        // The audit entry is written in the same flush as the batch, so an
        // acknowledged batch is always in the audit log, even after a crash.
        let audit = move |outcome: &borough_store::IngestOutcome| AuditEntry {
            at_unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            actor,
            action: AuditAction::Ingested,
            dataset: Some(dataset),
            peer: None,
            records: outcome.written + outcome.deleted,
            outcome: AuditOutcome::Allowed,
            detail: format!(
                "{} written, {} unchanged, {} deleted, {} not found",
                outcome.written, outcome.unchanged, outcome.deleted, outcome.not_found
            ),
        };
        let outcome =
            tokio::task::spawn_blocking(move || store.ingest_audited(dataset, &ops, audit))
                .await
                .map_err(|e| Status::internal(format!("ingest task failed: {e}")))?
                .map_err(|e| {
                    tracing::error!(error = %e, "ingest failed");
                    Status::internal("the node could not write the batch durably; see its log")
                })?;
        info!(
            %dataset,
            written = outcome.written,
            unchanged = outcome.unchanged,
            deleted = outcome.deleted,
            head = %outcome.head,
            "ingested batch"
        );
        Ok(v1::IngestAck {
            batch_ref,
            written: outcome.written,
            unchanged: outcome.unchanged,
            deleted: outcome.deleted,
            not_found: outcome.not_found,
            head_seq: outcome.head.0,
        })
    }
}

fn caller<T>(request: &Request<T>) -> Result<PeerIdentity, Status> {
    request
        .extensions()
        .get::<PeerIdentity>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("no verified client certificate"))
}

/// Checks every operation of a batch, reporting every bad field, and turns the
/// batch into store writes. Nothing is written unless all of it is good.
pub(crate) fn check_batch(
    me: GssCode,
    batch: v1::IngestBatch,
    max_batch: usize,
) -> Result<(Dataset, Vec<Ingest>), Status> {
    let dataset: Dataset = batch
        .dataset
        .parse()
        .map_err(|e: borough_model::Invalid| Status::invalid_argument(e.to_string()))?;
    if batch.ops.len() > max_batch {
        return Err(Status::invalid_argument(format!(
            "ops: {} operations, more than the limit of {max_batch} per batch",
            batch.ops.len()
        )));
    }
    let mut problems = Vec::new();
    let mut ops = Vec::with_capacity(batch.ops.len());
    for (i, op) in batch.ops.into_iter().enumerate() {
        let id = match RecordId::parse(&op.id) {
            Ok(id) => Some(id),
            Err(e) => {
                problems.extend(
                    e.within(&format!("ops[{i}]"))
                        .0
                        .into_iter()
                        .map(|f| f.to_string()),
                );
                None
            }
        };
        let op = match op.op {
            Some(v1::ingest_op::Op::Upsert(any)) => match Payload::from_any(dataset, &any) {
                Ok(payload) => {
                    if let Some(problem) = foreign_record(me, &payload) {
                        problems.push(format!("ops[{i}].upsert.{problem}"));
                    }
                    id.map(|id| Ingest::Upsert {
                        id,
                        payload: payload.encode(),
                    })
                }
                Err(DecodeError::Invalid(invalid)) => {
                    problems.extend(
                        invalid
                            .within(&format!("ops[{i}].upsert"))
                            .0
                            .into_iter()
                            .map(|f| f.to_string()),
                    );
                    None
                }
                Err(e) => {
                    problems.push(format!("ops[{i}].upsert: {e}"));
                    None
                }
            },
            Some(v1::ingest_op::Op::Delete(_)) => id.map(|id| Ingest::Delete { id }),
            None => {
                problems.push(format!("ops[{i}]: has neither `upsert` nor `delete`"));
                None
            }
        };
        if let Some(op) = op {
            ops.push(op);
        }
    }
    if problems.is_empty() {
        return Ok((dataset, ops));
    }
    let count = problems.len();
    let mut message = problems
        .into_iter()
        .take(PROBLEMS_LISTED)
        .collect::<Vec<_>>()
        .join("; ");
    if count > PROBLEMS_LISTED {
        message.push_str(&format!("; and {} more", count - PROBLEMS_LISTED));
    }
    Err(Status::invalid_argument(format!(
        "nothing was applied: {count} problem(s): {message}"
    )))
}

/// A borough shares only its own records: a provider in another borough is that
/// borough's to publish.
fn foreign_record(me: GssCode, payload: &Payload) -> Option<String> {
    match payload {
        Payload::ChildcarePlace(p) if p.borough != me => Some(format!(
            "borough: {} is not this node's borough ({me}); a borough shares only its own providers",
            p.borough
        )),
        Payload::ChildcarePlace(_) => None,
    }
}

#[tonic::async_trait]
impl v1::ingest_server::Ingest for IngestService {
    async fn apply(
        &self,
        request: Request<v1::IngestBatch>,
    ) -> Result<Response<v1::IngestAck>, Status> {
        let caller = caller(&request)?;
        self.apply_batch(&caller, request.into_inner())
            .await
            .map(Response::new)
    }

    type StreamStream = ReceiverStream<Result<v1::IngestAck, Status>>;

    async fn stream(
        &self,
        request: Request<Streaming<v1::IngestBatch>>,
    ) -> Result<Response<Self::StreamStream>, Status> {
        let caller = caller(&request)?;
        let mut inbound = request.into_inner();
        // One acknowledgement in flight at a time is enough: the client waits for
        // acks to know what is durable, and batches are applied in order.
        let (tx, rx) = mpsc::channel(4);
        let service = self.clone();
        let span = tracing::info_span!("ingest_stream", caller = %caller);
        tokio::spawn(
            async move {
                loop {
                    let batch = match inbound.message().await {
                        Ok(Some(batch)) => batch,
                        Ok(None) => break,
                        Err(status) => {
                            let _ = tx.send(Err(status)).await;
                            break;
                        }
                    };
                    let ack = service.apply_batch(&caller, batch).await;
                    let failed = ack.is_err();
                    if tx.send(ack).await.is_err() || failed {
                        break;
                    }
                }
            }
            .instrument(span),
        );
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

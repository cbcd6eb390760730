//! The Ingest service: a borough's own case systems upsert and delete records.
//! Every batch is checked whole before anything is written, then applied in one
//! atomic, durable store write; the acknowledgement means the batch is on disk.

use std::time::{SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use borough_model::{Dataset, DeriveContext, Invalid, LinkageKey, PeerIdentity, RecordId};
use borough_proto::{v1, DecodeError, Input};
use borough_store::{AuditAction, AuditEntry, AuditOutcome, LocalIngest, LocalRef, Store};
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
    /// The partnership linkage key: pseudonyms are made here, at the door.
    key: Arc<LinkageKey>,
}

/// A fresh record id. It says nothing about the case it stands for: the first 16
/// hex digits rise with each id this process makes (starting from the clock, so they
/// keep rising across restarts), and the last 8 are random. Rising ids keep each
/// origin's records in key order in every store, which sled writes far faster than
/// scattered keys; the order they reveal is already public in the change log.
fn new_record_id() -> RecordId {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let clock = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let previous = NEXT
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            Some(n.max(clock) + 1)
        })
        .unwrap_or(0);
    let id = previous.max(clock) + 1;
    let noise: u32 = rand::random();
    let mut digits = [0u8; 24];
    hex_digits(id, &mut digits[..16]);
    hex_digits(u64::from(noise), &mut digits[16..]);
    // 24 hex digits always satisfy RecordId's rules.
    let text = std::str::from_utf8(&digits).expect("hex digits are ASCII");
    RecordId::parse(text).expect("hex digits form a valid record id")
}

/// Writes the low `out.len()` hex digits of `n` into `out`, most significant first.
fn hex_digits(mut n: u64, out: &mut [u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for digit in out.iter_mut().rev() {
        *digit = HEX[(n & 0xf) as usize];
        n >>= 4;
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl IngestService {
    pub(crate) fn new(store: Store, max_batch: usize, key: Arc<LinkageKey>) -> Self {
        IngestService {
            store,
            max_batch,
            key,
        }
    }

    async fn apply_batch(
        &self,
        caller: &PeerIdentity,
        batch: v1::IngestBatch,
    ) -> Result<v1::IngestAck, Status> {
        let checked = self.check(batch).await?;
        self.store_checked(caller, checked).await
    }

    /// Decodes, checks and derives a batch. A large batch takes tens of
    /// milliseconds: it runs off the async workers, which also serve replication.
    async fn check(&self, batch: v1::IngestBatch) -> Result<CheckedBatch, Status> {
        let batch_ref = batch.batch_ref.clone();
        let (me, key, max_batch) = (self.store.own_borough(), self.key.clone(), self.max_batch);
        let (dataset, ops) = tokio::task::spawn_blocking(move || {
            let ctx = DeriveContext {
                own_borough: me,
                key: &key,
                today: time::OffsetDateTime::now_utc().date(),
            };
            check_batch(&ctx, batch, max_batch)
        })
        .await
        .map_err(|e| Status::internal(format!("ingest check failed: {e}")))??;
        Ok(CheckedBatch {
            batch_ref,
            dataset,
            ops,
        })
    }

    /// Writes a checked batch durably, with its audit entry, and acknowledges it.
    async fn store_checked(
        &self,
        caller: &PeerIdentity,
        checked: CheckedBatch,
    ) -> Result<v1::IngestAck, Status> {
        self.apply_checked(caller, checked).await?.flush().await
    }

    /// Writes a checked batch, with its audit entry, without waiting for the disk:
    /// the batch is acknowledged only once [`AppliedBatch::flush`] returns.
    async fn apply_checked(
        &self,
        caller: &PeerIdentity,
        checked: CheckedBatch,
    ) -> Result<AppliedBatch, Status> {
        let CheckedBatch {
            batch_ref,
            dataset,
            ops,
        } = checked;
        let store = self.store.clone();
        let actor = caller.to_string();
        // The audit entry is written in the same flush as the batch, so an
        // acknowledged batch is always in the audit log, even after a crash.
        let audit = move |outcome: &borough_store::IngestOutcome| AuditEntry {
            at_unix_ms: now_ms(),
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
        let applied = tokio::task::spawn_blocking(move || {
            store
                .ingest_local_applied(dataset, &ops, new_record_id, audit)
                .map(|(applied, _)| applied)
        })
        .await
        .map_err(|e| Status::internal(format!("ingest task failed: {e}")))?
        .map_err(write_failed)?;
        Ok(AppliedBatch {
            batch_ref,
            dataset,
            applied,
        })
    }
}

/// The status for a batch the store could not write or flush; the cause goes to
/// the node's log, not to the caller.
fn write_failed(e: borough_store::Error) -> Status {
    tracing::error!(error = %e, "ingest failed");
    Status::internal("the node could not write the batch durably; see its log")
}

/// A batch written to the store, waiting for its flush before it is acknowledged.
struct AppliedBatch {
    batch_ref: String,
    dataset: Dataset,
    applied: borough_store::Applied,
}

impl AppliedBatch {
    /// Waits until the batch is durable and makes its acknowledgement.
    async fn flush(self) -> Result<v1::IngestAck, Status> {
        let AppliedBatch {
            batch_ref,
            dataset,
            applied,
        } = self;
        let outcome = tokio::task::spawn_blocking(move || applied.flush())
            .await
            .map_err(|e| Status::internal(format!("ingest task failed: {e}")))?
            .map_err(write_failed)?;
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

/// A batch whose every operation passed its checks, derived and ready to store.
struct CheckedBatch {
    batch_ref: String,
    dataset: Dataset,
    ops: Vec<LocalIngest>,
}

fn caller<T>(request: &Request<T>) -> Result<PeerIdentity, Status> {
    request
        .extensions()
        .get::<PeerIdentity>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("no verified client certificate"))
}

/// Checks every operation of a batch, reporting every bad field, and derives the
/// shareable record of each upsert. Nothing is written unless all of it is good,
/// and no identifiable value reaches the store or a status message.
pub(crate) fn check_batch(
    ctx: &DeriveContext<'_>,
    batch: v1::IngestBatch,
    max_batch: usize,
) -> Result<(Dataset, Vec<LocalIngest>), Status> {
    let dataset: Dataset = batch
        .dataset
        .parse()
        .map_err(|e: Invalid| Status::invalid_argument(e.to_string()))?;
    if batch.ops.len() > max_batch {
        return Err(Status::invalid_argument(format!(
            "ops: {} operations, more than the limit of {max_batch} per batch",
            batch.ops.len()
        )));
    }
    let mut problems: Vec<String> = Vec::new();
    let mut ops = Vec::with_capacity(batch.ops.len());
    for (i, op) in batch.ops.into_iter().enumerate() {
        let mut name_all = |invalid: Invalid, at: String| {
            problems.extend(invalid.within(&at).0.into_iter().map(|f| f.to_string()));
        };
        let local_ref = match LocalRef::parse(&op.local_ref) {
            Ok(r) => Some(r),
            Err(e) => {
                name_all(e, format!("ops[{i}]"));
                None
            }
        };
        let op = match op.op {
            Some(v1::ingest_op::Op::Upsert(any)) => match derive(dataset, &any, ctx) {
                Ok(payload) => {
                    local_ref.map(|local_ref| LocalIngest::Upsert { local_ref, payload })
                }
                Err(invalid) => {
                    name_all(invalid, format!("ops[{i}].upsert"));
                    None
                }
            },
            Some(v1::ingest_op::Op::Delete(_)) => {
                local_ref.map(|local_ref| LocalIngest::Delete { local_ref })
            }
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

/// Reads one identifiable input and derives its shareable record's encoding.
fn derive(
    dataset: Dataset,
    any: &prost_types::Any,
    ctx: &DeriveContext<'_>,
) -> Result<Vec<u8>, Invalid> {
    let input = Input::from_any(dataset, any).map_err(|e| match e {
        DecodeError::Invalid(invalid) => invalid,
        other => Invalid::field("", other.to_string()),
    })?;
    Ok(input.derive(ctx)?.encode())
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

    async fn erase(
        &self,
        request: Request<v1::EraseRequest>,
    ) -> Result<Response<v1::EraseReply>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let dataset: Dataset = req
            .dataset
            .parse()
            .map_err(|e: Invalid| Status::invalid_argument(e.to_string()))?;
        let local_ref =
            LocalRef::parse(&req.local_ref).map_err(|e| Status::invalid_argument(e.to_string()))?;
        let store = self.store.clone();
        let actor = caller.to_string();
        // The audit entry names the random record id only: never the local
        // reference, which leads back to the person's case.
        let audit = move |id: &RecordId| AuditEntry {
            at_unix_ms: now_ms(),
            actor,
            action: AuditAction::Erased,
            dataset: Some(dataset),
            peer: None,
            records: 1,
            outcome: AuditOutcome::Allowed,
            detail: format!("record {id} erased; its tombstone replicates to every peer"),
        };
        let erased = tokio::task::spawn_blocking(move || store.erase(dataset, &local_ref, audit))
            .await
            .map_err(|e| Status::internal(format!("erase task failed: {e}")))?
            .map_err(|e| {
                tracing::error!(error = %e, "erase failed");
                Status::internal(
                    "the node could not erase the record; nothing changed; see its log",
                )
            })?;
        info!(%dataset, erased = erased.is_some(), "erase request");
        Ok(Response::new(match erased {
            Some(e) => v1::EraseReply {
                erased: true,
                seq: e.seq.0,
            },
            None => v1::EraseReply {
                erased: false,
                seq: 0,
            },
        }))
    }

    type StreamStream = ReceiverStream<Result<v1::IngestAck, Status>>;

    async fn stream(
        &self,
        request: Request<Streaming<v1::IngestBatch>>,
    ) -> Result<Response<Self::StreamStream>, Status> {
        let caller = caller(&request)?;
        let mut inbound = request.into_inner();
        // Three stages, so that checking and deriving one batch, writing the one
        // before, and waiting for the disk to take the one before that all overlap:
        // batches are still written and acknowledged in order, and the first
        // failure (check, write or flush) is the stream's last answer.
        let (checked_tx, mut checked_rx) = mpsc::channel::<Result<CheckedBatch, Status>>(1);
        let (applied_tx, mut applied_rx) = mpsc::channel::<Result<AppliedBatch, Status>>(1);
        let (tx, rx) = mpsc::channel(4);
        let span = tracing::info_span!("ingest_stream", caller = %caller);
        let checker = self.clone();
        tokio::spawn(
            async move {
                loop {
                    let checked = match inbound.message().await {
                        Ok(Some(batch)) => checker.check(batch).await,
                        Ok(None) => break,
                        Err(status) => Err(status),
                    };
                    let failed = checked.is_err();
                    if checked_tx.send(checked).await.is_err() || failed {
                        break;
                    }
                }
            }
            .instrument(span.clone()),
        );
        let service = self.clone();
        tokio::spawn(
            async move {
                while let Some(checked) = checked_rx.recv().await {
                    let applied = match checked {
                        Ok(checked) => service.apply_checked(&caller, checked).await,
                        Err(status) => Err(status),
                    };
                    let failed = applied.is_err();
                    if applied_tx.send(applied).await.is_err() || failed {
                        break;
                    }
                }
            }
            .instrument(span.clone()),
        );
        tokio::spawn(
            async move {
                while let Some(applied) = applied_rx.recv().await {
                    let ack = match applied {
                        Ok(applied) => applied.flush().await,
                        Err(status) => Err(status),
                    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_are_24_hex_digits_and_rise() {
        let ids: Vec<RecordId> = (0..1000).map(|_| new_record_id()).collect();
        for id in &ids {
            assert_eq!(id.as_str().len(), 24, "{id}");
            assert!(id.as_str().bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        }
        assert!(ids.windows(2).all(|w| w[0].as_str() < w[1].as_str()));
    }

    #[test]
    fn hex_digits_keep_leading_zeros_and_drop_higher_digits() {
        let mut out = [0u8; 8];
        hex_digits(0xab, &mut out);
        assert_eq!(&out, b"000000ab");
        let mut out = [0u8; 2];
        hex_digits(0x1234, &mut out);
        assert_eq!(&out, b"34");
    }
}

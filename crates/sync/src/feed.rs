//! The server side of `Replication.Changes`: serves this node's own change log to a
//! peer, projected to the fields their agreement allows, backlog first and then
//! live changes as they are written.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use borough_model::{Dataset, GssCode, PeerIdentity, Seq};
use borough_proto::v1;
use borough_security::agreements::AgreementBook;
use borough_store::{AuditAction, AuditEntry, AuditOutcome, Store};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::{debug, info, warn, Instrument};

use crate::flows::{AgreementStatus, Connection, Direction, FlowBoard};
use crate::{Projection, SyncLimits};

/// Serves `Changes` streams of this node's own records to peers.
#[derive(Clone)]
pub struct ChangeFeed {
    inner: Arc<FeedInner>,
}

struct FeedInner {
    me: GssCode,
    store: Store,
    agreements: Arc<AgreementBook>,
    flows: FlowBoard,
    limits: SyncLimits,
    shutdown: CancellationToken,
}

impl ChangeFeed {
    /// A feed over `store`'s own log; streams end when `shutdown` is cancelled.
    pub fn new(
        store: Store,
        agreements: Arc<AgreementBook>,
        flows: FlowBoard,
        limits: SyncLimits,
        shutdown: CancellationToken,
    ) -> ChangeFeed {
        ChangeFeed {
            inner: Arc::new(FeedInner {
                me: store.own_borough(),
                store,
                agreements,
                flows,
                limits,
                shutdown,
            }),
        }
    }

    /// Audits a refused request, marks the flow, and returns the status to send.
    fn refuse(
        &self,
        caller: &PeerIdentity,
        dataset: Option<Dataset>,
        agreement: Option<AgreementStatus>,
        status: Status,
    ) -> Status {
        let inner = &self.inner;
        warn!(peer = %caller, dataset = ?dataset.map(|d| d.as_str()), reason = status.message(), "refused a Changes request");
        audit(
            &inner.store,
            caller,
            AuditAction::Refused,
            dataset,
            0,
            AuditOutcome::Refused,
            status.message().to_string(),
        );
        if let Some(dataset) = dataset {
            inner
                .flows
                .update(Direction::Outbound, caller.borough, dataset, |f| {
                    f.connection = Connection::Stopped;
                    if let Some(a) = agreement {
                        f.agreement = a;
                    }
                    f.last_error = Some(status.message().to_string());
                });
        }
        status
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn audit_entry(
    caller: &PeerIdentity,
    action: AuditAction,
    dataset: Option<Dataset>,
    records: u64,
    outcome: AuditOutcome,
    detail: String,
) -> AuditEntry {
    AuditEntry {
        at_unix_ms: now_ms(),
        actor: caller.to_string(),
        action,
        dataset,
        peer: Some(caller.borough),
        records,
        outcome,
        detail,
    }
}

/// Appends a refusal to the audit log. Refusals disclose nothing, so they ride on
/// the next flush rather than forcing one.
fn audit(
    store: &Store,
    caller: &PeerIdentity,
    action: AuditAction,
    dataset: Option<Dataset>,
    records: u64,
    outcome: AuditOutcome,
    detail: String,
) {
    let entry = audit_entry(caller, action, dataset, records, outcome, detail);
    if let Err(e) = store.audit().append(entry) {
        // An audit failure must be loud: the disclosure already happened.
        tracing::error!(error = %e, "could not append to the audit log");
    }
}

#[tonic::async_trait]
impl v1::replication_server::Replication for ChangeFeed {
    type ChangesStream = ReceiverStream<Result<v1::ChangesBatch, Status>>;

    async fn changes(
        &self,
        request: Request<v1::ChangesRequest>,
    ) -> Result<Response<Self::ChangesStream>, Status> {
        let inner = &self.inner;
        let caller = request
            .extensions()
            .get::<PeerIdentity>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated("no verified client certificate"))?;
        let req = request.into_inner();
        let dataset: Dataset = match req.dataset.parse() {
            Ok(d) => d,
            Err(e) => {
                return Err(self.refuse(
                    &caller,
                    None,
                    None,
                    Status::invalid_argument(e.to_string()),
                ))
            }
        };
        let Some((agreement, terms)) = inner.agreements.covering(inner.me, caller.borough, dataset)
        else {
            return Err(self.refuse(
                &caller,
                Some(dataset),
                Some(AgreementStatus::None),
                Status::permission_denied(format!(
                    "no agreement allows {} to share {dataset} with {}",
                    inner.me, caller.borough
                )),
            ));
        };
        let today = time::OffsetDateTime::now_utc().date();
        if let Some((status, message)) = AgreementStatus::refusal(agreement, today) {
            return Err(self.refuse(
                &caller,
                Some(dataset),
                Some(status),
                Status::failed_precondition(message),
            ));
        }
        let ours = agreement.hash().to_string();
        if req.agreement_id != agreement.id || req.agreement_hash != ours {
            return Err(self.refuse(
                &caller,
                Some(dataset),
                Some(AgreementStatus::Mismatch),
                Status::failed_precondition(format!(
                    "agreement mismatch: {} holds {} with hash {ours}, {} sent {} with hash {}",
                    inner.me, agreement.id, caller.borough, req.agreement_id, req.agreement_hash
                )),
            ));
        }
        let projection = Projection::new(dataset, &terms.fields).map_err(|e| {
            self.refuse(
                &caller,
                Some(dataset),
                None,
                Status::internal(format!("agreement {}: {e}", agreement.id)),
            )
        })?;
        let agreement_id = agreement.id.clone();
        inner
            .flows
            .update(Direction::Outbound, caller.borough, dataset, |f| {
                f.connection = Connection::Connected;
                f.agreement = AgreementStatus::Active;
                f.agreement_id = agreement_id.clone();
                f.last_error = None;
            });
        info!(peer = %caller.borough, %dataset, since = req.since_seq, "serving changes");
        let (tx, rx) = mpsc::channel(inner.limits.stream_buffer.max(1));
        let span =
            tracing::info_span!("changes", borough = %inner.me, peer = %caller.borough, %dataset);
        tokio::spawn(
            serve_stream(
                self.inner.clone(),
                caller,
                dataset,
                agreement_id,
                projection,
                Seq(req.since_seq),
                tx,
            )
            .instrument(span),
        );
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// Reads the log from `since` and sends it in batches until the peer goes away or
/// the node shuts down, waking on each new write rather than polling.
async fn serve_stream(
    inner: Arc<FeedInner>,
    caller: PeerIdentity,
    dataset: Dataset,
    agreement_id: String,
    projection: Projection,
    since: Seq,
    tx: mpsc::Sender<Result<v1::ChangesBatch, Status>>,
) {
    let mut head_rx = inner.store.subscribe(dataset);
    let mut cursor = since;
    let mut first = true;
    loop {
        // Mark the current head as seen before reading, so a write that lands after
        // the read wakes the wait below.
        head_rx.borrow_and_update();
        let batch = match read_batch(&inner, dataset, cursor, &projection).await {
            Ok(b) => b,
            Err(status) => {
                warn!(error = status.message(), "ending changes stream");
                let _ = tx.send(Err(status)).await;
                break;
            }
        };
        let full = batch.changes.len() >= inner.limits.batch_size;
        if first || batch.up_to_seq > cursor.0 {
            let sent = batch.changes.len() as u64;
            let up_to = Seq(batch.up_to_seq);
            let head = Seq(batch.head_seq);
            if sent > 0 {
                // Audited and flushed before the records leave: a crash can only
                // over-report a disclosure, never lose one.
                let entry = audit_entry(
                    &caller,
                    AuditAction::Disclosed,
                    Some(dataset),
                    sent,
                    AuditOutcome::Allowed,
                    format!("changes after seq {cursor} under agreement {agreement_id}"),
                );
                let store = inner.store.clone();
                let durable = tokio::task::spawn_blocking(move || {
                    store.audit().append(entry)?;
                    store.flush()
                })
                .await;
                if !matches!(durable, Ok(Ok(()))) {
                    tracing::error!(?durable, "could not record the disclosure; not sending");
                    let _ = tx
                        .send(Err(Status::internal(
                            "the serving node could not audit the disclosure; see its log",
                        )))
                        .await;
                    break;
                }
            }
            let sent_ok = tokio::select! {
                r = tx.send(Ok(batch)) => r.is_ok(),
                _ = inner.shutdown.cancelled() => false,
            };
            if !sent_ok {
                break;
            }
            inner
                .flows
                .update(Direction::Outbound, caller.borough, dataset, |f| {
                    f.connection = Connection::Connected;
                    f.progress(up_to, head, SystemTime::now());
                });
            debug!(sent, up_to = %up_to, "sent batch");
            cursor = up_to;
            first = false;
            if full {
                continue;
            }
        }
        tokio::select! {
            changed = head_rx.changed() => if changed.is_err() { break },
            _ = inner.shutdown.cancelled() => break,
            _ = tx.closed() => break,
        }
    }
    inner
        .flows
        .update(Direction::Outbound, caller.borough, dataset, |f| {
            f.connection = Connection::Stopped;
        });
}

/// Reads up to one batch after `cursor`. `up_to_seq` is the last seq returned when
/// the batch is full, else the head read before the log: every entry at or below it
/// was either returned or superseded by a later one.
async fn read_batch(
    inner: &Arc<FeedInner>,
    dataset: Dataset,
    cursor: Seq,
    projection: &Projection,
) -> Result<v1::ChangesBatch, Status> {
    let store = inner.store.clone();
    let limit = inner.limits.batch_size.max(1);
    let (head, changes) = tokio::task::spawn_blocking(move || {
        let head = store.head(dataset)?;
        let changes = store.changes_since(dataset, cursor, limit)?;
        Ok::<_, borough_store::Error>((head, changes))
    })
    .await
    .map_err(|e| Status::internal(format!("log reader failed: {e}")))?
    .map_err(|e| {
        tracing::error!(error = %e, "reading the change log failed");
        Status::internal("the serving node could not read its change log; see its log")
    })?;
    let last = changes.last().map(|c| c.seq).unwrap_or(cursor);
    let up_to = if changes.len() >= limit {
        last
    } else {
        head.max(last)
    };
    let mut wire = Vec::with_capacity(changes.len());
    for c in changes {
        let payload = match &c.payload {
            Some(p) => projection.apply(p).map_err(|e| {
                tracing::error!(seq = %c.seq, error = %e, "stored record does not decode");
                Status::internal("the serving node holds a record it cannot read; see its log")
            })?,
            None => Vec::new(),
        };
        wire.push(v1::Change {
            seq: c.seq.0,
            id: c.id.as_str().to_string(),
            version: c.version.0,
            tombstone: c.payload.is_none(),
            payload,
        });
    }
    Ok(v1::ChangesBatch {
        changes: wire,
        up_to_seq: up_to.0,
        head_seq: head.0.max(up_to.0),
        sent_unix_ms: now_ms() as i64,
    })
}

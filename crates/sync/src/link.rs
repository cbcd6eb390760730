//! The client side of replication: one `PeerLink` per (peer, dataset) pulls the
//! peer's changes, applies each batch with its checkpoint in one store write, and
//! reconnects with backoff after any failure.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use borough_model::{Dataset, GssCode, RecordId, Seq, Version};
use borough_proto::v1;
use borough_security::agreements::Agreement;
use borough_security::certs::node_server_name;
use borough_store::{Change, Store};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn, Instrument};

use crate::dial::error_chain;
use crate::flows::{AgreementStatus, Connection, Direction, FlowBoard};
use crate::{dial, Backoff, Error, Projection, SyncLimits};

/// What one link pulls: a peer's dataset under one agreement.
#[derive(Debug, Clone)]
pub struct PeerTarget {
    /// The peer borough (the origin of the records).
    pub peer: GssCode,
    /// The peer node's address, `host:port`.
    pub address: String,
    /// The dataset pulled.
    pub dataset: Dataset,
    /// The agreement under which the peer discloses it to us.
    pub agreement: Agreement,
    /// The fields that agreement allows: anything else is dropped on arrival too.
    pub projection: Projection,
}

/// A long-lived task pulling one peer's dataset into the store.
pub struct PeerLink {
    target: PeerTarget,
    store: Store,
    flows: FlowBoard,
    tls: Arc<rustls::ClientConfig>,
    limits: SyncLimits,
    shutdown: CancellationToken,
}

/// How a session with the peer ended.
enum SessionEnd {
    /// The node is shutting down.
    Shutdown,
    /// The peer closed the stream cleanly (it is shutting down): reconnect.
    Closed,
}

/// How often a link re-checks an agreement that is not in force.
const AGREEMENT_RECHECK: Duration = Duration::from_secs(60);

impl PeerLink {
    /// A link that runs until `shutdown` is cancelled.
    pub fn new(
        target: PeerTarget,
        store: Store,
        flows: FlowBoard,
        tls: Arc<rustls::ClientConfig>,
        limits: SyncLimits,
        shutdown: CancellationToken,
    ) -> PeerLink {
        PeerLink {
            target,
            store,
            flows,
            tls,
            limits,
            shutdown,
        }
    }

    /// Pulls until shutdown. Never returns early: every failure becomes a status
    /// and a wait, so one bad peer cannot stop the others.
    pub async fn run(self) {
        let span = tracing::info_span!(
            "link",
            borough = %self.store.own_borough(),
            peer = %self.target.peer,
            dataset = %self.target.dataset
        );
        self.run_inner().instrument(span).await
    }

    async fn run_inner(self) {
        let t = &self.target;
        self.update(|f| {
            f.address = t.address.clone();
            f.agreement_id = t.agreement.id.clone();
            f.agreement = AgreementStatus::Active;
        });
        let mut backoff = Backoff::new(self.limits.backoff_min, self.limits.backoff_max);
        while !self.shutdown.is_cancelled() {
            let today = time::OffsetDateTime::now_utc().date();
            let refusal = AgreementStatus::refusal(&t.agreement, today);
            if let Some((agreement, message)) = refusal {
                warn!(%message, "not pulling");
                self.update(|f| {
                    f.connection = Connection::Stopped;
                    f.agreement = agreement;
                    f.last_error = Some(message);
                });
                self.pause(AGREEMENT_RECHECK).await;
                continue;
            }
            // The agreement state shown stays as last seen (a mismatch, say) until
            // the peer accepts a request, so status never flickers to "active".
            self.update(|f| f.connection = Connection::Connecting);
            match self.session(&mut backoff).await {
                Ok(SessionEnd::Shutdown) => break,
                Ok(SessionEnd::Closed) => {
                    info!("peer closed the stream; reconnecting");
                    self.update(|f| f.connection = Connection::BackingOff);
                }
                Err(message) => {
                    warn!(error = %message, "pull failed; backing off");
                    let mismatch = message.contains("agreement mismatch");
                    self.update(|f| {
                        f.connection = Connection::BackingOff;
                        f.last_error = Some(message);
                        if mismatch {
                            f.agreement = AgreementStatus::Mismatch;
                        }
                    });
                }
            }
            self.pause(backoff.next_wait()).await;
        }
        self.update(|f| f.connection = Connection::Stopped);
    }

    fn update(&self, change: impl FnOnce(&mut crate::FlowStatus)) {
        self.flows.update(
            Direction::Inbound,
            self.target.peer,
            self.target.dataset,
            change,
        );
    }

    async fn pause(&self, wait: Duration) {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = self.shutdown.cancelled() => {}
        }
    }

    /// One connection: dial, ask for changes after the checkpoint, apply batches
    /// until the stream ends. Errors come back as operator-readable text.
    async fn session(&self, backoff: &mut Backoff) -> Result<SessionEnd, String> {
        let t = &self.target;
        let server_name = node_server_name(t.peer);
        let channel = tokio::select! {
            c = dial(&t.address, &server_name, self.tls.clone(), &self.limits) => c.map_err(|e| e.to_string())?,
            _ = self.shutdown.cancelled() => return Ok(SessionEnd::Shutdown),
        };
        let mut client = v1::replication_client::ReplicationClient::new(channel)
            .max_decoding_message_size(self.limits.max_message_bytes);
        let since = self
            .store
            .checkpoint(t.peer, t.dataset)
            .map_err(|e| e.to_string())?;
        let request = v1::ChangesRequest {
            dataset: t.dataset.as_str().to_string(),
            since_seq: since.0,
            agreement_id: t.agreement.id.clone(),
            agreement_hash: t.agreement.hash().to_string(),
        };
        let mut stream = tokio::select! {
            r = client.changes(request) => r.map_err(|s| format!("{}: {}", t.peer, status_text(&s)))?.into_inner(),
            _ = self.shutdown.cancelled() => return Ok(SessionEnd::Shutdown),
        };
        info!(since = %since, "connected");
        self.update(|f| {
            f.connection = Connection::Connected;
            f.agreement = AgreementStatus::Active;
            f.last_error = None;
        });
        let mut checkpoint = since;
        loop {
            let message = tokio::select! {
                m = stream.message() => m,
                _ = self.shutdown.cancelled() => return Ok(SessionEnd::Shutdown),
            };
            let batch = match message {
                Ok(Some(batch)) => batch,
                Ok(None) => return Ok(SessionEnd::Closed),
                Err(s) => return Err(format!("{}: {}", t.peer, status_text(&s))),
            };
            // The whole batch is applied before shutdown is looked at again, so a
            // stop never leaves a batch half-done.
            let (up_to, head) = (Seq(batch.up_to_seq), Seq(batch.head_seq));
            let applied = batch.changes.len();
            checkpoint = self
                .apply(checkpoint, batch)
                .await
                .map_err(|e| e.to_string())?;
            backoff.reset();
            self.update(|f| f.progress(checkpoint, head, SystemTime::now()));
            debug!(applied, up_to = %up_to, "applied batch");
        }
    }

    /// Checks a batch against the protocol, projects and decodes every record, then
    /// writes the batch and its checkpoint in one durable store write.
    async fn apply(&self, checkpoint: Seq, batch: v1::ChangesBatch) -> Result<Seq, Error> {
        let t = &self.target;
        let up_to = Seq(batch.up_to_seq);
        let protocol = |problem: String| Error::Protocol {
            peer: t.peer,
            dataset: t.dataset,
            problem,
        };
        if up_to < checkpoint {
            return Err(protocol(format!(
                "batch ends at seq {up_to}, before our checkpoint {checkpoint}"
            )));
        }
        let mut changes = Vec::with_capacity(batch.changes.len());
        let mut last = checkpoint;
        for c in batch.changes {
            let seq = Seq(c.seq);
            if seq <= last || seq > up_to {
                return Err(protocol(format!(
                    "change at seq {seq} is out of order (after {last}, batch ends at {up_to})"
                )));
            }
            last = seq;
            let invalid = |problem: String| Error::InvalidRecord {
                peer: t.peer,
                dataset: t.dataset,
                id: c.id.chars().take(64).collect(),
                seq: c.seq,
                problem,
            };
            let id = RecordId::parse(&c.id).map_err(|e| invalid(e.to_string()))?;
            let payload = if c.tombstone {
                None
            } else {
                // Projected again on arrival: both sides hold the same agreement, and
                // a field it does not allow must never reach this store.
                let projected = t
                    .projection
                    .apply(&c.payload)
                    .map_err(|e| invalid(e.to_string()))?;
                // Checked for shape, not completeness: an agreement may withhold
                // fields the origin's validation requires.
                borough_proto::check_shape(t.dataset, &projected)
                    .map_err(|e| invalid(e.to_string()))?;
                Some(projected)
            };
            changes.push(Change {
                seq,
                id,
                version: Version(c.version),
                payload,
            });
        }
        let store = self.store.clone();
        let (peer, dataset) = (t.peer, t.dataset);
        tokio::task::spawn_blocking(move || store.apply_peer_batch(peer, dataset, &changes, up_to))
            .await
            .map_err(|e| Error::Task(e.to_string()))??;
        Ok(up_to)
    }
}

/// A status as the operator needs it: code, message, and the transport cause
/// (for example the TLS alert that explains a bare "transport error").
pub fn status_text(s: &tonic::Status) -> String {
    let mut text = format!("{:?}: {}", s.code(), s.message());
    if let Some(source) = std::error::Error::source(s) {
        text.push_str(": ");
        text.push_str(&error_chain(source));
    }
    text
}

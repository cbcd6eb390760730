//! Measurement 2: initial sync. Southwark is stopped, Lambeth ingests N records
//! through its Ingest RPC, then Southwark is restarted and timed until its store
//! holds all N of Lambeth's records with its checkpoint at Lambeth's log head.

use std::time::{Duration, Instant};

use borough_model::Dataset;
use borough_proto::v1;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::cluster::Cluster;
use crate::records::RecordSet;

/// Records per Ingest batch while loading (the node's default `max_ingest_batch`).
pub const INGEST_BATCH: u64 = 10_000;
/// How often the store is polled while waiting for the sync to finish.
const POLL: Duration = Duration::from_millis(2);
/// Give up if Southwark's record count stops moving for this long.
const STALL: Duration = Duration::from_secs(60);

/// Loading the records at Lambeth (an aside: not what the target is about).
#[derive(Debug, Clone)]
pub struct IngestLoad {
    /// Records acknowledged as written.
    pub records: u64,
    /// Ingest batches sent.
    pub batches: u64,
    /// From the first batch sent to the last acknowledgement.
    pub elapsed: Duration,
    /// Lambeth's log head after the load.
    pub head: u64,
    /// The payload bytes Lambeth stored for them (the derived records), read back
    /// from its store after the load.
    pub stored_payload_bytes: u64,
}

impl IngestLoad {
    /// Records per second.
    pub fn records_per_s(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64()
    }
}

/// Upserts records `0..records` of `set` at Lambeth through `Ingest.Stream` with
/// Lambeth's system certificate, [`INGEST_BATCH`] per batch, each acknowledged
/// only once durable.
pub async fn load(cluster: &Cluster, set: &RecordSet, records: u64) -> anyhow::Result<IngestLoad> {
    let channel = cluster.lambeth_system().await?;
    let mut client = v1::ingest_client::IngestClient::new(channel);
    let (tx, rx) = mpsc::channel::<v1::IngestBatch>(2);
    let producer_set = set.clone();
    let started = Instant::now();
    let producer = tokio::spawn(async move {
        let mut start = 0;
        while start < records {
            let end = (start + INGEST_BATCH).min(records);
            let batch = v1::IngestBatch {
                dataset: Dataset::ChildcarePlaces.as_str().into(),
                ops: (start..end).map(|i| producer_set.ingest_op(i)).collect(),
                batch_ref: format!("bench-{start}"),
            };
            if tx.send(batch).await.is_err() {
                break;
            }
            start = end;
        }
    });
    let mut acks = client.stream(ReceiverStream::new(rx)).await?.into_inner();
    let (mut written, mut batches, mut head) = (0u64, 0u64, 0u64);
    while let Some(ack) = acks.message().await? {
        written += ack.written;
        batches += 1;
        head = ack.head_seq;
    }
    let elapsed = started.elapsed();
    producer.await?;
    anyhow::ensure!(
        written == records,
        "loading Lambeth: {written} of {records} records acknowledged as written"
    );
    Ok(IngestLoad {
        records: written,
        batches,
        elapsed,
        head,
        stored_payload_bytes: 0,
    })
}

/// What the initial sync measured.
#[derive(Debug, Clone)]
pub struct InitialSync {
    /// Records Southwark pulled.
    pub records: u64,
    /// Their payload bytes in all, as stored at Lambeth.
    pub payload_bytes: u64,
    /// Mean payload size, as stored at Lambeth.
    pub mean_payload_bytes: f64,
    /// Mean on-wire size of one change (see `RecordSet::wire_record_bytes`).
    pub wire_record_bytes: f64,
    /// Loading the records at Lambeth beforehand.
    pub load: IngestLoad,
    /// How long `LocalFederation::restart` (prepare, open the store, spawn) took.
    pub restart: Duration,
    /// From the restart to Southwark's first record.
    pub first_record: Duration,
    /// From the restart to all records held and the checkpoint at Lambeth's head.
    pub elapsed: Duration,
    /// Records of Lambeth held by Southwark at the end (counter, no scan).
    pub southwark_count: u64,
    /// Southwark's checkpoint of Lambeth at the end.
    pub checkpoint: u64,
    /// Lambeth's log head.
    pub lambeth_head: u64,
    /// (time since restart, records held) about once a second.
    pub progress: Vec<(Duration, u64)>,
}

impl InitialSync {
    /// Records per second, restart to done.
    pub fn records_per_s(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64()
    }

    /// Payload MB/s (10^6 bytes of encoded payload), restart to done.
    pub fn payload_mb_per_s(&self) -> f64 {
        self.payload_bytes as f64 / 1e6 / self.elapsed.as_secs_f64()
    }
}

/// Stops Southwark and loads `records` at Lambeth: the set-up for [`pull`].
pub async fn prepare(
    cluster: &mut Cluster,
    set: &RecordSet,
    records: u64,
) -> anyhow::Result<IngestLoad> {
    cluster.federation.stop(cluster.southwark).await?;
    let mut load = load(cluster, set, records).await?;
    let store = cluster.store(cluster.lambeth)?.clone();
    let lambeth = cluster.lambeth;
    let (held, bytes) = tokio::task::spawn_blocking(move || {
        let mut held = (0u64, 0u64);
        for record in store.records(Dataset::ChildcarePlaces, lambeth) {
            held.0 += 1;
            held.1 += record?.payload.len() as u64;
        }
        Ok::<_, borough_store::Error>(held)
    })
    .await??;
    anyhow::ensure!(
        held == records,
        "Lambeth holds {held} records after loading {records}"
    );
    load.stored_payload_bytes = bytes;
    let lambeth_head = cluster.lambeth_head()?.0;
    anyhow::ensure!(
        lambeth_head == load.head,
        "Lambeth's head {lambeth_head} differs from its last acknowledgement {}",
        load.head
    );
    Ok(load)
}

/// Restarts Southwark after [`prepare`] and times it until it holds all `records`
/// of Lambeth's records with its checkpoint at Lambeth's head. Leaves both nodes
/// running and caught up.
pub async fn pull(
    cluster: &mut Cluster,
    set: &RecordSet,
    records: u64,
    load: IngestLoad,
) -> anyhow::Result<InitialSync> {
    let (lambeth, southwark) = (cluster.lambeth, cluster.southwark);
    let lambeth_head = cluster.lambeth_head()?.0;
    let started = Instant::now();
    cluster.federation.restart(southwark).await?;
    let restart = started.elapsed();
    let store = cluster.store(southwark)?.clone();
    let mut first_record = None;
    let mut progress = Vec::new();
    let mut next_sample = Duration::from_secs(1);
    let mut last_change = (Instant::now(), 0u64);
    let (count, checkpoint) = loop {
        let count = store.count(Dataset::ChildcarePlaces, lambeth)?;
        let checkpoint = store.checkpoint(lambeth, Dataset::ChildcarePlaces)?.0;
        let now = Instant::now();
        if count > 0 && first_record.is_none() {
            first_record = Some(now - started);
        }
        if now - started >= next_sample {
            progress.push((now - started, count));
            next_sample += Duration::from_secs(1);
        }
        if count >= records && checkpoint >= lambeth_head {
            break (count, checkpoint);
        }
        if count != last_change.1 {
            last_change = (now, count);
        } else if now - last_change.0 > STALL {
            anyhow::bail!(
                "initial sync stalled: Southwark holds {count} of {records} records, checkpoint {checkpoint} of {lambeth_head}, no progress for {STALL:?}"
            );
        }
        tokio::time::sleep(POLL).await;
    };
    let elapsed = started.elapsed();
    anyhow::ensure!(
        count == records && checkpoint == lambeth_head,
        "initial sync: Southwark holds {count} records (expected {records}), checkpoint {checkpoint} (Lambeth's head {lambeth_head})"
    );
    Ok(InitialSync {
        records,
        payload_bytes: load.stored_payload_bytes,
        mean_payload_bytes: load.stored_payload_bytes as f64 / records.max(1) as f64,
        wire_record_bytes: set.wire_record_bytes(records),
        load,
        restart,
        first_record: first_record.unwrap_or(elapsed),
        elapsed,
        southwark_count: count,
        checkpoint,
        lambeth_head,
        progress,
    })
}

/// [`prepare`] then [`pull`].
pub async fn run(
    cluster: &mut Cluster,
    set: &RecordSet,
    records: u64,
) -> anyhow::Result<InitialSync> {
    let load = prepare(cluster, set, records).await?;
    pull(cluster, set, records, load).await
}

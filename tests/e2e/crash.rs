//! Crash safety: nodes run as real `borough node` processes and are killed with
//! SIGKILL mid-work. A peer batch and its checkpoint commit together, and an
//! ingest acknowledgement means the batch is on disk, so after a restart every
//! record is held exactly once and nothing acknowledged is lost; nor is the audit
//! log's account of what was ingested and disclosed before the crash.

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use borough_model::Dataset;
use borough_proto::{input_any, v1};
use tonic::codegen::tokio_stream;

use crate::support::process::{inbound, own, NodeProcess, ProcessFederation};
use crate::support::*;

const PLACES: Dataset = Dataset::ChildcarePlaces;

/// How long a crashed and restarted pair may take to converge.
const RECOVER: Duration = Duration::from_secs(40);

/// Node configuration for these tests: fast reconnects (`FAST_RETRY`, which ends
/// inside its `[limits]` table) and `batch_size` changes per replication batch.
fn limits(batch_size: usize) -> String {
    format!("{FAST_RETRY}batch_size = {batch_size}\n")
}

/// Valid Lambeth providers' input, cheap to make in bulk: a few sample providers,
/// re-encoded with their vacancies varied.
struct Places {
    templates: Vec<v1::ProviderInput>,
}

impl Places {
    fn new() -> Places {
        let templates = places(LAMBETH, 16).into_iter().map(|(_, p)| p).collect();
        Places { templates }
    }

    /// The local reference of record `i` in a run named `run`.
    fn id(run: &str, i: usize) -> String {
        format!("{run}-{i:06}")
    }

    /// Upserts of records `range` of `run`: one distinct id each, all in Lambeth.
    fn batch(&self, run: &str, batch_ref: String, range: Range<usize>) -> v1::IngestBatch {
        let ops = range
            .map(|i| {
                let mut place = self.templates[i % self.templates.len()].clone();
                let offer = &mut place.offers[0];
                let capacity: usize = offer.capacity.parse().expect("sample capacity");
                offer.vacancies = ((i / self.templates.len()) % (capacity + 1)).to_string();
                v1::IngestOp {
                    local_ref: Places::id(run, i),
                    op: Some(v1::ingest_op::Op::Upsert(input_any(PLACES, &place))),
                }
            })
            .collect();
        v1::IngestBatch {
            dataset: PLACES.as_str().into(),
            ops,
            batch_ref,
        }
    }

    /// `count` batches of `size` records of `run`, made as the stream asks for them;
    /// batch `b` is referenced `b<b>` and holds records `b*size .. (b+1)*size`.
    fn batches(
        self: Arc<Self>,
        run: &'static str,
        size: usize,
        count: usize,
    ) -> impl Iterator<Item = v1::IngestBatch> + Send + 'static {
        (0..count).map(move |b| self.batch(run, format!("b{b}"), b * size..(b + 1) * size))
    }
}

/// Streams `batches` into `node` through `Ingest.Stream` and returns every ack.
async fn stream_ingest(
    node: &NodeProcess,
    batches: impl Iterator<Item = v1::IngestBatch> + Send + 'static,
) -> Vec<v1::IngestAck> {
    let channel = node.connect_as("system").await.expect("connect as system");
    let mut acks = v1::ingest_client::IngestClient::new(channel)
        .stream(tokio_stream::iter(batches))
        .await
        .expect("ingest stream opens")
        .into_inner();
    let mut all = Vec::new();
    while let Some(ack) = acks.message().await.expect("ingest ack") {
        all.push(ack);
    }
    all
}

/// Whether the origin's store holds a record for this local reference.
fn has_local_ref(store: &borough_store::Store, local_ref: &str) -> bool {
    let local_ref = borough_store::LocalRef::parse(local_ref).expect("local ref");
    store
        .resolve_local_ref(PLACES, &local_ref)
        .expect("resolve")
        .and_then(|id| store.get(PLACES, gss(LAMBETH), &id).expect("get"))
        .is_some()
}

/// Lambeth's record ids held in `store`, checking there is one per id.
fn lambeth_ids(store: &borough_store::Store) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for record in store.records(PLACES, gss(LAMBETH)) {
        let id = record.expect("stored record reads").id.as_str().to_string();
        assert!(ids.insert(id.clone()), "{id} is held twice");
    }
    ids
}

/// The records a node's audit log says it did `action` with, in total.
fn audited(store: &borough_store::Store, action: borough_store::AuditAction) -> u64 {
    store
        .audit()
        .entries()
        .map(|r| r.expect("audit entry reads").entry)
        .filter(|e| e.action == action && e.dataset == Some(PLACES))
        .map(|e| e.records)
        .sum()
}

/// Southwark killed with SIGKILL while pulling Lambeth's 100,000 records resumes
/// after a restart from the checkpoint that committed with its last applied batch,
/// and ends holding every record exactly once, caught up to Lambeth's head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_killed_mid_initial_sync_ends_with_every_record_once() {
    const RECORDS: usize = 100_000;
    const INGEST_BATCH: usize = 2_000;
    // Kill once a fifth of the records have arrived, so the restart resumes from a
    // checkpoint well into the log. Replication batches of 500 keep the sync slow
    // enough (a few seconds) for the 10 ms status polls to land inside it.
    const KILL_AT: u64 = 20_000;
    let fed = ProcessFederation::lay_out(&[LAMBETH, SOUTHWARK], &limits(500)).await;
    let mut lambeth = fed.start(LAMBETH).await;
    let places = Arc::new(Places::new());
    let acks = stream_ingest(
        &lambeth,
        places.batches("sync", INGEST_BATCH, RECORDS / INGEST_BATCH),
    )
    .await;
    assert_eq!(acks.len(), RECORDS / INGEST_BATCH);
    assert_eq!(acks.iter().map(|a| a.written).sum::<u64>(), RECORDS as u64);
    let head = own(&lambeth.status().await, PLACES).head_seq;
    assert_eq!(head, RECORDS as u64, "one seq per record");

    let mut southwark = fed.spawn(SOUTHWARK);
    let seen = southwark
        .wait_status(
            &format!("Southwark to hold at least {KILL_AT} of Lambeth's records"),
            CONVERGE,
            |s| {
                inbound(s, LAMBETH, PLACES)
                    .map(|f| f.records)
                    .filter(|&n| n >= KILL_AT)
            },
        )
        .await;
    southwark.kill().await;
    assert!(
        seen < RECORDS as u64,
        "Southwark finished the initial sync ({seen} records) before it could be killed: \
         lower `batch_size` or KILL_AT"
    );

    let store = southwark.open_store();
    let held = store.count(PLACES, gss(LAMBETH)).expect("count");
    let checkpoint = store.checkpoint(gss(LAMBETH), PLACES).expect("checkpoint");
    drop(store);
    assert!(
        seen <= held && held < RECORDS as u64,
        "killed mid-sync: status showed {seen}, the store holds {held} of {RECORDS}"
    );
    // Lambeth's seqs are 1..=RECORDS, one per record: the records that survived the
    // crash are exactly those the surviving checkpoint covers.
    assert_eq!(
        checkpoint.0, held,
        "records and checkpoint committed together"
    );

    southwark.restart().await;
    let flow = southwark
        .wait_status(
            "Southwark to hold all of Lambeth's records after the crash",
            RECOVER,
            |s| {
                inbound(s, LAMBETH, PLACES)
                    .filter(|f| f.checkpoint == head && f.records == RECORDS as u64)
                    .cloned()
            },
        )
        .await;
    assert_eq!(flow.lag_records, 0, "{flow:?}");
    assert_eq!(flow.peer_head, head, "{flow:?}");

    southwark.stop().await;
    lambeth.stop().await;
    let origin = lambeth.open_store();
    for i in 0..RECORDS {
        assert!(
            has_local_ref(&origin, &Places::id("sync", i)),
            "Lambeth lost record {i}"
        );
    }
    let expected = lambeth_ids(&origin);
    drop(origin);
    let store = southwark.open_store();
    assert_eq!(
        store.count(PLACES, gss(LAMBETH)).expect("count"),
        RECORDS as u64
    );
    assert_eq!(
        store
            .checkpoint(gss(LAMBETH), PLACES)
            .expect("checkpoint")
            .0,
        head
    );
    let ids = lambeth_ids(&store);
    assert_eq!(ids.len(), RECORDS);
    assert!(
        ids == expected,
        "Southwark holds other ids than Lambeth sent"
    );
}

/// Lambeth killed with SIGKILL while a client streams batches into it keeps every
/// batch it acknowledged, whole, with a gap-free log (head == records, as every id
/// is new), and Southwark converges to exactly Lambeth's records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sender_killed_mid_ingest_loses_nothing_acknowledged() {
    const BATCH: usize = 250;
    const BATCHES: usize = 400;
    const ACKED_BEFORE_KILL: usize = 20;
    let fed = ProcessFederation::lay_out(&[LAMBETH, SOUTHWARK], FAST_RETRY).await;
    let mut lambeth = fed.start(LAMBETH).await;
    let mut southwark = fed.start(SOUTHWARK).await;

    let channel = lambeth
        .connect_as("system")
        .await
        .expect("connect as system");
    let acked = Arc::new(Mutex::new(Vec::<v1::IngestAck>::new()));
    let stream = {
        let acked = acked.clone();
        let batches = Arc::new(Places::new()).batches("ingest", BATCH, BATCHES);
        tokio::spawn(async move {
            let mut acks = v1::ingest_client::IngestClient::new(channel)
                .stream(tokio_stream::iter(batches))
                .await?
                .into_inner();
            while let Some(ack) = acks.message().await? {
                acked.lock().unwrap().push(ack);
            }
            Ok::<(), tonic::Status>(())
        })
    };
    eventually(
        &format!("Lambeth to acknowledge {ACKED_BEFORE_KILL} streamed batches"),
        CONVERGE,
        || {
            let n = acked.lock().unwrap().len();
            async move { (n >= ACKED_BEFORE_KILL).then_some(()) }
        },
    )
    .await;
    lambeth.kill().await;
    let ended = tokio::time::timeout(Duration::from_secs(10), stream)
        .await
        .expect("the ingest stream ends once Lambeth is killed")
        .expect("ingest task");
    let acked = acked.lock().unwrap().clone();
    assert!(
        ended.is_err() && acked.len() < BATCHES,
        "the kill did not land mid-stream: {} of {BATCHES} batches acked, stream ended {ended:?}",
        acked.len()
    );
    for ack in &acked {
        assert_eq!(ack.written, BATCH as u64, "{ack:?}");
    }

    lambeth.restart().await;
    let mine = own(&lambeth.status().await, PLACES).clone();
    assert_eq!(
        mine.head_seq, mine.records,
        "gap-free log after the crash: {mine:?}"
    );
    assert!(
        mine.records >= (acked.len() * BATCH) as u64,
        "acknowledged records lost: {} acked batches, {mine:?}",
        acked.len()
    );
    assert_eq!(
        mine.records % BATCH as u64,
        0,
        "a batch survived in part: {mine:?}"
    );

    let flow = southwark
        .wait_status(
            "Southwark to hold exactly Lambeth's records after Lambeth's crash",
            RECOVER,
            |s| {
                inbound(s, LAMBETH, PLACES)
                    .filter(|f| f.checkpoint == mine.head_seq && f.records == mine.records)
                    .cloned()
            },
        )
        .await;
    assert_eq!(flow.lag_records, 0, "{flow:?}");

    southwark.stop().await;
    lambeth.stop().await;
    let origin = lambeth.open_store();
    let at_lambeth = lambeth_ids(&origin);
    for ack in &acked {
        let b: usize = ack.batch_ref[1..].parse().expect("batch ref b<n>");
        for i in b * BATCH..(b + 1) * BATCH {
            assert!(
                has_local_ref(&origin, &Places::id("ingest", i)),
                "record {i} of acknowledged batch {} is missing",
                ack.batch_ref
            );
        }
    }
    assert_eq!(at_lambeth.len() as u64, mine.records);
    let at_southwark = lambeth_ids(&southwark.open_store());
    assert!(
        at_southwark == at_lambeth,
        "Southwark holds {} of Lambeth's records, Lambeth {}",
        at_southwark.len(),
        at_lambeth.len()
    );
}

/// Southwark stopped and restarted keeps its checkpoint and asks Lambeth only for
/// changes after it: Lambeth's audit log shows the new stream disclosing from the
/// checkpoint, and no record disclosed twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_restart_resumes_from_checkpoint_without_refetching() {
    const FIRST: usize = 2_000;
    const LATER: usize = 100;
    let fed = ProcessFederation::lay_out(&[LAMBETH, SOUTHWARK], FAST_RETRY).await;
    let mut lambeth = fed.start(LAMBETH).await;
    let mut southwark = fed.start(SOUTHWARK).await;
    let places = Arc::new(Places::new());

    let acks = stream_ingest(&lambeth, places.clone().batches("resume", FIRST, 1)).await;
    assert_eq!(acks[0].head_seq, FIRST as u64);
    southwark
        .wait_status("Southwark to hold Lambeth's first records", CONVERGE, |s| {
            inbound(s, LAMBETH, PLACES)
                .filter(|f| f.checkpoint == FIRST as u64)
                .map(drop)
        })
        .await;
    southwark.stop().await;
    let store = southwark.open_store();
    assert_eq!(
        store
            .checkpoint(gss(LAMBETH), PLACES)
            .expect("checkpoint")
            .0,
        FIRST as u64
    );
    assert_eq!(
        store.count(PLACES, gss(LAMBETH)).expect("count"),
        FIRST as u64
    );
    drop(store);

    let later = places.batch("resume", "later".into(), FIRST..FIRST + LATER);
    let acks = stream_ingest(&lambeth, std::iter::once(later)).await;
    let head = acks[0].head_seq;
    assert_eq!(head, (FIRST + LATER) as u64);
    southwark.restart().await;
    southwark
        .wait_status(
            "Southwark to catch up with the records written while it was down",
            CONVERGE,
            |s| {
                inbound(s, LAMBETH, PLACES)
                    .filter(|f| f.checkpoint == head && f.records == head)
                    .map(drop)
            },
        )
        .await;

    southwark.stop().await;
    lambeth.stop().await;
    let store = lambeth.open_store();
    let disclosed: Vec<_> = store
        .audit()
        .entries()
        .map(|r| r.expect("audit entry reads").entry)
        .filter(|e| {
            e.action == borough_store::AuditAction::Disclosed && e.peer == Some(gss(SOUTHWARK))
        })
        .collect();
    let resumed: Vec<_> = disclosed
        .iter()
        .filter(|e| e.detail.starts_with(&format!("changes after seq {FIRST} ")))
        .collect();
    assert!(
        resumed.len() == 1 && resumed[0].records == LATER as u64,
        "the restarted stream starts after the checkpoint: {disclosed:#?}"
    );
    assert_eq!(
        disclosed.iter().map(|e| e.records).sum::<u64>(),
        head,
        "no record disclosed twice: {disclosed:#?}"
    );
}

/// An acknowledged ingest batch is audited as durably as it is written: Lambeth
/// killed with SIGKILL right after acknowledging a batch holds the batch and its
/// `ingested` audit entry when its store is opened again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_acknowledged_before_a_crash_is_in_the_audit_log() {
    const RECORDS: usize = 500;
    let fed = ProcessFederation::lay_out(&[LAMBETH, SOUTHWARK], FAST_RETRY).await;
    let mut lambeth = fed.start(LAMBETH).await;
    let batches = Arc::new(Places::new()).batches("audit", RECORDS, 1);
    let acks = stream_ingest(&lambeth, batches).await;
    assert_eq!(acks[0].written, RECORDS as u64);
    lambeth.kill().await;

    let store = lambeth.open_store();
    assert_eq!(
        store.count(PLACES, gss(LAMBETH)).expect("count"),
        RECORDS as u64,
        "the acknowledged batch is durable"
    );
    assert_eq!(
        audited(&store, borough_store::AuditAction::Ingested),
        RECORDS as u64,
        "the acknowledged batch's audit entry is durable too"
    );
}

/// Every batch served to a peer is audited as a disclosure, and a crash does not
/// erase that entry: once Southwark holds Lambeth's records, Lambeth killed with
/// SIGKILL still has `disclosed` entries covering them when its store is opened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disclosure_made_before_a_crash_is_in_the_audit_log() {
    const RECORDS: usize = 500;
    let fed = ProcessFederation::lay_out(&[LAMBETH, SOUTHWARK], FAST_RETRY).await;
    let mut lambeth = fed.start(LAMBETH).await;
    let mut southwark = fed.start(SOUTHWARK).await;
    // Once Lambeth's own pull from Southwark has had its (empty) first batch, the
    // only writes left at Lambeth are the ingest and the disclosure below.
    lambeth
        .wait_status("Lambeth's pull from Southwark to connect", CONVERGE, |s| {
            inbound(s, SOUTHWARK, PLACES)
                .filter(|f| f.last_contact_unix_ms > 0)
                .map(drop)
        })
        .await;
    let batches = Arc::new(Places::new()).batches("disclose", RECORDS, 1);
    stream_ingest(&lambeth, batches).await;
    southwark
        .wait_status("Southwark to hold Lambeth's records", CONVERGE, |s| {
            inbound(s, LAMBETH, PLACES)
                .filter(|f| f.records == RECORDS as u64)
                .map(drop)
        })
        .await;
    lambeth.kill().await;

    let store = lambeth.open_store();
    assert_eq!(
        audited(&store, borough_store::AuditAction::Disclosed),
        RECORDS as u64,
        "Southwark holds {RECORDS} of Lambeth's records; Lambeth's audit log must say so"
    );
}

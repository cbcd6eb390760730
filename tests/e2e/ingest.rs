//! Ingest: a borough's case systems write through the Ingest RPC. A malformed
//! batch is refused whole with INVALID_ARGUMENT naming the field at fault and
//! changes nothing; good batches write exactly what changed.

use borough_model::{Dataset, RecordId};
use borough_proto::{v1, Payload};
use tonic::codegen::tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::support::*;

type Client = v1::ingest_client::IngestClient<Channel>;

async fn client(fed: &Federation) -> Client {
    v1::ingest_client::IngestClient::new(fed.client_as(LAMBETH, "system").await)
}

fn upsert(id: &str, place: borough_model::ChildcarePlace) -> v1::IngestOp {
    v1::IngestOp {
        id: id.into(),
        op: Some(v1::ingest_op::Op::Upsert(
            Payload::ChildcarePlace(place).to_any(),
        )),
    }
}

fn batch(batch_ref: &str, ops: Vec<v1::IngestOp>) -> v1::IngestBatch {
    v1::IngestBatch {
        dataset: Dataset::ChildcarePlaces.as_str().into(),
        ops,
        batch_ref: batch_ref.into(),
    }
}

/// What a refused batch must leave as it was: the log head, the live record
/// count and the seeded record's version.
#[derive(Debug, PartialEq)]
struct Snapshot {
    head: u64,
    count: u64,
    seeded_version: Option<u64>,
}

fn snapshot(fed: &Federation) -> Snapshot {
    let store = fed.store(LAMBETH);
    Snapshot {
        head: store.head(Dataset::ChildcarePlaces).expect("head").0,
        count: store
            .count(Dataset::ChildcarePlaces, gss(LAMBETH))
            .expect("count"),
        seeded_version: version(fed, SEEDED),
    }
}

fn version(fed: &Federation, id: &str) -> Option<u64> {
    fed.store(LAMBETH)
        .get(
            Dataset::ChildcarePlaces,
            gss(LAMBETH),
            &RecordId::parse(id).expect("id"),
        )
        .expect("store read")
        .map(|r| r.version.0)
}

/// The id of the record every federation here starts with.
const SEEDED: &str = "seeded-place";

/// Lambeth alone, holding one record (`SEEDED`), started with `extra` config.
async fn seeded_with(extra: &str) -> Federation {
    let fed = Federation::start_with(&[LAMBETH], &example_agreements(), extra).await;
    let (_, place) = places(LAMBETH, 1).remove(0);
    let ack = fed.ingest(LAMBETH, vec![(SEEDED.into(), place)]).await;
    assert_eq!(ack.written, 1);
    fed
}

async fn seeded() -> Federation {
    seeded_with(FAST_RETRY).await
}

/// Sends `batch`, expects INVALID_ARGUMENT and checks the store did not change.
async fn refused(fed: &Federation, batch: v1::IngestBatch) -> Status {
    let before = snapshot(fed);
    let result = client(fed).await.apply(batch).await;
    let status = match result {
        Ok(ack) => panic!("the batch was accepted: {:?}", ack.into_inner()),
        Err(status) => status,
    };
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(snapshot(fed), before, "a refused batch changed the store");
    status
}

/// The message names `field` as `field: …` or `` `field` ``.
#[track_caller]
fn assert_names(status: &Status, field: &str) {
    let message = status.message();
    assert!(
        message.contains(&format!("{field}:")) || message.contains(&format!("`{field}`")),
        "the message does not name `{field}`: {message}"
    );
}

/// A batch for a dataset the node does not know is refused naming `dataset`.
#[tokio::test]
async fn unknown_dataset_is_refused_naming_dataset() {
    let fed = seeded().await;
    let (id, place) = places(LAMBETH, 2).remove(1);
    let mut b = batch("b", vec![upsert(&id, place)]);
    b.dataset = "employment-participation".into();
    let status = refused(&fed, b).await;
    assert_names(&status, "dataset");
    assert!(status.message().contains("employment-participation"));
}

/// A batch with more operations than the node's `max_ingest_batch` is refused
/// naming `ops`.
#[tokio::test]
async fn batch_over_the_size_limit_is_refused_naming_ops() {
    let fed = seeded_with("\n[limits]\nmax_ingest_batch = 5\n").await;
    let ops = places(LAMBETH, 7)
        .into_iter()
        .skip(1)
        .map(|(id, p)| upsert(&id, p))
        .collect::<Vec<_>>();
    assert_eq!(ops.len(), 6);
    let status = refused(&fed, batch("b", ops)).await;
    assert_names(&status, "ops");
}

/// Bytes that do not decode as the dataset's message are refused naming the
/// operation's `upsert`.
#[tokio::test]
async fn undecodable_payload_is_refused_naming_the_upsert() {
    let fed = seeded().await;
    let op = v1::IngestOp {
        id: "garbage".into(),
        op: Some(v1::ingest_op::Op::Upsert(prost_types::Any {
            type_url: "type.googleapis.com/borough.v1.ChildcarePlace".into(),
            value: b"\xff\xff\xff".to_vec(),
        })),
    };
    let status = refused(&fed, batch("b", vec![op])).await;
    assert_names(&status, "ops[0].upsert");
}

/// A payload of another message type is refused naming the upsert, even when
/// its bytes would decode as a childcare place.
#[tokio::test]
async fn payload_of_another_type_is_refused_naming_the_upsert() {
    let fed = seeded().await;
    let (id, place) = places(LAMBETH, 2).remove(1);
    let mut any = Payload::ChildcarePlace(place).to_any();
    any.type_url = "type.googleapis.com/borough.v1.StatusRequest".into();
    let op = v1::IngestOp {
        id,
        op: Some(v1::ingest_op::Op::Upsert(any)),
    };
    let status = refused(&fed, batch("b", vec![op])).await;
    assert_names(&status, "ops[0].upsert");
}

/// A record breaking a rule (more vacancies than capacity) refuses the whole
/// batch, naming the field; the valid operation before it is not stored either.
#[tokio::test]
async fn record_breaking_a_rule_refuses_the_whole_batch() {
    let fed = seeded().await;
    let mut sample = places(LAMBETH, 3);
    let (bad_id, mut bad) = sample.remove(2);
    let (good_id, good) = sample.remove(1);
    bad.offers[0].vacancies = bad.offers[0].capacity + 1;
    let status = refused(
        &fed,
        batch("b", vec![upsert(&good_id, good), upsert(&bad_id, bad)]),
    )
    .await;
    assert_names(&status, "ops[1].upsert.offers[0].vacancies");
    assert_eq!(version(&fed, &good_id), None, "the valid op was stored");
}

/// An id outside `[A-Za-z0-9._:-]` is refused naming `ops[0].id`.
#[tokio::test]
async fn malformed_id_is_refused_naming_the_id() {
    let fed = seeded().await;
    let (_, place) = places(LAMBETH, 2).remove(1);
    let status = refused(&fed, batch("b", vec![upsert("has space", place)])).await;
    assert_names(&status, "ops[0].id");
}

/// A provider in another borough is refused naming `borough`: a borough
/// ingests only its own providers.
#[tokio::test]
async fn provider_of_another_borough_is_refused_naming_borough() {
    let fed = seeded().await;
    let (id, place) = places(SOUTHWARK, 1).remove(0);
    let status = refused(&fed, batch("b", vec![upsert(&id, place)])).await;
    assert_names(&status, "ops[0].upsert.borough");
}

/// An operation with neither `upsert` nor `delete` is refused naming it.
#[tokio::test]
async fn operation_without_upsert_or_delete_is_refused() {
    let fed = seeded().await;
    let op = v1::IngestOp {
        id: "nothing".into(),
        op: None,
    };
    let status = refused(&fed, batch("b", vec![op])).await;
    assert_names(&status, "ops[0]");
}

/// Re-sending an identical record writes nothing: it is counted unchanged and
/// the log head does not move.
#[tokio::test]
async fn identical_record_resent_writes_nothing() {
    let fed = seeded().await;
    let before = snapshot(&fed);
    let (_, place) = places(LAMBETH, 1).remove(0);
    let ack = fed.ingest(LAMBETH, vec![(SEEDED.into(), place)]).await;
    assert_eq!((ack.written, ack.unchanged), (0, 1), "{ack:?}");
    assert_eq!(ack.head_seq, before.head);
    assert_eq!(snapshot(&fed), before);
}

/// A changed record gets the next version and exactly one new log entry.
#[tokio::test]
async fn changed_record_gets_a_new_version_and_one_log_entry() {
    let fed = seeded().await;
    let before = snapshot(&fed);
    assert_eq!(before.seeded_version, Some(1));
    let (_, mut place) = places(LAMBETH, 1).remove(0);
    place.offers[0].capacity += 1;
    let ack = fed.ingest(LAMBETH, vec![(SEEDED.into(), place)]).await;
    assert_eq!(ack.written, 1, "{ack:?}");
    let after = snapshot(&fed);
    assert_eq!(after.seeded_version, Some(2));
    assert_eq!(after.head, before.head + 1);
    assert_eq!(ack.head_seq, after.head);
    assert_eq!(after.count, before.count);
}

/// A delete writes a tombstone: one new log entry, and the record is gone.
#[tokio::test]
async fn delete_writes_a_tombstone() {
    let fed = seeded().await;
    let before = snapshot(&fed);
    let ack = fed.delete(LAMBETH, &[SEEDED]).await;
    assert_eq!(ack.deleted, 1, "{ack:?}");
    let after = snapshot(&fed);
    assert_eq!(after.seeded_version, None);
    assert_eq!(after.head, before.head + 1);
    assert_eq!(after.count, before.count - 1);
}

/// Deleting an id that was never stored is counted `not_found` and writes
/// nothing.
#[tokio::test]
async fn deleting_an_unknown_id_counts_not_found() {
    let fed = seeded().await;
    let before = snapshot(&fed);
    let ack = fed.delete(LAMBETH, &["never-stored"]).await;
    assert_eq!((ack.deleted, ack.not_found), (0, 1), "{ack:?}");
    assert_eq!(snapshot(&fed), before);
}

/// Opens `Ingest/Stream` and sends `batches` without waiting for any ack.
async fn stream(
    fed: &Federation,
    batches: Vec<v1::IngestBatch>,
) -> tonic::Streaming<v1::IngestAck> {
    let (tx, rx) = tokio::sync::mpsc::channel(batches.len().max(1));
    for b in batches {
        tx.send(b).await.expect("queue batch");
    }
    drop(tx);
    client(fed)
        .await
        .stream(ReceiverStream::new(rx))
        .await
        .expect("stream opened")
        .into_inner()
}

/// The streaming RPC acknowledges every batch, in the order sent, with its
/// `batch_ref` and the log head after it.
#[tokio::test]
async fn stream_acknowledges_each_batch_in_order() {
    let fed = seeded().await;
    let start = snapshot(&fed).head;
    let sample = places(LAMBETH, 7);
    let batches: Vec<_> = sample[1..]
        .chunks(2)
        .enumerate()
        .map(|(i, chunk)| {
            let ops = chunk.iter().map(|(id, p)| upsert(id, p.clone())).collect();
            batch(&format!("batch-{i}"), ops)
        })
        .collect();
    let mut acks = stream(&fed, batches).await;
    for i in 0..3u64 {
        let ack = acks
            .message()
            .await
            .expect("ack, not an error")
            .expect("one ack per batch");
        assert_eq!(ack.batch_ref, format!("batch-{i}"));
        assert_eq!(ack.written, 2, "{ack:?}");
        assert_eq!(ack.head_seq, start + 2 * (i + 1), "{ack:?}");
    }
    assert!(acks.message().await.expect("clean end").is_none());
    assert_eq!(snapshot(&fed).head, start + 6);
}

/// A bad batch in a stream is refused with INVALID_ARGUMENT naming the field,
/// while the batches before it stay applied.
#[tokio::test]
async fn bad_batch_in_a_stream_is_refused_and_earlier_batches_stay() {
    let fed = seeded().await;
    let start = snapshot(&fed).head;
    let sample = places(LAMBETH, 4);
    let (bad_place, good) = (sample[3].1.clone(), &sample[1..3]);
    let mut batches: Vec<_> = good
        .iter()
        .enumerate()
        .map(|(i, (id, p))| batch(&format!("good-{i}"), vec![upsert(id, p.clone())]))
        .collect();
    batches.push(batch("bad", vec![upsert("has space", bad_place)]));
    let mut acks = stream(&fed, batches).await;
    for i in 0..2 {
        let ack = acks.message().await.expect("ack").expect("ack");
        assert_eq!(ack.batch_ref, format!("good-{i}"));
    }
    let status = acks.message().await.expect_err("the bad batch is refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_names(&status, "ops[0].id");
    for (id, _) in good {
        assert_eq!(version(&fed, id), Some(1), "{id} was not kept");
    }
    assert_eq!(snapshot(&fed).head, start + 2);
}

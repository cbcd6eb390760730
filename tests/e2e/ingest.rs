//! Ingest: a borough's case systems send identifiable input through the Ingest
//! RPC, keyed by their own `local_ref`; the node keeps only the derived shareable
//! record, under a random record id. A malformed batch is refused whole with
//! INVALID_ARGUMENT naming the field at fault, repeats none of the values sent and
//! changes nothing; good batches write exactly what changed; `Erase` removes a
//! record everywhere and forgets its reference.

use borough_model::{Dataset, Geography, RecordId};
use borough_proto::{input_any, v1};
use borough_store::{AuditAction, LocalRef};
use prost::Message;
use tonic::codegen::tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::support::*;

const PLACES: Dataset = Dataset::ChildcarePlaces;
const REQUESTS: Dataset = Dataset::ChildcareRequests;
const EMPLOYMENT: Dataset = Dataset::EmploymentParticipation;

type Client = v1::ingest_client::IngestClient<Channel>;

/// An Ingest client at Lambeth's node as its `system` user.
async fn client(fed: &Federation) -> Client {
    v1::ingest_client::IngestClient::new(fed.client_as(LAMBETH, "system").await)
}

/// Upserts `input` of `dataset` under `local_ref`.
fn upsert_as(dataset: Dataset, local_ref: &str, input: &impl Message) -> v1::IngestOp {
    v1::IngestOp {
        local_ref: local_ref.into(),
        op: Some(v1::ingest_op::Op::Upsert(input_any(dataset, input))),
    }
}

/// Upserts a provider under `local_ref`.
fn upsert(local_ref: &str, provider: &v1::ProviderInput) -> v1::IngestOp {
    upsert_as(PLACES, local_ref, provider)
}

/// An upsert carrying `any` as it is.
fn upsert_any(local_ref: &str, any: prost_types::Any) -> v1::IngestOp {
    v1::IngestOp {
        local_ref: local_ref.into(),
        op: Some(v1::ingest_op::Op::Upsert(any)),
    }
}

fn batch_of(dataset: Dataset, batch_ref: &str, ops: Vec<v1::IngestOp>) -> v1::IngestBatch {
    v1::IngestBatch {
        dataset: dataset.as_str().into(),
        ops,
        batch_ref: batch_ref.into(),
    }
}

fn batch(batch_ref: &str, ops: Vec<v1::IngestOp>) -> v1::IngestBatch {
    batch_of(PLACES, batch_ref, ops)
}

/// The record id Lambeth gave its `local_ref` in `dataset`, if any.
fn record_id_in(fed: &Federation, dataset: Dataset, local_ref: &str) -> Option<RecordId> {
    let local_ref = LocalRef::parse(local_ref).expect("valid local ref");
    fed.store(LAMBETH)
        .resolve_local_ref(dataset, &local_ref)
        .expect("store read")
}

/// The stored version of Lambeth's provider `local_ref`, if it is live.
fn version(fed: &Federation, local_ref: &str) -> Option<u64> {
    let id = fed.record_id(LAMBETH, local_ref)?;
    fed.store(LAMBETH)
        .get(PLACES, gss(LAMBETH), &id)
        .expect("store read")
        .map(|r| r.version.0)
}

/// What a refused request must leave as it was: every dataset's log head and
/// live record count, and the seeded record's version.
#[derive(Debug, PartialEq)]
struct Snapshot {
    /// (dataset, head, count) for every dataset.
    datasets: Vec<(Dataset, u64, u64)>,
    seeded_version: Option<u64>,
}

impl Snapshot {
    fn head(&self, dataset: Dataset) -> u64 {
        self.datasets
            .iter()
            .find(|(d, _, _)| *d == dataset)
            .map(|(_, head, _)| *head)
            .expect("every dataset is snapshotted")
    }

    fn count(&self, dataset: Dataset) -> u64 {
        self.datasets
            .iter()
            .find(|(d, _, _)| *d == dataset)
            .map(|(_, _, count)| *count)
            .expect("every dataset is snapshotted")
    }
}

fn snapshot(fed: &Federation) -> Snapshot {
    let store = fed.store(LAMBETH);
    Snapshot {
        datasets: Dataset::ALL
            .into_iter()
            .map(|d| {
                (
                    d,
                    store.head(d).expect("head").0,
                    store.count(d, gss(LAMBETH)).expect("count"),
                )
            })
            .collect(),
        seeded_version: version(fed, &seeded_ref()),
    }
}

/// The provider every federation here starts with: (local reference, input).
fn seeded_sample() -> (String, v1::ProviderInput) {
    places(LAMBETH, 1).remove(0)
}

fn seeded_ref() -> String {
    seeded_sample().0
}

/// Lambeth providers other than the seeded one.
fn fresh_places(n: usize) -> Vec<(String, v1::ProviderInput)> {
    places(LAMBETH, n + 1).split_off(1)
}

/// The boroughs given, with Lambeth holding one provider (`seeded_sample`),
/// started with `extra` config.
async fn seeded_in(boroughs: &[&str], extra: &str) -> Federation {
    let fed = Federation::start_with(boroughs, &example_agreements(), extra).await;
    let ack = fed.ingest(LAMBETH, vec![seeded_sample()]).await;
    assert_eq!(ack.written, 1, "{ack:?}");
    fed
}

/// Lambeth alone, holding the seeded provider.
async fn seeded() -> Federation {
    seeded_in(&[LAMBETH], FAST_RETRY).await
}

/// Sends `batch` to Lambeth, expects INVALID_ARGUMENT and checks the store did
/// not change.
async fn refused(fed: &Federation, batch: v1::IngestBatch) -> Status {
    let before = snapshot(fed);
    let status = match client(fed).await.apply(batch).await {
        Ok(ack) => panic!("the batch was accepted: {:?}", ack.into_inner()),
        Err(status) => status,
    };
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(snapshot(fed), before, "a refused batch changed the store");
    status
}

/// The message names exactly `field`: `field:` at the start of the message or of
/// one of its listed problems.
#[track_caller]
fn assert_names(status: &Status, field: &str) {
    let message = status.message();
    let named = message
        .match_indices(&format!("{field}:"))
        .any(|(at, _)| at == 0 || message[..at].ends_with(' '));
    assert!(named, "the message does not name `{field}`: {message}");
}

/// `value` as a careless system might hold or echo it: as sent, upper- and
/// lower-case, and each of those without spaces.
fn variants(value: &str) -> Vec<String> {
    let forms = [
        value.to_string(),
        value.to_uppercase(),
        value.to_lowercase(),
    ];
    let mut all: Vec<String> = forms
        .iter()
        .flat_map(|f| [f.clone(), f.replace(' ', "")])
        .collect();
    all.sort();
    all.dedup();
    all
}

/// Fails if `haystack` holds any form of any of `values`.
#[track_caller]
fn assert_holds_none(what: &str, haystack: &[u8], values: &[&str]) {
    for value in values {
        for form in variants(value) {
            let found = haystack.windows(form.len()).any(|w| w == form.as_bytes());
            assert!(!found, "{what} holds the identifiable value {form:?}");
        }
    }
}

/// True if `s` is a 64-digit lower-case hex pseudonym.
fn is_pseudonym(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A Lambeth LSOA: Lambeth has no open postcode lookup, so the LSOA places a home.
fn lambeth_lsoa() -> String {
    Geography::bundled().lsoas_in(gss(LAMBETH))[0].to_string()
}

/// A valid childcare request of a Lambeth family.
fn request_input() -> v1::RequestInput {
    v1::RequestInput {
        parent_ni_number: "AB 12 34 56 C".into(),
        parent_name: "Jordan Quillfeather".into(),
        child_name: "Robin Quillfeather".into(),
        child_date_of_birth: "2023-05-10".into(),
        address: "17 Wisteria Lane".into(),
        postcode: "SW9 7AA".into(),
        lsoa: lambeth_lsoa(),
        lat: "51.46123".into(),
        long: "-0.11507".into(),
        request_date: "2026-02-01".into(),
        start_term: "2026-autumn".into(),
        days: "Mon-Fri".into(),
        opens: "08:00".into(),
        closes: "13:00".into(),
        term_time_only: "yes".into(),
        entitlement: "working-parent".into(),
        hmrc_eligibility_code: "50000000017".into(),
        send_need: "none".into(),
        priorities: "sibling".into(),
        preferences: String::new(),
        max_distance_km: "2.5".into(),
        max_fee_per_hour: "9.00".into(),
    }
}

/// A valid employment participant of Lambeth.
fn participant_input() -> v1::ParticipantInput {
    v1::ParticipantInput {
        ni_number: "AB 12 34 56 C".into(),
        name: "Morgan Quillfeather".into(),
        date_of_birth: "1988-07-14".into(),
        sex: "female".into(),
        postcode: "SW9 7AA".into(),
        lsoa: lambeth_lsoa(),
        programme: "connect-to-work".into(),
        eligibility_group: "disability".into(),
        referral_date: "2026-02-03".into(),
        start_date: "2026-03-10".into(),
        first_earnings_date: "2026-04-21".into(),
        job_outcome_date: String::new(),
        sustained_date: String::new(),
        childcare_barrier: "yes".into(),
    }
}

// ---------------------------------------------------------------------------
// Refused batches
// ---------------------------------------------------------------------------

/// A batch for a dataset the node does not know is refused naming `dataset`.
#[tokio::test]
async fn unknown_dataset_is_refused_naming_dataset() {
    let fed = seeded().await;
    let (local_ref, provider) = fresh_places(1).remove(0);
    let mut b = batch("b", vec![upsert(&local_ref, &provider)]);
    b.dataset = "childcare-waiting-lists".into();
    let status = refused(&fed, b).await;
    assert_names(&status, "dataset");
}

/// A batch with more operations than the node's `max_ingest_batch` is refused
/// naming `ops`.
#[tokio::test]
async fn batch_over_the_size_limit_is_refused_naming_ops() {
    let fed = seeded_in(&[LAMBETH], "\n[limits]\nmax_ingest_batch = 5\n").await;
    let ops: Vec<_> = fresh_places(6).iter().map(|(r, p)| upsert(r, p)).collect();
    assert_eq!(ops.len(), 6);
    let status = refused(&fed, batch("b", ops)).await;
    assert_names(&status, "ops");
}

/// Bytes that do not decode as the dataset's input message are refused naming
/// the operation's `upsert`.
#[tokio::test]
async fn undecodable_input_is_refused_naming_the_upsert() {
    let fed = seeded().await;
    let any = prost_types::Any {
        type_url: "type.googleapis.com/borough.v1.ProviderInput".into(),
        value: b"\xff\xff\xff".to_vec(),
    };
    let status = refused(&fed, batch("b", vec![upsert_any("case-1", any)])).await;
    assert_names(&status, "ops[0].upsert");
}

/// A shareable `ChildcarePlace` is not input: it is refused naming the upsert,
/// even though its bytes are a valid stored record.
#[tokio::test]
async fn shareable_record_instead_of_input_is_refused_naming_the_upsert() {
    let fed = seeded().await;
    let stored = fed
        .held(LAMBETH, LAMBETH, &seeded_ref())
        .expect("the seeded record is stored");
    let any = prost_types::Any {
        type_url: "type.googleapis.com/borough.v1.ChildcarePlace".into(),
        value: stored.encode_to_vec(),
    };
    let status = refused(&fed, batch("b", vec![upsert_any("case-1", any)])).await;
    assert_names(&status, "ops[0].upsert");
}

/// Input of another dataset (a provider sent in an `employment-participation`
/// batch) is refused naming the upsert.
#[tokio::test]
async fn input_of_another_dataset_is_refused_naming_the_upsert() {
    let fed = seeded().await;
    let (local_ref, provider) = fresh_places(1).remove(0);
    let b = batch_of(EMPLOYMENT, "b", vec![upsert(&local_ref, &provider)]);
    let status = refused(&fed, b).await;
    assert_names(&status, "ops[0].upsert");
}

/// A column breaking a rule (more vacancies than capacity) refuses the whole
/// batch, naming the column; the valid operation before it is not stored either.
#[tokio::test]
async fn bad_column_refuses_the_whole_batch() {
    let fed = seeded().await;
    let mut sample = fresh_places(2);
    let (bad_ref, mut bad) = sample.remove(1);
    let (good_ref, good) = sample.remove(0);
    let capacity: u32 = bad.offers[0].capacity.parse().expect("capacity");
    bad.offers[0].vacancies = (capacity + 1).to_string();
    let status = refused(
        &fed,
        batch("b", vec![upsert(&good_ref, &good), upsert(&bad_ref, &bad)]),
    )
    .await;
    assert_names(&status, "ops[1].upsert.offers[0].vacancies");
    assert_eq!(fed.record_id(LAMBETH, &good_ref), None, "op 0 was stored");
}

/// A value outside a column's enumeration is refused naming the column.
#[tokio::test]
async fn unknown_ofsted_grade_is_refused_naming_the_column() {
    let fed = seeded().await;
    let (local_ref, mut provider) = fresh_places(1).remove(0);
    provider.ofsted_grade = "brilliant".into();
    let status = refused(&fed, batch("b", vec![upsert(&local_ref, &provider)])).await;
    assert_names(&status, "ops[0].upsert.ofsted_grade");
}

/// An empty, over-long (more than 128 bytes) or padded `local_ref` is refused
/// naming `ops[0].local_ref`.
#[tokio::test]
async fn malformed_local_ref_is_refused_naming_it() {
    let fed = seeded().await;
    let (_, provider) = fresh_places(1).remove(0);
    for bad in [String::new(), "a".repeat(129), " case-1".to_string()] {
        let status = refused(&fed, batch("b", vec![upsert(&bad, &provider)])).await;
        assert_names(&status, "ops[0].local_ref");
    }
}

/// A borough ingests only its own providers: a Southwark provider (placed there
/// by its LSOA) sent to Lambeth is refused naming `postcode`.
#[tokio::test]
async fn provider_of_another_borough_is_refused_naming_postcode() {
    let fed = seeded().await;
    let (local_ref, provider) = places(SOUTHWARK, 1).remove(0);
    let status = refused(&fed, batch("b", vec![upsert(&local_ref, &provider)])).await;
    assert_names(&status, "ops[0].upsert.postcode");
}

/// An operation with neither `upsert` nor `delete` is refused naming it.
#[tokio::test]
async fn operation_without_upsert_or_delete_is_refused() {
    let fed = seeded().await;
    let op = v1::IngestOp {
        local_ref: "case-1".into(),
        op: None,
    };
    let status = refused(&fed, batch("b", vec![op])).await;
    assert_names(&status, "ops[0]");
}

/// A refusal never repeats a provider's identifiable values: not its name,
/// address, postcode, coordinates or the system's reference.
#[tokio::test]
async fn refusal_never_repeats_a_providers_identifiable_values() {
    let fed = seeded().await;
    let (_, mut provider) = fresh_places(1).remove(0);
    let local_ref = "CASE-7781-QUILL";
    provider.provider_name = "Hazelnut Quillfeather Nursery".into();
    provider.address = "17 Wisteria Lane".into();
    provider.postcode = "SW9 9Z".into(); // malformed
    provider.lat = "48.85661".into(); // Paris
    provider.long = "2.35222".into();
    let status = refused(&fed, batch("b", vec![upsert(local_ref, &provider)])).await;
    assert_names(&status, "ops[0].upsert.postcode");
    assert_names(&status, "ops[0].upsert.lat");
    assert_holds_none(
        "the status message",
        status.message().as_bytes(),
        &[
            local_ref,
            &provider.provider_name,
            &provider.address,
            &provider.postcode,
            &provider.lat,
            &provider.long,
        ],
    );
}

/// A refusal never repeats a participant's identifiable values: not the NI
/// number, name, date of birth or postcode.
#[tokio::test]
async fn refusal_never_repeats_a_participants_identifiable_values() {
    let fed = seeded().await;
    let mut person = participant_input();
    person.ni_number = "QQ 12 34 56 Z".into(); // barred prefix letter
    person.date_of_birth = "2030-01-15".into(); // in the future
    person.postcode = "SW9 7A".into(); // malformed
    let b = batch_of(
        EMPLOYMENT,
        "b",
        vec![upsert_as(EMPLOYMENT, "case-1", &person)],
    );
    let status = refused(&fed, b).await;
    assert_names(&status, "ops[0].upsert.ni_number");
    assert_names(&status, "ops[0].upsert.date_of_birth");
    assert_names(&status, "ops[0].upsert.postcode");
    assert_holds_none(
        "the status message",
        status.message().as_bytes(),
        &[
            &person.ni_number,
            &person.name,
            &person.date_of_birth,
            &person.postcode,
        ],
    );
}

// ---------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------

/// Re-sending an identical input writes nothing: it is counted unchanged, the
/// log head does not move and the record keeps its id.
#[tokio::test]
async fn identical_input_resent_writes_nothing() {
    let fed = seeded().await;
    let before = snapshot(&fed);
    let id = fed.record_id(LAMBETH, &seeded_ref()).expect("record id");
    let ack = fed.ingest(LAMBETH, vec![seeded_sample()]).await;
    assert_eq!((ack.written, ack.unchanged), (0, 1), "{ack:?}");
    assert_eq!(ack.head_seq, before.head(PLACES));
    assert_eq!(snapshot(&fed), before);
    assert_eq!(fed.record_id(LAMBETH, &seeded_ref()), Some(id));
}

/// A changed input gets the next version of the same record and exactly one
/// new log entry.
#[tokio::test]
async fn changed_input_gets_a_new_version_and_one_log_entry() {
    let fed = seeded().await;
    let before = snapshot(&fed);
    assert_eq!(before.seeded_version, Some(1));
    let id = fed.record_id(LAMBETH, &seeded_ref()).expect("record id");
    let (local_ref, mut provider) = seeded_sample();
    let capacity: u32 = provider.offers[0].capacity.parse().expect("capacity");
    provider.offers[0].capacity = (capacity + 1).to_string();
    let ack = fed
        .ingest(LAMBETH, vec![(local_ref.clone(), provider)])
        .await;
    assert_eq!(ack.written, 1, "{ack:?}");
    let after = snapshot(&fed);
    assert_eq!(after.seeded_version, Some(2));
    assert_eq!(after.head(PLACES), before.head(PLACES) + 1);
    assert_eq!(ack.head_seq, after.head(PLACES));
    assert_eq!(after.count(PLACES), before.count(PLACES));
    assert_eq!(fed.record_id(LAMBETH, &local_ref), Some(id));
}

/// A delete by `local_ref` writes a tombstone: one new log entry, and the record
/// is gone.
#[tokio::test]
async fn delete_by_local_ref_writes_a_tombstone() {
    let fed = seeded().await;
    let before = snapshot(&fed);
    let ack = fed
        .delete(LAMBETH, Dataset::ChildcarePlaces, &[&seeded_ref()])
        .await;
    assert_eq!(ack.deleted, 1, "{ack:?}");
    let after = snapshot(&fed);
    assert_eq!(fed.held(LAMBETH, LAMBETH, &seeded_ref()), None);
    assert_eq!(after.seeded_version, None);
    assert_eq!(after.head(PLACES), before.head(PLACES) + 1);
    assert_eq!(ack.head_seq, after.head(PLACES));
    assert_eq!(after.count(PLACES), before.count(PLACES) - 1);
}

/// Deleting a `local_ref` that was never stored is counted `not_found` and
/// writes nothing.
#[tokio::test]
async fn deleting_an_unknown_local_ref_counts_not_found() {
    let fed = seeded().await;
    let before = snapshot(&fed);
    let ack = fed
        .delete(LAMBETH, Dataset::ChildcarePlaces, &["never-stored"])
        .await;
    assert_eq!((ack.deleted, ack.not_found), (0, 1), "{ack:?}");
    assert_eq!(snapshot(&fed), before);
}

// ---------------------------------------------------------------------------
// The local reference stays home
// ---------------------------------------------------------------------------

/// The record id is the node's own choice: neither the `local_ref` nor holding
/// it.
#[tokio::test]
async fn record_id_is_not_the_local_ref() {
    let fed = seeded().await;
    let local_ref = seeded_ref();
    let id = fed.record_id(LAMBETH, &local_ref).expect("record id");
    assert_ne!(id.as_str(), local_ref);
    assert!(
        !id.as_str()
            .to_lowercase()
            .contains(&local_ref.to_lowercase()),
        "the id {id:?} holds the local ref"
    );
}

/// No entry of Lambeth's change log, which is what peers are served, holds the
/// `local_ref`, in its id or its payload.
#[tokio::test]
async fn local_ref_never_appears_in_the_change_log() {
    let fed = seeded().await;
    let local_ref = seeded_ref();
    let mut more = fresh_places(3);
    more[0].1.address = local_ref.clone(); // even written into a dropped column
    fed.ingest(LAMBETH, more.clone()).await;
    let changes = fed
        .store(LAMBETH)
        .changes_since(PLACES, borough_model::Seq(0), usize::MAX)
        .expect("change log");
    assert_eq!(changes.len(), 4, "{changes:?}");
    let refs: Vec<&str> = more
        .iter()
        .map(|(r, _)| r.as_str())
        .chain([local_ref.as_str()])
        .collect();
    for r in refs {
        for change in &changes {
            assert!(
                !change.id.as_str().contains(r),
                "change {} names the local ref",
                change.seq.0
            );
            let payload = change.payload.as_deref().unwrap_or_default();
            assert_holds_none("a change's payload", payload, &[r]);
        }
    }
}

/// After replication Southwark holds Lambeth's record under its random id, and
/// nothing at Southwark (ids, payloads, its own local references, its audit
/// log) holds Lambeth's `local_ref`.
#[tokio::test]
async fn local_ref_never_reaches_a_peer() {
    let fed = seeded_in(&[LAMBETH, SOUTHWARK], FAST_RETRY).await;
    let local_ref = seeded_ref();
    let id = fed.record_id(LAMBETH, &local_ref).expect("record id");
    fed.wait_for(SOUTHWARK, LAMBETH, &local_ref, |_| true).await;
    let southwark = fed.store(SOUTHWARK);
    let records: Vec<_> = southwark
        .records(PLACES, gss(LAMBETH))
        .collect::<Result<_, _>>()
        .expect("records");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].id, id);
    for record in &records {
        assert_holds_none(
            "Southwark's record id",
            record.id.as_str().as_bytes(),
            &[&local_ref],
        );
        assert_holds_none("Southwark's record", &record.payload, &[&local_ref]);
    }
    let parsed = LocalRef::parse(&local_ref).expect("local ref");
    assert_eq!(
        southwark.resolve_local_ref(PLACES, &parsed).expect("read"),
        None
    );
    for entry in southwark.audit().entries() {
        let entry = entry.expect("audit entry").entry;
        assert_holds_none(
            "Southwark's audit log",
            entry.detail.as_bytes(),
            &[&local_ref],
        );
        assert_holds_none(
            "Southwark's audit log",
            entry.actor.as_bytes(),
            &[&local_ref],
        );
    }
}

// ---------------------------------------------------------------------------
// Erase
// ---------------------------------------------------------------------------

async fn erase(fed: &Federation, role: &str, local_ref: &str) -> Result<v1::EraseReply, Status> {
    v1::ingest_client::IngestClient::new(fed.client_as(LAMBETH, role).await)
        .erase(v1::EraseRequest {
            dataset: PLACES.as_str().into(),
            local_ref: local_ref.into(),
        })
        .await
        .map(|r| r.into_inner())
}

/// `Erase` writes a tombstone (its seq is the new log head) and every peer drops
/// the record.
#[tokio::test]
async fn erase_tombstones_the_record_and_peers_drop_it() {
    let fed = seeded_in(&[LAMBETH, SOUTHWARK], FAST_RETRY).await;
    let local_ref = seeded_ref();
    let id = fed.record_id(LAMBETH, &local_ref).expect("record id");
    fed.wait_for(SOUTHWARK, LAMBETH, &local_ref, |_| true).await;
    let before = snapshot(&fed);

    let reply = erase(&fed, "system", &local_ref).await.expect("erased");
    assert!(reply.erased, "{reply:?}");
    let head = fed.store(LAMBETH).head(PLACES).expect("head").0;
    assert_eq!(head, before.head(PLACES) + 1);
    assert_eq!(reply.seq, head);
    let at_lambeth = fed
        .store(LAMBETH)
        .get(PLACES, gss(LAMBETH), &id)
        .expect("read");
    assert_eq!(at_lambeth, None);
    eventually("Southwark to drop the erased record", CONVERGE, || {
        let gone = fed
            .store(SOUTHWARK)
            .get(PLACES, gss(LAMBETH), &id)
            .expect("read")
            .is_none();
        async move { gone.then_some(()) }
    })
    .await;
}

/// After `Erase` the node no longer knows the reference: it resolves to nothing,
/// and the same reference sent again starts a new record under a new id.
#[tokio::test]
async fn erase_forgets_the_local_ref() {
    let fed = seeded().await;
    let local_ref = seeded_ref();
    let old_id = fed.record_id(LAMBETH, &local_ref).expect("record id");
    assert!(
        erase(&fed, "system", &local_ref)
            .await
            .expect("erase")
            .erased
    );
    assert_eq!(fed.record_id(LAMBETH, &local_ref), None);

    fed.ingest(LAMBETH, vec![seeded_sample()]).await;
    let new_id = fed.record_id(LAMBETH, &local_ref).expect("a new record id");
    assert_ne!(new_id, old_id);
    assert_eq!(version(&fed, &local_ref), Some(1));
}

/// An erasure is in the audit log, naming the random record id and never the
/// local reference.
#[tokio::test]
async fn erase_is_audited_without_the_local_ref() {
    let fed = seeded().await;
    let local_ref = seeded_ref();
    let id = fed.record_id(LAMBETH, &local_ref).expect("record id");
    erase(&fed, "system", &local_ref).await.expect("erase");
    let erased: Vec<_> = fed
        .store(LAMBETH)
        .audit()
        .entries()
        .map(|e| e.expect("audit entry").entry)
        .filter(|e| e.action == AuditAction::Erased)
        .collect();
    assert_eq!(erased.len(), 1, "{erased:?}");
    let entry = &erased[0];
    assert_eq!(entry.dataset, Some(PLACES));
    assert!(entry.detail.contains(id.as_str()), "{entry:?}");
    assert_holds_none("the audit detail", entry.detail.as_bytes(), &[&local_ref]);
    assert_holds_none("the audit actor", entry.actor.as_bytes(), &[&local_ref]);
}

/// Erasing a reference with no record (never stored, or already erased) answers
/// `erased: false` and writes nothing.
#[tokio::test]
async fn erasing_an_unknown_or_erased_reference_reports_not_erased() {
    let fed = seeded().await;
    let local_ref = seeded_ref();
    assert!(
        erase(&fed, "system", &local_ref)
            .await
            .expect("erase")
            .erased
    );
    for r in [local_ref.as_str(), "never-stored"] {
        let before = snapshot(&fed);
        let reply = erase(&fed, "system", r).await.expect("erase answered");
        assert!(!reply.erased, "{reply:?}");
        assert_eq!(snapshot(&fed), before);
    }
}

/// Only a `system` certificate may erase: an analyst is refused with
/// PERMISSION_DENIED and the record stays, reference and all.
#[tokio::test]
async fn analyst_may_not_erase() {
    let fed = seeded().await;
    let local_ref = seeded_ref();
    let id = fed.record_id(LAMBETH, &local_ref).expect("record id");
    let before = snapshot(&fed);
    let status = erase(&fed, "analyst", &local_ref)
        .await
        .expect_err("an analyst may not erase");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert_eq!(snapshot(&fed), before);
    assert_eq!(fed.record_id(LAMBETH, &local_ref), Some(id));
}

/// An `Erase` with a malformed reference is refused naming `local_ref`, and
/// nothing changes.
#[tokio::test]
async fn erase_with_a_malformed_local_ref_is_refused_naming_it() {
    let fed = seeded().await;
    for bad in [String::new(), "a".repeat(129)] {
        let before = snapshot(&fed);
        let status = erase(&fed, "system", &bad)
            .await
            .expect_err("a malformed reference is refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_names(&status, "local_ref");
        assert_eq!(snapshot(&fed), before);
    }
}

// ---------------------------------------------------------------------------
// Streaming
// ---------------------------------------------------------------------------

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
    let start = snapshot(&fed).head(PLACES);
    let batches: Vec<_> = fresh_places(6)
        .chunks(2)
        .enumerate()
        .map(|(i, chunk)| {
            let ops = chunk.iter().map(|(r, p)| upsert(r, p)).collect();
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
    assert_eq!(snapshot(&fed).head(PLACES), start + 6);
}

/// A bad batch in a stream is refused with INVALID_ARGUMENT naming the field,
/// while the batches before it stay applied.
#[tokio::test]
async fn bad_batch_in_a_stream_is_refused_and_earlier_batches_stay() {
    let fed = seeded().await;
    let start = snapshot(&fed).head(PLACES);
    let sample = fresh_places(3);
    let (good, bad) = sample.split_at(2);
    let mut batches: Vec<_> = good
        .iter()
        .enumerate()
        .map(|(i, (r, p))| batch(&format!("good-{i}"), vec![upsert(r, p)]))
        .collect();
    batches.push(batch("bad", vec![upsert("", &bad[0].1)]));
    let mut acks = stream(&fed, batches).await;
    for i in 0..2 {
        let ack = acks.message().await.expect("ack").expect("ack");
        assert_eq!(ack.batch_ref, format!("good-{i}"));
    }
    let status = acks.message().await.expect_err("the bad batch is refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_names(&status, "ops[0].local_ref");
    for (r, _) in good {
        assert_eq!(version(&fed, r), Some(1), "{r} was not kept");
    }
    assert_eq!(fed.record_id(LAMBETH, &bad[0].0), None);
    assert_eq!(snapshot(&fed).head(PLACES), start + 2);
}

// ---------------------------------------------------------------------------
// The other datasets
// ---------------------------------------------------------------------------

/// Ingests one input of `dataset` at Lambeth and returns the stored payload.
async fn ingest_one(
    fed: &Federation,
    dataset: Dataset,
    local_ref: &str,
    input: &impl Message,
) -> Vec<u8> {
    let ack = client(fed)
        .await
        .apply(batch_of(
            dataset,
            "one",
            vec![upsert_as(dataset, local_ref, input)],
        ))
        .await
        .expect("input accepted")
        .into_inner();
    assert_eq!(ack.written, 1, "{ack:?}");
    let id = record_id_in(fed, dataset, local_ref).expect("record id");
    fed.store(LAMBETH)
        .get(dataset, gss(LAMBETH), &id)
        .expect("store read")
        .expect("the record is stored")
        .payload
}

/// A childcare request's input is accepted, and only its shareable form is
/// stored: pseudonyms, a postcode sector, an age in months and a term, but no NI
/// number, name, date of birth, full postcode, address, coordinates or HMRC code.
#[tokio::test]
async fn childcare_request_is_stored_only_in_shareable_form() {
    let fed = Federation::start(&[LAMBETH]).await;
    let input = request_input();
    let payload = ingest_one(&fed, REQUESTS, "req-2026-0042", &input).await;
    let stored = v1::ChildcareRequest::decode(&payload[..]).expect("stored payload decodes");
    assert!(is_pseudonym(&stored.parent_pseudonym), "{stored:?}");
    assert!(is_pseudonym(&stored.family_link), "{stored:?}");
    assert_ne!(stored.parent_pseudonym, stored.family_link);
    assert_eq!(stored.home_borough, LAMBETH);
    assert_eq!(stored.postcode_sector, "SW9 7");
    assert_eq!(stored.child_age_months, 39);
    assert_eq!(stored.start_term, "2026-autumn");
    assert!(stored.entitlement_validated);
    assert_holds_none(
        "the stored request",
        &payload,
        &[
            "req-2026-0042",
            &input.parent_ni_number,
            &input.parent_name,
            &input.child_name,
            &input.child_date_of_birth,
            &input.address,
            &input.postcode,
            &input.lsoa,
            &input.lat,
            &input.long,
            &input.request_date,
            &input.hmrc_eligibility_code,
        ],
    );
}

/// An employment participant's input is accepted, and only its shareable form
/// is stored: a pseudonym, an age band and months, but no NI number, name, date
/// of birth, exact date or postcode.
#[tokio::test]
async fn participant_is_stored_only_in_shareable_form() {
    let fed = Federation::start(&[LAMBETH]).await;
    let input = participant_input();
    let payload = ingest_one(&fed, EMPLOYMENT, "ctw-2026-0007", &input).await;
    let stored = v1::EmploymentParticipation::decode(&payload[..]).expect("stored payload decodes");
    assert!(is_pseudonym(&stored.participant), "{stored:?}");
    assert_eq!(stored.delivering_borough, LAMBETH);
    assert_eq!(stored.resident_borough, LAMBETH);
    assert_eq!(stored.age_band, v1::AdultAgeBand::AdultAgeBand3549 as i32);
    assert_eq!(stored.referral_month, "2026-02");
    assert_eq!(stored.start_month, "2026-03");
    assert_eq!(stored.first_earnings_month, "2026-04");
    assert_holds_none(
        "the stored participant",
        &payload,
        &[
            "ctw-2026-0007",
            &input.ni_number,
            &input.name,
            &input.date_of_birth,
            &input.postcode,
            &input.lsoa,
            &input.referral_date,
            &input.start_date,
            &input.first_earnings_date,
        ],
    );
}

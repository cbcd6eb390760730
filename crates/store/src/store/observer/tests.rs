use std::collections::BTreeMap;
use std::sync::Mutex;

use borough_model::{Seq, Version};
use tempfile::TempDir;

use crate::{AuditAction, AuditEntry, AuditOutcome, Change, Ingest, LocalIngest, LocalRef};

use super::*;

const D: Dataset = Dataset::EmploymentParticipation;

fn lambeth() -> GssCode {
    GssCode::parse("E09000022").unwrap()
}

fn southwark() -> GssCode {
    GssCode::parse("E09000028").unwrap()
}

fn id(s: &str) -> RecordId {
    RecordId::parse(s).unwrap()
}

fn entry(action: AuditAction) -> AuditEntry {
    AuditEntry {
        at_unix_ms: 1_700_000_000_000,
        actor: "E09000022/system".into(),
        action,
        dataset: Some(D),
        peer: None,
        records: 1,
        outcome: AuditOutcome::Allowed,
        detail: String::new(),
    }
}

fn peer_change(seq: u64, s: &str, payload: Option<&[u8]>) -> Change {
    Change {
        seq: Seq(seq),
        id: id(s),
        version: Version(seq),
        payload: payload.map(<[u8]>::to_vec),
    }
}

/// A mirror of the live records, built only from what the store tells it.
#[derive(Default)]
struct Mirror {
    records: Mutex<BTreeMap<(Dataset, GssCode, String), Vec<u8>>>,
    calls: Mutex<u64>,
}

impl Observer for Mirror {
    fn records_changed(&self, dataset: Dataset, origin: GssCode, changes: &[RecordChange<'_>]) {
        *self.calls.lock().unwrap() += 1;
        let mut records = self.records.lock().unwrap();
        for change in changes {
            let key = (dataset, origin, change.id.to_string());
            match change.payload {
                Some(payload) => records.insert(key, payload.to_vec()),
                None => records.remove(&key),
            };
        }
    }
}

impl Mirror {
    fn snapshot(&self) -> BTreeMap<(Dataset, GssCode, String), Vec<u8>> {
        self.records.lock().unwrap().clone()
    }
}

/// Every live record the store holds, read back through its public API.
fn live(store: &Store) -> BTreeMap<(Dataset, GssCode, String), Vec<u8>> {
    let mut all = BTreeMap::new();
    for dataset in Dataset::ALL {
        for borough in Borough::all() {
            for record in store.records(dataset, borough.gss) {
                let record = record.unwrap();
                all.insert(
                    (dataset, borough.gss, record.id.to_string()),
                    record.payload,
                );
            }
        }
    }
    all
}

fn attach(store: &Store) -> Arc<Mirror> {
    let mirror = Arc::new(Mirror::default());
    store.observe(mirror.clone()).unwrap();
    mirror
}

#[test]
fn attaching_hands_over_every_live_record_and_no_tombstone() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(dir.path(), lambeth()).unwrap();
    let upserts: Vec<Ingest> = (0..5000)
        .map(|i| Ingest::Upsert {
            id: id(&format!("r{i}")),
            payload: format!("p{i}").into_bytes(),
        })
        .collect();
    store.ingest(D, &upserts).unwrap();
    store.ingest(D, &[Ingest::Delete { id: id("r7") }]).unwrap();
    store
        .apply_peer_batch(
            southwark(),
            D,
            &[peer_change(1, "s1", Some(b"x")), peer_change(2, "s2", None)],
            Seq(2),
        )
        .unwrap();

    let mirror = attach(&store);

    assert_eq!(mirror.snapshot(), live(&store));
    assert_eq!(mirror.snapshot().len(), 5000);
}

#[test]
fn own_writes_updates_deletes_and_erasure_keep_the_observer_exact() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(dir.path(), lambeth()).unwrap();
    let mirror = attach(&store);
    store
        .ingest(
            D,
            &[
                Ingest::Upsert {
                    id: id("a"),
                    payload: b"1".to_vec(),
                },
                Ingest::Upsert {
                    id: id("a"),
                    payload: b"2".to_vec(),
                },
                Ingest::Upsert {
                    id: id("b"),
                    payload: b"3".to_vec(),
                },
                Ingest::Delete { id: id("b") },
            ],
        )
        .unwrap();
    assert_eq!(mirror.snapshot(), live(&store));

    let case = LocalRef::parse("CASE-9").unwrap();
    let mut n = 0;
    store
        .ingest_local(
            D,
            &[LocalIngest::Upsert {
                local_ref: case.clone(),
                payload: b"case".to_vec(),
            }],
            || {
                n += 1;
                id(&format!("c{n}"))
            },
            |_| entry(AuditAction::Ingested),
        )
        .unwrap();
    assert_eq!(mirror.snapshot(), live(&store));
    assert!(mirror
        .snapshot()
        .contains_key(&(D, lambeth(), "c1".to_string())));

    store
        .erase(D, &case, |_| entry(AuditAction::Erased))
        .unwrap();
    assert_eq!(mirror.snapshot(), live(&store));
    assert!(!mirror
        .snapshot()
        .contains_key(&(D, lambeth(), "c1".to_string())));
}

#[test]
fn peer_batches_and_their_tombstones_keep_the_observer_exact() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(dir.path(), lambeth()).unwrap();
    let mirror = attach(&store);
    store
        .apply_peer_batch(
            southwark(),
            D,
            &[
                peer_change(1, "s1", Some(b"one")),
                peer_change(2, "s2", Some(b"two")),
            ],
            Seq(2),
        )
        .unwrap();
    // A stale re-send is skipped by the store, so the observer hears nothing of it.
    store
        .apply_peer_batch(
            southwark(),
            D,
            &[peer_change(1, "s1", Some(b"stale"))],
            Seq(2),
        )
        .unwrap();
    store
        .apply_peer_batch(southwark(), D, &[peer_change(3, "s1", None)], Seq(3))
        .unwrap();
    assert_eq!(mirror.snapshot(), live(&store));
    assert_eq!(
        mirror.snapshot().get(&(D, southwark(), "s2".to_string())),
        Some(&b"two".to_vec())
    );
}

#[test]
fn a_retention_purge_removes_the_replicas_from_the_observer() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(dir.path(), lambeth()).unwrap();
    let mirror = attach(&store);
    store
        .apply_peer_batch_at(
            southwark(),
            D,
            &[peer_change(1, "old", Some(b"o"))],
            Seq(1),
            100,
        )
        .unwrap();
    store
        .apply_peer_batch_at(
            southwark(),
            D,
            &[peer_change(2, "new", Some(b"n"))],
            Seq(2),
            300,
        )
        .unwrap();
    let purged = store
        .purge_replicas(southwark(), D, 200, |_| entry(AuditAction::Purged))
        .unwrap();
    assert_eq!(purged, 1);
    assert_eq!(mirror.snapshot(), live(&store));
    assert_eq!(mirror.snapshot().len(), 1);
}

#[test]
fn a_second_observer_is_refused() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(dir.path(), lambeth()).unwrap();
    attach(&store);
    let err = store.observe(Arc::new(Mirror::default())).unwrap_err();
    assert!(matches!(err, Error::AlreadyObserved { .. }), "{err}");
}

#[test]
fn writes_with_nothing_to_change_do_not_call_the_observer() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(dir.path(), lambeth()).unwrap();
    let mirror = attach(&store);
    let calls = || *mirror.calls.lock().unwrap();
    let before = calls();
    store
        .ingest(D, &[Ingest::Delete { id: id("absent") }])
        .unwrap();
    assert_eq!(calls(), before);
}

use std::path::Path;

use borough_model::{RecordId, Seq, Version};
use tempfile::TempDir;

use crate::codec::{encode_record, record_key, Stamp};
use crate::{AuditAction, AuditOutcome, Change, Ingest};

use super::*;

const D: Dataset = Dataset::ChildcarePlaces;

fn lambeth() -> GssCode {
    GssCode::parse("E09000022").unwrap()
}

fn hackney() -> GssCode {
    GssCode::parse("E09000012").unwrap()
}

fn southwark() -> GssCode {
    GssCode::parse("E09000028").unwrap()
}

fn open(dir: &Path) -> Store {
    Store::open(dir, lambeth()).unwrap()
}

fn id(s: &str) -> RecordId {
    RecordId::parse(s).unwrap()
}

fn change(seq: u64, s: &str, payload: Option<&[u8]>) -> Change {
    Change {
        seq: Seq(seq),
        id: id(s),
        version: Version(seq),
        payload: payload.map(<[u8]>::to_vec),
    }
}

fn purged_entry(n: u64) -> AuditEntry {
    AuditEntry {
        at_unix_ms: 1_700_000_000_000,
        actor: "E09000022/node".into(),
        action: AuditAction::Purged,
        dataset: Some(D),
        peer: Some(hackney()),
        records: n,
        outcome: AuditOutcome::Allowed,
        detail: "retention".into(),
    }
}

fn purge(store: &Store, peer: GssCode, before: u64) -> u64 {
    store.purge_replicas(peer, D, before, purged_entry).unwrap()
}

fn purge_entries(store: &Store) -> Vec<AuditEntry> {
    store
        .audit()
        .entries()
        .map(|r| r.unwrap().entry)
        .filter(|e| e.action == AuditAction::Purged)
        .collect()
}

/// Hackney's p1, p2 applied at t=100 and p3 at t=200.
fn store_with_two_hackney_batches(dir: &Path) -> Store {
    let store = open(dir);
    let first = [change(1, "p1", Some(b"one")), change(2, "p2", Some(b"two"))];
    store
        .apply_peer_batch_at(hackney(), D, &first, Seq(2), 100)
        .unwrap();
    store
        .apply_peer_batch_at(
            hackney(),
            D,
            &[change(3, "p3", Some(b"three"))],
            Seq(3),
            200,
        )
        .unwrap();
    store
}

fn hackney_ids(store: &Store) -> Vec<String> {
    store
        .records(D, hackney())
        .map(|r| r.unwrap().id.to_string())
        .collect()
}

#[test]
fn purge_removes_only_the_peers_records_applied_before_the_cutoff() {
    let dir = TempDir::new().unwrap();
    let store = store_with_two_hackney_batches(dir.path());
    assert_eq!(purge(&store, hackney(), 150), 2);
    assert_eq!(hackney_ids(&store), ["p3"]);
}

#[test]
fn purge_keeps_the_live_count_right() {
    let dir = TempDir::new().unwrap();
    let store = store_with_two_hackney_batches(dir.path());
    purge(&store, hackney(), 150);
    assert_eq!(store.count(D, hackney()).unwrap(), 1);
    drop(store);
    assert_eq!(open(dir.path()).count(D, hackney()).unwrap(), 1);
}

#[test]
fn purge_leaves_own_records_other_peers_and_the_checkpoint_alone() {
    let dir = TempDir::new().unwrap();
    let store = store_with_two_hackney_batches(dir.path());
    store
        .ingest(
            D,
            &[Ingest::Upsert {
                id: id("own"),
                payload: b"x".to_vec(),
            }],
        )
        .unwrap();
    store
        .apply_peer_batch_at(southwark(), D, &[change(1, "s1", Some(b"s"))], Seq(1), 100)
        .unwrap();

    purge(&store, hackney(), 150);
    assert_eq!(store.checkpoint(hackney(), D).unwrap(), Seq(3));
    assert_eq!(store.count(D, lambeth()).unwrap(), 1);
    assert!(store.get(D, lambeth(), &id("own")).unwrap().is_some());
    assert_eq!(store.count(D, southwark()).unwrap(), 1);
    assert!(store.get(D, southwark(), &id("s1")).unwrap().is_some());
    assert_eq!(store.head(D).unwrap(), Seq(1));
}

#[test]
fn purge_audits_once_with_the_number_purged() {
    let dir = TempDir::new().unwrap();
    let store = store_with_two_hackney_batches(dir.path());
    purge(&store, hackney(), 150);
    let entries = purge_entries(&store);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].records, 2);
    store.audit().verify().unwrap();
}

#[test]
fn purging_nothing_writes_no_audit_entry() {
    let dir = TempDir::new().unwrap();
    let store = store_with_two_hackney_batches(dir.path());
    assert_eq!(purge(&store, hackney(), 100), 0);
    assert_eq!(purge(&store, southwark(), u64::MAX), 0);
    assert!(purge_entries(&store).is_empty());
    assert_eq!(store.count(D, hackney()).unwrap(), 3);
}

#[test]
fn purge_removes_peer_tombstones_too() {
    let dir = TempDir::new().unwrap();
    let store = store_with_two_hackney_batches(dir.path());
    store
        .apply_peer_batch_at(hackney(), D, &[change(4, "p3", None)], Seq(4), 300)
        .unwrap();
    assert_eq!(store.count(D, hackney()).unwrap(), 2);
    assert_eq!(purge(&store, hackney(), 400), 3);
    assert_eq!(store.count(D, hackney()).unwrap(), 0);
    assert_eq!(
        store
            .inner
            .state
            .scan_prefix(record_prefix(D, hackney()))
            .count(),
        0
    );
}

#[test]
fn purge_works_through_more_keys_than_one_batch() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let n = PURGE_BATCH as u64 + 5;
    let changes: Vec<Change> = (1..=n)
        .map(|i| change(i, &format!("p{i:06}"), Some(b"x")))
        .collect();
    store
        .apply_peer_batch_at(hackney(), D, &changes, Seq(n), 100)
        .unwrap();
    store
        .apply_peer_batch_at(
            hackney(),
            D,
            &[change(n + 1, "q", Some(b"y"))],
            Seq(n + 1),
            200,
        )
        .unwrap();
    assert_eq!(purge(&store, hackney(), 150), n);
    assert_eq!(store.count(D, hackney()).unwrap(), 1);
    assert_eq!(hackney_ids(&store), ["q"]);
    assert_eq!(purge_entries(&store).len(), 1);
}

#[test]
fn reapplied_record_is_judged_by_its_newest_version_time() {
    let dir = TempDir::new().unwrap();
    let store = store_with_two_hackney_batches(dir.path());
    let update = Change {
        version: Version(10),
        ..change(4, "p1", Some(b"newer"))
    };
    store
        .apply_peer_batch_at(hackney(), D, &[update], Seq(4), 300)
        .unwrap();
    assert_eq!(purge(&store, hackney(), 150), 1);
    assert_eq!(hackney_ids(&store), ["p1", "p3"]);
}

#[test]
fn peer_record_without_an_applied_time_counts_as_applied_at_zero() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    // A version-1 value, as written before applied-at times were recorded.
    let key = record_key(&record_prefix(D, hackney()), &id("old"));
    store
        .inner
        .state
        .insert(key, encode_record(1, 1, Some(b"x"), Stamp::Plain))
        .unwrap();
    assert!(store.get(D, hackney(), &id("old")).unwrap().is_some());
    assert_eq!(purge(&store, hackney(), 1), 1);
    assert!(store.get(D, hackney(), &id("old")).unwrap().is_none());
}

#[test]
fn apply_peer_batch_stamps_the_system_clock() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    store
        .apply_peer_batch(hackney(), D, &[change(1, "p1", Some(b"x"))], Seq(1))
        .unwrap();
    // 2020-01-01: the record was applied after it, and is not purged.
    assert_eq!(purge(&store, hackney(), 1_577_836_800), 0);
    assert_eq!(purge(&store, hackney(), u64::MAX), 1);
}

#[test]
fn purging_own_borough_is_refused() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    store
        .ingest(
            D,
            &[Ingest::Upsert {
                id: id("own"),
                payload: b"x".to_vec(),
            }],
        )
        .unwrap();
    let err = store
        .purge_replicas(lambeth(), D, u64::MAX, purged_entry)
        .unwrap_err();
    assert!(matches!(err, Error::OwnBoroughAsPeer { .. }), "{err:?}");
    assert_eq!(store.count(D, lambeth()).unwrap(), 1);
}

use std::path::Path;

use borough_model::{GssCode, Version};
use tempfile::TempDir;

use crate::{AuditAction, AuditOutcome, Change, Ingest, StoredRecord};

use super::*;

const D: Dataset = Dataset::ChildcarePlaces;

fn lambeth() -> GssCode {
    GssCode::parse("E09000022").unwrap()
}

fn open(dir: &Path) -> Store {
    Store::open(dir, lambeth()).unwrap()
}

fn lref(s: &str) -> LocalRef {
    LocalRef::parse(s).unwrap()
}

fn upsert(local_ref: &str, payload: &[u8]) -> LocalIngest {
    LocalIngest::Upsert {
        local_ref: lref(local_ref),
        payload: payload.to_vec(),
    }
}

fn delete(local_ref: &str) -> LocalIngest {
    LocalIngest::Delete {
        local_ref: lref(local_ref),
    }
}

/// Record ids `n1`, `n2`, ... in the order asked for.
fn ids() -> impl FnMut() -> RecordId {
    let mut next = 0;
    move || {
        next += 1;
        RecordId::parse(&format!("n{next}")).unwrap()
    }
}

fn entry(action: AuditAction, records: u64) -> AuditEntry {
    AuditEntry {
        at_unix_ms: 1_700_000_000_000,
        actor: "E09000022/system".into(),
        action,
        dataset: Some(D),
        peer: None,
        records,
        outcome: AuditOutcome::Allowed,
        detail: String::new(),
    }
}

/// What an ingest did, owning its references (the store's outcome borrows them
/// from the batch).
#[derive(Debug)]
struct Ingested {
    outcome: IngestOutcome,
    mappings: Vec<Mapped>,
}

/// A [`LocalMapping`] owning its reference.
#[derive(Debug)]
struct Mapped {
    local_ref: LocalRef,
    id: RecordId,
    assigned: bool,
}

impl From<LocalIngestOutcome<'_>> for Ingested {
    fn from(out: LocalIngestOutcome<'_>) -> Ingested {
        let mappings = out.mappings.into_iter().map(|m| Mapped {
            local_ref: m.local_ref.clone(),
            id: m.id,
            assigned: m.assigned,
        });
        Ingested {
            outcome: out.outcome,
            mappings: mappings.collect(),
        }
    }
}

fn ingest(store: &Store, batch: &[LocalIngest]) -> Ingested {
    store
        .ingest_local(D, batch, ids(), |o| {
            entry(AuditAction::Ingested, o.written + o.deleted)
        })
        .unwrap()
        .into()
}

/// [`ingest`] for a store that already holds records: ids are numbered on from
/// the log head, which no earlier record's number can pass.
fn ingest_more(store: &Store, batch: &[LocalIngest]) -> Ingested {
    let mut next = store.head(D).unwrap().0;
    let ids = || {
        next += 1;
        RecordId::parse(&format!("n{next}")).unwrap()
    };
    store
        .ingest_local(D, batch, ids, |o| {
            entry(AuditAction::Ingested, o.written + o.deleted)
        })
        .unwrap()
        .into()
}

/// [`ingest`] with ids from `new_id`.
fn ingest_with(store: &Store, batch: &[LocalIngest], new_id: impl FnMut() -> RecordId) -> Ingested {
    store
        .ingest_local(D, batch, new_id, |o| {
            entry(AuditAction::Ingested, o.written)
        })
        .unwrap()
        .into()
}

/// The record `local_ref` resolves to, if any.
fn resolve(store: &Store, local_ref: &str) -> Option<RecordId> {
    store.resolve_local_ref(D, &lref(local_ref)).unwrap()
}

/// The payload of the live record `local_ref` resolves to.
fn payload_of(store: &Store, local_ref: &str) -> Vec<u8> {
    let id = resolve(store, local_ref).expect("the reference resolves");
    store.get(D, lambeth(), &id).unwrap().unwrap().payload
}

fn erase(store: &Store, local_ref: &str) -> Option<Erased> {
    store
        .erase(D, &lref(local_ref), |_| entry(AuditAction::Erased, 1))
        .unwrap()
}

fn all_changes(store: &Store) -> Vec<Change> {
    store.changes_since(D, Seq(0), usize::MAX).unwrap()
}

fn audited(store: &Store, action: AuditAction) -> Vec<AuditEntry> {
    store
        .audit()
        .entries()
        .map(|r| r.unwrap().entry)
        .filter(|e| e.action == action)
        .collect()
}

// --- ingest by local reference -------------------------------------------------

#[test]
fn new_local_ref_is_assigned_an_id_once_and_reused_after() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let first = ingest(&store, &[upsert("CASE-1", b"v1")]);
    assert_eq!(first.mappings.len(), 1);
    assert!(first.mappings[0].assigned);
    let id = first.mappings[0].id.clone();

    let second = ingest(&store, &[upsert("CASE-1", b"v2")]);
    assert_eq!(second.mappings[0].id, id);
    assert!(!second.mappings[0].assigned);
    assert_eq!(resolve(&store, "CASE-1"), Some(id.clone()));
    let record = store.get(D, lambeth(), &id).unwrap().unwrap();
    assert_eq!(
        (record.version, record.payload.as_slice()),
        (Version(2), &b"v2"[..])
    );
    assert_eq!(store.count(D, lambeth()).unwrap(), 1);
}

#[test]
fn same_local_ref_twice_in_one_batch_maps_to_one_id() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let out = ingest(&store, &[upsert("CASE-1", b"a"), upsert("CASE-1", b"b")]);
    assert_eq!(out.mappings.len(), 1);
    assert_eq!(out.outcome.written, 2);
    assert_eq!(store.count(D, lambeth()).unwrap(), 1);
}

#[test]
fn reingesting_the_same_local_payload_is_unchanged() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let batch = [upsert("CASE-1", b"one"), upsert("CASE-2", b"two")];
    ingest(&store, &batch);
    let head = store.head(D).unwrap();

    let again = ingest(&store, &batch);
    assert_eq!((again.outcome.written, again.outcome.unchanged), (0, 2));
    assert_eq!(store.head(D).unwrap(), head);
    assert_eq!(store.count(D, lambeth()).unwrap(), 2);
}

#[test]
fn records_and_their_references_survive_a_reopen_together() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let out = ingest(&store, &[upsert("CASE-1", b"one")]);
    // Dropping without a further flush stands in for the process dying right after
    // the call returned.
    drop(store);

    let store = open(dir.path());
    assert_eq!(resolve(&store, "CASE-1"), Some(out.mappings[0].id.clone()));
    assert_eq!(payload_of(&store, "CASE-1"), b"one");
    let again = ingest(&store, &[upsert("CASE-1", b"one")]);
    assert_eq!(again.outcome.unchanged, 1);
}

#[test]
fn unknown_local_ref_resolves_to_none() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    ingest(&store, &[upsert("CASE-1", b"one")]);
    assert_eq!(resolve(&store, "CASE-2"), None);
}

#[test]
fn local_delete_tombstones_the_record_and_keeps_its_id_for_a_recreated_case() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let id = ingest(&store, &[upsert("CASE-1", b"one")]).mappings[0]
        .id
        .clone();

    let deleted = ingest(&store, &[delete("CASE-1")]);
    assert_eq!(deleted.outcome.deleted, 1);
    assert_eq!(store.get(D, lambeth(), &id).unwrap(), None);
    assert_eq!(resolve(&store, "CASE-1"), Some(id.clone()));

    let recreated = ingest(&store, &[upsert("CASE-1", b"again")]);
    assert_eq!(recreated.mappings[0].id, id);
    let record = store.get(D, lambeth(), &id).unwrap().unwrap();
    assert_eq!(record.version, Version(3));
}

#[test]
fn local_delete_of_unknown_ref_is_not_found_and_assigns_nothing() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let batch = [delete("CASE-9")];
    let out = store
        .ingest_local(
            D,
            &batch,
            || panic!("no id is needed"),
            |o| entry(AuditAction::Ingested, o.deleted),
        )
        .unwrap();
    assert_eq!(out.outcome.not_found, 1);
    assert!(out.mappings.is_empty());
    assert_eq!(resolve(&store, "CASE-9"), None);
}

/// Ingests an own record by id `n1`, with payload `other`, as a borough system
/// naming its own ids would; returns the id.
fn hold_n1_by_id(store: &Store) -> RecordId {
    let taken = RecordId::parse("n1").unwrap();
    let payload = b"other".to_vec();
    let by_id = [Ingest::Upsert {
        id: taken.clone(),
        payload,
    }];
    store.ingest(D, &by_id).unwrap();
    taken
}

/// Asserts that a new case given `taken` (held by [`hold_n1_by_id`]) as its id is
/// refused, naming the id, and that the record holding it is as it was.
fn assert_new_case_refused_for_holding(store: &Store, taken: &RecordId) {
    let err = store
        .ingest_local(D, &[upsert("CASE-1", b"one")], ids(), |o| {
            entry(AuditAction::Ingested, o.written)
        })
        .unwrap_err();
    assert!(
        matches!(&err, Error::RecordIdInUse { id, .. } if id == taken),
        "{err:?}"
    );
    assert_eq!(
        store.get(D, lambeth(), taken).unwrap().unwrap().payload,
        b"other"
    );
}

#[test]
fn new_id_already_held_by_an_own_record_is_refused_and_nothing_written() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let taken = hold_n1_by_id(&store);

    assert_new_case_refused_for_holding(&store, &taken);
    assert_eq!(resolve(&store, "CASE-1"), None);
}

#[test]
fn local_refs_never_appear_in_the_change_log() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    ingest(&store, &[upsert("CASE-SECRET", b"one")]);
    let changes = all_changes(&store);
    assert_eq!(changes.len(), 1);
    assert!(!format!("{changes:?}").contains("SECRET"));
    assert_eq!(changes[0].payload.as_deref(), Some(&b"one"[..]));
}

#[test]
fn ingest_local_is_audited_with_its_outcome() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    ingest(
        &store,
        &[upsert("CASE-1", b"one"), upsert("CASE-2", b"two")],
    );
    let entries = audited(&store, AuditAction::Ingested);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].records, 2);
}

// --- erasure ---------------------------------------------------------------------

#[test]
fn erase_writes_a_tombstone_change_peers_can_pull() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let id = ingest(&store, &[upsert("CASE-1", b"one")]).mappings[0]
        .id
        .clone();
    let mut rx = store.subscribe(D);
    rx.borrow_and_update();

    let erased = erase(&store, "CASE-1").unwrap();
    assert_eq!(
        erased,
        Erased {
            id: id.clone(),
            seq: Seq(2)
        }
    );
    assert!(rx.has_changed().unwrap());
    assert_eq!(*rx.borrow(), Seq(2));
    let changes = store.changes_since(D, Seq(1), 10).unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!((changes[0].seq, &changes[0].id), (Seq(2), &id));
    assert_eq!(changes[0].payload, None);
    assert_eq!(store.get(D, lambeth(), &id).unwrap(), None);
    assert_eq!(store.count(D, lambeth()).unwrap(), 0);
}

#[test]
fn erase_leaves_only_the_tombstone_to_serve() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    ingest(&store, &[upsert("CASE-1", b"one")]);
    erase(&store, "CASE-1").unwrap();
    let changes = all_changes(&store);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(
        (changes[0].seq, changes[0].payload.as_deref()),
        (Seq(2), None)
    );
}

#[test]
fn erase_drops_the_reference_so_it_no_longer_resolves() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    ingest(&store, &[upsert("CASE-1", b"one")]);
    erase(&store, "CASE-1").unwrap();
    assert_eq!(resolve(&store, "CASE-1"), None);
    drop(store);
    let store = open(dir.path());
    assert_eq!(resolve(&store, "CASE-1"), None);
}

#[test]
fn erase_appends_one_audit_entry_naming_the_record() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let id = ingest(&store, &[upsert("CASE-1", b"one")]).mappings[0]
        .id
        .clone();
    let mut seen = None;
    store
        .erase(D, &lref("CASE-1"), |erased| {
            seen = Some(erased.clone());
            entry(AuditAction::Erased, 1)
        })
        .unwrap();
    assert_eq!(seen, Some(id));
    assert_eq!(audited(&store, AuditAction::Erased).len(), 1);
    store.audit().verify().unwrap();
}

#[test]
fn erase_of_unknown_or_already_erased_ref_is_none_and_not_audited() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    assert_eq!(erase(&store, "CASE-1"), None);
    ingest(&store, &[upsert("CASE-1", b"one")]);
    assert!(erase(&store, "CASE-1").is_some());
    assert_eq!(erase(&store, "CASE-1"), None);
    assert_eq!(audited(&store, AuditAction::Erased).len(), 1);
    assert_eq!(store.head(D).unwrap(), Seq(2));
}

#[test]
fn erase_of_a_deleted_record_only_drops_the_reference_from_its_tombstone() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let id = ingest(&store, &[upsert("CASE-1", b"one")]).mappings[0]
        .id
        .clone();
    ingest(&store, &[delete("CASE-1")]);

    let erased = erase(&store, "CASE-1").unwrap();
    assert_eq!(erased, Erased { id, seq: Seq(2) });
    assert_eq!(store.head(D).unwrap(), Seq(2));
    assert_eq!(resolve(&store, "CASE-1"), None);
    assert_eq!(audited(&store, AuditAction::Erased).len(), 1);
}

#[test]
fn erased_case_ingested_again_gets_a_new_id() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let old = ingest(&store, &[upsert("CASE-1", b"one")]).mappings[0]
        .id
        .clone();
    erase(&store, "CASE-1").unwrap();
    let mut next = ids();
    next(); // n1 is the erased record's id
    let batch = [upsert("CASE-1", b"one")];
    let out = store
        .ingest_local(D, &batch, next, |o| entry(AuditAction::Ingested, o.written))
        .unwrap();
    assert_ne!(out.mappings[0].id, old);
    assert!(out.mappings[0].assigned);
}

#[test]
fn new_id_held_by_an_own_record_is_refused_after_a_reopen() {
    let dir = TempDir::new().unwrap();
    let taken = hold_n1_by_id(&open(dir.path()));

    let store = open(dir.path());
    assert_new_case_refused_for_holding(&store, &taken);
}

#[test]
fn new_id_given_twice_in_one_batch_is_refused_and_nothing_written() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let same = || RecordId::parse("n1").unwrap();
    let err = store
        .ingest_local(
            D,
            &[upsert("CASE-1", b"one"), upsert("CASE-2", b"two")],
            same,
            |o| entry(AuditAction::Ingested, o.written),
        )
        .unwrap_err();
    assert!(matches!(&err, Error::RecordIdInUse { .. }), "{err:?}");
    assert_eq!(resolve(&store, "CASE-1"), None);
    assert_eq!(store.count(D, lambeth()).unwrap(), 0);
}

#[test]
fn new_id_below_the_greatest_own_id_is_accepted_when_free() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let high = RecordId::parse("n9").unwrap();
    let payload = b"other".to_vec();
    store
        .ingest(D, &[Ingest::Upsert { id: high, payload }])
        .unwrap();

    let out = ingest(&store, &[upsert("CASE-1", b"one")]);
    assert_eq!(out.mappings[0].id, RecordId::parse("n1").unwrap());
    assert_eq!(store.count(D, lambeth()).unwrap(), 2);
}

#[test]
fn batch_mixing_known_and_new_refs_maps_each_to_the_right_id() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let first: Vec<LocalIngest> = (0..300)
        .map(|i| upsert(&format!("R-{i:03}"), b"v"))
        .collect();
    let known = ingest(&store, &first).mappings;

    let mut fresh = 0;
    for batch in [
        vec!["R-000", "R-150", "R-299", "R-2995"],
        vec!["R-010", "R-0105", "R-011"],
    ] {
        let items: Vec<LocalIngest> = batch.iter().map(|r| upsert(r, b"v")).collect();
        let out = store
            .ingest_local(
                D,
                &items,
                || {
                    fresh += 1;
                    RecordId::parse(&format!("zz{fresh}")).unwrap()
                },
                |o| entry(AuditAction::Ingested, o.written),
            )
            .unwrap();
        for (name, mapping) in batch.iter().zip(&out.mappings) {
            assert_eq!(*mapping.local_ref, lref(name));
            match known.iter().find(|k| k.local_ref == lref(name)) {
                Some(k) => assert_eq!((&mapping.id, mapping.assigned), (&k.id, false)),
                None => assert!(mapping.assigned, "{name}"),
            }
        }
        assert_eq!(out.outcome.written, 1);
        assert_eq!(out.outcome.unchanged, batch.len() as u64 - 1);
    }
}

fn apply(store: &Store, batch: &[LocalIngest], first_id: u32) -> Applied {
    let mut next = first_id;
    store
        .ingest_local_applied(
            D,
            batch,
            || {
                next += 1;
                RecordId::parse(&format!("a{next}")).unwrap()
            },
            |o| entry(AuditAction::Ingested, o.written),
        )
        .unwrap()
        .0
}

#[test]
fn applied_batch_reaches_subscribers_and_the_change_feed_only_when_flushed() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let heads = store.subscribe(D);
    let applied = apply(&store, &[upsert("CASE-1", b"one")], 0);
    assert_eq!(applied.outcome().head, Seq(1));
    assert_eq!(*heads.borrow(), Seq(0));
    assert!(all_changes(&store).is_empty());

    assert_eq!(applied.flush().unwrap().head, Seq(1));
    assert_eq!(*heads.borrow(), Seq(1));
    assert_eq!(all_changes(&store).len(), 1);
}

#[test]
fn next_batch_applies_while_the_one_before_awaits_its_flush() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let first = apply(&store, &[upsert("CASE-1", b"one")], 0);
    let second = apply(&store, &[upsert("CASE-2", b"two")], 10);
    assert_eq!(
        second.outcome().head,
        Seq(2),
        "seqs continue past the unflushed batch"
    );

    // Flushed out of order, the head never goes back.
    assert_eq!(second.flush().unwrap().head, Seq(2));
    assert_eq!(first.flush().unwrap().head, Seq(1));
    assert_eq!(store.head(D).unwrap(), Seq(2));
    assert_eq!(all_changes(&store).len(), 2);
}

// --- where the reference is kept -----------------------------------------------

/// Every stored value in the state tree that holds `text`, as (key, value) pairs.
fn state_values_holding(store: &Store, text: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    store
        .inner
        .state
        .iter()
        .map(Result::unwrap)
        .filter(|(k, v)| {
            let holds = |bytes: &[u8]| bytes.windows(text.len()).any(|w| w == text.as_bytes());
            holds(k) || holds(v)
        })
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect()
}

#[test]
fn a_new_reference_costs_one_key_the_record_itself() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let before = store.inner.state.len();
    ingest(&store, &[upsert("CASE-1", b"one")]);
    ingest_more(
        &store,
        &[upsert("CASE-2", b"two"), upsert("CASE-3", b"three")],
    );
    let record_keys = store
        .inner
        .state
        .scan_prefix(record_prefix(D, lambeth()))
        .count();
    assert_eq!(record_keys, 3);
    // Besides the records: one log run per batch, the head and the count.
    assert_eq!(store.inner.state.len() - before, 3 + 2 + 2);
}

#[test]
fn served_records_never_carry_the_reference() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let id = ingest(&store, &[upsert("CASE-SECRET", b"one")]).mappings[0]
        .id
        .clone();
    assert_eq!(
        store.get(D, lambeth(), &id).unwrap().unwrap().payload,
        b"one"
    );
    let all: Vec<StoredRecord> = store
        .records(D, lambeth())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].payload, b"one");
    assert!(!format!("{all:?}").contains("SECRET"));
}

#[test]
fn erase_drops_the_reference_from_every_stored_value() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    ingest(
        &store,
        &[upsert("CASE-LIVE", b"one"), upsert("CASE-GONE", b"two")],
    );
    ingest_more(&store, &[delete("CASE-GONE")]);
    assert_eq!(state_values_holding(&store, "CASE-LIVE").len(), 1);
    assert_eq!(state_values_holding(&store, "CASE-GONE").len(), 1);

    erase(&store, "CASE-LIVE").unwrap();
    erase(&store, "CASE-GONE").unwrap();
    assert!(state_values_holding(&store, "CASE-LIVE").is_empty());
    assert!(state_values_holding(&store, "CASE-GONE").is_empty());
    drop(store);
    let store = open(dir.path());
    assert_eq!(resolve(&store, "CASE-LIVE"), None);
    assert_eq!(resolve(&store, "CASE-GONE"), None);
}

#[test]
fn change_by_record_id_keeps_the_reference() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let id = ingest(&store, &[upsert("CASE-1", b"one")]).mappings[0]
        .id
        .clone();
    let by_id = [Ingest::Upsert {
        id: id.clone(),
        payload: b"edited".to_vec(),
    }];
    store.ingest(D, &by_id).unwrap();
    store
        .ingest(D, &[Ingest::Delete { id: id.clone() }])
        .unwrap();
    drop(store);

    let store = open(dir.path());
    assert_eq!(resolve(&store, "CASE-1"), Some(id.clone()));
    let again = ingest_more(&store, &[upsert("CASE-1", b"back")]);
    assert_eq!(
        (again.mappings[0].id.clone(), again.mappings[0].assigned),
        (id, false)
    );
}

/// A store whose local index hashes every reference alike.
fn open_colliding(dir: &Path) -> Store {
    let hashing = crate::store::local_index::Hashing::Colliding;
    Store::open_hashing(dir, lambeth(), crate::StoreOptions::default(), hashing).unwrap()
}

#[test]
fn references_sharing_a_hash_each_find_their_own_record() {
    let dir = TempDir::new().unwrap();
    let store = open_colliding(dir.path());
    let first = ingest(&store, &[upsert("CASE-A", b"a"), upsert("CASE-B", b"b")]);
    let second = ingest_more(&store, &[upsert("CASE-C", b"c"), upsert("CASE-B", b"b2")]);
    let id = |name: &str| resolve(&store, name).unwrap();
    assert_eq!(id("CASE-A"), first.mappings[0].id);
    assert_eq!(id("CASE-B"), first.mappings[1].id);
    assert_eq!(id("CASE-C"), second.mappings[0].id);
    assert!(!second.mappings[1].assigned);
    assert_eq!(payload_of(&store, "CASE-B"), b"b2");
    assert_eq!(resolve(&store, "CASE-D"), None);

    erase(&store, "CASE-A").unwrap();
    assert_eq!(resolve(&store, "CASE-A"), None);
    assert_eq!(id("CASE-C"), second.mappings[0].id);
    let (b, c) = (id("CASE-B"), id("CASE-C"));
    drop(store);

    let store = open_colliding(dir.path());
    assert_eq!(resolve(&store, "CASE-B"), Some(b));
    assert_eq!(resolve(&store, "CASE-C"), Some(c));
    assert_eq!(resolve(&store, "CASE-A"), None);
}

#[test]
fn a_reference_repeated_among_others_sharing_its_hash_keeps_one_id() {
    let dir = TempDir::new().unwrap();
    let store = open_colliding(dir.path());
    let batch = [
        upsert("CASE-B", b"b"),
        upsert("CASE-A", b"a1"),
        upsert("CASE-A", b"a2"),
        upsert("CASE-B", b"b2"),
    ];
    let out = ingest(&store, &batch);
    assert_eq!(out.mappings.len(), 2);
    assert_eq!(out.outcome.written, 4);
    assert_eq!(
        (payload_of(&store, "CASE-A"), payload_of(&store, "CASE-B")),
        (b"a2".to_vec(), b"b2".to_vec())
    );
}

#[test]
fn node_style_ids_resolve_erase_and_survive_a_reopen() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let mut n = 0u64;
    let mut hex_ids = || {
        n += 1;
        RecordId::parse(&format!("{n:024x}")).unwrap()
    };
    let batch = [
        upsert("CASE-1", b"one"),
        upsert("CASE-2", b"two"),
        upsert("CASE-1", b"uno"),
    ];
    let out = ingest_with(&store, &batch, &mut hex_ids);
    assert_eq!(out.mappings[0].id.as_str(), format!("{:024x}", 1));
    erase(&store, "CASE-2").unwrap();
    drop(store);

    let store = open(dir.path());
    assert_eq!(resolve(&store, "CASE-1"), Some(out.mappings[0].id.clone()));
    assert_eq!(payload_of(&store, "CASE-1"), b"uno");
    assert_eq!(resolve(&store, "CASE-2"), None);
    let again = ingest_with(&store, &[upsert("CASE-1", b"uno")], &mut hex_ids);
    assert_eq!(
        (again.outcome.unchanged, again.mappings[0].assigned),
        (1, false)
    );
}

#[test]
fn new_id_below_the_greatest_held_by_a_tombstone_is_refused() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let by_id: Vec<Ingest> = ["n1", "n2", "n3"]
        .map(|n| Ingest::Upsert {
            id: RecordId::parse(n).unwrap(),
            payload: b"p".to_vec(),
        })
        .into();
    store.ingest(D, &by_id).unwrap();
    let n2 = RecordId::parse("n2").unwrap();
    store
        .ingest(D, &[Ingest::Delete { id: n2.clone() }])
        .unwrap();

    let err = store
        .ingest_local(
            D,
            &[upsert("CASE-1", b"one")],
            || n2.clone(),
            |o| entry(AuditAction::Ingested, o.written),
        )
        .unwrap_err();
    assert!(
        matches!(&err, Error::RecordIdInUse { id, .. } if *id == n2),
        "{err:?}"
    );
}

use std::path::Path;

use tempfile::TempDir;

use super::*;

const D: Dataset = Dataset::ChildcarePlaces;

fn lambeth() -> GssCode {
    GssCode::parse("E09000022").unwrap()
}

fn hackney() -> GssCode {
    GssCode::parse("E09000012").unwrap()
}

fn id(s: &str) -> RecordId {
    RecordId::parse(s).unwrap()
}

fn upsert(s: &str, payload: &[u8]) -> Ingest {
    Ingest::Upsert {
        id: id(s),
        payload: payload.to_vec(),
    }
}

fn delete(s: &str) -> Ingest {
    Ingest::Delete { id: id(s) }
}

fn change(seq: u64, s: &str, version: u64, payload: Option<&[u8]>) -> Change {
    Change {
        seq: Seq(seq),
        id: id(s),
        version: Version(version),
        payload: payload.map(<[u8]>::to_vec),
    }
}

fn open(dir: &Path) -> Store {
    Store::open(dir, lambeth()).unwrap()
}

/// Log entries as (seq, id, version, is-tombstone).
fn log(store: &Store) -> Vec<(u64, String, u64, bool)> {
    store
        .changes_since(D, Seq(0), usize::MAX)
        .unwrap()
        .into_iter()
        .map(|c| (c.seq.0, c.id.to_string(), c.version.0, c.payload.is_none()))
        .collect()
}

/// Opens the directory with sled directly, waiting out the lock a just-dropped
/// `Store` holds until sled's flusher thread exits.
fn raw_db(dir: &Path) -> sled::Db {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match sled::open(dir) {
            Ok(db) => return db,
            Err(e) if std::time::Instant::now() < deadline => {
                assert!(e.to_string().contains("could not acquire lock"), "{e}");
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("{e}"),
        }
    }
}

fn raw_meta_schema_version(dir: &Path) -> Option<Vec<u8>> {
    let db = raw_db(dir);
    let meta = db.open_tree(META_TREE).unwrap();
    meta.get(SCHEMA_VERSION_KEY).unwrap().map(|v| v.to_vec())
}

// --- opening -------------------------------------------------------------------

#[test]
fn new_directory_gets_the_schema_version() {
    let dir = TempDir::new().unwrap();
    drop(open(dir.path()));
    assert_eq!(
        raw_meta_schema_version(dir.path()),
        Some(SCHEMA_VERSION.to_be_bytes().to_vec())
    );
}

#[test]
fn reopening_keeps_records_and_head() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    store.ingest(D, &[upsert("a", b"one")]).unwrap();
    drop(store);

    let store = open(dir.path());
    assert_eq!(store.head(D).unwrap(), Seq(1));
    let record = store.get(D, lambeth(), &id("a")).unwrap().unwrap();
    assert_eq!(record.payload, b"one");
}

#[test]
fn other_schema_version_is_refused_naming_path_and_versions() {
    let dir = TempDir::new().unwrap();
    drop(open(dir.path()));
    {
        let db = raw_db(dir.path());
        let meta = db.open_tree(META_TREE).unwrap();
        meta.insert(SCHEMA_VERSION_KEY, &99u32.to_be_bytes()[..])
            .unwrap();
        db.flush().unwrap();
    }

    let err = Store::open(dir.path(), lambeth()).unwrap_err();
    match &err {
        Error::UnknownSchemaVersion {
            path,
            found,
            supported,
        } => {
            assert_eq!(path, dir.path());
            assert_eq!((*found, *supported), (99, crate::SCHEMA_VERSION));
        }
        other => panic!("expected UnknownSchemaVersion, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains(&dir.path().display().to_string()), "{text}");
    assert!(
        text.contains("99") && text.contains(&format!("version {}", crate::SCHEMA_VERSION)),
        "{text}"
    );
}

/// Turns a directory into schema version 2's layout, in which `X | tag | ref`
/// keys mapped each local reference to its record id, with `refs` (dataset,
/// reference, record id) as its keys.
fn make_version_two_in(dir: &Path, refs: &[(Dataset, &str, &str)]) {
    let db = raw_db(dir);
    let meta = db.open_tree(META_TREE).unwrap();
    meta.insert(SCHEMA_VERSION_KEY, &2u32.to_be_bytes()[..])
        .unwrap();
    let state = db.open_tree(STATE_TREE).unwrap();
    for (dataset, local_ref, record) in refs {
        let mut key = vec![b'X', dataset.tag()];
        key.extend_from_slice(local_ref.as_bytes());
        state.insert(key, record.as_bytes()).unwrap();
    }
    db.flush().unwrap();
}

/// [`make_version_two_in`], all in dataset `D`.
fn make_version_two(dir: &Path, refs: &[(&str, &str)]) {
    let refs: Vec<(Dataset, &str, &str)> = refs.iter().map(|(r, id)| (D, *r, *id)).collect();
    make_version_two_in(dir, &refs);
}

/// The schema version and whether the moving mark is set, read raw.
fn raw_meta_state(dir: &Path) -> (Option<Vec<u8>>, bool) {
    let db = raw_db(dir);
    let meta = db.open_tree(META_TREE).unwrap();
    let version = meta.get(SCHEMA_VERSION_KEY).unwrap().map(|v| v.to_vec());
    (version, meta.contains_key(MOVING_LOCAL_REFS_KEY).unwrap())
}

fn resolve(store: &Store, local_ref: &str) -> Option<RecordId> {
    let local_ref = LocalRef::parse(local_ref).unwrap();
    store.resolve_local_ref(D, &local_ref).unwrap()
}

#[test]
fn version_two_directory_has_its_local_refs_moved_into_their_records() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    store
        .ingest(D, &[upsert("n1", b"one"), upsert("n2", b"two")])
        .unwrap();
    store.ingest(D, &[delete("n2")]).unwrap();
    drop(store);
    make_version_two(dir.path(), &[("CASE-1", "n1"), ("CASE-2", "n2")]);

    let store = open(dir.path());
    assert_eq!(resolve(&store, "CASE-1"), Some(id("n1")));
    assert_eq!(resolve(&store, "CASE-2"), Some(id("n2")));
    let value = store
        .inner
        .state
        .get(record_key(&record_prefix(D, lambeth()), &id("n1")));
    let value = value.unwrap().unwrap();
    let record = decode_record(b"k", &value).unwrap();
    assert_eq!(
        (record.local_ref, record.payload),
        (Some(&b"CASE-1"[..]), &b"one"[..])
    );
    assert_eq!(store.inner.state.scan_prefix(b"X").count(), 0);
    assert_eq!(
        log(&store),
        vec![(1, "n1".into(), 1, false), (3, "n2".into(), 2, true)]
    );
    drop(store);
    assert_eq!(
        raw_meta_schema_version(dir.path()),
        Some(SCHEMA_VERSION.to_be_bytes().to_vec())
    );
}

#[test]
fn interrupted_move_of_local_refs_carries_on_at_the_next_open() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    store
        .ingest(D, &[upsert("n1", b"one"), upsert("n2", b"two")])
        .unwrap();
    // n1's reference was moved before the interruption: its key is gone.
    let key = record_key(&record_prefix(D, lambeth()), &id("n1"));
    let moved = encode_record(1, 1, Some(b"one"), Stamp::LocalRef(b"CASE-1"));
    store.inner.state.insert(key, moved).unwrap();
    store.flush().unwrap();
    drop(store);
    make_version_two(dir.path(), &[("CASE-2", "n2")]);

    let store = open(dir.path());
    assert_eq!(resolve(&store, "CASE-1"), Some(id("n1")));
    assert_eq!(resolve(&store, "CASE-2"), Some(id("n2")));
    assert_eq!(store.inner.state.scan_prefix(b"X").count(), 0);
}

#[test]
fn moving_many_local_refs_over_datasets_takes_several_batches_and_drops_dangling_ones() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let names: Vec<String> = (0..1500).map(|i| format!("c{i}")).collect();
    let batch: Vec<Ingest> = names.iter().map(|n| upsert(n, b"p")).collect();
    store.ingest(D, &batch).unwrap();
    let other = Dataset::EmploymentParticipation;
    let job = [Ingest::Upsert {
        id: id("j1"),
        payload: b"job".to_vec(),
    }];
    store.ingest(other, &job).unwrap();
    drop(store);
    let refs: Vec<String> = names.iter().map(|n| format!("CASE-{n}")).collect();
    let mut keys: Vec<(Dataset, &str, &str)> = names
        .iter()
        .zip(&refs)
        .map(|(n, r)| (D, r.as_str(), n.as_str()))
        .collect();
    keys.push((other, "JOB-1", "j1"));
    keys.push((D, "CASE-GONE", "absent"));
    make_version_two_in(dir.path(), &keys);

    let store = open(dir.path());
    assert_eq!(resolve(&store, "CASE-c0"), Some(id("c0")));
    assert_eq!(resolve(&store, "CASE-c1499"), Some(id("c1499")));
    let job_ref = LocalRef::parse("JOB-1").unwrap();
    assert_eq!(
        store.resolve_local_ref(other, &job_ref).unwrap(),
        Some(id("j1"))
    );
    assert_eq!(resolve(&store, "CASE-GONE"), None);
    assert_eq!(store.inner.state.scan_prefix(b"X").count(), 0);
    drop(store);
    let version = Some(SCHEMA_VERSION.to_be_bytes().to_vec());
    assert_eq!(raw_meta_state(dir.path()), (version, false));
}

#[test]
fn a_corrupt_version_two_reference_stops_the_open_unshown_and_the_directory_stays_moving() {
    let dir = TempDir::new().unwrap();
    drop(open(dir.path()));
    make_version_two(dir.path(), &[("CASE-SECRET-7", "not an id!")]);

    let err = Store::open(dir.path(), lambeth()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Corrupt { .. }), "{text}");
    assert!(
        !text.contains("SECRET") && !text.contains(&hex::encode(b"SECRET")),
        "{text}"
    );
    // Marked version 3 before anything moved: a version-2 build refuses it now.
    let version = Some(SCHEMA_VERSION.to_be_bytes().to_vec());
    assert_eq!(raw_meta_state(dir.path()), (version, true));
}

#[test]
fn two_version_two_references_naming_one_record_stop_the_open() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    store.ingest(D, &[upsert("n1", b"one")]).unwrap();
    drop(store);
    make_version_two(dir.path(), &[("CASE-1", "n1"), ("CASE-2", "n1")]);

    let err = Store::open(dir.path(), lambeth()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("two version-2 local references"), "{text}");
    assert!(!text.contains("CASE"), "{text}");
}

#[test]
fn an_own_record_that_does_not_decode_stops_the_open() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    store.ingest(D, &[upsert("n1", b"one")]).unwrap();
    drop(store);
    {
        let db = raw_db(dir.path());
        let state = db.open_tree(STATE_TREE).unwrap();
        let key = record_key(&record_prefix(D, lambeth()), &id("n1"));
        state.insert(key, &[0u8; 3][..]).unwrap();
        db.flush().unwrap();
    }

    let err = Store::open(dir.path(), lambeth()).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
}

#[test]
fn directory_with_data_but_no_schema_version_is_refused() {
    let dir = TempDir::new().unwrap();
    {
        let db = raw_db(dir.path());
        db.open_tree(STATE_TREE)
            .unwrap()
            .insert(b"x", b"y")
            .unwrap();
        db.flush().unwrap();
    }
    let err = Store::open(dir.path(), lambeth()).unwrap_err();
    assert!(
        matches!(&err, Error::MissingSchemaVersion { path } if path == dir.path()),
        "{err:?}"
    );
}

#[test]
fn directory_held_by_another_open_store_is_locked() {
    let dir = TempDir::new().unwrap();
    let _first = open(dir.path());
    let err = Store::open(dir.path(), lambeth()).unwrap_err();
    assert!(
        matches!(&err, Error::Locked { path } if path == dir.path()),
        "{err:?}"
    );
}

#[test]
fn directory_of_another_borough_is_refused() {
    let dir = TempDir::new().unwrap();
    drop(open(dir.path()));
    let err = Store::open(dir.path(), hackney()).unwrap_err();
    assert!(
        matches!(err, Error::WrongBorough { stored, requested, .. }
            if stored == lambeth() && requested == hackney()),
        "{err:?}"
    );
}

// --- own ingest ----------------------------------------------------------------

#[test]
fn new_record_gets_version_one_and_seq_one() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let outcome = store.ingest(D, &[upsert("a", b"one")]).unwrap();
    assert_eq!(outcome.written, 1);
    assert_eq!(outcome.head, Seq(1));

    let record = store.get(D, lambeth(), &id("a")).unwrap().unwrap();
    assert_eq!((record.version, record.seq), (Version(1), Seq(1)));
    assert_eq!(record.origin, lambeth());
    assert_eq!(log(&store), vec![(1, "a".into(), 1, false)]);
}

#[test]
fn identical_resend_writes_nothing() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    store.ingest(D, &[upsert("a", b"one")]).unwrap();

    let outcome = store.ingest(D, &[upsert("a", b"one")]).unwrap();
    assert_eq!((outcome.written, outcome.unchanged), (0, 1));
    assert_eq!(outcome.head, Seq(1));
    assert_eq!(store.head(D).unwrap(), Seq(1));
    let record = store.get(D, lambeth(), &id("a")).unwrap().unwrap();
    assert_eq!((record.version, record.seq), (Version(1), Seq(1)));
}

#[test]
fn changed_payload_gets_next_version_and_replaces_its_log_entry() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    store.ingest(D, &[upsert("a", b"one")]).unwrap();

    let outcome = store.ingest(D, &[upsert("a", b"two")]).unwrap();
    assert_eq!(outcome.written, 1);
    let record = store.get(D, lambeth(), &id("a")).unwrap().unwrap();
    assert_eq!((record.version, record.seq), (Version(2), Seq(2)));
    assert_eq!(record.payload, b"two");
    assert_eq!(log(&store), vec![(2, "a".into(), 2, false)]);
}

#[test]
fn delete_writes_a_tombstone_change_and_hides_the_record() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    store
        .ingest(D, &[upsert("a", b"one"), upsert("b", b"bee")])
        .unwrap();
    assert_eq!(store.count(D, lambeth()).unwrap(), 2);

    let outcome = store.ingest(D, &[delete("a")]).unwrap();
    assert_eq!(outcome.deleted, 1);
    assert_eq!(store.get(D, lambeth(), &id("a")).unwrap(), None);
    assert_eq!(store.count(D, lambeth()).unwrap(), 1);
    assert_eq!(
        log(&store),
        vec![(2, "b".into(), 1, false), (3, "a".into(), 2, true)]
    );
}

#[test]
fn delete_of_unknown_or_deleted_record_is_not_found() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    store.ingest(D, &[upsert("a", b"one")]).unwrap();
    store.ingest(D, &[delete("a")]).unwrap();

    let outcome = store.ingest(D, &[delete("nobody"), delete("a")]).unwrap();
    assert_eq!((outcome.deleted, outcome.not_found), (0, 2));
    assert_eq!(outcome.head, Seq(2));
}

#[test]
fn recreate_after_delete_continues_the_version() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    store.ingest(D, &[upsert("a", b"one")]).unwrap();
    store.ingest(D, &[delete("a")]).unwrap();

    store.ingest(D, &[upsert("a", b"again")]).unwrap();
    let record = store.get(D, lambeth(), &id("a")).unwrap().unwrap();
    assert_eq!((record.version, record.seq), (Version(3), Seq(3)));
    assert_eq!(log(&store), vec![(3, "a".into(), 3, false)]);
    assert_eq!(store.count(D, lambeth()).unwrap(), 1);
}

#[test]
fn seqs_are_assigned_without_gaps_across_batches() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let mut changes_made = 0;
    for round in 0..5u8 {
        let batch: Vec<Ingest> = (0..10)
            .map(|i| upsert(&format!("r{i}"), &[round, i]))
            .collect();
        let outcome = store.ingest(D, &batch).unwrap();
        changes_made += outcome.written + outcome.deleted;
        assert_eq!(outcome.head, Seq(changes_made));
    }
    let outcome = store.ingest(D, &[delete("r3"), delete("r4")]).unwrap();
    changes_made += outcome.deleted;
    assert_eq!(store.head(D).unwrap(), Seq(changes_made));
    assert_eq!(changes_made, 52);

    // Only the newest change per record remains, each at a distinct, rising seq.
    let seqs: Vec<u64> = log(&store).iter().map(|(seq, ..)| *seq).collect();
    assert_eq!(seqs.len(), 10);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(seqs.last(), Some(&52));
}

#[test]
fn same_id_twice_in_a_batch_applies_in_order_and_logs_only_the_last() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let outcome = store
        .ingest(
            D,
            &[
                upsert("a", b"one"),
                upsert("a", b"one"),
                upsert("a", b"two"),
            ],
        )
        .unwrap();
    assert_eq!((outcome.written, outcome.unchanged), (2, 1));
    assert_eq!(outcome.head, Seq(2));
    let record = store.get(D, lambeth(), &id("a")).unwrap().unwrap();
    assert_eq!(
        (record.version, record.payload.as_slice()),
        (Version(2), &b"two"[..])
    );
    assert_eq!(log(&store), vec![(2, "a".into(), 2, false)]);
}

#[test]
fn upsert_then_delete_in_one_batch_leaves_only_the_tombstone() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let outcome = store
        .ingest(D, &[upsert("a", b"one"), delete("a")])
        .unwrap();
    assert_eq!((outcome.written, outcome.deleted), (1, 1));
    assert_eq!(store.get(D, lambeth(), &id("a")).unwrap(), None);
    assert_eq!(store.count(D, lambeth()).unwrap(), 0);
    assert_eq!(log(&store), vec![(2, "a".into(), 2, true)]);
}

#[test]
fn records_lists_live_records_of_one_origin_in_id_order() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    store
        .ingest(
            D,
            &[upsert("c", b"3"), upsert("a", b"1"), upsert("b", b"2")],
        )
        .unwrap();
    store.ingest(D, &[delete("b")]).unwrap();
    store
        .apply_peer_batch(hackney(), D, &[change(1, "z", 1, Some(b"peer"))], Seq(1))
        .unwrap();

    let ids: Vec<String> = store
        .records(D, lambeth())
        .map(|r| r.unwrap().id.to_string())
        .collect();
    assert_eq!(ids, ["a", "c"]);
}

#[test]
fn changes_since_honours_since_and_limit() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let batch: Vec<Ingest> = (0..6).map(|i| upsert(&format!("r{i}"), b"x")).collect();
    store.ingest(D, &batch).unwrap();

    let page = store.changes_since(D, Seq(2), 3).unwrap();
    let seqs: Vec<u64> = page.iter().map(|c| c.seq.0).collect();
    assert_eq!(seqs, [3, 4, 5]);
    assert!(store.changes_since(D, Seq(6), 10).unwrap().is_empty());
    assert!(store.changes_since(D, Seq(0), 0).unwrap().is_empty());
    assert!(store
        .changes_since(D, Seq(u64::MAX), 10)
        .unwrap()
        .is_empty());
}

#[test]
fn changes_since_skips_superseded_entries() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    store
        .ingest(
            D,
            &[upsert("a", b"1"), upsert("b", b"1"), upsert("c", b"1")],
        )
        .unwrap();
    store.ingest(D, &[upsert("a", b"2")]).unwrap();

    let page = store.changes_since(D, Seq(0), 2).unwrap();
    let got: Vec<(u64, &str)> = page.iter().map(|c| (c.seq.0, c.id.as_str())).collect();
    assert_eq!(got, [(2, "b"), (3, "c")]);
    let rest = store.changes_since(D, Seq(3), 10).unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(
        (rest[0].seq, rest[0].payload.as_deref()),
        (Seq(4), Some(&b"2"[..]))
    );
}

#[test]
fn changes_since_starts_and_stops_inside_one_batch() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let batch: Vec<Ingest> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|s| upsert(s, s.as_bytes()))
        .collect();
    store.ingest(D, &batch).unwrap();
    let page = store.changes_since(D, Seq(1), 2).unwrap();
    let got: Vec<(u64, &str, Option<&[u8]>)> = page
        .iter()
        .map(|c| (c.seq.0, c.id.as_str(), c.payload.as_deref()))
        .collect();
    assert_eq!(got, [(2, "b", Some(&b"b"[..])), (3, "c", Some(&b"c"[..]))]);
}

#[test]
fn changes_are_read_right_when_other_batches_records_lie_between() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    // The first batch's ids rise (read by one scan); the second's lie between them.
    store
        .ingest(
            D,
            &[upsert("a", b"A"), upsert("c", b"C"), upsert("e", b"E")],
        )
        .unwrap();
    store
        .ingest(D, &[upsert("d", b"D"), upsert("b", b"B")])
        .unwrap();
    let got: Vec<(u64, String, Vec<u8>)> = store
        .changes_since(D, Seq(0), 10)
        .unwrap()
        .into_iter()
        .map(|c| (c.seq.0, c.id.as_str().to_string(), c.payload.unwrap()))
        .collect();
    let want: Vec<(u64, String, Vec<u8>)> = [(1, "a"), (2, "c"), (3, "e"), (4, "d"), (5, "b")]
        .into_iter()
        .map(|(seq, id)| (seq, id.to_string(), id.to_uppercase().into_bytes()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn a_record_changed_twice_in_one_batch_is_served_once_as_it_ends() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    store
        .ingest(
            D,
            &[upsert("a", b"1"), upsert("b", b"1"), upsert("a", b"2")],
        )
        .unwrap();
    let got: Vec<(u64, String, u64)> = store
        .changes_since(D, Seq(0), 10)
        .unwrap()
        .into_iter()
        .map(|c| (c.seq.0, c.id.as_str().to_string(), c.version.0))
        .collect();
    assert_eq!(got, [(2, "b".to_string(), 1), (3, "a".to_string(), 2)]);
}

#[test]
fn subscriber_receives_the_new_head_after_ingest() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let mut rx = store.subscribe(D);
    assert_eq!(*rx.borrow_and_update(), Seq(0));

    store
        .ingest(D, &[upsert("a", b"1"), upsert("b", b"1")])
        .unwrap();
    assert!(rx.has_changed().unwrap());
    assert_eq!(*rx.borrow_and_update(), Seq(2));

    store.ingest(D, &[upsert("a", b"1")]).unwrap();
    assert!(
        !rx.has_changed().unwrap(),
        "an unchanged resend must not notify"
    );
}

// --- peer batches --------------------------------------------------------------

#[test]
fn peer_batch_records_and_checkpoint_are_visible_together() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let changes = [
        change(4, "p1", 1, Some(b"one")),
        change(7, "p2", 3, Some(b"two")),
    ];
    store
        .apply_peer_batch(hackney(), D, &changes, Seq(7))
        .unwrap();

    assert_eq!(store.checkpoint(hackney(), D).unwrap(), Seq(7));
    let record = store.get(D, hackney(), &id("p2")).unwrap().unwrap();
    assert_eq!(
        (record.origin, record.version, record.seq),
        (hackney(), Version(3), Seq(7))
    );
    assert_eq!(store.count(D, hackney()).unwrap(), 2);
    // Peer records do not enter this node's own log.
    assert_eq!(store.head(D).unwrap(), Seq(0));
    assert!(log(&store).is_empty());
}

#[test]
fn peer_tombstone_removes_the_record() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    store
        .apply_peer_batch(hackney(), D, &[change(1, "p1", 1, Some(b"one"))], Seq(1))
        .unwrap();
    store
        .apply_peer_batch(hackney(), D, &[change(2, "p1", 2, None)], Seq(2))
        .unwrap();

    assert_eq!(store.get(D, hackney(), &id("p1")).unwrap(), None);
    assert_eq!(store.count(D, hackney()).unwrap(), 0);
    assert_eq!(store.records(D, hackney()).count(), 0);
}

#[test]
fn reapplying_a_peer_batch_is_a_no_op() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let changes = [
        change(1, "p1", 1, Some(b"one")),
        change(2, "p2", 1, Some(b"two")),
    ];
    store
        .apply_peer_batch(hackney(), D, &changes, Seq(2))
        .unwrap();
    store
        .apply_peer_batch(hackney(), D, &changes, Seq(2))
        .unwrap();

    assert_eq!(store.count(D, hackney()).unwrap(), 2);
    assert_eq!(store.checkpoint(hackney(), D).unwrap(), Seq(2));
    let record = store.get(D, hackney(), &id("p1")).unwrap().unwrap();
    assert_eq!(
        (record.version, record.payload.as_slice()),
        (Version(1), &b"one"[..])
    );
}

#[test]
fn stale_peer_change_does_not_overwrite_a_newer_one() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    store
        .apply_peer_batch(hackney(), D, &[change(5, "p1", 2, Some(b"new"))], Seq(5))
        .unwrap();
    store
        .apply_peer_batch(hackney(), D, &[change(1, "p1", 1, Some(b"old"))], Seq(5))
        .unwrap();

    let record = store.get(D, hackney(), &id("p1")).unwrap().unwrap();
    assert_eq!(
        (record.version, record.payload.as_slice()),
        (Version(2), &b"new"[..])
    );
}

#[test]
fn peer_batch_naming_own_borough_is_refused() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let err = store
        .apply_peer_batch(lambeth(), D, &[change(1, "a", 1, Some(b"x"))], Seq(1))
        .unwrap_err();
    assert!(matches!(err, Error::OwnBoroughAsPeer { .. }), "{err:?}");
    assert_eq!(store.get(D, lambeth(), &id("a")).unwrap(), None);
    assert_eq!(store.checkpoint(lambeth(), D).unwrap(), Seq(0));
}

#[test]
fn peer_change_beyond_the_checkpoint_is_refused() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let err = store
        .apply_peer_batch(hackney(), D, &[change(9, "p1", 1, Some(b"x"))], Seq(5))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ChangeBeyondCheckpoint {
                seq: 9,
                up_to: 5,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(store.checkpoint(hackney(), D).unwrap(), Seq(0));
}

#[test]
fn applied_peer_batch_survives_the_process_dying() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let changes: Vec<Change> = (1..=100)
        .map(|i| change(i, &format!("p{i:03}"), 1, Some(b"x")))
        .collect();
    store
        .apply_peer_batch(hackney(), D, &changes, Seq(100))
        .unwrap();
    // Dropping without a further flush stands in for the process dying right after
    // the call returned.
    drop(store);

    let store = open(dir.path());
    assert_eq!(store.checkpoint(hackney(), D).unwrap(), Seq(100));
    assert_eq!(store.count(D, hackney()).unwrap(), 100);
    assert_eq!(store.records(D, hackney()).count(), 100);
}

/// Set (to a directory) only in the child process of the abort test below.
const CRASH_DIR_ENV: &str = "BOROUGH_STORE_TEST_CRASH_DIR";

/// In the child process: applies a peer batch and then aborts at once, with no
/// destructors run, as a crashing process would. Without the variable it is the
/// parent's test run and there is nothing to do.
#[test]
fn crash_child_applies_a_peer_batch_then_aborts() {
    let Some(dir) = std::env::var_os(CRASH_DIR_ENV) else {
        return;
    };
    let store = open(Path::new(&dir));
    let changes: Vec<Change> = (1..=1000)
        .map(|i| change(i, &format!("p{i:04}"), 1, Some(b"x")))
        .collect();
    store
        .apply_peer_batch(hackney(), D, &changes, Seq(1000))
        .unwrap();
    std::process::abort();
}

#[test]
fn peer_batch_survives_an_abort_right_after_apply() {
    let dir = TempDir::new().unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "store::tests::crash_child_applies_a_peer_batch_then_aborts",
            "--test-threads=1",
            "--quiet",
        ])
        .env(CRASH_DIR_ENV, dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child should have aborted");

    let store = open(dir.path());
    assert_eq!(store.checkpoint(hackney(), D).unwrap(), Seq(1000));
    assert_eq!(store.count(D, hackney()).unwrap(), 1000);
    assert_eq!(store.records(D, hackney()).count(), 1000);
}

#[test]
fn store_can_be_shared_across_threads_and_tasks() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<Store>();
}

#[test]
fn concurrent_ingests_get_distinct_gap_free_seqs() {
    let dir = TempDir::new().unwrap();
    let store = open(dir.path());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for b in 0..10 {
                    let batch: Vec<Ingest> = (0..10)
                        .map(|i| upsert(&format!("t{t}-b{b}-r{i}"), b"x"))
                        .collect();
                    store.ingest(D, &batch).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }

    assert_eq!(store.head(D).unwrap(), Seq(400));
    let seqs: Vec<u64> = log(&store).iter().map(|(seq, ..)| *seq).collect();
    assert_eq!(seqs, (1..=400).collect::<Vec<u64>>());
    assert_eq!(store.count(D, lambeth()).unwrap(), 400);
}

use tempfile::TempDir;

use super::*;
use crate::Store;

fn lambeth() -> GssCode {
    GssCode::parse("E09000022").unwrap()
}

fn entry(n: u64) -> AuditEntry {
    AuditEntry {
        at_unix_ms: 1_700_000_000_000 + n,
        actor: "E09000012/node".into(),
        action: AuditAction::Disclosed,
        dataset: Some(Dataset::ChildcarePlaces),
        peer: Some(GssCode::parse("E09000012").unwrap()),
        records: n,
        outcome: AuditOutcome::Allowed,
        detail: format!("batch {n}"),
    }
}

/// A store whose audit log holds entries 0..n.
fn store_with_entries(dir: &TempDir, n: u64) -> Store {
    let store = Store::open(dir.path(), lambeth()).unwrap();
    for i in 0..n {
        store.audit().append(entry(i)).unwrap();
    }
    store
}

fn broken_index(store: &Store) -> u64 {
    match store.audit().verify() {
        Err(Error::AuditChainBroken { index, .. }) => index,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[test]
fn appended_entries_read_back_in_order() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(dir.path(), lambeth()).unwrap();
    let refused = AuditEntry {
        action: AuditAction::Refused,
        dataset: None,
        peer: None,
        outcome: AuditOutcome::Refused,
        ..entry(0)
    };
    let first = store.audit().append(refused.clone()).unwrap();
    let second = store.audit().append(entry(1)).unwrap();
    assert_eq!((first.index, second.index), (0, 1));
    assert_eq!(first.prev_hash, [0; 32]);
    assert_eq!(second.prev_hash, first.hash);

    let read: Vec<AuditRecord> = store.audit().entries().map(Result::unwrap).collect();
    assert_eq!(read, vec![first, second]);
    assert_eq!(read[0].entry, refused);
}

#[test]
fn intact_chain_verifies() {
    let dir = TempDir::new().unwrap();
    let store = store_with_entries(&dir, 5);
    assert_eq!(store.audit().verify().unwrap(), 5);
}

#[test]
fn empty_log_verifies() {
    let dir = TempDir::new().unwrap();
    let store = store_with_entries(&dir, 0);
    assert_eq!(store.audit().verify().unwrap(), 0);
}

#[test]
fn chain_continues_across_reopen() {
    let dir = TempDir::new().unwrap();
    let store = store_with_entries(&dir, 3);
    store.flush().unwrap();
    drop(store);

    let store = Store::open(dir.path(), lambeth()).unwrap();
    let next = store.audit().append(entry(3)).unwrap();
    assert_eq!(next.index, 3);
    assert_eq!(store.audit().verify().unwrap(), 4);
}

#[test]
fn edited_entry_breaks_the_chain_at_its_index() {
    let dir = TempDir::new().unwrap();
    let store = store_with_entries(&dir, 4);
    let tree = store.audit().raw_tree();
    let key = 2u64.to_be_bytes();
    let original = String::from_utf8(tree.get(key).unwrap().unwrap().to_vec()).unwrap();
    let edited = original.replace("batch 2", "batch 9");
    assert_ne!(original, edited);
    tree.insert(key, edited.as_bytes()).unwrap();

    assert_eq!(broken_index(&store), 2);
}

#[test]
fn removed_entry_breaks_the_chain_at_its_index() {
    let dir = TempDir::new().unwrap();
    let store = store_with_entries(&dir, 4);
    store.audit().raw_tree().remove(1u64.to_be_bytes()).unwrap();

    assert_eq!(broken_index(&store), 1);
}

#[test]
fn removed_last_entry_is_detected() {
    let dir = TempDir::new().unwrap();
    let store = store_with_entries(&dir, 4);
    store.audit().raw_tree().remove(3u64.to_be_bytes()).unwrap();

    assert_eq!(broken_index(&store), 3);
}

#[test]
fn swapped_entries_break_the_chain() {
    let dir = TempDir::new().unwrap();
    let store = store_with_entries(&dir, 4);
    let tree = store.audit().raw_tree();
    let one = tree.get(1u64.to_be_bytes()).unwrap().unwrap();
    let two = tree.get(2u64.to_be_bytes()).unwrap().unwrap();
    tree.insert(1u64.to_be_bytes(), two).unwrap();
    tree.insert(2u64.to_be_bytes(), one).unwrap();

    assert_eq!(broken_index(&store), 1);
}

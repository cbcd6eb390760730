use super::*;
use crate::fixtures::*;
use crate::repeats::Refs;

fn op(local_ref: &str, bytes: usize) -> v1::IngestOp {
    v1::IngestOp {
        local_ref: local_ref.into(),
        op: Some(v1::ingest_op::Op::Upsert(prost_types::Any {
            type_url: String::new(),
            value: vec![0; bytes],
        })),
    }
}

#[test]
fn a_providers_consecutive_rows_form_one_record() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        place("P1", "2", "8"),
        place("P1", "3-4", "24"),
        place("P2", "3-4", "10"),
    ];
    let path = write(dir.path(), "p.csv", PLACE_HEADER, &rows);
    let found = groups(&path, Dataset::ChildcarePlaces);
    let spans: Vec<(u64, u64)> = found
        .iter()
        .map(|g| (g.first_line(), g.last_line()))
        .collect();
    assert_eq!(spans, [(2, 3), (4, 4)]);
}

#[test]
fn rows_of_other_datasets_are_one_record_each() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        participant("E1", "1990-06-15"),
        participant("E1", "1990-06-15"),
    ];
    let path = write(dir.path(), "p.csv", PARTICIPANT_HEADER, &rows);
    assert_eq!(groups(&path, Dataset::EmploymentParticipation).len(), 2);
}

#[test]
fn a_reference_used_again_later_is_noted_with_its_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        place("P1", "2", "8"),
        place("P2", "3-4", "10"),
        place("P1", "3-4", "24"),
    ];
    let path = write(dir.path(), "p.csv", PLACE_HEADER, &rows);
    let repeats: Vec<Option<u64>> = groups(&path, Dataset::ChildcarePlaces)
        .iter()
        .map(|g| g.repeats)
        .collect();
    assert_eq!(repeats, [None, None, Some(2)]);
}

#[test]
fn a_second_reading_passes_only_records_that_were_good_and_repeat_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        participant("E1", "1990-06-15"),
        participant("E2", "1990-06-15"),
        participant("E3", "1990-06-15"),
        participant("E1", "1990-06-15"),
    ];
    let path = write(dir.path(), "p.csv", PARTICIPANT_HEADER, &rows);
    let dataset = Dataset::EmploymentParticipation;
    let mut refs = Refs::new(&path, &tiny_runs());
    for (line, local_ref) in [(2, "E1"), (3, "E2"), (4, "E3"), (5, "E1")] {
        refs.note(local_ref, line).unwrap();
    }
    // Line 3 had something to report the first time.
    refs.reported(3).unwrap();
    let source = Source::open(&path, dataset).expect("opens");
    let format = source.format();
    let references = References::Rechecked(refs.finish().unwrap());
    let passed: Vec<bool> = Grouper::new(source, dataset, format, references)
        .map(|g| g.expect("reads").passed)
        .collect();
    assert_eq!(passed, [true, false, true, false]);
}

#[test]
fn jsonl_providers_are_one_record_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [place_json("P1", &["8", "24"]), place_json("P2", &["10"])];
    let path = write(dir.path(), "p.jsonl", "", &lines);
    assert_eq!(groups(&path, Dataset::ChildcarePlaces).len(), 2);
}

#[test]
fn a_batch_holds_at_most_its_record_limit() {
    let mut batcher = Batcher::new(Dataset::ChildcarePlaces, 2, usize::MAX);
    let mut sizes = Vec::new();
    for (i, r) in ["A", "B", "C", "D", "E"].iter().enumerate() {
        let line = i as u64 + 2;
        if let Some(batch) = batcher.push(op(r, 10), line, line) {
            sizes.push((batch.message.ops.len(), batch.first_line, batch.last_line));
        }
    }
    let last = batcher.finish().expect("a partial batch is left");
    sizes.push((last.message.ops.len(), last.first_line, last.last_line));
    assert_eq!(sizes, [(2, 2, 3), (2, 4, 5), (1, 6, 6)]);
}

#[test]
fn a_batch_closes_before_it_would_exceed_its_byte_budget() {
    let mut batcher = Batcher::new(Dataset::ChildcarePlaces, 100, 300);
    assert!(batcher.push(op("A", 200), 2, 2).is_none());
    let closed = batcher.push(op("B", 200), 3, 3).expect("A's batch closes");
    assert_eq!(closed.message.ops.len(), 1);
}

#[test]
fn batches_are_numbered_and_name_their_dataset() {
    let mut batcher = Batcher::new(Dataset::ChildcareRequests, 1, usize::MAX);
    batcher.push(op("A", 1), 2, 2);
    let first = batcher.push(op("B", 1), 3, 3).expect("closed");
    let second = batcher.finish().expect("partial");
    assert_eq!(
        (
            first.message.batch_ref.as_str(),
            second.message.batch_ref.as_str()
        ),
        ("import-1", "import-2")
    );
    assert_eq!(first.message.dataset, "childcare-requests");
    assert!(batcher.finish().is_none());
}

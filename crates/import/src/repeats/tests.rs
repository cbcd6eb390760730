use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::fixtures::{tiny_runs, unusable_spill};

/// The repeats among references noted on lines 2, 3, … in turn, sorted as
/// `spill` says: `(line, earlier line)`, taken in file order.
fn repeats_of(refs: &[&str], spill: &Spill) -> Result<Vec<(u64, u64)>, Error> {
    let mut noted = Refs::new(Path::new("people.csv"), spill);
    for (line, local_ref) in (2..).zip(refs) {
        noted.note(local_ref, line)?;
    }
    let mut repeats = noted.finish()?.repeats;
    let mut found = Vec::new();
    for line in (2..).take(refs.len()) {
        if let Some(earlier) = repeats.get(line)? {
            found.push((line, earlier));
        }
    }
    Ok(found)
}

/// What a map of every reference to its first line finds.
fn naive_repeats(refs: &[&str]) -> Vec<(u64, u64)> {
    let mut first: HashMap<&str, u64> = HashMap::new();
    let mut found = Vec::new();
    for (line, local_ref) in (2..).zip(refs) {
        match first.get(local_ref) {
            Some(&earlier) => found.push((line, earlier)),
            None => {
                first.insert(local_ref, line);
            }
        }
    }
    found
}

#[test]
fn references_used_once_repeat_nothing() {
    let found = repeats_of(&["A", "B", "C", "D", "E", "F", "G"], &tiny_runs()).unwrap();
    assert_eq!(found, []);
}

#[test]
fn a_repeat_is_found_across_a_run_boundary() {
    // Runs of three: A's first line is in the first run, its repeat in the second.
    let found = repeats_of(&["A", "B", "C", "D", "A"], &tiny_runs()).unwrap();
    assert_eq!(found, [(6, 2)]);
}

#[test]
fn every_repeat_of_a_reference_names_its_first_line() {
    let found = repeats_of(&["A", "B", "A", "C", "D", "A", "E", "A"], &tiny_runs()).unwrap();
    assert_eq!(found, [(4, 2), (7, 2), (9, 2)]);
}

#[test]
fn repeats_are_taken_in_file_order() {
    let refs = ["A", "B", "C", "C", "B", "A", "D", "B", "C", "A"];
    let found = repeats_of(&refs, &tiny_runs()).unwrap();
    assert_eq!(found, [(5, 4), (6, 3), (7, 2), (9, 3), (10, 4), (11, 2)]);
}

#[test]
fn the_repeats_are_counted() {
    let mut noted = Refs::new(Path::new("people.csv"), &tiny_runs());
    for (line, local_ref) in (2..).zip(["A", "A", "B", "A", "B"]) {
        noted.note(local_ref, line).unwrap();
    }
    assert_eq!(noted.finish().unwrap().repeats.count(), 3);
}

#[test]
fn a_line_asked_out_of_order_is_not_found() {
    let mut noted = Refs::new(Path::new("people.csv"), &tiny_runs());
    for (line, local_ref) in (2..).zip(["A", "A", "A"]) {
        noted.note(local_ref, line).unwrap();
    }
    let mut repeats = noted.finish().unwrap().repeats;
    assert_eq!(repeats.get(4).unwrap(), Some(2));
    assert_eq!(repeats.get(3).unwrap(), None);
}

#[test]
fn fewer_references_than_a_run_never_touch_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let spill = Spill {
        dir: Some(dir.path().join("absent")),
        ..Spill::default()
    };
    let found = repeats_of(&["A", "B", "A"], &spill).unwrap();
    assert_eq!(found, [(4, 2)]);
}

#[test]
fn a_temporary_folder_that_cannot_be_used_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (not_a_folder, spill) = unusable_spill(dir.path());
    let err = repeats_of(&["A", "B", "C", "D"], &spill).unwrap_err();
    let Error::Spill {
        file, dir, what, ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(
        (file.as_path(), dir.as_path(), *what),
        (Path::new("people.csv"), not_a_folder.as_path(), "create")
    );
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "people.csv: cannot create a temporary file in {}",
            not_a_folder.display()
        )) && text.contains("TMPDIR"),
        "{text}"
    );
}

proptest! {
    #[test]
    fn the_repeats_are_those_a_map_of_every_reference_finds(
        refs in proptest::collection::vec("[A-F]", 0..60),
        run in 1..8usize,
    ) {
        let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
        let spill = Spill { run, dir: None };
        let found = repeats_of(&refs, &spill).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(found, naive_repeats(&refs));
    }
}

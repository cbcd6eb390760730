use super::*;
use crate::fixtures::*;

/// Checks every record of a file written from `header` and `rows`.
fn check_file(name: &str, dataset: Dataset, header: &str, rows: &[String]) -> Vec<Checked> {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), name, header, rows);
    let format = Format::of(&path).expect("a known format");
    let checker = Checker::new(dataset, format, lewisham());
    groups(&path, dataset)
        .iter()
        .map(|g| checker.check(g))
        .collect()
}

fn problems(checked: &Checked) -> Vec<(u64, String)> {
    match checked {
        Checked::Good { .. } | Checked::Passed => vec![],
        Checked::Bad { problems, .. } => {
            problems.iter().map(|p| (p.line, p.field.clone())).collect()
        }
    }
}

fn problem_texts(checked: &[Checked]) -> String {
    checked
        .iter()
        .flat_map(|c| match c {
            Checked::Good { flags, .. } => flags.clone(),
            Checked::Passed => vec![],
            Checked::Bad { problems, left_out } => {
                problems.iter().chain(left_out).cloned().collect()
            }
        })
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_good_row_becomes_an_upsert_under_its_local_ref() {
    let checked = check_file(
        "r.csv",
        Dataset::ChildcareRequests,
        REQUEST_HEADER,
        &[request("REQ-1")],
    );
    let Checked::Good { op, flags } = &checked[0] else {
        panic!("{}", problem_texts(&checked));
    };
    assert_eq!(op.local_ref, "REQ-1");
    assert!(flags.is_empty());
    let Some(v1::ingest_op::Op::Upsert(any)) = &op.op else {
        panic!("not an upsert")
    };
    assert!(Input::from_any(Dataset::ChildcareRequests, any).is_ok());
}

#[test]
fn a_good_row_of_each_dataset_passes() {
    let places = check_file(
        "p.csv",
        Dataset::ChildcarePlaces,
        PLACE_HEADER,
        &[place("P1", "3-4", "24")],
    );
    let people = check_file(
        "e.csv",
        Dataset::EmploymentParticipation,
        PARTICIPANT_HEADER,
        &[participant("E1", "1990-06-15")],
    );
    let providers = check_file(
        "p.jsonl",
        Dataset::ChildcarePlaces,
        "",
        &[place_json("P1", &["24", "8"])],
    );
    for checked in [&places, &people, &providers] {
        assert!(
            matches!(checked[0], Checked::Good { .. }),
            "{}",
            problem_texts(checked)
        );
    }
}

#[test]
fn a_bad_date_of_birth_is_named_by_its_line_and_column() {
    let rows = [
        participant("E1", "1990-06-15"),
        participant("E2", "15/06/1990"),
    ];
    let checked = check_file(
        "e.csv",
        Dataset::EmploymentParticipation,
        PARTICIPANT_HEADER,
        &rows,
    );
    assert_eq!(problems(&checked[1]), [(3, "date_of_birth".to_string())]);
}

#[test]
fn an_offer_problem_is_named_on_the_offers_own_line() {
    let rows = [place("P1", "2", "8"), place("P1", "3-4", "lots")];
    let checked = check_file("p.csv", Dataset::ChildcarePlaces, PLACE_HEADER, &rows);
    assert_eq!(problems(&checked[0]), [(3, "capacity".to_string())]);
}

#[test]
fn the_other_rows_of_a_rejected_provider_are_left_out_too() {
    let rows = [place("P1", "2", "8"), place("P1", "3-4", "lots")];
    let checked = check_file("p.csv", Dataset::ChildcarePlaces, PLACE_HEADER, &rows);
    let Checked::Bad { left_out, .. } = &checked[0] else {
        panic!("accepted")
    };
    assert_eq!(left_out.len(), 1);
    assert_eq!(left_out[0].line, 2);
    assert!(left_out[0].problem.contains("line 3"), "{}", left_out[0]);
}

#[test]
fn a_jsonl_offer_problem_keeps_its_offer_index() {
    let checked = check_file(
        "p.jsonl",
        Dataset::ChildcarePlaces,
        "",
        &[place_json("P1", &["24", "501"])],
    );
    assert_eq!(
        problems(&checked[0]),
        [(1, "offers[1].capacity".to_string())]
    );
}

#[test]
fn a_provider_row_that_differs_from_its_first_is_refused() {
    let rows = [
        place("P1", "2", "8"),
        place("P1", "3-4", "24").replace("non-domestic", "domestic"),
    ];
    let checked = check_file("p.csv", Dataset::ChildcarePlaces, PLACE_HEADER, &rows);
    assert_eq!(problems(&checked[0]), [(3, "provider_type".to_string())]);
}

#[test]
fn a_terminated_postcode_is_flagged_not_refused() {
    let row = participant("E1", "1990-06-15").replace(LIVE_POSTCODE, TERMINATED_POSTCODE);
    let checked = check_file(
        "e.csv",
        Dataset::EmploymentParticipation,
        PARTICIPANT_HEADER,
        &[row],
    );
    let Checked::Good { flags, .. } = &checked[0] else {
        panic!("{}", problem_texts(&checked))
    };
    assert_eq!(
        (flags.len(), flags[0].line, flags[0].field.as_str()),
        (1, 2, "postcode")
    );
    assert!(flags[0].problem.starts_with("warning:"));
}

#[test]
fn a_reference_used_twice_is_refused_the_second_time() {
    let rows = [
        participant("E1", "1990-06-15"),
        participant("E1", "1990-06-15"),
    ];
    let checked = check_file(
        "e.csv",
        Dataset::EmploymentParticipation,
        PARTICIPANT_HEADER,
        &rows,
    );
    assert!(matches!(checked[0], Checked::Good { .. }));
    assert_eq!(problems(&checked[1]), [(3, "local_ref".to_string())]);
}

#[test]
fn a_missing_local_ref_is_refused() {
    let checked = check_file(
        "e.csv",
        Dataset::EmploymentParticipation,
        PARTICIPANT_HEADER,
        &[participant("", "1990-06-15")],
    );
    assert_eq!(problems(&checked[0]), [(2, "local_ref".to_string())]);
}

#[test]
fn every_bad_column_of_a_row_is_named_at_once() {
    let row = participant("E1", "1990-06-15")
        .replace("female", "f")
        .replace("connect-to-work", "");
    let checked = check_file(
        "e.csv",
        Dataset::EmploymentParticipation,
        PARTICIPANT_HEADER,
        &[row],
    );
    let mut named: Vec<String> = problems(&checked[0]).into_iter().map(|(_, f)| f).collect();
    named.sort();
    assert_eq!(named, ["programme", "sex"]);
}

#[test]
fn problems_never_repeat_an_input_value() {
    let rows = [
        participant("E1", "Ada Lovelace"),
        participant("E2", "1990-06-15").replace("AB 12 34 56 C", "QQ 99 99 99 Z"),
        participant("E3", "1990-06-15").replace(LIVE_POSTCODE, "ZZ99 9ZZ"),
    ];
    let checked = check_file(
        "e.csv",
        Dataset::EmploymentParticipation,
        PARTICIPANT_HEADER,
        &rows,
    );
    let text = problem_texts(&checked);
    // The district (`ZZ99`) may be named: it is coarser than the sector records keep.
    for value in ["Ada", "Lovelace", "QQ", "9ZZ"] {
        assert!(!text.contains(value), "{value} in {text}");
    }
    assert!(
        text.contains("ni_number") && text.contains("date_of_birth") && text.contains("postcode"),
        "{text}"
    );
}

#[test]
fn an_unreadable_row_is_not_checked_further() {
    let checked = check_file(
        "e.csv",
        Dataset::EmploymentParticipation,
        PARTICIPANT_HEADER,
        &["E1,x".to_string()],
    );
    assert_eq!(problems(&checked[0]), [(2, String::new())]);
}

#[test]
fn a_cell_reported_unreadable_is_not_reported_again_as_missing() {
    let checked = check_file(
        "r.jsonl",
        Dataset::EmploymentParticipation,
        "",
        &[r#"{"local_ref":"E1","sex":{"a":1}}"#.to_string()],
    );
    let sex = problems(&checked[0])
        .into_iter()
        .filter(|(_, f)| f == "sex")
        .count();
    assert_eq!(sex, 1);
}

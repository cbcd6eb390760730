use super::*;
use crate::fixtures::*;

fn rows(path: &Path, dataset: Dataset) -> Vec<SourceRow> {
    Source::open(path, dataset)
        .expect("file opens")
        .collect::<Result<Vec<_>, _>>()
        .expect("file reads")
}

fn fields(row: &SourceRow) -> Vec<&str> {
    row.problems.iter().map(|p| p.field.as_str()).collect()
}

#[test]
fn the_format_is_told_by_the_extension() {
    assert_eq!(Format::of(Path::new("a.csv")).ok(), Some(Format::Csv));
    assert_eq!(Format::of(Path::new("a.CSV")).ok(), Some(Format::Csv));
    assert_eq!(Format::of(Path::new("a.jsonl")).ok(), Some(Format::Jsonl));
    assert_eq!(Format::of(Path::new("a.ndjson")).ok(), Some(Format::Jsonl));
    let err = Format::of(Path::new("cases.txt")).unwrap_err().to_string();
    assert!(err.contains("cases.txt"), "{err}");
}

#[test]
fn column_names_ignore_case_spaces_dashes_and_underscores() {
    let canonical = normalise("postcode");
    for given in [
        "Postcode",
        " POSTCODE ",
        "Post code",
        "post-code",
        "post_code",
        "\u{feff}postcode",
    ] {
        assert_eq!(normalise(given), canonical, "{given:?}");
    }
}

#[test]
fn known_columns_stay_distinct_once_normalised() {
    for dataset in Dataset::ALL {
        for format in [Format::Csv, Format::Jsonl] {
            let schema = Schema::of(dataset, format);
            for (i, column) in schema.columns.iter().enumerate() {
                assert_eq!(schema.find(column), Some(i), "{dataset} {column}");
            }
        }
    }
}

#[test]
fn known_columns_are_local_ref_and_those_the_reader_reads() {
    let schema = Schema::of(Dataset::EmploymentParticipation, Format::Csv);
    let expected: Vec<&str> = PARTICIPANT_HEADER.split(',').collect();
    assert_eq!(
        schema
            .columns
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        expected
    );
    let places = Schema::of(Dataset::ChildcarePlaces, Format::Csv);
    let expected: Vec<&str> = PLACE_HEADER.split(',').collect();
    assert_eq!(
        places
            .columns
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        expected
    );
}

#[test]
fn a_header_in_another_spelling_reads_the_same_values() {
    let dir = tempfile::tempdir().unwrap();
    let header = PARTICIPANT_HEADER
        .replace("local_ref", " Local Ref ")
        .replace("postcode", "POST-CODE")
        .replace("date_of_birth", "Date Of Birth");
    let path = write(
        dir.path(),
        "p.csv",
        &header,
        &[participant("E1", "1990-06-15")],
    );
    let read = rows(&path, Dataset::EmploymentParticipation);
    assert_eq!(read[0].fields.get("postcode"), Some(LIVE_POSTCODE));
    assert_eq!(read[0].fields.get("date_of_birth"), Some("1990-06-15"));
    assert_eq!(read[0].local_ref(), Some("E1"));
}

#[test]
fn an_unknown_column_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let header = PARTICIPANT_HEADER.replace("postcode", "postcde");
    let path = write(
        dir.path(),
        "p.csv",
        &header,
        &[participant("E1", "1990-06-15")],
    );
    let err = Source::open(&path, Dataset::EmploymentParticipation)
        .err()
        .expect("refused");
    assert!(
        matches!(&err, Error::UnknownColumns { columns, line: 1, .. } if columns == &["postcde"]),
        "{err}"
    );
}

#[test]
fn a_column_named_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let header = format!("{PARTICIPANT_HEADER},Post Code");
    let row = format!("{},x", participant("E1", "1990-06-15"));
    let path = write(dir.path(), "p.csv", &header, &[row]);
    let err = Source::open(&path, Dataset::EmploymentParticipation)
        .err()
        .expect("refused");
    assert!(
        matches!(&err, Error::DuplicateColumn { column, first: 6, second: 16, .. } if column == "postcode"),
        "{err}"
    );
}

#[test]
fn a_file_without_a_header_is_refused_without_repeating_its_first_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "p.csv", "", &[participant("E1", "1990-06-15")]);
    let err = Source::open(&path, Dataset::EmploymentParticipation)
        .err()
        .expect("refused");
    let text = err.to_string();
    assert!(matches!(err, Error::NotAHeader { line: 1, .. }), "{text}");
    assert!(!text.contains("Ada") && !text.contains("1990"), "{text}");
}

#[test]
fn an_empty_file_has_no_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "p.csv", "", &[]);
    let err = Source::open(&path, Dataset::EmploymentParticipation)
        .err()
        .expect("refused");
    assert!(matches!(err, Error::NoHeader { .. }), "{err}");
}

#[test]
fn rows_carry_the_line_they_start_on() {
    let dir = tempfile::tempdir().unwrap();
    let quoted = participant("E2", "1990-06-15").replace("Ada Example", "\"Ada\nExample\"");
    let rows_in = [
        participant("E1", "1990-06-15"),
        String::new(),
        quoted,
        participant("E3", "1990-06-15"),
    ];
    let path = write(dir.path(), "p.csv", PARTICIPANT_HEADER, &rows_in);
    let lines: Vec<u64> = rows(&path, Dataset::EmploymentParticipation)
        .iter()
        .map(|r| r.line)
        .collect();
    assert_eq!(lines, [2, 4, 6]);
}

#[test]
fn crlf_lines_and_a_missing_final_newline_keep_their_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{PARTICIPANT_HEADER}\r\n\r\n{}\r\n{}",
        participant("E1", "1990-06-15"),
        participant("E2", "1990-06-15")
    );
    let path = dir.path().join("p.csv");
    std::fs::write(&path, text).unwrap();
    let read = rows(&path, Dataset::EmploymentParticipation);
    assert_eq!(read.iter().map(|r| r.line).collect::<Vec<_>>(), [3, 4]);
    assert_eq!(read[0].fields.get("childcare_barrier"), Some("yes"));
}

#[test]
fn a_row_with_the_wrong_number_of_cells_is_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "p.csv",
        PARTICIPANT_HEADER,
        &["E1,AB 12 34 56 C".to_string()],
    );
    let read = rows(&path, Dataset::EmploymentParticipation);
    assert!(read[0].unreadable);
    assert!(read[0].problems[0]
        .problem
        .contains("has 2 cell(s) but the header has 15"));
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_first_column() {
    let dir = tempfile::tempdir().unwrap();
    let header = format!("\u{feff}{PARTICIPANT_HEADER}");
    let path = write(
        dir.path(),
        "p.csv",
        &header,
        &[participant("E1", "1990-06-15")],
    );
    assert_eq!(
        rows(&path, Dataset::EmploymentParticipation)[0].local_ref(),
        Some("E1")
    );
}

#[test]
fn a_value_under_a_blank_header_cell_is_a_problem_of_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let header = format!("{PARTICIPANT_HEADER},");
    let rows_in = [
        format!("{},", participant("E1", "1990-06-15")),
        format!("{},x", participant("E2", "1990-06-15")),
    ];
    let path = write(dir.path(), "p.csv", &header, &rows_in);
    let read = rows(&path, Dataset::EmploymentParticipation);
    assert!(read[0].problems.is_empty());
    assert!(read[1].problems[0].problem.contains("cell 16 has a value"));
}

#[test]
fn invalid_utf8_in_a_cell_is_a_problem_of_that_column() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = format!("{PARTICIPANT_HEADER}\n").into_bytes();
    bytes.extend(
        participant("E1", "1990-06-15")
            .replace("Ada Example", "Ad\u{1}")
            .into_bytes(),
    );
    let at = bytes.iter().rposition(|b| *b == 1).unwrap();
    bytes[at] = 0xff;
    let path = dir.path().join("p.csv");
    std::fs::write(&path, bytes).unwrap();
    let read = rows(&path, Dataset::EmploymentParticipation);
    assert_eq!(fields(&read[0]), ["name"]);
}

#[test]
fn jsonl_values_read_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let line = r#"{"Local Ref":"R1","lat":51.5,"term_time_only":true,"priorities":["sibling","disadvantage"],"lsoa":null}"#;
    let path = write(dir.path(), "r.jsonl", "", &[line.to_string()]);
    let read = rows(&path, Dataset::ChildcareRequests);
    let f = &read[0].fields;
    assert_eq!(
        (f.get("local_ref"), f.get("lat"), f.get("term_time_only")),
        (Some("R1"), Some("51.5"), Some("yes"))
    );
    assert_eq!(
        (f.get("priorities"), f.get("lsoa")),
        (Some("sibling;disadvantage"), None)
    );
    assert!(read[0].problems.is_empty(), "{:?}", read[0].problems);
}

#[test]
fn jsonl_offers_are_read_as_nested_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "p.jsonl", "", &[place_json("P1", &["24", "8"])]);
    let read = rows(&path, Dataset::ChildcarePlaces);
    assert_eq!(read[0].offers.len(), 2);
    assert_eq!(read[0].offers[1].get("capacity"), Some("8"));
    assert_eq!(read[0].offers[0].get("age_band"), Some("3-4"));
    assert!(read[0].problems.is_empty(), "{:?}", read[0].problems);
}

#[test]
fn an_unknown_jsonl_key_is_a_problem_of_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let line = r#"{"local_ref":"R1","postcde":"x","offers":[]}"#;
    let path = write(dir.path(), "r.jsonl", "", &[line.to_string()]);
    let read = rows(&path, Dataset::ChildcareRequests);
    assert_eq!(fields(&read[0]), ["offers", "postcde"]);
    assert!(!read[0].unreadable);
}

#[test]
fn an_unknown_key_of_an_offer_is_named_with_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let line = place_json("P1", &["24", "8"]).replacen(r#""days""#, r#""dayz""#, 2);
    let path = write(dir.path(), "p.jsonl", "", &[line]);
    assert_eq!(
        fields(&rows(&path, Dataset::ChildcarePlaces)[0]),
        ["offers[0].dayz", "offers[1].dayz"]
    );
}

#[test]
fn a_line_that_is_not_json_is_unreadable_without_quoting_it() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        "{\"local_ref\": \"R1\", \"name\": Ada Example}".to_string(),
        "[\"Ada\"]".to_string(),
    ];
    let path = write(dir.path(), "r.jsonl", "", &lines);
    let read = rows(&path, Dataset::ChildcareRequests);
    assert!(read.iter().all(|r| r.unreadable));
    for row in &read {
        let text = row.problems[0].problem.clone();
        assert!(!text.contains("Ada"), "{text}");
    }
}

#[test]
fn jsonl_lines_are_numbered_counting_blank_ones() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        r#"{"local_ref":"A"}"#.to_string(),
        "  ".to_string(),
        r#"{"local_ref":"B"}"#.to_string(),
    ];
    let path = write(dir.path(), "r.jsonl", "", &lines);
    let read = rows(&path, Dataset::ChildcareRequests);
    assert_eq!(read.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 3]);
}

#[test]
fn debug_shows_column_names_not_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "p.csv",
        PARTICIPANT_HEADER,
        &[participant("E1", "1990-06-15")],
    );
    let text = format!("{:?}", rows(&path, Dataset::EmploymentParticipation));
    assert!(
        text.contains("ni_number") && !text.contains("Ada") && !text.contains("AB 12"),
        "{text}"
    );
}

use std::path::Path;

use proptest::prelude::*;

use super::*;
use crate::fixtures::*;

fn check(dataset: Dataset, path: &Path, options: &ImportOptions) -> Result<ImportSummary, Error> {
    validate(lewisham(), dataset, path, options)
}

fn participants(dir: &Path, rows: &[String]) -> PathBuf {
    write(dir, "people.csv", PARTICIPANT_HEADER, rows)
}

fn skipping() -> ImportOptions {
    ImportOptions {
        skip_invalid: true,
        ..ImportOptions::default()
    }
}

#[test]
fn a_valid_file_of_each_dataset_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            Dataset::ChildcarePlaces,
            write(
                dir.path(),
                "p.csv",
                PLACE_HEADER,
                &[
                    place("P1", "2", "8"),
                    place("P1", "3-4", "24"),
                    place("P2", "3-4", "10"),
                ],
            ),
            3,
            2,
        ),
        (
            Dataset::ChildcarePlaces,
            write(dir.path(), "p.jsonl", "", &[place_json("P1", &["8", "24"])]),
            1,
            1,
        ),
        (
            Dataset::ChildcareRequests,
            write(
                dir.path(),
                "r.csv",
                REQUEST_HEADER,
                &[request("R1"), request("R2")],
            ),
            2,
            2,
        ),
        (
            Dataset::EmploymentParticipation,
            participants(dir.path(), &[participant("E1", "1990-06-15")]),
            1,
            1,
        ),
    ];
    for (dataset, path, rows, records) in files {
        let summary =
            check(dataset, &path, &ImportOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (summary.rows, summary.records, summary.rejected),
            (rows, records, 0),
            "{}",
            path.display()
        );
        assert_eq!(summary.report, None);
    }
}

#[test]
fn the_sample_files_check_clean_for_lewisham() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/samples");
    let dir = tempfile::tempdir().unwrap();
    for dataset in Dataset::ALL {
        let path = samples.join(format!("{dataset}.csv"));
        // The report (terminated postcodes) goes to a temporary folder, not docs/.
        let options = ImportOptions {
            rejects: Some(dir.path().join(format!("{dataset}.rejects.csv"))),
            ..ImportOptions::default()
        };
        let summary = check(dataset, &path, &options).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            summary.records > 0 && summary.rejected == 0,
            "{dataset}: {summary}"
        );
    }
}

#[test]
fn one_bad_row_fails_the_check_naming_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        participant("E1", "1990-06-15"),
        participant("E2", "1990-06-15"),
        participant("E3", "1990-13-45"),
    ];
    let err = check(
        Dataset::EmploymentParticipation,
        &participants(dir.path(), &rows),
        &ImportOptions::default(),
    )
    .unwrap_err();
    let Error::InvalidRows { rows, listed, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(
        (*rows, listed[0].line, listed[0].field.as_str()),
        (1, 4, "date_of_birth")
    );
    assert!(err.to_string().contains("line 4: date_of_birth: "), "{err}");
}

#[test]
fn a_failed_check_lists_every_problem_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        participant("E1", "1990-06-15"),
        participant("E2", "1990-06-15"),
        participant("E3", "1990-13-45"),
    ];
    let err = check(
        Dataset::EmploymentParticipation,
        &participants(dir.path(), &rows),
        &ImportOptions::default(),
    )
    .unwrap_err();
    let Error::InvalidRows {
        report: Some(report),
        ..
    } = &err
    else {
        panic!("{err}")
    };
    let text = std::fs::read_to_string(report).unwrap();
    assert!(
        text.starts_with("line,field,problem\n4,date_of_birth,"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 2, "{text}");
}

#[test]
fn at_most_twenty_problems_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<String> = (0..30)
        .map(|i| participant(&format!("E{i}"), "never"))
        .collect();
    let err = check(
        Dataset::EmploymentParticipation,
        &participants(dir.path(), &rows),
        &ImportOptions::default(),
    )
    .unwrap_err();
    let Error::InvalidRows {
        rows,
        problems,
        listed,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!((*rows, *problems, listed.len()), (30, 30, PROBLEMS_LISTED));
    assert!(err.to_string().contains("and 10 more problem(s)"), "{err}");
}

#[test]
fn skip_invalid_counts_bad_rows_as_rejected_and_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        participant("E1", "1990-06-15"),
        participant("E2", "1990-06-15"),
        participant("E3", "1990-13-45"),
    ];
    let summary = check(
        Dataset::EmploymentParticipation,
        &participants(dir.path(), &rows),
        &skipping(),
    )
    .unwrap();
    assert_eq!((summary.rows, summary.records, summary.rejected), (3, 2, 1));
    let text = std::fs::read_to_string(summary.report.expect("a report")).unwrap();
    assert!(text.contains("\n4,date_of_birth,"), "{text}");
}

#[test]
fn records_checked_together_are_reported_in_file_order() {
    // Enough records to be checked in chunks across threads.
    let dir = tempfile::tempdir().unwrap();
    let bad = [7usize, 700, 1500, 2999];
    let rows: Vec<String> = (0..3000)
        .map(|i| {
            let born = if bad.contains(&i) {
                "1990-13-45"
            } else {
                "1990-06-15"
            };
            participant(&format!("E{i}"), born)
        })
        .collect();
    let summary = check(
        Dataset::EmploymentParticipation,
        &participants(dir.path(), &rows),
        &skipping(),
    )
    .unwrap();
    assert_eq!(
        (summary.rows, summary.records, summary.rejected),
        (3000, 2996, 4)
    );
    let text = std::fs::read_to_string(summary.report.expect("a report")).unwrap();
    let lines: Vec<u64> = text
        .lines()
        .filter_map(|l| l.split(',').next()?.parse().ok())
        .collect();
    // Line 1 is the header, so row i is on line i + 2.
    assert_eq!(lines, bad.map(|i| i as u64 + 2), "{text}");
}

#[test]
fn the_report_goes_where_rejects_says() {
    let dir = tempfile::tempdir().unwrap();
    let wanted = dir.path().join("elsewhere.csv");
    let options = ImportOptions {
        rejects: Some(wanted.clone()),
        ..skipping()
    };
    let rows = [participant("E1", "bad")];
    let summary = check(
        Dataset::EmploymentParticipation,
        &participants(dir.path(), &rows),
        &options,
    )
    .unwrap();
    assert_eq!(summary.report.as_deref(), Some(wanted.as_path()));
}

#[test]
fn terminated_postcodes_are_counted_and_reported_as_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        participant("E1", "1990-06-15"),
        participant("E2", "1990-06-15").replace(LIVE_POSTCODE, TERMINATED_POSTCODE),
    ];
    let summary = check(
        Dataset::EmploymentParticipation,
        &participants(dir.path(), &rows),
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(
        (summary.records, summary.flagged, summary.rejected),
        (2, 1, 0)
    );
    let text = std::fs::read_to_string(summary.report.expect("a report")).unwrap();
    assert!(text.contains("\n3,postcode,warning: "), "{text}");
}

#[test]
fn the_reject_report_holds_no_input_value() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        participant("E1", "Ada Lovelace"),
        participant("E2", "1990-06-15").replace("AB 12 34 56 C", "QQ 12 34 56 Z"),
        participant("E3", "1990-06-15").replace(LIVE_POSTCODE, "ZZ99 9ZZ"),
        participant("E4", "1990-06-15").replace(LIVE_POSTCODE, TERMINATED_POSTCODE),
    ];
    let summary = check(
        Dataset::EmploymentParticipation,
        &participants(dir.path(), &rows),
        &skipping(),
    )
    .unwrap();
    let text = std::fs::read_to_string(summary.report.expect("a report")).unwrap();
    // The model names a postcode's district (`ZZ99`), coarser than the sector a
    // shared record keeps; never the full postcode.
    for value in [
        "Ada", "Lovelace", "QQ", "9ZZ", "SE6 1", "Example", "E1", "E2", "E3", "E4",
    ] {
        assert!(!text.contains(value), "{value} in {text}");
    }
}

#[test]
fn a_clean_check_leaves_no_report_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = participants(dir.path(), &[participant("E1", "1990-06-15")]);
    let stale = report::default_path(&path);
    std::fs::write(&stale, "line,field,problem\n2,sex,stale\n").unwrap();
    check(
        Dataset::EmploymentParticipation,
        &path,
        &ImportOptions::default(),
    )
    .unwrap();
    assert!(!stale.exists());
}

#[test]
fn the_summary_is_one_line_with_every_count() {
    let summary = ImportSummary {
        rows: 20_000,
        records: 5_000,
        sent: 5_000,
        batches: 5,
        written: 4_990,
        unchanged: 10,
        rejected: 2,
        flagged: 3,
        elapsed: Duration::from_secs(4),
        ..ImportSummary::default()
    };
    assert_eq!(
        summary.to_string(),
        "imported 20000 rows (5000 records) in 4.0 s, 5000 rows/s: sent 5000 records in 5 batches: \
         4990 written, 10 unchanged, 0 deleted; 2 rows rejected, 3 flagged (terminated postcode)"
    );
}

fn config(dir: &Path, extra: &str) -> NodeConfig {
    let text = format!(
        "borough = \"E09000023\"\nlisten = \"127.0.0.1:1\"\ndata_dir = \"data\"\nagreements = \"agreements\"\n\
         linkage_key = \"linkage.key\"\n[tls]\nca = \"ca.pem\"\ncert = \"node.pem\"\nkey = \"node.key\"\n{extra}"
    );
    NodeConfig::parse(&dir.join("node.toml"), &text).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_batch_larger_than_the_node_accepts_is_refused_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "[limits]\nmax_ingest_batch = 500\n");
    let options = ImportOptions {
        batch: 501,
        ..ImportOptions::default()
    };
    let path = dir.path().join("absent.csv");
    let err = import(&config, Dataset::EmploymentParticipation, &path, &options)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::BatchSize {
                requested: 501,
                limit: 500
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_dry_run_checks_without_reaching_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "");
    let path = participants(dir.path(), &[participant("E1", "1990-06-15")]);
    let options = ImportOptions {
        dry_run: true,
        ..ImportOptions::default()
    };
    let summary = import(&config, Dataset::EmploymentParticipation, &path, &options)
        .await
        .unwrap();
    assert!(
        summary.dry_run && summary.records == 1 && summary.sent == 0,
        "{summary}"
    );
}

/// A CSV file of `header` whose cells are each either the valid fixture's or
/// arbitrary text.
fn csv_of(header: &'static str, valid: String) -> impl Strategy<Value = Vec<u8>> {
    let cells: Vec<BoxedStrategy<String>> = valid
        .split(',')
        .map(|v| prop_oneof![Just(v.to_string()), any::<String>(), "[ -~]{0,14}"].boxed())
        .collect();
    proptest::collection::vec(cells, 1..4).prop_map(move |rows| {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(header.split(',')).unwrap();
        for row in rows {
            writer.write_record(row).unwrap();
        }
        writer.into_inner().unwrap()
    })
}

/// Checks `bytes` as a file `name` of `dataset`, skipping bad rows: it must
/// return, whatever the bytes.
fn check_bytes(dataset: Dataset, name: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let _ = check(dataset, &path, &skipping());
    Ok(())
}

proptest! {
    #[test]
    fn any_bytes_as_a_csv_file_are_checked_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..2000), d in 0..3usize) {
        check_bytes(Dataset::ALL[d], "any.csv", &bytes)?;
    }

    #[test]
    fn any_bytes_as_a_jsonl_file_are_checked_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..2000), d in 0..3usize) {
        check_bytes(Dataset::ALL[d], "any.jsonl", &bytes)?;
    }

    #[test]
    fn any_text_under_a_valid_header_is_checked_without_panicking(
        people in csv_of(PARTICIPANT_HEADER, participant("E1", "1990-06-15")),
        requests in csv_of(REQUEST_HEADER, request("R1")),
        places in csv_of(PLACE_HEADER, place("P1", "3-4", "24")),
    ) {
        check_bytes(Dataset::EmploymentParticipation, "p.csv", &people)?;
        check_bytes(Dataset::ChildcareRequests, "r.csv", &requests)?;
        check_bytes(Dataset::ChildcarePlaces, "c.csv", &places)?;
    }

    #[test]
    fn any_json_values_under_known_keys_are_checked_without_panicking(
        values in proptest::collection::vec(prop_oneof![
            any::<String>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<bool>().prop_map(serde_json::Value::from),
            Just(serde_json::Value::Null),
            proptest::collection::vec(any::<String>(), 0..3).prop_map(serde_json::Value::from),
        ], 22),
    ) {
        let mut object = serde_json::Map::new();
        for (key, value) in PLACE_HEADER.split(',').zip(values) {
            object.insert(key.to_string(), value);
        }
        let offer = serde_json::Value::Object(object.clone());
        object.insert("offers".into(), serde_json::Value::Array(vec![offer]));
        let line = serde_json::Value::Object(object).to_string();
        check_bytes(Dataset::ChildcarePlaces, "p.jsonl", line.as_bytes())?;
        check_bytes(Dataset::ChildcareRequests, "r.jsonl", line.as_bytes())?;
        check_bytes(Dataset::EmploymentParticipation, "e.jsonl", line.as_bytes())?;
    }
}

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
    let text = report_text(summary.report);
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
    let text = report_text(summary.report);
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
    let text = report_text(summary.report);
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
    let text = report_text(summary.report);
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

/// The report's entry for a record on `line` repeating the record on `earlier`.
fn repeat_entry(line: u64, earlier: u64) -> String {
    format!(
        "{line},local_ref,repeats the reference of the record at line {earlier}: each record \
         may appear once in a file"
    )
}

/// The text of the reject report a run wrote.
fn report_text(report: Option<PathBuf>) -> String {
    std::fs::read_to_string(report.expect("a report")).unwrap()
}

/// The reject report of a failed check.
fn failed_report(err: &Error) -> String {
    let Error::InvalidRows {
        report: Some(report),
        ..
    } = err
    else {
        panic!("{err}")
    };
    std::fs::read_to_string(report).unwrap()
}

/// Participants E1 … as `refs` names them, each on the line after the last.
fn participants_named(dir: &Path, refs: &[&str]) -> PathBuf {
    let rows: Vec<String> = refs.iter().map(|r| participant(r, "1990-06-15")).collect();
    participants(dir, &rows)
}

/// The sending pass over `path` of `dataset`, skipping bad rows, with references
/// sorted as `spill` says: what it found, its report, and the references sent.
fn send_skipping(
    dataset: Dataset,
    path: &Path,
    spill: &Spill,
) -> Result<(PassOutcome, Option<PathBuf>, Vec<String>), Error> {
    let mut sent = Vec::new();
    let mut send = |batch: Batch| {
        sent.extend(batch.message.ops.into_iter().map(|op| op.local_ref));
        true
    };
    let (out, report) = sending_pass(
        lewisham(),
        dataset,
        path,
        &ImportOptions {
            batch: 2,
            ..skipping()
        },
        After::Nothing(spill),
        usize::MAX,
        &mut send,
    )?;
    Ok((out, report, sent))
}

/// [`validate_in`] at Lewisham, sorting references in runs of three.
fn check_in_tiny_runs(
    dataset: Dataset,
    path: &Path,
    options: &ImportOptions,
) -> Result<ImportSummary, Error> {
    validate_in(lewisham(), dataset, path, options, &tiny_runs())
}

#[test]
fn a_repeat_across_a_run_boundary_fails_the_check_naming_the_first_line() {
    let dir = tempfile::tempdir().unwrap();
    // Runs of three: E1 (line 2) is in the first run, its repeat (line 6) in the second.
    let path = participants_named(dir.path(), &["E1", "E2", "E3", "E4", "E1"]);
    let err = check_in_tiny_runs(
        Dataset::EmploymentParticipation,
        &path,
        &ImportOptions::default(),
    )
    .unwrap_err();
    let Error::InvalidRows { rows, listed, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!((*rows, listed.len(), listed[0].line), (1, 1, 6));
    assert_eq!(
        failed_report(&err),
        format!("line,field,problem\n{}\n", repeat_entry(6, 2))
    );
}

#[test]
fn every_repeat_of_a_reference_points_at_its_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = participants_named(dir.path(), &["E1", "E2", "E1", "E3", "E4", "E1", "E1"]);
    let err = check_in_tiny_runs(
        Dataset::EmploymentParticipation,
        &path,
        &ImportOptions::default(),
    )
    .unwrap_err();
    let expected: Vec<String> = [4, 7, 8].map(|line| repeat_entry(line, 2)).to_vec();
    assert_eq!(
        failed_report(&err),
        format!("line,field,problem\n{}\n", expected.join("\n"))
    );
}

#[test]
fn repeats_and_other_problems_are_reported_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        participant("E1", "1990-06-15"),
        participant("E2", "1990-06-15"),
        participant("E3", "1990-13-45"),
        participant("E2", "1990-06-15"),
        participant("E4", "1990-06-15"),
        participant("E1", "1990-13-45"),
        participant("E5", "1990-06-15"),
        participant("E3", "1990-06-15"),
    ];
    let err = check_in_tiny_runs(
        Dataset::EmploymentParticipation,
        &participants(dir.path(), &rows),
        &ImportOptions::default(),
    )
    .unwrap_err();
    let text = failed_report(&err);
    let entries: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(entries.len(), 5, "{text}");
    assert!(entries[0].starts_with("4,date_of_birth,"), "{text}");
    assert_eq!(entries[1], repeat_entry(5, 3));
    // A repeat's own problems follow the repeat, as the record's problems are listed.
    assert_eq!(entries[2], repeat_entry(7, 2));
    assert!(entries[3].starts_with("7,date_of_birth,"), "{text}");
    assert_eq!(entries[4], repeat_entry(9, 4));
}

#[test]
fn the_check_reports_the_same_whatever_the_run_size() {
    let dir = tempfile::tempdir().unwrap();
    let refs: Vec<String> = (0..40).map(|i| format!("E{}", i * 7 % 13)).collect();
    let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
    let path = participants_named(dir.path(), &refs);
    let report = |spill: &Spill| {
        let err = validate_in(
            lewisham(),
            Dataset::EmploymentParticipation,
            &path,
            &ImportOptions::default(),
            spill,
        )
        .unwrap_err();
        (err.to_string(), failed_report(&err))
    };
    assert_eq!(report(&tiny_runs()), report(&Spill::default()));
}

#[test]
fn a_providers_rows_met_again_later_repeat_its_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        place("P1", "2", "8"),
        place("P1", "3-4", "24"),
        place("P2", "3-4", "10"),
        place("P3", "3-4", "10"),
        place("P4", "3-4", "10"),
        place("P1", "3-4", "24"),
        place("P1", "2", "8"),
    ];
    let path = write(dir.path(), "p.csv", PLACE_HEADER, &rows);
    let err =
        check_in_tiny_runs(Dataset::ChildcarePlaces, &path, &ImportOptions::default()).unwrap_err();
    assert_eq!(
        failed_report(&err),
        "line,field,problem\n\
         7,local_ref,repeats the reference of the record at line 2: each record may appear once \
         in a file (the rows of one provider must be consecutive)\n\
         8,,not imported: another row of this provider (line 7) has problems\n"
    );
}

#[test]
fn a_check_that_finds_repeats_still_reports_every_other_problem_and_warning_once() {
    let dir = tempfile::tempdir().unwrap();
    let terminated =
        |r: &str| participant(r, "1990-06-15").replace(LIVE_POSTCODE, TERMINATED_POSTCODE);
    let rows = [
        participant("E1", "1990-06-15"),
        terminated("E2"),
        participant("E3", "1990-13-45"),
        participant("E4", "1990-06-15"),
        terminated("E1"),
        participant("E5", "1990-06-15"),
    ];
    let summary = check_in_tiny_runs(
        Dataset::EmploymentParticipation,
        &participants(dir.path(), &rows),
        &skipping(),
    )
    .unwrap();
    assert_eq!(
        (summary.records, summary.rejected, summary.flagged),
        (4, 2, 1)
    );
    let text = report_text(summary.report);
    let entries: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(entries.len(), 3, "{text}");
    assert!(entries[0].starts_with("3,postcode,warning: "), "{text}");
    assert!(entries[1].starts_with("4,date_of_birth,"), "{text}");
    // A repeat is not imported, so its terminated postcode is not flagged.
    assert_eq!(entries[2], repeat_entry(6, 2));
}

#[test]
fn skip_invalid_sends_a_references_first_record_and_rejects_its_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let path = participants_named(dir.path(), &["E1", "E2", "E3", "E1", "E4", "E2", "E1"]);
    let (out, report, sent) =
        send_skipping(Dataset::EmploymentParticipation, &path, &tiny_runs()).unwrap();
    assert_eq!(sent, ["E1", "E2", "E3", "E4"]);
    assert_eq!((out.rows, out.records, out.rejected), (7, 4, 3));
    let text = report_text(report);
    let expected = [repeat_entry(5, 2), repeat_entry(7, 3), repeat_entry(8, 2)];
    assert_eq!(
        text,
        format!("line,field,problem\n{}\n", expected.join("\n"))
    );
}

#[test]
fn skip_invalid_reports_what_its_check_reports() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<String> = (0..30)
        .map(|i| {
            let born = if i % 5 == 0 {
                "1990-13-45"
            } else {
                "1990-06-15"
            };
            participant(&format!("E{}", i * 7 % 11), born)
        })
        .collect();
    let path = participants(dir.path(), &rows);
    let checked = check_in_tiny_runs(Dataset::EmploymentParticipation, &path, &skipping()).unwrap();
    let checked_report = report_text(checked.report);
    let (out, report, _) =
        send_skipping(Dataset::EmploymentParticipation, &path, &tiny_runs()).unwrap();
    let sent_report = report_text(report);
    assert_eq!(
        (out.rows, out.records, out.rejected),
        (checked.rows, checked.records, checked.rejected)
    );
    assert_eq!(sent_report, checked_report);
}

#[test]
fn a_temporary_folder_that_cannot_be_used_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let (not_a_folder, spill) = unusable_spill(dir.path());
    let path = participants_named(dir.path(), &["E1", "E2", "E3", "E4"]);
    let err = validate_in(
        lewisham(),
        Dataset::EmploymentParticipation,
        &path,
        &ImportOptions::default(),
        &spill,
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Spill { dir, what: "create", .. } if *dir == not_a_folder),
        "{err}"
    );
}

#[test]
fn a_temporary_folder_that_cannot_be_used_stops_skip_invalid_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (_, spill) = unusable_spill(dir.path());
    let path = participants_named(dir.path(), &["E1", "E2", "E3", "E4"]);
    let mut sent = 0;
    let mut send = |_: Batch| {
        sent += 1;
        true
    };
    let err = sending_pass(
        lewisham(),
        Dataset::EmploymentParticipation,
        &path,
        &skipping(),
        After::Nothing(&spill),
        usize::MAX,
        &mut send,
    )
    .unwrap_err();
    assert!(matches!(&err, Error::Spill { what: "create", .. }), "{err}");
    assert_eq!(sent, 0);
}

/// The file's records sent one per batch (a batch is sent when the next record
/// comes), as `send` takes them; stopping at a bad record if `stop_on_bad`, as a
/// pass after a clean check does. What the pass found, and the bytes it read.
fn send_each(
    path: &Path,
    stop_on_bad: bool,
    send: &mut dyn FnMut(Batch) -> bool,
) -> (Result<PassOutcome, Error>, u64) {
    let dataset = Dataset::EmploymentParticipation;
    let source = Source::open(path, dataset).unwrap();
    let bytes = source.bytes_read();
    let sink = Sink {
        batcher: Batcher::new(dataset, 1, usize::MAX),
        send,
        stop_on_bad,
    };
    let checker = Checker::new(dataset, Format::Csv, lewisham());
    let outcome = pass(
        source,
        References::Unchecked,
        Chunks::Unhashed,
        &checker,
        Progress::hidden(),
        None,
        Some(sink),
    );
    (outcome.map(|(out, _)| out), bytes.load(Ordering::Relaxed))
}

/// The bytes of a participants file's header and its first `records` records
/// (the rows of [`numbered_participants`] differ in length by a few bytes).
fn bytes_of(path: &Path, records: usize) -> u64 {
    let text = std::fs::read_to_string(path).unwrap();
    text.split_inclusive('\n')
        .take(records + 1)
        .map(|line| line.len() as u64)
        .sum()
}

#[test]
fn records_sent_across_many_chunks_arrive_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let rows = 5 * CHECK_CHUNK + 7;
    // Bad records on both sides of chunk boundaries, and the last.
    let bad = [
        0,
        CHECK_CHUNK - 1,
        CHECK_CHUNK,
        3 * CHECK_CHUNK + 5,
        rows - 1,
    ];
    let path = numbered_participants(dir.path(), rows, &bad);
    let (out, report, sent) =
        send_skipping(Dataset::EmploymentParticipation, &path, &Spill::default()).unwrap();
    let good: Vec<String> = (0..rows)
        .filter(|i| !bad.contains(i))
        .map(|i| format!("E{i}"))
        .collect();
    assert_eq!(sent, good);
    assert_eq!(out.rejected, bad.len() as u64);
    let lines: Vec<u64> = report_text(report)
        .lines()
        .filter_map(|l| l.split(',').next()?.parse().ok())
        .collect();
    assert_eq!(lines, bad.map(|i| i as u64 + 2));
}

#[test]
fn a_send_that_stops_ends_reading_within_a_chunk_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = numbered_participants(dir.path(), 10 * CHECK_CHUNK, &[]);
    // The first batch is sent as the second record of the first chunk comes.
    let (outcome, read) = send_each(&path, false, &mut |_| false);
    assert!(outcome.unwrap().stopped);
    // The chunk after the one being sent may have been read, and a buffer more.
    assert!(read < bytes_of(&path, 3 * CHECK_CHUNK), "{read} bytes read");
}

#[test]
fn a_bad_record_met_while_sending_ends_reading_within_a_chunk_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = numbered_participants(dir.path(), 10 * CHECK_CHUNK, &[CHECK_CHUNK + 3]);
    let (outcome, read) = send_each(&path, true, &mut |_| true);
    assert_eq!(outcome.unwrap().changed_at, Some(CHECK_CHUNK as u64 + 5));
    assert!(read < bytes_of(&path, 4 * CHECK_CHUNK), "{read} bytes read");
}

#[test]
fn a_pass_that_stops_early_leaves_nothing_reading_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = numbered_participants(dir.path(), 10 * CHECK_CHUNK, &[]);
    let (outcome, _) = send_each(&path, false, &mut |_| false);
    assert!(outcome.unwrap().stopped);
    assert!(!held_open(&path));
}

#[test]
fn a_read_error_after_good_chunks_comes_after_their_records_are_handled() {
    let dir = tempfile::tempdir().unwrap();
    // Bad records in the first three chunks and the last.
    let bad = [5, CHECK_CHUNK + 5, 2 * CHECK_CHUNK + 5, 3 * CHECK_CHUNK + 5];
    let path = numbered_participants(dir.path(), 4 * CHECK_CHUNK, &bad);
    // Noting a reference fails halfway through the third chunk, when the first
    // run of references cannot be written out.
    let (_, unusable) = unusable_spill(dir.path());
    let spill = Spill {
        run: 2 * CHECK_CHUNK + CHECK_CHUNK / 2,
        ..unusable
    };
    let dataset = Dataset::EmploymentParticipation;
    let report_path = dir.path().join("rejects.csv");
    let mut report = Report::create(report_path.clone(), &path, true).unwrap();
    let err = pass(
        Source::open(&path, dataset).unwrap(),
        References::Noted(Refs::new(&path, &spill)),
        Chunks::Unhashed,
        &Checker::new(dataset, Format::Csv, lewisham()),
        Progress::hidden(),
        Some(&mut report),
        None,
    )
    .unwrap_err();
    assert!(matches!(&err, Error::Spill { what: "create", .. }), "{err}");
    report.finish().unwrap();
    let lines: Vec<u64> = std::fs::read_to_string(&report_path)
        .unwrap()
        .lines()
        .filter_map(|l| l.split(',').next()?.parse().ok())
        .collect();
    // The first two chunks' records were handled; none of the third's.
    assert_eq!(lines, [bad[0] as u64 + 2, bad[1] as u64 + 2]);
}

/// Checks the participants file `path` as an import does before sending, lets
/// `edit` rewrite its text, then runs the sending pass, one record a batch (a
/// batch is sent when the next record comes): what that pass found, and the
/// references it sent.
fn check_edit_send(path: &Path, edit: impl FnOnce(String) -> String) -> (PassOutcome, Vec<String>) {
    let dataset = Dataset::EmploymentParticipation;
    let options = ImportOptions {
        batch: 1,
        ..ImportOptions::default()
    };
    let spill = Spill::default();
    let (_, digests) = validate_to_send(lewisham(), dataset, path, &options, &spill).unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, edit(text)).unwrap();
    let mut sent = Vec::new();
    let mut send = |batch: Batch| {
        sent.extend(batch.message.ops.into_iter().map(|op| op.local_ref));
        true
    };
    let (out, _) = sending_pass(
        lewisham(),
        dataset,
        path,
        &options,
        After::Check(&digests),
        usize::MAX,
        &mut send,
    )
    .unwrap();
    (out, sent)
}

/// The references of records `range` of a [`numbered_participants`] file.
fn numbered(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("E{i}")).collect()
}

/// Asserts that `out` stopped at `line` of `path` as changed, with the error an
/// import gives naming the file and the line.
fn assert_changed_at(out: &PassOutcome, path: &Path, line: usize) {
    assert_eq!(out.changed_at, Some(line as u64));
    let err = out.unchanged(path, 0).unwrap_err();
    assert!(
        matches!(&err, Error::ChangedDuringImport { file, .. } if file == path),
        "{err}"
    );
    let named = format!("{}: from line {line} on, ", path.display());
    assert!(err.to_string().starts_with(&named), "{err}");
}

#[test]
fn a_reference_made_to_repeat_between_the_passes_stops_the_import_before_its_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let path = numbered_participants(dir.path(), 3 * CHECK_CHUNK, &[]);
    // A record of the second chunk (record i is on line i + 2) takes the first's
    // reference: sent, it would overwrite the first record.
    let changed = CHECK_CHUNK + 5;
    let (out, sent) = check_edit_send(&path, |text| {
        text.replace(&format!("\nE{changed},"), "\nE0,")
    });
    assert_changed_at(&out, &path, CHECK_CHUNK + 2);
    // The first chunk's records were sent, but its last, whose batch was closed
    // only by a record of the changed chunk.
    assert_eq!(sent, numbered(0..CHECK_CHUNK - 1));
}

#[test]
fn a_value_changed_between_the_passes_stops_the_import_before_its_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let path = numbered_participants(dir.path(), 3 * CHECK_CHUNK, &[]);
    // A valid row of the third chunk stays valid, with another date of birth.
    let changed = 2 * CHECK_CHUNK + 5;
    let (out, sent) = check_edit_send(&path, |text| {
        let row = |born: &str| format!("\n{}\n", participant(&format!("E{changed}"), born));
        text.replace(&row("1990-06-15"), &row("1991-06-15"))
    });
    assert_changed_at(&out, &path, 2 * CHECK_CHUNK + 2);
    assert_eq!(sent, numbered(0..2 * CHECK_CHUNK - 1));
}

#[test]
fn rows_appended_between_the_passes_stop_the_import_before_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = numbered_participants(dir.path(), 2 * CHECK_CHUNK, &[]);
    // After the last chunk: a chunk the check never read.
    let (out, sent) = check_edit_send(&path, |text| {
        text + &participant("E9999", "1990-06-15") + "\n"
    });
    assert_changed_at(&out, &path, 2 * CHECK_CHUNK + 2);
    assert_eq!(sent, numbered(0..2 * CHECK_CHUNK - 1));
}

#[test]
fn a_file_cut_short_between_the_passes_stops_the_import_where_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let path = numbered_participants(dir.path(), 2 * CHECK_CHUNK, &[]);
    // Cut at the end of the first chunk: every chunk read is as checked, but the
    // second is missing.
    let (out, sent) = check_edit_send(&path, |text| {
        text.split_inclusive('\n').take(1 + CHECK_CHUNK).collect()
    });
    assert_changed_at(&out, &path, CHECK_CHUNK + 2);
    assert_eq!(sent, numbered(0..CHECK_CHUNK - 1));
}

#[test]
fn an_unchanged_file_is_sent_whole_after_its_check() {
    let dir = tempfile::tempdir().unwrap();
    let rows = 2 * CHECK_CHUNK + 7;
    let path = numbered_participants(dir.path(), rows, &[]);
    let (out, sent) = check_edit_send(&path, |text| text);
    assert_eq!(out.changed_at, None);
    assert!(out.unchanged(&path, 0).is_ok());
    assert_eq!((out.rows, out.records), (rows as u64, rows as u64));
    assert_eq!(sent, numbered(0..rows));
}

fn config(dir: &Path, extra: &str) -> NodeConfig {
    let text = format!(
        "borough = \"E09000023\"\nlisten = \"127.0.0.1:1\"\ndata_dir = \"data\"\nagreements = \"agreements\"\n\
         linkage_key = \"linkage.key\"\nperturbation_key = \"perturbation.key\"\n[tls]\nca = \"ca.pem\"\ncert = \"node.pem\"\nkey = \"node.key\"\n{extra}"
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

/// A CSV file of `header` with up to a dozen rows whose `local_ref`s are drawn
/// from a few, so that some repeat; each other cell is the valid fixture's or
/// arbitrary text, and some rows are a cell short (unreadable).
fn csv_with_repeats(header: &'static str, valid: String) -> impl Strategy<Value = Vec<u8>> {
    let local_ref = prop_oneof![
        Just("E1".to_string()),
        Just("E2".to_string()),
        Just(" E1 ".to_string()),
        Just(String::new()),
        "[ -~]{0,3}",
    ];
    let mut cells: Vec<BoxedStrategy<String>> = vec![local_ref.boxed()];
    cells.extend(
        valid
            .split(',')
            .skip(1)
            .map(|v| prop_oneof![3 => Just(v.to_string()), 1 => any::<String>()].boxed()),
    );
    let row = (cells, proptest::bool::weighted(0.1));
    proptest::collection::vec(row, 1..12).prop_map(move |rows| {
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(Vec::new());
        writer.write_record(header.split(',')).unwrap();
        for (mut row, short) in rows {
            if short {
                row.pop();
            }
            writer.write_record(row).unwrap();
        }
        writer.into_inner().unwrap()
    })
}

/// A JSONL file of up to a dozen providers whose `local_ref`s are drawn from a
/// few, so that some repeat, with the key spelt in several ways, and some lines
/// not JSON at all.
fn jsonl_with_repeats() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        4 => prop_oneof![Just("P1"), Just("P2"), Just(" P1 "), Just("")]
            .prop_map(|r| place_json(r, &["8"])),
        1 => Just(place_json("P1", &["8"]).replace("local_ref", "Local Ref")),
        1 => Just(place_json("P2", &["8"]).replace(r#""P2""#, "2")),
        1 => Just("{not json".to_string()),
        1 => Just(String::new()),
    ];
    proptest::collection::vec(line, 1..12).prop_map(|lines| (lines.join("\n") + "\n").into_bytes())
}

/// What a pass over a file found: rows, records, rejected and flagged, and the
/// reject report.
type Found = Option<((u64, u64, u64, u64), Option<String>)>;

/// A file `name` of `dataset` holding `bytes`: what its check (skipping bad rows)
/// found, and what the sending pass that skips them found, references sorted in
/// runs of `run`.
fn both_reports(
    dataset: Dataset,
    name: &str,
    bytes: &[u8],
    run: usize,
) -> Result<(Found, Found), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let spill = Spill { run, dir: None };
    let read = |report: Option<PathBuf>| report.map(|r| std::fs::read_to_string(r).unwrap());
    let checked = validate_in(lewisham(), dataset, &path, &skipping(), &spill)
        .ok()
        .map(|s| ((s.rows, s.records, s.rejected, s.flagged), read(s.report)));
    let sent = send_skipping(dataset, &path, &spill)
        .ok()
        .map(|(o, report, _)| ((o.rows, o.records, o.rejected, o.flagged), read(report)));
    Ok((checked, sent))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_reference_scan_finds_the_repeats_the_check_finds(
        people in csv_with_repeats(PARTICIPANT_HEADER, participant("E1", "1990-06-15")),
        places in csv_with_repeats(PLACE_HEADER, place("P1", "3-4", "24")),
        run in 1..4usize,
    ) {
        let (checked, sent) = both_reports(Dataset::EmploymentParticipation, "p.csv", &people, run)?;
        prop_assert_eq!(checked, sent);
        let (checked, sent) = both_reports(Dataset::ChildcarePlaces, "c.csv", &places, run)?;
        prop_assert_eq!(checked, sent);
    }

    #[test]
    fn the_reference_scan_finds_the_repeats_the_check_finds_in_jsonl(
        lines in jsonl_with_repeats(),
        run in 1..4usize,
    ) {
        let (checked, sent) = both_reports(Dataset::ChildcarePlaces, "p.jsonl", &lines, run)?;
        prop_assert_eq!(checked, sent);
    }
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

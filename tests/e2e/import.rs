//! `borough import`: the real binary streams CSV and JSONL files into a running
//! node through its Ingest RPC. A clean file lands one record per `local_ref`;
//! importing it again writes nothing; an edited row writes exactly one version;
//! one bad row sends nothing at all and is named by line and column; with
//! `--skip-invalid` the good rows land and the bad ones go to the reject report;
//! a dry run sends nothing. No identifiable value is ever printed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use borough_model::Dataset;
use borough_proto::v1;
use prost::Message;

use crate::support::binary::{run, Finished, Layout};
use crate::support::*;

/// A live Lewisham postcode (Lewisham's are in the bundled lookup).
const LIVE: &str = "SE6 1AA";

/// A terminated Lewisham postcode.
const TERMINATED: &str = "SE6 1AB";

/// Identifiable values the fixtures carry, which no output may repeat.
const IDENTIFIABLE: &[&str] = &[
    "Quillfeather",
    "AB 12 34 56 C",
    "AB123456C",
    "1988-07-14",
    "Wisteria",
    LIVE,
    TERMINATED,
];

const PARTICIPANT_HEADER: &str = "local_ref,ni_number,name,date_of_birth,sex,postcode,lsoa,\
programme,eligibility_group,referral_date,start_date,first_earnings_date,job_outcome_date,\
sustained_date,childcare_barrier";

fn participant(local_ref: &str, born: &str) -> String {
    format!(
        "{local_ref},AB 12 34 56 C,Morgan Quillfeather,{born},female,{LIVE},,connect-to-work,\
         disability,2026-02-03,2026-03-10,,,,yes"
    )
}

const REQUEST_HEADER: &str = "local_ref,parent_ni_number,parent_name,child_name,\
child_date_of_birth,address,postcode,lsoa,lat,long,request_date,start_term,days,opens,closes,\
term_time_only,entitlement,hmrc_eligibility_code,send_need,priorities,preferences,\
max_distance_km,max_fee_per_hour";

fn request(local_ref: &str) -> String {
    format!(
        "{local_ref},AB 12 34 56 C,Jordan Quillfeather,Robin Quillfeather,2023-05-10,\
         17 Wisteria Lane,{LIVE},,51.44,-0.02,2026-02-01,2027-spring,Mon-Fri,08:00,13:00,yes,\
         universal-15,,none,sibling,EY123456,2.5,9.00"
    )
}

const PLACE_HEADER: &str = "local_ref,provider_urn,provider_name,provider_type,ofsted_grade,\
address,postcode,lsoa,lat,long,send_support,accepts_out_of_borough,admission_priorities,\
age_band,days,opens,closes,term_time_only,capacity,vacancies,funded,fee_per_hour";

fn place(local_ref: &str, band: &str, vacancies: &str) -> String {
    format!(
        "{local_ref},EY123456,Quillfeather Nursery,non-domestic,good,17 Wisteria Lane,{LIVE},,\
         51.4400,-0.0200,yes,yes,sibling,{band},Mon-Fri,08:00,18:00,no,24,{vacancies},,8.50"
    )
}

fn place_json(local_ref: &str, bands: &[&str]) -> String {
    let offers: Vec<String> = bands
        .iter()
        .map(|band| {
            format!(
                r#"{{"age_band":"{band}","Days":"Mon-Fri","opens":"08:00","closes":"18:00","term_time_only":false,"capacity":24,"vacancies":3,"fee_per_hour":"8.50"}}"#
            )
        })
        .collect();
    format!(
        r#"{{"Local Ref":"{local_ref}","provider_urn":"EY123456","provider_name":"Quillfeather Nursery","provider_type":"non-domestic","ofsted_grade":"good","postcode":"{LIVE}","lat":51.44,"long":-0.02,"send_support":true,"accepts_out_of_borough":"yes","offers":[{}]}}"#,
        offers.join(",")
    )
}

/// Writes `header` (if any) and `rows` as `name` in `dir`.
fn write(dir: &Path, name: &str, header: &str, rows: &[String]) -> PathBuf {
    let mut text = String::new();
    for line in std::iter::once(header)
        .filter(|h| !h.is_empty())
        .chain(rows.iter().map(String::as_str))
    {
        text.push_str(line);
        text.push('\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write import file");
    path
}

/// Lewisham's node, alone.
async fn lewisham() -> Federation {
    Federation::start(&[LEWISHAM]).await
}

/// Runs `borough import --config <Lewisham> --dataset <dataset> <file> <extra…>`.
async fn import(fed: &Federation, dataset: Dataset, file: &Path, extra: &[&str]) -> Finished {
    let mut args: Vec<OsString> = vec![
        "import".into(),
        "--config".into(),
        fed.inner.config_path(gss(LEWISHAM)).into(),
        "--dataset".into(),
        dataset.as_str().into(),
        file.into(),
    ];
    args.extend(extra.iter().map(OsString::from));
    let out = run(args).await;
    assert_no_identifiable_output(&out);
    out
}

#[track_caller]
fn assert_no_identifiable_output(out: &Finished) {
    for value in IDENTIFIABLE {
        assert!(
            !out.stdout.contains(value) && !out.stderr.contains(value),
            "{} printed an identifiable value {value:?}: {out:#?}",
            out.what
        );
    }
}

/// Everything of Lewisham's node an import could change: every dataset's head and
/// live count, every own record's id, version, seq and stored bytes, and the
/// number of audit entries.
#[derive(Debug, PartialEq)]
struct Snapshot {
    heads: Vec<u64>,
    counts: Vec<u64>,
    records: Vec<(String, u64, u64, Vec<u8>)>,
    audit: u64,
}

fn snapshot(fed: &Federation) -> Snapshot {
    let store = fed.store(LEWISHAM);
    let origin = gss(LEWISHAM);
    Snapshot {
        heads: Dataset::ALL
            .map(|d| store.head(d).expect("head").0)
            .to_vec(),
        counts: Dataset::ALL
            .map(|d| store.count(d, origin).expect("count"))
            .to_vec(),
        records: Dataset::ALL
            .into_iter()
            .flat_map(|d| store.records(d, origin))
            .map(|r| {
                let r = r.expect("record reads");
                (r.id.to_string(), r.version.0, r.seq.0, r.payload)
            })
            .collect(),
        audit: store.audit().verify().expect("audit chain holds"),
    }
}

fn count(fed: &Federation, dataset: Dataset) -> u64 {
    fed.store(LEWISHAM)
        .count(dataset, gss(LEWISHAM))
        .expect("count")
}

fn head(fed: &Federation, dataset: Dataset) -> u64 {
    fed.store(LEWISHAM).head(dataset).expect("head").0
}

#[track_caller]
fn assert_mentions(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{part:?} not in:\n{text}");
    }
}

/// Three participants, line 4 (the third) born on a day that does not exist.
fn participants_with_a_bad_line_4(dir: &Path) -> PathBuf {
    let rows = [
        participant("EMP-1", "1988-07-14"),
        participant("EMP-2", "1988-07-14"),
        participant("EMP-3", "1988-13-45"),
    ];
    write(dir, "people.csv", PARTICIPANT_HEADER, &rows)
}

/// A clean file of each dataset lands one record per `local_ref`, a provider's
/// rows making one record; the summary is one line on stdout.
#[tokio::test]
async fn a_clean_file_of_each_dataset_imports_one_record_per_local_ref() {
    let fed = lewisham().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let files = [
        (
            Dataset::ChildcarePlaces,
            write(
                dir.path(),
                "places.csv",
                PLACE_HEADER,
                &[
                    place("P-1", "2", "1"),
                    place("P-1", "3-4", "3"),
                    place("P-2", "3-4", "0"),
                ],
            ),
            2,
        ),
        (
            Dataset::ChildcareRequests,
            write(
                dir.path(),
                "requests.csv",
                REQUEST_HEADER,
                &[request("R-1"), request("R-2"), request("R-3")],
            ),
            3,
        ),
        (
            Dataset::EmploymentParticipation,
            write(
                dir.path(),
                "people.csv",
                PARTICIPANT_HEADER,
                &[participant("E-1", "1988-07-14")],
            ),
            1,
        ),
    ];
    for (dataset, file, records) in files {
        let out = import(&fed, dataset, &file, &[]).await;
        out.assert_success();
        assert_eq!(count(&fed, dataset), records, "{dataset}: {out:#?}");
        assert_eq!(out.stdout.lines().count(), 1, "{out:#?}");
        assert_mentions(&out.stdout, &[&format!("{records} written, 0 unchanged")]);
    }
    let status = fed.status(LEWISHAM).await;
    let own: Vec<(String, u64)> = status
        .own
        .iter()
        .map(|d| (d.dataset.clone(), d.records))
        .collect();
    for (dataset, records) in [
        ("childcare-places", 2),
        ("childcare-requests", 3),
        ("employment-participation", 1),
    ] {
        assert!(own.contains(&(dataset.to_string(), records)), "{own:?}");
    }
}

/// A provider's offer rows become the offers of one record, in file order.
#[tokio::test]
async fn a_providers_rows_become_one_record_with_every_offer() {
    let fed = lewisham().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = [
        place("P-1", "under-2", "0"),
        place("P-1", "2", "1"),
        place("P-1", "3-4", "3"),
    ];
    let file = write(dir.path(), "places.csv", PLACE_HEADER, &rows);
    import(&fed, Dataset::ChildcarePlaces, &file, &[])
        .await
        .assert_success();
    let record = fed
        .store(LEWISHAM)
        .records(Dataset::ChildcarePlaces, gss(LEWISHAM))
        .next()
        .expect("one record")
        .expect("record reads");
    let place = v1::ChildcarePlace::decode(&record.payload[..]).expect("payload decodes");
    let vacancies: Vec<u32> = place.offers.iter().map(|o| o.vacancies).collect();
    assert_eq!(vacancies, [0, 1, 3]);
}

/// Importing the same file again writes nothing: every record is unchanged.
#[tokio::test]
async fn importing_the_same_file_again_writes_nothing() {
    let fed = lewisham().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = [request("R-1"), request("R-2"), request("R-3")];
    let file = write(dir.path(), "requests.csv", REQUEST_HEADER, &rows);
    import(&fed, Dataset::ChildcareRequests, &file, &[])
        .await
        .assert_success();
    let before = snapshot(&fed);
    let again = import(&fed, Dataset::ChildcareRequests, &file, &[]).await;
    again.assert_success();
    assert_mentions(&again.stdout, &["0 written, 3 unchanged"]);
    let after = snapshot(&fed);
    assert_eq!((after.heads, after.records), (before.heads, before.records));
}

/// Editing one row of an imported file writes exactly one new version.
#[tokio::test]
async fn an_edited_row_writes_exactly_one_new_version() {
    let fed = lewisham().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rows = vec![
        place("P-1", "2", "1"),
        place("P-1", "3-4", "3"),
        place("P-2", "3-4", "0"),
    ];
    let file = write(dir.path(), "places.csv", PLACE_HEADER, &rows);
    import(&fed, Dataset::ChildcarePlaces, &file, &[])
        .await
        .assert_success();
    let before = head(&fed, Dataset::ChildcarePlaces);
    rows[1] = place("P-1", "3-4", "2");
    let file = write(dir.path(), "places.csv", PLACE_HEADER, &rows);
    let out = import(&fed, Dataset::ChildcarePlaces, &file, &[]).await;
    out.assert_success();
    assert_mentions(&out.stdout, &["1 written, 1 unchanged"]);
    assert_eq!(head(&fed, Dataset::ChildcarePlaces), before + 1);
    assert_eq!(count(&fed, Dataset::ChildcarePlaces), 2);
}

/// One bad row stops the whole import before anything is sent: the command
/// fails naming the line and the column, and the node is exactly as it was.
#[tokio::test]
async fn one_bad_row_sends_nothing_and_is_named_by_line_and_column() {
    let fed = lewisham().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let seed = write(
        dir.path(),
        "seed.csv",
        PARTICIPANT_HEADER,
        &[participant("EMP-0", "1988-07-14")],
    );
    import(&fed, Dataset::EmploymentParticipation, &seed, &[])
        .await
        .assert_success();
    let before = snapshot(&fed);
    let file = participants_with_a_bad_line_4(dir.path());
    let out = import(&fed, Dataset::EmploymentParticipation, &file, &[]).await;
    out.assert_failure();
    assert_mentions(
        &out.stderr,
        &["line 4", "date_of_birth", "nothing was sent"],
    );
    assert!(!out.stderr.contains("1988-13-45"), "{}", out.stderr);
    assert_eq!(snapshot(&fed), before, "a refused import changed the node");
}

/// With `--skip-invalid` the good rows are imported and the bad one is listed in
/// the reject report by line, column and problem.
#[tokio::test]
async fn skip_invalid_imports_the_good_rows_and_reports_the_bad_one() {
    let fed = lewisham().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = participants_with_a_bad_line_4(dir.path());
    let out = import(
        &fed,
        Dataset::EmploymentParticipation,
        &file,
        &["--skip-invalid"],
    )
    .await;
    out.assert_success();
    assert_eq!(count(&fed, Dataset::EmploymentParticipation), 2);
    assert_mentions(&out.stdout, &["2 written", "1 rows rejected"]);
    let report =
        std::fs::read_to_string(dir.path().join("people.csv.rejects.csv")).expect("report");
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines[0], "line,field,problem");
    assert!(lines[1].starts_with("4,date_of_birth,"), "{report}");
    assert_eq!(lines.len(), 2, "{report}");
    assert!(
        !report.contains("1988") && !report.contains("EMP-3"),
        "{report}"
    );
}

/// `--rejects` puts the report where it is asked to.
#[tokio::test]
async fn rejects_names_where_the_report_goes() {
    let fed = lewisham().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = participants_with_a_bad_line_4(dir.path());
    let report = dir.path().join("rejected.csv");
    let report_arg = report.to_str().expect("utf-8 path");
    let out = import(
        &fed,
        Dataset::EmploymentParticipation,
        &file,
        &["--skip-invalid", "--rejects", report_arg],
    )
    .await;
    out.assert_success();
    let text = std::fs::read_to_string(&report).expect("report");
    assert!(text.contains("\n4,date_of_birth,"), "{text}");
}

/// A dry run checks the file and sends nothing.
#[tokio::test]
async fn a_dry_run_sends_nothing() {
    let fed = lewisham().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(
        dir.path(),
        "requests.csv",
        REQUEST_HEADER,
        &[request("R-1"), request("R-2")],
    );
    let before = snapshot(&fed);
    let out = import(&fed, Dataset::ChildcareRequests, &file, &["--dry-run"]).await;
    out.assert_success();
    assert_mentions(
        &out.stdout,
        &["checked 2 rows (2 records)", "dry run, nothing sent"],
    );
    assert_eq!(snapshot(&fed), before);
}

/// A dry run of a file with a bad row fails, naming it.
#[tokio::test]
async fn a_dry_run_of_a_bad_file_fails_naming_the_row() {
    let fed = lewisham().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = participants_with_a_bad_line_4(dir.path());
    let out = import(
        &fed,
        Dataset::EmploymentParticipation,
        &file,
        &["--dry-run"],
    )
    .await;
    out.assert_failure();
    assert_mentions(&out.stderr, &["line 4: date_of_birth"]);
}

/// Header names in other case, spacing and separators import the same columns.
#[tokio::test]
async fn header_names_in_any_case_and_spacing_import() {
    let fed = lewisham().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let header = PARTICIPANT_HEADER
        .replace("local_ref", " Local Ref ")
        .replace("ni_number", "NI-Number")
        .replace("date_of_birth", "DATE OF BIRTH")
        .replace("postcode", " Postcode")
        .replace("childcare_barrier", "Childcare_Barrier ");
    let file = write(
        dir.path(),
        "people.csv",
        &header,
        &[participant("E-1", "1988-07-14")],
    );
    let out = import(&fed, Dataset::EmploymentParticipation, &file, &[]).await;
    out.assert_success();
    assert_eq!(count(&fed, Dataset::EmploymentParticipation), 1);
}

/// A column the dataset does not have is refused by name before anything is
/// sent, so a misspelt header cannot silently drop its data.
#[tokio::test]
async fn an_unknown_column_is_refused_by_name() {
    let fed = lewisham().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let header = PARTICIPANT_HEADER.replace("childcare_barrier", "childcare_barier");
    let file = write(
        dir.path(),
        "people.csv",
        &header,
        &[participant("E-1", "1988-07-14")],
    );
    let before = snapshot(&fed);
    let out = import(&fed, Dataset::EmploymentParticipation, &file, &[]).await;
    out.assert_failure();
    assert_mentions(
        &out.stderr,
        &["line 1", "unknown column(s) `childcare_barier`"],
    );
    assert_eq!(snapshot(&fed), before);
}

/// JSONL providers, offers nested, import as one record per line.
#[tokio::test]
async fn jsonl_providers_with_nested_offers_import() {
    let fed = lewisham().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let lines = [
        place_json("P-1", &["2", "3-4"]),
        place_json("P-2", &["3-4"]),
    ];
    let file = write(dir.path(), "places.jsonl", "", &lines);
    let out = import(&fed, Dataset::ChildcarePlaces, &file, &[]).await;
    out.assert_success();
    assert_eq!(count(&fed, Dataset::ChildcarePlaces), 2);
    let offers: u64 = fed
        .store(LEWISHAM)
        .records(Dataset::ChildcarePlaces, gss(LEWISHAM))
        .map(|r| {
            v1::ChildcarePlace::decode(&r.expect("reads").payload[..])
                .expect("decodes")
                .offers
                .len() as u64
        })
        .sum();
    assert_eq!(offers, 3);
}

/// A terminated postcode is imported and flagged: counted in the summary and
/// listed in the report as a warning.
#[tokio::test]
async fn a_terminated_postcode_is_imported_and_flagged() {
    let fed = lewisham().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = [
        participant("E-1", "1988-07-14"),
        participant("E-2", "1988-07-14").replace(LIVE, TERMINATED),
    ];
    let file = write(dir.path(), "people.csv", PARTICIPANT_HEADER, &rows);
    let out = import(&fed, Dataset::EmploymentParticipation, &file, &[]).await;
    out.assert_success();
    assert_eq!(count(&fed, Dataset::EmploymentParticipation), 2);
    assert_mentions(&out.stdout, &["1 flagged"]);
    let report =
        std::fs::read_to_string(dir.path().join("people.csv.rejects.csv")).expect("report");
    assert!(report.contains("\n3,postcode,warning:"), "{report}");
}

/// Records are sent in batches of `--batch`, each acknowledged and audited.
#[tokio::test]
async fn records_are_sent_in_batches_of_the_size_asked() {
    let fed = lewisham().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let rows: Vec<String> = (1..=5).map(|i| request(&format!("R-{i}"))).collect();
    let file = write(dir.path(), "requests.csv", REQUEST_HEADER, &rows);
    let audit_before = snapshot(&fed).audit;
    let out = import(&fed, Dataset::ChildcareRequests, &file, &["--batch", "2"]).await;
    out.assert_success();
    assert_mentions(&out.stdout, &["sent 5 records in 3 batches"]);
    assert_eq!(snapshot(&fed).audit, audit_before + 3);
}

/// The sample files in docs/samples import into Lewisham's node, one record per
/// `local_ref`.
#[tokio::test]
async fn the_sample_files_import() {
    let fed = lewisham().await;
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/samples");
    for dataset in Dataset::ALL {
        let file = samples.join(format!("{dataset}.csv"));
        let text = std::fs::read_to_string(&file).expect("sample file");
        let refs: std::collections::BTreeSet<&str> = text
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').next())
            .collect();
        let dir = tempfile::tempdir().expect("temp dir");
        let report = dir.path().join("report.csv");
        let out = run([
            OsString::from("import"),
            "--config".into(),
            fed.inner.config_path(gss(LEWISHAM)).into(),
            "--dataset".into(),
            dataset.as_str().into(),
            file.into(),
            "--rejects".into(),
            report.into(),
        ])
        .await;
        out.assert_success();
        assert_eq!(
            count(&fed, dataset),
            refs.len() as u64,
            "{dataset}: {out:#?}"
        );
    }
}

/// Without a running node the import fails at once, saying it cannot reach it.
#[tokio::test]
async fn a_node_that_is_not_running_is_reported() {
    let layout = Layout::new(&[LEWISHAM]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(
        dir.path(),
        "people.csv",
        PARTICIPANT_HEADER,
        &[participant("E-1", "1988-07-14")],
    );
    let out = run([
        OsString::from("import"),
        "--config".into(),
        layout.config(LEWISHAM).into(),
        "--dataset".into(),
        "employment-participation".into(),
        file.into(),
    ])
    .await;
    out.assert_failure();
    let port = layout.address(LEWISHAM).port().to_string();
    assert_mentions(&out.stderr, &["cannot reach the node", &port]);
    assert!(!dir.path().join("people.csv.rejects.csv").exists());
}

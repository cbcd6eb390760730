//! `borough query`'s output forms as an analyst uses them, through the real
//! binary against a real node: CSV in DfE's columns, JSON, Parquet and an SVG
//! chart each parse back with an ordinary reader, and a suppressed figure stays
//! suppressed in every one of them.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use borough_model::{Dataset, Geography};
use borough_proto::v1;

use crate::support::binary::{run, Finished};
use crate::support::*;

/// Lambeth's node holding participants it delivers: 40 Lambeth residents who
/// started in January 2026 and 40 in March; 30 Southwark residents who started
/// in January and 3 in March (a cell too small to release).
async fn lambeth_with_cohorts() -> Federation {
    let fed = Federation::start(&[LAMBETH]).await;
    let mut rows = Vec::new();
    let groups = [
        (LAMBETH, "2026-01-12", 0..40),
        (LAMBETH, "2026-03-09", 40..80),
        (SOUTHWARK, "2026-01-12", 80..110),
        (SOUTHWARK, "2026-03-09", 110..113),
    ];
    for (resident, start, range) in groups {
        let lsoa = Geography::bundled().lsoas_in(gss(resident))[0].to_string();
        for ni in people(range) {
            let input = v1::ParticipantInput {
                lsoa: lsoa.clone(),
                referral_date: "2026-01-05".into(),
                start_date: start.into(),
                job_outcome_date: String::new(),
                ..participant(LAMBETH, &ni, "restart")
            };
            rows.push((format!("case-{ni}"), input));
        }
    }
    fed.ingest_inputs(LAMBETH, Dataset::EmploymentParticipation, rows)
        .await;
    fed
}

/// Runs `borough query --config <Lambeth> --measures participants
/// --by resident-borough,start-month <extra…>`.
async fn query(fed: &Federation, extra: &[&OsString]) -> Finished {
    let mut args: Vec<OsString> = [
        "query",
        "--config",
        &fed.inner.config_path(gss(LAMBETH)).to_string_lossy(),
        "--measures",
        "participants",
        "--by",
        "resident-borough,start-month",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    args.extend(extra.iter().map(|a| (*a).clone()));
    run(args).await
}

/// `--<flag> <dir>/<name>` as arguments, and the path.
fn file_arg(dir: &Path, flag: &str, name: &str) -> (OsString, OsString, PathBuf) {
    let path = dir.join(name);
    (format!("--{flag}").into(), path.clone().into(), path)
}

/// Whether a released count could stand for `truth` (rounding ±2, perturbation ±2).
fn near(released: &str, truth: i64) -> bool {
    released
        .parse::<i64>()
        .is_ok_and(|n| (n - truth).abs() <= 4)
}

#[tokio::test]
async fn csv_answers_parse_back_with_dfe_columns_and_a_small_cell_as_c() {
    let fed = lambeth_with_cohorts().await;
    let (flag, value, path) = file_arg(fed.dir.path(), "out", "answer.csv");
    let out = query(&fed, &[&"--format".into(), &"csv".into(), &flag, &value]).await;
    out.assert_success();

    let mut reader = csv::Reader::from_path(&path).expect("the CSV opens");
    let header: Vec<String> = reader
        .headers()
        .expect("a header line")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        header,
        [
            "time_period",
            "time_identifier",
            "geographic_level",
            "country_code",
            "country_name",
            "region_code",
            "region_name",
            "new_la_code",
            "la_name",
            "participants"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a CSV row")).collect();
    let cell = |la: &str, month: &str| {
        rows.iter()
            .find(|r| &r[7] == la && &r[1] == month)
            .map(|r| r[9].to_string())
            .unwrap_or_else(|| panic!("no row for {la} {month} in {rows:?}"))
    };
    assert!(near(&cell(LAMBETH, "January"), 40), "{rows:?}");
    assert!(near(&cell(SOUTHWARK, "January"), 30), "{rows:?}");
    assert_eq!(cell(SOUTHWARK, "March"), "c");
    assert!(rows.iter().all(|r| &r[0] == "2026" || &r[0] == "Total"));
}

#[tokio::test]
async fn json_answers_parse_back_with_numbers_symbols_and_freshness() {
    let fed = lambeth_with_cohorts().await;
    let out = query(&fed, &[&"--format".into(), &"json".into()]).await;
    out.assert_success();

    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("the answer is JSON");
    let rows = doc["rows"].as_array().expect("rows");
    let figure = |la: &str, month: &str| {
        rows.iter()
            .find(|r| r["codes"][0] == la && r["codes"][1] == month)
            .map(|r| r["figures"][0].clone())
            .unwrap_or_else(|| panic!("no row for {la} {month}"))
    };
    assert!(figure(LAMBETH, "2026-01")
        .as_u64()
        .is_some_and(|n| n.abs_diff(40) <= 4));
    assert_eq!(figure(SOUTHWARK, "2026-03"), "c");
    assert_eq!(doc["freshness"][0]["borough"], LAMBETH);
    assert_eq!(doc["disclosure"]["threshold"], 10);
}

#[tokio::test]
async fn parquet_answers_parse_back_with_a_small_cell_null_and_marked_c() {
    use arrow_array::{Array, Int64Array, StringArray};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let fed = lambeth_with_cohorts().await;
    let (flag, value, path) = file_arg(fed.dir.path(), "out", "answer.parquet");
    let out = query(
        &fed,
        &[&"--format".into(), &"parquet".into(), &flag, &value],
    )
    .await;
    out.assert_success();

    let file = std::fs::File::open(&path).expect("the Parquet file");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("a Parquet file");
    let metadata = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .cloned();
    let batch = builder
        .build()
        .expect("a reader")
        .next()
        .expect("one batch")
        .expect("the batch reads");
    let strings = |name: &str| {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned())
            .unwrap_or_else(|| panic!("no text column {name}"))
    };
    let (la, month, symbol) = (
        strings("resident_borough_code"),
        strings("start_month_code"),
        strings("participants_symbol"),
    );
    let participants = batch
        .column_by_name("participants")
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>().cloned())
        .expect("participants as Int64");
    let row = |l: &str, m: &str| {
        (0..batch.num_rows())
            .find(|&i| la.is_valid(i) && la.value(i) == l && month.value(i) == m)
            .unwrap_or_else(|| panic!("no row for {l} {m}"))
    };
    let small = row(SOUTHWARK, "2026-03");
    assert!(
        participants.is_null(small),
        "a suppressed figure is null, not 0"
    );
    assert_eq!(symbol.value(small), "c");
    let big = row(LAMBETH, "2026-01");
    assert!(participants.value(big).abs_diff(40) <= 4);
    assert!(symbol.is_null(big));
    let freshness = metadata
        .unwrap_or_default()
        .into_iter()
        .find(|kv| kv.key == "borough.freshness")
        .and_then(|kv| kv.value)
        .expect("freshness travels with the file");
    assert!(freshness.contains(LAMBETH), "{freshness}");
}

#[tokio::test]
async fn the_plot_is_an_svg_with_a_point_per_released_figure_and_none_for_a_suppressed_one() {
    let fed = lambeth_with_cohorts().await;
    let (flag, value, path) = file_arg(fed.dir.path(), "plot", "participants.svg");
    let out = query(&fed, &[&"--format".into(), &"json".into(), &flag, &value]).await;
    out.assert_success();

    let svg = std::fs::read_to_string(&path).expect("the chart is written");
    let doc = roxmltree::Document::parse(&svg).expect("the chart is XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    assert!(
        texts.contains(&"Lambeth") && texts.contains(&"Southwark"),
        "{texts:?}"
    );
    assert!(texts.contains(&"2026-03"), "{texts:?}");
    // One point per borough-and-month figure released as a number; Southwark's
    // March is `c` (and its complement is suppressed too), so fewer than four.
    let answer: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    let released = answer["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["codes"][0] != "" && r["codes"][1] != "" && r["figures"][0].is_u64())
        .count();
    let points = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .count();
    assert_eq!(points, released);
    assert!(released < 4, "{}", out.stdout);
}

#[tokio::test]
async fn a_plot_without_a_period_is_refused_naming_the_flag() {
    let fed = lambeth_with_cohorts().await;
    let (flag, value, path) = file_arg(fed.dir.path(), "plot", "nothing.svg");
    let out = run([
        OsString::from("query"),
        "--config".into(),
        fed.inner.config_path(gss(LAMBETH)).into(),
        "--measures".into(),
        "participants".into(),
        "--by".into(),
        "resident-borough".into(),
        flag,
        value,
    ])
    .await;
    out.assert_failure();
    assert!(
        out.stderr.contains("--plot: a chart is drawn over time"),
        "{}",
        out.stderr
    );
    assert!(!path.exists());
}

#[tokio::test]
async fn parquet_to_the_terminal_is_refused_asking_for_out() {
    let fed = Federation::start(&[LAMBETH]).await;
    let out = query(&fed, &[&"--format".into(), &"parquet".into()]).await;
    out.assert_failure();
    assert!(
        out.stderr.contains("name a file with --out"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn epsilon_asks_as_the_researcher_and_says_what_it_spent() {
    let fed = lambeth_with_cohorts().await;
    let out = query(&fed, &[&"--epsilon".into(), &"0.5".into()]).await;
    out.assert_success();
    assert!(
        out.stdout.contains("this answer spent ε 0.5") && out.stdout.contains("budget spent ε 0.5"),
        "{}",
        out.stdout
    );
    let again = query(&fed, &[&"--epsilon".into(), &"0.25".into()]).await;
    again.assert_success();
    assert!(
        again.stdout.contains("budget spent ε 0.75"),
        "{}",
        again.stdout
    );
}

#[tokio::test]
async fn a_bad_epsilon_is_refused_naming_the_flag() {
    let fed = Federation::start(&[LAMBETH]).await;
    let out = query(&fed, &[&"--epsilon=-1".into()]).await;
    out.assert_failure();
    assert!(
        out.stderr.contains("--epsilon: -1 must be above 0"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn an_unwritable_out_path_is_refused_before_any_budget_is_spent() {
    let fed = lambeth_with_cohorts().await;
    let nowhere = fed.dir.path().join("no-such-folder").join("answer.csv");
    let out = query(
        &fed,
        &[
            &"--epsilon".into(),
            &"0.5".into(),
            &"--out".into(),
            &nowhere.clone().into(),
        ],
    )
    .await;
    out.assert_failure();
    assert!(
        out.stderr.contains(&nowhere.display().to_string()),
        "{}",
        out.stderr
    );
    let spent = query(&fed, &[&"--epsilon".into(), &"0.5".into()]).await;
    spent.assert_success();
    assert!(
        spent.stdout.contains("budget spent ε 0.5,"),
        "{}",
        spent.stdout
    );
}

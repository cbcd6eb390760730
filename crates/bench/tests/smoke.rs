//! The smoke configuration end to end through the library, so the harness cannot
//! rot: it checks only that everything arrived and was measured, never how fast.

use borough_bench::import_load::{self, ImportConfig};
use borough_bench::{report, run_sync, SyncConfig};
use borough_model::Dataset;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_sync_runs_end_to_end() {
    let config = SyncConfig::smoke();
    let r = run_sync(&config, |_| {}).await.expect("smoke run succeeds");

    assert!(r.tls.bytes >= borough_bench::TLS_BYTES_MIN);
    assert_eq!(r.sled.records, config.records);
    assert_eq!(r.sled.batches, config.records.div_ceil(1_000));
    assert_eq!(r.peer_apply.records, config.records);
    assert_eq!(r.own_ingest.records, config.records);

    assert_eq!(r.sync.load.records, config.records);
    assert_eq!(r.sync.records, config.records);
    assert_eq!(r.sync.southwark_count, config.records);
    assert_eq!(r.sync.checkpoint, r.sync.lambeth_head);
    assert_eq!(r.sync.lambeth_head, config.records);
    assert!(r.mean_payload_bytes > 0.0);

    assert!(r.lag.batches > 0, "no lag batches were sent");
    assert_eq!(r.lag.changes, r.lag.batches * r.lag.batch_size);
    assert_eq!(
        r.lag.lag.count, r.lag.changes,
        "every change got a lag sample"
    );
    assert_eq!(r.lag.missing, 0);
    assert!(r.lag.polls > 0);
    assert_eq!(r.phases.len(), 6, "every step was timed");

    let text = report::render(&r);
    for heading in ["1. Ceilings", "2. Initial sync", "3. Live replication lag"] {
        assert!(text.contains(heading), "report lacks {heading}:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_import_runs_end_to_end_for_every_dataset() {
    for dataset in Dataset::ALL {
        let config = ImportConfig {
            rows: 400,
            dataset,
            batch: 100,
            command: format!("borough-bench import --rows 400 --dataset {dataset} --batch 100"),
            exe: env!("CARGO_BIN_EXE_borough-bench").into(),
        };
        let r = import_load::run(&config, |_| {})
            .await
            .unwrap_or_else(|e| panic!("{dataset}: {e:#}"));

        assert!(r.full.rows >= 400, "{dataset}: {} rows", r.full.rows);
        assert_eq!(r.csv.rows, r.full.rows, "{dataset}");
        assert_eq!(r.full.stored, r.full.records, "{dataset}");
        assert_eq!(r.quarter.stored, r.quarter.records, "{dataset}");
        assert!(
            r.quarter.rows >= 100 && r.quarter.rows < r.full.rows,
            "{dataset}"
        );
        assert_eq!(r.sled.records, r.full.records, "{dataset}");
        assert!(r.full.import_peak_bytes > 0 && r.full.node_peak_bytes > 0);

        let text = report::render_import(&r);
        for heading in ["1. Ceilings", "2. borough import", "ratio", "memory"] {
            assert!(text.contains(heading), "report lacks {heading}:\n{text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_query_runs_end_to_end() {
    let config = borough_bench::query_load::QueryConfig::smoke();
    let r = tokio::task::spawn_blocking(move || {
        let mut ours = borough_bench::query_engine::InProcess::default();
        borough_bench::query_load::run(&config, &mut ours, |_| {})
    })
    .await
    .expect("joins")
    .expect("smoke run succeeds");

    let records: u64 = r.load.iter().map(|o| o.records).sum();
    assert_eq!(records, 3_000);
    assert_eq!(r.duckdb.rows_loaded, records);
    assert_eq!(r.duckdb.runs.len(), 3);
    assert_eq!(r.ours.runs.len(), 3);
    assert_eq!(r.ours.rows, r.export.expected.rows);
    assert_eq!(r.duckdb.result_rows, r.export.expected.rows);
    assert_eq!(r.ceiling.count, 3, "the ceiling timed once per run");

    let text = report::render_query(&r);
    for heading in [
        "1. DuckDB",
        "2. borough-net",
        "3. Ceiling",
        "ratio",
        "view rebuilt",
    ] {
        assert!(text.contains(heading), "report lacks {heading}:\n{text}");
    }
}

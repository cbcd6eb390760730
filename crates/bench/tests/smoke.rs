//! The smoke configuration end to end through the library, so the harness cannot
//! rot: it checks only that everything arrived and was measured, never how fast.

use borough_bench::{report, run_sync, SyncConfig};

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

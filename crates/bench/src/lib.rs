//! borough-bench: a benchmark harness for borough-net replication. Every figure
//! is set against ceilings measured in the same run on the same machine (raw
//! rustls loopback throughput and sled's batched, flushed insert rate), because the
//! machines it runs on are shared and noisy: numbers from elsewhere mean nothing.
//!
//! One function per measurement, each returning a result struct:
//! [`tls_ceiling::measure`], [`sled_ceiling::measure`], [`initial_sync::run`] and
//! [`live_lag::run`], with [`store_path`] timing the store's write paths alone for
//! comparison; [`run_sync`] runs them in order and [`report::render`] turns the
//! results into the plain-text report `borough-bench sync` prints.
//! [`import_load`] and [`query_load`] are the `import` and `query` benchmarks;
//! [`duckdb`] is the query benchmark's DuckDB side.

pub mod cluster;
pub mod duckdb;
pub mod import_load;
pub mod initial_sync;
pub mod live_lag;
pub mod machine;
pub mod query_ceiling;
pub mod query_engine;
pub mod query_load;
pub mod records;
pub mod report;
pub mod sled_ceiling;
pub mod store_path;
pub mod tls_ceiling;

use borough_sync::SyncLimits;

use crate::initial_sync::InitialSync;
use crate::live_lag::LiveLag;
use crate::machine::{Machine, Phase, PhaseClock};
use crate::records::RecordSet;
use crate::sled_ceiling::SledCeiling;
use crate::store_path::StorePath;
use crate::tls_ceiling::TlsCeiling;

/// The most the TLS ceiling sends by default.
pub const TLS_BYTES_MAX: u64 = 512 * 1024 * 1024;
/// The least the TLS ceiling sends by default, so small runs still time something.
pub const TLS_BYTES_MIN: u64 = 4 * 1024 * 1024;

/// What `borough-bench sync` runs.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Records loaded at Lambeth and pulled by Southwark (and written by the sled
    /// ceiling).
    pub records: u64,
    /// Seconds of updates in the lag measurement.
    pub lag_seconds: f64,
    /// Updates per second in the lag measurement.
    pub rate: u32,
    /// Bytes the TLS ceiling pushes; `None` for four times the records' on-wire
    /// size, between [`TLS_BYTES_MIN`] and [`TLS_BYTES_MAX`].
    pub tls_bytes: Option<u64>,
    /// The command line to print in the report.
    pub command: String,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            records: 1_000_000,
            lag_seconds: 30.0,
            rate: 1_000,
            tls_bytes: None,
            command: "cargo run --release -p borough-bench -- sync".into(),
        }
    }
}

impl SyncConfig {
    /// The smoke configuration: 2,000 records and one second of lag measurement.
    pub fn smoke() -> SyncConfig {
        SyncConfig {
            records: 2_000,
            lag_seconds: 1.0,
            command: "cargo run -p borough-bench -- sync --records 2000 --lag-seconds 1".into(),
            ..SyncConfig::default()
        }
    }
}

/// Everything one `sync` run measured.
#[derive(Debug, Clone)]
pub struct SyncReport {
    /// The configuration run.
    pub config: SyncConfig,
    /// Where it ran.
    pub machine: Machine,
    /// When it started (UTC, RFC 3339).
    pub started_at: String,
    /// Distinct record templates used.
    pub templates: usize,
    /// Mean encoded payload size of the records.
    pub mean_payload_bytes: f64,
    /// Mean on-wire size of one replicated change.
    pub wire_record_bytes: f64,
    /// Ceiling 1.
    pub tls: TlsCeiling,
    /// The source measured: `git describe --always --dirty`, if available.
    pub source: String,
    /// Ceiling 2.
    pub sled: SledCeiling,
    /// `Store::apply_peer_batch` alone (Southwark's write path without the network).
    pub peer_apply: StorePath,
    /// `Store::ingest` alone (Lambeth's write path without the RPC).
    pub own_ingest: StorePath,
    /// Measurement 2.
    pub sync: InitialSync,
    /// Measurement 3.
    pub lag: LiveLag,
    /// Wall time, this process's CPU time and the machine's load average for each
    /// step, to show how busy the shared machine was.
    pub phases: Vec<Phase>,
}

/// Which ceiling binds, and at how many records per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Binding {
    /// `"rustls loopback"` or `"sled batched insert"`.
    pub name: &'static str,
    /// Records per second.
    pub records_per_s: f64,
}

impl SyncReport {
    /// The lower of the two ceilings in records per second.
    pub fn binding(&self) -> Binding {
        let tls = self.tls.records_per_s(self.wire_record_bytes);
        let sled = self.sled.records_per_s();
        if tls < sled {
            Binding {
                name: "rustls loopback",
                records_per_s: tls,
            }
        } else {
            Binding {
                name: "sled batched insert",
                records_per_s: sled,
            }
        }
    }

    /// Initial sync records/s over the binding ceiling (target ≥ 0.50).
    pub fn sync_ratio(&self) -> f64 {
        self.sync.records_per_s() / self.binding().records_per_s
    }
}

/// The initial-sync target: at least this fraction of the binding ceiling.
pub const SYNC_RATIO_TARGET: f64 = 0.50;
/// The live-lag target: p99 under this many milliseconds.
pub const LAG_P99_TARGET_MS: f64 = 100.0;

/// Runs the ceilings, then the initial sync, then the lag measurement, calling
/// `progress` with a line before each step.
pub async fn run_sync(
    config: &SyncConfig,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<SyncReport> {
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let machine = Machine::current();
    let set = RecordSet::new(records::gss(records::LAMBETH)?)?;
    let records = config.records;
    let wire = set.wire_record_bytes(records);
    let tls_bytes = config.tls_bytes.unwrap_or_else(|| {
        ((records as f64 * wire * 4.0) as u64).clamp(TLS_BYTES_MIN, TLS_BYTES_MAX)
    });

    progress(&format!(
        "ceiling 1/2: rustls loopback, {:.0} MiB",
        tls_bytes as f64 / 1_048_576.0
    ));
    let mut phases = Vec::new();
    let clock = PhaseClock::start("rustls ceiling");
    let tls = tls_ceiling::measure(tls_bytes).await?;
    phases.push(clock.stop());

    let batch_size = SyncLimits::default().batch_size;
    progress(&format!(
        "ceiling 2/2: sled, {records} records in batches of {batch_size}"
    ));
    let blocking_set = set.clone();
    let clock = PhaseClock::start("sled ceiling");
    let sled = tokio::task::spawn_blocking(move || {
        sled_ceiling::measure(&blocking_set, records, batch_size)
    })
    .await??;
    phases.push(clock.stop());

    progress("for comparison: the store's write paths alone");
    let blocking_set = set.clone();
    let clock = PhaseClock::start("store paths alone");
    let (peer_apply, own_ingest) = tokio::task::spawn_blocking(move || {
        let set = &blocking_set;
        let peer = store_path::peer_apply(set, records, batch_size)?;
        let own = store_path::own_ingest(set, records, initial_sync::INGEST_BATCH as usize)?;
        Ok::<_, anyhow::Error>((peer, own))
    })
    .await??;
    phases.push(clock.stop());

    progress("starting Lambeth and Southwark");
    let mut cluster = cluster::Cluster::start().await?;
    progress(&format!(
        "initial sync: Southwark stopped, loading {records} records at Lambeth"
    ));
    let clock = PhaseClock::start("load at Lambeth");
    let load = initial_sync::prepare(&mut cluster, &set, records).await?;
    phases.push(clock.stop());
    progress("initial sync: restarting Southwark, timing its pull");
    let clock = PhaseClock::start("initial sync");
    let sync = initial_sync::pull(&mut cluster, &set, records, load).await?;
    phases.push(clock.stop());
    progress(&format!(
        "live lag: {} changes/s for {} s",
        config.rate, config.lag_seconds
    ));
    let clock = PhaseClock::start("live lag");
    let lag = live_lag::run(&cluster, &set, records, config.rate, config.lag_seconds).await?;
    phases.push(clock.stop());
    cluster.shutdown().await?;

    Ok(SyncReport {
        config: config.clone(),
        machine,
        started_at,
        templates: records::TEMPLATES,
        mean_payload_bytes: set.mean_payload_bytes(records),
        wire_record_bytes: wire,
        source: source(),
        tls,
        sled,
        peer_apply,
        own_ingest,
        sync,
        lag,
        phases,
    })
}

/// `git describe --always --dirty` of the workspace this crate was built from.
pub(crate) fn source() -> String {
    std::process::Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "describe",
            "--always",
            "--dirty",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

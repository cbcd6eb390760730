//! The import benchmark: a `borough gen` file of N rows imported into a real
//! Lambeth node, set beside two ceilings measured in the same run on the same
//! file or row count: a plain CSV parse of the file, and sled's batched, flushed
//! insert rate (the sync benchmark's ceiling 2) at the import's batch size.
//!
//! The node and the import each run in a child process (this binary, re-run
//! with a hidden subcommand), so each one's peak memory is its own: the node's
//! `VmHWM` is read from `/proc` before it is stopped, the import reports its
//! own. The import runs twice, on a quarter of the file and on all of it, to
//! show whether memory grows with the file.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use borough_model::{Dataset, GssCode};
use borough_node::federation::{config_path, LocalFederation};
use borough_store::Store;
use tokio::process::{Child, Command};

use crate::machine::{Machine, Phase, PhaseClock};
use crate::records::{gss, RecordSet, LAMBETH};
use crate::sled_ceiling::{self, SledCeiling};

/// The seed of the generated file: every run imports the same rows.
pub const SEED: u64 = 2026;

/// What `borough-bench import` runs.
#[derive(Debug, Clone)]
pub struct ImportConfig {
    /// Rows in the full file.
    pub rows: usize,
    /// The dataset imported.
    pub dataset: Dataset,
    /// Records per Ingest batch (and per sled ceiling batch).
    pub batch: usize,
    /// The command line to print in the report.
    pub command: String,
    /// The `borough-bench` executable, run with hidden subcommands as the node
    /// and the import processes.
    pub exe: PathBuf,
}

/// The plain CSV parse of the file: every row read into a `csv::StringRecord`
/// (fields split, quotes undone, UTF-8 checked), nothing else.
#[derive(Debug, Clone)]
pub struct CsvCeiling {
    /// Rows read, not counting the header.
    pub rows: u64,
    /// Fields read.
    pub fields: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl CsvCeiling {
    /// Rows per second.
    pub fn rows_per_s(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64()
    }
}

/// One `borough import` of a file into a fresh node.
#[derive(Debug, Clone)]
pub struct ImportRun {
    /// Rows in the file.
    pub rows: u64,
    /// Records sent (a childcare provider's offer rows make one record).
    pub records: u64,
    /// The file's size in bytes.
    pub file_bytes: u64,
    /// The import's own elapsed time: check pass, then parse, send and
    /// acknowledgement of every batch (each durable on the node's disk).
    pub elapsed: Duration,
    /// The import process's peak resident memory.
    pub import_peak_bytes: u64,
    /// The node process's peak resident memory.
    pub node_peak_bytes: u64,
    /// Records the node's store holds afterwards (checked equal to `records`).
    pub stored: u64,
}

impl ImportRun {
    /// Rows per second, end to end.
    pub fn rows_per_s(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64()
    }
    /// Records per second, end to end.
    pub fn records_per_s(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64()
    }
}

/// What one `import` run measured.
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// The configuration run.
    pub config: ImportConfig,
    /// Where it ran.
    pub machine: Machine,
    /// When it started (UTC, RFC 3339).
    pub started_at: String,
    /// The source measured: `git describe --always --dirty`, if available.
    pub source: String,
    /// Wall time and load average of each step.
    pub phases: Vec<Phase>,
    /// How long generating the full file took.
    pub generate: Duration,
    /// Ceiling 1, on the full file.
    pub csv: CsvCeiling,
    /// Ceiling 2, as many records as the full import sends.
    pub sled: SledCeiling,
    /// The import of the first quarter of the file.
    pub quarter: ImportRun,
    /// The import of the whole file.
    pub full: ImportRun,
}

/// The import target: at least this fraction of the slower ceiling.
pub const IMPORT_RATIO_TARGET: f64 = 0.50;

impl ImportReport {
    /// The slower ceiling's name and rate: CSV rows/s, or sled records/s turned
    /// into rows/s at the file's rows per record.
    pub fn binding(&self) -> (&'static str, f64) {
        let rows_per_record = self.full.rows as f64 / self.full.records.max(1) as f64;
        let sled_rows = self.sled.records_per_s() * rows_per_record;
        let csv_rows = self.csv.rows_per_s();
        if csv_rows < sled_rows {
            ("plain CSV parse", csv_rows)
        } else {
            ("sled batched insert", sled_rows)
        }
    }

    /// Import rows/s over the slower ceiling in rows/s (target ≥ 0.50).
    pub fn ratio(&self) -> f64 {
        self.full.rows_per_s() / self.binding().1
    }

    /// The full import's peak memory over the quarter import's, for the import
    /// process and the node (flat is about 1).
    pub fn memory_growth(&self) -> (f64, f64) {
        let ratio = |a: u64, b: u64| a as f64 / b.max(1) as f64;
        (
            ratio(self.full.import_peak_bytes, self.quarter.import_peak_bytes),
            ratio(self.full.node_peak_bytes, self.quarter.node_peak_bytes),
        )
    }
}

/// Generates the file, measures both ceilings and imports a quarter of the file
/// and then all of it, each into a fresh node.
pub async fn run(
    config: &ImportConfig,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<ImportReport> {
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut phases = Vec::new();
    let work = tempfile::Builder::new()
        .prefix("borough-bench-import-")
        .tempdir()?;
    let lambeth = gss(LAMBETH)?;

    progress(&format!(
        "generating {} rows of {} for Lambeth (seed {SEED})",
        config.rows, config.dataset
    ));
    let clock = PhaseClock::start("generate");
    let full_file = generate(lambeth, config.dataset, config.rows, work.path())?;
    let generate = clock.stop();
    let quarter_file = work.path().join(format!("quarter-{}.csv", config.dataset));
    let quarter_rows = first_rows(&full_file, &quarter_file, config.rows / 4)?;

    progress("ceiling 1/2: plain CSV parse of the file");
    let clock = PhaseClock::start("CSV parse");
    let csv = {
        let path = full_file.clone();
        tokio::task::spawn_blocking(move || csv_parse(&path)).await??
    };
    phases.push(clock.stop());

    progress("import 1/2: a quarter of the file into a fresh node");
    let clock = PhaseClock::start("import, quarter");
    let quarter = import_once(&quarter_file, config, &work.path().join("quarter")).await?;
    phases.push(clock.stop());
    anyhow::ensure!(
        quarter.rows == quarter_rows,
        "the quarter import read {} rows of {quarter_rows}",
        quarter.rows
    );
    progress("import 2/2: the whole file into a fresh node");
    let clock = PhaseClock::start("import, whole");
    let full = import_once(&full_file, config, &work.path().join("full")).await?;
    phases.push(clock.stop());

    progress(&format!(
        "ceiling 2/2: sled, {} records in batches of {}",
        full.records, config.batch
    ));
    let clock = PhaseClock::start("sled ceiling");
    let sled = {
        let set = RecordSet::new(lambeth)?;
        let (records, batch) = (full.records, config.batch);
        tokio::task::spawn_blocking(move || sled_ceiling::measure(&set, records, batch)).await??
    };
    phases.push(clock.stop());

    Ok(ImportReport {
        config: config.clone(),
        machine: Machine::current(),
        started_at,
        source: crate::source(),
        generate: generate.wall,
        phases: std::iter::once(generate).chain(phases).collect(),
        csv,
        sled,
        quarter,
        full,
    })
}

/// Writes `rows` rows of each dataset for `borough` with `borough gen` under
/// `dir` (streamed to disk, so generating does not hold the file in memory) and
/// returns the path of `dataset`'s file.
fn generate(
    borough: GssCode,
    dataset: Dataset,
    rows: usize,
    dir: &Path,
) -> anyhow::Result<PathBuf> {
    let plan = borough_synth::GenPlan {
        boroughs: vec![borough],
        seed: SEED,
        records: rows,
        today: time::OffsetDateTime::now_utc().date(),
    };
    borough_synth::generate(&plan, &dir.join("generated"))?
        .files
        .into_iter()
        .find(|f| f.dataset == dataset)
        .map(|f| f.path)
        .with_context(|| format!("borough gen made no {dataset} file"))
}

/// Copies the header and the first `rows` rows of `from` (plus the rest of the
/// last record's rows: a provider's offers stay together) into `to`.
fn first_rows(from: &Path, to: &Path, rows: usize) -> anyhow::Result<u64> {
    let mut reader = csv::Reader::from_path(from)?;
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_path(to)?;
    writer.write_byte_record(reader.byte_headers()?)?;
    let mut written = 0u64;
    let mut last_ref: Option<Vec<u8>> = None;
    for record in reader.byte_records() {
        let record = record?;
        let local_ref = record.get(0).map(<[u8]>::to_vec);
        if written as usize >= rows && local_ref != last_ref {
            break;
        }
        writer.write_byte_record(&record)?;
        last_ref = local_ref;
        written += 1;
    }
    writer.flush()?;
    Ok(written)
}

/// Ceiling 1: reads every row of `path` into a `StringRecord`.
pub fn csv_parse(path: &Path) -> anyhow::Result<CsvCeiling> {
    let started = Instant::now();
    let mut reader = csv::Reader::from_path(path)?;
    let mut record = csv::StringRecord::new();
    let (mut rows, mut fields) = (0u64, 0u64);
    while reader.read_record(&mut record)? {
        rows += 1;
        fields += record.len() as u64;
    }
    Ok(CsvCeiling {
        rows,
        fields,
        elapsed: started.elapsed(),
    })
}

/// Lays out a one-node federation (Lambeth) under `root`, starts its node as a
/// child process, imports `file` with another child process, reads the node's
/// peak memory, stops it and counts what its store holds.
async fn import_once(file: &Path, config: &ImportConfig, root: &Path) -> anyhow::Result<ImportRun> {
    let lambeth = gss(LAMBETH)?;
    let (federation, listeners) = LocalFederation::lay_out(root, &[lambeth], &[], "").await?;
    let address = federation.addresses()[&lambeth];
    // The child binds the port itself.
    drop(listeners);
    let node_config = config_path(root, lambeth);
    let exe = &config.exe;
    let mut node = Command::new(exe)
        .arg("serve-node")
        .arg("--config")
        .arg(&node_config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting the node process")?;
    wait_listening(address, &mut node).await?;

    let output = Command::new(exe)
        .arg("import-file")
        .arg("--config")
        .arg(&node_config)
        .arg("--dataset")
        .arg(config.dataset.to_string())
        .arg("--batch")
        .arg(config.batch.to_string())
        .arg(file)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .context("running the import process")?;
    anyhow::ensure!(
        output.status.success(),
        "the import failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let line = String::from_utf8_lossy(&output.stdout);
    let result = ImportLine::parse(line.trim())?;

    let node_peak_bytes = node
        .id()
        .and_then(|pid| peak_rss(&format!("/proc/{pid}/status")))
        .unwrap_or(0);
    // Every acknowledged batch is on disk; nothing is lost by killing the node.
    node.kill().await?;
    let store = Store::open(&root.join("data").join(lambeth.to_string()), lambeth)?;
    let stored = store.count(config.dataset, lambeth)?;
    anyhow::ensure!(
        stored == result.records,
        "the node holds {stored} {} records after an import that sent {}",
        config.dataset,
        result.records
    );
    Ok(ImportRun {
        rows: result.rows,
        records: result.records,
        file_bytes: std::fs::metadata(file)?.len(),
        elapsed: Duration::from_micros(result.elapsed_us),
        import_peak_bytes: result.peak_bytes,
        node_peak_bytes,
        stored,
    })
}

/// Waits until the node accepts TCP connections (at most 30 s), failing at once
/// if it exits.
async fn wait_listening(address: std::net::SocketAddr, node: &mut Child) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if tokio::net::TcpStream::connect(address).await.is_ok() {
            return Ok(());
        }
        if let Some(status) = node.try_wait()? {
            anyhow::bail!("the node process exited before listening ({status})");
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the node did not listen on {address} within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `VmHWM` (peak resident memory) from a `/proc/<pid>/status` file, in bytes.
pub fn peak_rss(status_path: &str) -> Option<u64> {
    status_bytes(status_path, "VmHWM:")
}

/// `VmRSS` (resident memory now) from a `/proc/<pid>/status` file, in bytes.
pub fn resident_bytes(status_path: &str) -> Option<u64> {
    status_bytes(status_path, "VmRSS:")
}

fn status_bytes(status_path: &str, field: &str) -> Option<u64> {
    std::fs::read_to_string(status_path)
        .ok()?
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse::<u64>()
        .ok()
        .map(|kb| kb * 1024)
}

/// The one line the `import-file` child prints: rows, records, elapsed
/// microseconds and peak memory in bytes, separated by spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportLine {
    /// Rows read.
    pub rows: u64,
    /// Records sent.
    pub records: u64,
    /// The import's elapsed time in microseconds.
    pub elapsed_us: u64,
    /// The child's peak resident memory in bytes.
    pub peak_bytes: u64,
}

impl ImportLine {
    /// The line as printed.
    pub fn render(&self) -> String {
        format!(
            "{} {} {} {}",
            self.rows, self.records, self.elapsed_us, self.peak_bytes
        )
    }

    /// Reads a line [`ImportLine::render`] printed.
    pub fn parse(line: &str) -> anyhow::Result<ImportLine> {
        let numbers = line
            .split_whitespace()
            .map(str::parse::<u64>)
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("the import printed {line:?}"))?;
        match numbers[..] {
            [rows, records, elapsed_us, peak_bytes] => Ok(ImportLine {
                rows,
                records,
                elapsed_us,
                peak_bytes,
            }),
            _ => anyhow::bail!("the import printed {line:?}, not four numbers"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_line_round_trips() {
        let line = ImportLine {
            rows: 1_000_000,
            records: 400_123,
            elapsed_us: 31_415_926,
            peak_bytes: 24 << 20,
        };
        assert_eq!(ImportLine::parse(&line.render()).unwrap(), line);
        assert!(ImportLine::parse("1 2 3").is_err());
        assert!(ImportLine::parse("1 2 x 4").is_err());
    }

    #[test]
    fn peak_rss_reads_this_process() {
        assert!(peak_rss("/proc/self/status").is_some_and(|b| b > 0));
        assert_eq!(peak_rss("/nonexistent/status"), None);
    }
}

//! `borough-bench`: runs a benchmark and prints a plain-text report, with every
//! figure set against ceilings measured in the same run.
//!
//! `cargo run --release -p borough-bench -- sync [--records N] [--lag-seconds S] [--rate R]`
//! `cargo run --release -p borough-bench -- import [--rows N] [--dataset D] [--batch B]`
//! `cargo run --release -p borough-bench -- query [--records N] [--runs R]`

use std::path::PathBuf;
use std::process::ExitCode;

use borough_bench::import_load::{self, ImportConfig, ImportLine};
use borough_bench::query_engine::InProcess;
use borough_bench::query_load::{self, QueryConfig};
use borough_bench::{report, run_sync, SyncConfig};
use borough_model::Dataset;
use clap::{Parser, Subcommand};

/// Benchmarks for borough-net, measured against same-run ceilings.
#[derive(Parser)]
#[command(name = "borough-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ceilings (rustls loopback, sled batched insert), initial sync of N records
    /// from Lambeth to Southwark, and live replication lag.
    Sync {
        /// Records loaded at Lambeth and pulled by Southwark.
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
        /// Seconds of updates in the lag measurement.
        #[arg(long, default_value_t = 30.0)]
        lag_seconds: f64,
        /// Updates per second in the lag measurement.
        #[arg(long, default_value_t = 1_000)]
        rate: u32,
        /// MiB the TLS ceiling pushes (default: 4 × the records' on-wire size,
        /// between 4 and 512 MiB).
        #[arg(long)]
        tls_mib: Option<u64>,
    },
    /// Ceilings (plain CSV parse of the file, sled batched insert), then `borough
    /// import` of a generated file into a running node: a quarter of it, then all.
    Import {
        /// Rows in the generated file.
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// The dataset generated and imported.
        #[arg(long, default_value = "employment-participation")]
        dataset: Dataset,
        /// Records per Ingest batch (and per sled ceiling batch).
        #[arg(long, default_value_t = borough_import::DEFAULT_BATCH)]
        batch: usize,
    },
    /// DuckDB (pip-installed into a Python virtual environment under target/)
    /// and borough-net's analytics engine answering the same query over the same
    /// employment records held at Lambeth from three origins.
    Query {
        /// Records held at Lambeth, over Lambeth, Southwark and Lewisham.
        #[arg(long, default_value_t = 1_000_000)]
        records: usize,
        /// Timed runs of the query on each side, after one warm-up.
        #[arg(long, default_value_t = 30)]
        runs: usize,
    },
    /// Runs a node from its configuration until killed (the import benchmark's
    /// node process).
    #[command(hide = true)]
    ServeNode {
        /// The node's configuration file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Imports a file into the running node and prints rows, records, elapsed
    /// microseconds and peak memory (the import benchmark's import process).
    #[command(hide = true)]
    ImportFile {
        /// The node's configuration file.
        #[arg(long)]
        config: PathBuf,
        /// The dataset.
        #[arg(long)]
        dataset: Dataset,
        /// Records per batch.
        #[arg(long)]
        batch: usize,
        /// The file.
        file: PathBuf,
    },
}

fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let release = if cfg!(debug_assertions) {
        ""
    } else {
        " --release"
    };
    format!("cargo run{release} -p borough-bench -- {}", args.join(" "))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sync {
            records,
            lag_seconds,
            rate,
            tls_mib,
        } => {
            if records == 0 || rate == 0 || lag_seconds.is_nan() || lag_seconds <= 0.0 {
                eprintln!("borough-bench: --records, --rate and --lag-seconds must be positive");
                return ExitCode::from(2);
            }
            let config = SyncConfig {
                records,
                lag_seconds,
                rate,
                tls_bytes: tls_mib.map(|m| m * 1024 * 1024),
                command: command_line(),
            };
            timed(|progress| run_sync(&config, progress), report::render).await
        }
        Command::Import {
            rows,
            dataset,
            batch,
        } => {
            if rows < 4 || batch == 0 {
                eprintln!("borough-bench: --rows must be at least 4 and --batch positive");
                return ExitCode::from(2);
            }
            let exe = match std::env::current_exe() {
                Ok(exe) => exe,
                Err(e) => {
                    eprintln!("borough-bench: cannot find this executable: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let config = ImportConfig {
                rows,
                dataset,
                batch,
                command: command_line(),
                exe,
            };
            timed(
                |progress| import_load::run(&config, progress),
                report::render_import,
            )
            .await
        }
        Command::Query { records, runs } => {
            if records == 0 || runs == 0 {
                eprintln!("borough-bench: --records and --runs must be positive");
                return ExitCode::from(2);
            }
            let config = QueryConfig::new(records, runs, command_line());
            timed(
                |mut progress| async move {
                    tokio::task::spawn_blocking(move || {
                        query_load::run(&config, &mut InProcess::default(), |s| progress(s))
                    })
                    .await?
                },
                report::render_query,
            )
            .await
        }
        Command::ServeNode { config } => serve_node(&config).await,
        Command::ImportFile {
            config,
            dataset,
            batch,
            file,
        } => import_file(&config, dataset, batch, &file).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("borough-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a benchmark with progress lines on standard error, then prints its
/// report on standard output.
async fn timed<R, F>(
    run: impl FnOnce(Box<dyn FnMut(&str) + Send>) -> F,
    render: impl FnOnce(&R) -> String,
) -> anyhow::Result<()>
where
    F: std::future::Future<Output = anyhow::Result<R>>,
{
    let started = std::time::Instant::now();
    let report = run(Box::new(move |step: &str| {
        eprintln!("[{:>7.1}s] {step}", started.elapsed().as_secs_f64());
    }))
    .await?;
    print!("{}", render(&report));
    eprintln!("[{:>7.1}s] done", started.elapsed().as_secs_f64());
    Ok(())
}

/// `borough node --config F`, without logging, until the process is killed.
async fn serve_node(config: &std::path::Path) -> anyhow::Result<()> {
    let config = borough_node::NodeConfig::load(config)?;
    let node = borough_node::Node::prepare(config)?;
    let listener = node.bind().await?;
    let store = node.open_store()?;
    borough_node::serve(node, store, listener, std::future::pending()).await?;
    Ok(())
}

/// `borough import --config F --dataset D --batch B FILE`, then one line of
/// figures for the benchmark.
async fn import_file(
    config: &std::path::Path,
    dataset: Dataset,
    batch: usize,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    let config = borough_node::NodeConfig::load(config)?;
    let options = borough_import::ImportOptions {
        batch,
        ..Default::default()
    };
    let summary = borough_import::import(&config, dataset, file, &options).await?;
    let line = ImportLine {
        rows: summary.rows,
        records: summary.records,
        elapsed_us: summary.elapsed.as_micros() as u64,
        peak_bytes: import_load::peak_rss("/proc/self/status").unwrap_or(0),
    };
    println!("{}", line.render());
    Ok(())
}

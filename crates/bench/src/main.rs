//! `borough-bench`: runs a benchmark and prints a plain-text report, with every
//! figure set against ceilings measured in the same run.
//!
//! `cargo run --release -p borough-bench -- sync [--records N] [--lag-seconds S] [--rate R]`

use std::process::ExitCode;

use borough_bench::{report, run_sync, SyncConfig};
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
    let Command::Sync {
        records,
        lag_seconds,
        rate,
        tls_mib,
    } = cli.command;
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
    let started = std::time::Instant::now();
    let result = run_sync(&config, |step| {
        eprintln!("[{:>7.1}s] {step}", started.elapsed().as_secs_f64());
    })
    .await;
    match result {
        Ok(r) => {
            print!("{}", report::render(&r));
            eprintln!("[{:>7.1}s] done", started.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("borough-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

//! `borough`: the one binary of borough-net. It parses arguments and calls the
//! library crates; it holds no logic of its own.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use borough_model::GssCode;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "borough",
    version,
    about = "borough-net: London boroughs sharing anonymised records, peer to peer"
)]
struct Cli {
    /// Log format on standard error.
    #[arg(long, value_enum, default_value_t = LogFormat::Human, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum QueryFormat {
    /// Aligned tables for a terminal.
    Table,
    /// CSV in DfE's open-data column convention.
    Csv,
    /// JSON.
    Json,
    /// Parquet (needs --out): nullable number columns, DfE symbols beside them.
    Parquet,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run a borough's node until SIGTERM or Ctrl-C.
    Node {
        /// The node's configuration file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Show a running node's datasets and replication flows (uses its admin certificate).
    Status {
        /// The node's configuration file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Ask a running node for regional figures (uses its analyst certificate).
    ///
    /// Every figure has been through disclosure control: small cells are `c`,
    /// counts are perturbed and rounded. Freshness per origin borough follows.
    /// With --epsilon the researcher's certificate asks for a differentially
    /// private answer instead, spending that much of the researcher's budget.
    Query {
        /// The node's configuration file.
        #[arg(long)]
        config: PathBuf,
        /// The dataset.
        #[arg(long, default_value = "employment-participation")]
        dataset: String,
        /// Comma-separated measures, e.g. participants,job-outcome-rate-6m.
        #[arg(long, value_delimiter = ',', required = true)]
        measures: Vec<String>,
        /// Comma-separated dimensions to group by, e.g. resident-borough,start-quarter.
        #[arg(long = "by", value_delimiter = ',')]
        group_by: Vec<String>,
        /// A filter DIMENSION=VALUE[|VALUE…], e.g. programme=restart; repeatable.
        #[arg(long = "filter")]
        filters: Vec<String>,
        /// How to print the answer.
        #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
        format: QueryFormat,
        /// Write the answer to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also draw the first measure over the period dimension, one line per
        /// value of the other dimension, as an SVG chart.
        #[arg(long)]
        plot: Option<PathBuf>,
        /// Ask as the researcher for a differentially private answer spending
        /// this ε (a decimal such as 0.5).
        #[arg(long)]
        epsilon: Option<String>,
    },
    /// Run a complete three-borough federation on 127.0.0.1 and show what happens.
    Demo {
        /// Leave the nodes running, with grpcurl commands to call them, until Ctrl-C.
        #[arg(long)]
        keep: bool,
        /// Rows of synthetic data per borough per dataset (as `borough gen --records`).
        #[arg(long, default_value_t = borough_demo::DEFAULT_RECORDS)]
        records: usize,
    },
    /// Import a CSV or JSONL file into the running node (Ingest RPC, system user).
    ///
    /// Without --skip-invalid, nothing is sent unless every row passes its checks; a
    /// batch is applied whole, and importing the same file again changes nothing.
    Import {
        /// The node's configuration file.
        #[arg(long)]
        config: PathBuf,
        /// The dataset, e.g. childcare-places.
        #[arg(long)]
        dataset: String,
        /// The file: `.csv` with a header line, or `.jsonl`/`.ndjson`.
        file: PathBuf,
        /// Check every row, send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Leave bad rows out (listed in the reject report) and import the rest.
        #[arg(long)]
        skip_invalid: bool,
        /// The reject report (line, field, problem); default `<FILE>.rejects.csv`.
        #[arg(long)]
        rejects: Option<PathBuf>,
        /// Records per batch (a provider with its offers is one record).
        #[arg(long, default_value_t = borough_import::DEFAULT_BATCH)]
        batch: usize,
    },
    /// Erase one record by the borough system's own reference; peers drop it too.
    Erase {
        /// The node's configuration file.
        #[arg(long)]
        config: PathBuf,
        /// The dataset, e.g. employment-participation.
        #[arg(long)]
        dataset: String,
        /// The borough system's own reference for the record.
        #[arg(long = "local-ref")]
        local_ref: String,
    },
    /// Write seeded synthetic identifiable input files for every dataset.
    Gen {
        /// Comma-separated GSS codes, e.g. E09000022,E09000028,E09000023.
        #[arg(long, value_delimiter = ',', required = true)]
        boroughs: Vec<String>,
        /// The seed: the same seed writes the same files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Rows per borough and dataset (providers: offers may add a few).
        #[arg(long, default_value_t = 100)]
        records: usize,
        /// Folder to write into (one sub-folder per borough).
        #[arg(long)]
        out: PathBuf,
    },
    /// Certificate authority operations.
    Certs {
        #[command(subcommand)]
        command: CertsCommand,
    },
}

#[derive(Subcommand)]
enum CertsCommand {
    /// Create a CA per borough, a node certificate per borough, and one user
    /// certificate per role (system, analyst, researcher, broker, admin).
    Init {
        /// Folder to write into (one sub-folder per borough).
        #[arg(long)]
        out: PathBuf,
        /// Comma-separated GSS codes, e.g. E09000022,E09000028,E09000023.
        #[arg(long, value_delimiter = ',', required = true)]
        boroughs: Vec<String>,
    },
}

fn init_logging(format: LogFormat, default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Completes on SIGTERM or Ctrl-C.
async fn termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Node { config } => {
            init_logging(cli.log_format, "info");
            let config = borough_node::NodeConfig::load(&config)?;
            let node = borough_node::Node::prepare(config)?;
            // Bind before touching the data directory: a port in use must not leave
            // a new, empty data directory behind.
            let listener = node.bind().await?;
            let store = node.open_store()?;
            borough_node::serve(node, store, listener, termination()).await?;
        }
        Command::Status { config } => {
            init_logging(cli.log_format, "warn");
            let config = borough_node::NodeConfig::load(&config)?;
            let reply = borough_node::status::fetch(&config).await?;
            print!("{}", borough_node::status::render(&reply));
        }
        Command::Query {
            config,
            dataset,
            measures,
            group_by,
            filters,
            format,
            out,
            plot,
            epsilon,
        } => {
            init_logging(cli.log_format, "warn");
            let config = borough_node::NodeConfig::load(&config)?;
            let filters = filters
                .iter()
                .map(|f| {
                    let (dimension, values) = f.split_once('=').with_context(|| {
                        format!("--filter {f}: expected DIMENSION=VALUE[|VALUE…]")
                    })?;
                    Ok(borough_proto::v1::QueryFilter {
                        dimension: dimension.to_string(),
                        values: values.split('|').map(str::to_string).collect(),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let request = borough_proto::v1::QueryRequest {
                dataset,
                measures,
                group_by,
                filters,
            };
            // Refuse what cannot be written before asking: a private answer
            // spends budget even if it is never written.
            anyhow::ensure!(
                out.is_some() || !matches!(format, QueryFormat::Parquet),
                "--format parquet: Parquet is binary; name a file with --out"
            );
            if plot.is_some() {
                borough_node::analyst::plot::check_plottable(&request.group_by)?;
            }
            // Open the files first, so a path that cannot be written is found
            // before anything is asked (or spent).
            let create = |path: &PathBuf| {
                std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))
            };
            let out_file = out
                .as_ref()
                .map(|p| create(p).map(|f| (p, f)))
                .transpose()?;
            let plot_file = plot
                .as_ref()
                .map(|p| create(p).map(|f| (p, f)))
                .transpose()?;
            let reply = match epsilon {
                Some(e) => {
                    let micros = borough_node::analyst::parse_epsilon(&e)?;
                    borough_node::analyst::fetch_private(&config, request, micros).await?
                }
                None => borough_node::analyst::fetch(&config, request).await?,
            };
            borough_node::analyst::check_shape(&reply)?;
            let bytes = match format {
                QueryFormat::Table => borough_node::analyst::render_table(&reply).into_bytes(),
                QueryFormat::Csv => borough_node::analyst::render_csv(&reply).into_bytes(),
                QueryFormat::Json => borough_node::analyst::render_json(&reply).into_bytes(),
                QueryFormat::Parquet => borough_node::analyst::parquet::render_parquet(&reply)?,
            };
            use std::io::Write;
            // The answer first: a chart that fails must not lose it.
            match out_file {
                Some((path, mut file)) => file
                    .write_all(&bytes)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => std::io::stdout()
                    .write_all(&bytes)
                    .context("writing the answer to standard output")?,
            }
            if let Some((path, mut file)) = plot_file {
                let svg = borough_node::analyst::plot::render_plot(&reply)?;
                file.write_all(svg.as_bytes())
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Command::Demo { keep, records } => {
            // The demo narrates what happens; node logs would drown it out.
            init_logging(cli.log_format, "error");
            let options = borough_demo::DemoOptions {
                keep,
                records,
                ..Default::default()
            };
            borough_demo::run(options, &mut std::io::stdout(), termination()).await?;
        }
        Command::Import {
            config,
            dataset,
            file,
            dry_run,
            skip_invalid,
            rejects,
            batch,
        } => {
            init_logging(cli.log_format, "warn");
            let config = borough_node::NodeConfig::load(&config)?;
            let dataset: borough_model::Dataset =
                dataset.parse().with_context(|| "--dataset".to_string())?;
            let options = borough_import::ImportOptions {
                dry_run,
                skip_invalid,
                rejects,
                batch,
            };
            let summary = borough_import::import(&config, dataset, &file, &options).await?;
            println!("{summary}");
        }
        Command::Erase {
            config,
            dataset,
            local_ref,
        } => {
            init_logging(cli.log_format, "warn");
            let config = borough_node::NodeConfig::load(&config)?;
            let dataset: borough_model::Dataset =
                dataset.parse().with_context(|| "--dataset".to_string())?;
            match borough_node::client::erase(&config, dataset, &local_ref).await? {
                Some(seq) => println!(
                    "erased: the record is now a tombstone at seq {seq} of {dataset}; peers drop it as they sync"
                ),
                None => println!("nothing to erase: no {dataset} record has that reference"),
            }
        }
        Command::Gen {
            boroughs,
            seed,
            records,
            out,
        } => {
            init_logging(cli.log_format, "warn");
            let plan = borough_synth::GenPlan {
                boroughs: parse_boroughs(&boroughs)?,
                seed,
                records,
                today: time::OffsetDateTime::now_utc().date(),
            };
            let report = borough_synth::generate(&plan, &out)
                .with_context(|| format!("writing synthetic data to {}", out.display()))?;
            print!("{report}");
        }
        Command::Certs {
            command: CertsCommand::Init { out, boroughs },
        } => {
            init_logging(cli.log_format, "warn");
            let boroughs = parse_boroughs(&boroughs)?;
            let report = borough_security::certs::init(&out, &boroughs)
                .with_context(|| format!("creating certificates in {}", out.display()))?;
            for path in &report.written {
                println!("wrote {}", path.display());
            }
        }
    }
    Ok(())
}

fn parse_boroughs(codes: &[String]) -> Result<Vec<GssCode>> {
    codes
        .iter()
        .map(|b| GssCode::parse(b).with_context(|| format!("--boroughs: `{b}`")))
        .collect()
}

/// The error and its causes on one line, leaving out a cause whose text the
/// message already carries (library errors often quote their cause).
fn report(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let next = cause.to_string();
        if text.contains(&next) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&next);
    }
    text
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", report(&e));
            ExitCode::FAILURE
        }
    }
}

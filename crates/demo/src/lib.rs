//! Demo: `borough demo`, a complete three-borough federation on 127.0.0.1 in a
//! temporary folder — fresh certificates, the example agreements, `borough gen`'s
//! synthetic data for every dataset imported at each borough exactly as
//! `borough import` imports it (through the node's Ingest RPC, as its `system`
//! user), replication until every node holds exactly what the agreements allow
//! it, and the two refusals an operator should see (an unknown CA, a flow no
//! agreement allows).
//!
//! Owns: the demo's narrative (`run`), the expectations the agreements imply and
//! the check of the nodes' status against them (`expect`), the generated files
//! and their import (`synthetic`), and the refused attempts (`refusals`).
//! Must not: put data into a node other than through its Ingest RPC, or read or
//! write a store (what it shows comes from `Admin/Status`, as `borough status`
//! shows it); hold anything a node or another tool needs — nothing depends on
//! this crate but the binary.
//! Invariants: the same `--records` shows the same data on every run (the seed is
//! fixed; dates follow today, as `borough gen`'s do); the demo succeeds only if
//! every (node, dataset, origin) holds what the agreements say, no more, no less.

mod error;
mod expect;
mod questions;
mod refusals;
mod synthetic;

use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use borough_model::{Dataset, GssCode};
use borough_node::demo::EXAMPLE_AGREEMENTS;
use borough_node::federation::LocalFederation;
use borough_node::status::Table;
use borough_proto::v1;

pub use error::Error;
use expect::Expectations;

/// Lambeth, Southwark and Lewisham: the founding three, in the order synthetic
/// data is planned (each serves some employment participants of the one before).
pub const FOUNDING_BOROUGHS: [&str; 3] = ["E09000022", "E09000028", "E09000023"];

/// The seed of the demo's synthetic data, so every run shows the same data.
pub const SEED: u64 = 7;

/// Rows of synthetic data per borough per dataset unless `--records` says otherwise.
pub const DEFAULT_RECORDS: usize = 500;

/// How the demo runs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Rows of synthetic data per borough per dataset, as `borough gen --records`
    /// (a provider's offers are rows of their own, so places may overshoot a little).
    pub records: usize,
    /// Keep the nodes running after the demo until the shutdown future completes.
    pub keep: bool,
    /// How long to wait for convergence before giving up.
    pub converge_within: Duration,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            records: DEFAULT_RECORDS,
            keep: false,
            converge_within: Duration::from_secs(60),
        }
    }
}

/// Writes one line to the demo's output; a closed output does not stop the demo.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

fn boroughs() -> Vec<GssCode> {
    FOUNDING_BOROUGHS
        .iter()
        .filter_map(|g| GssCode::parse(g).ok())
        .collect()
}

/// Every line of `text` indented by two spaces.
fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// Runs the demo, writing what happens to `out`. With `keep`, waits for
/// `shutdown` before stopping the nodes.
pub async fn run(
    options: DemoOptions,
    out: &mut (impl Write + Send),
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let started = Instant::now();
    let root = tempfile::Builder::new()
        .prefix("borough-demo-")
        .tempdir()
        .map_err(Error::TempDir)?;
    let boroughs = boroughs();
    let agreements: Vec<(String, String)> = EXAMPLE_AGREEMENTS
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    say!(
        out,
        "borough-net demo: {} boroughs on 127.0.0.1, working in {}",
        boroughs.len(),
        root.path().display()
    );
    let federation = LocalFederation::start(root.path(), &boroughs, &agreements, "").await?;
    for b in &boroughs {
        if let Some(a) = federation.addresses().get(b) {
            say!(
                out,
                "  {:<10} {b}  listening on {a} (TLS 1.3, client certificate required)",
                b.name()
            );
        }
    }

    let today = time::OffsetDateTime::now_utc().date();
    say!(
        out,
        "\ngenerating synthetic data as `borough gen` does: seed {SEED}, {} rows per borough per dataset, as of {today}",
        options.records
    );
    let generated =
        synthetic::generate(root.path(), &boroughs, SEED, options.records, today).await?;
    say!(
        out,
        "importing each file at its borough's node as `borough import` does (Ingest RPC, role: system):"
    );
    let mut imports = Table::new(&[
        "borough", "dataset", "rows", "records", "written", "flagged", "file",
    ]);
    let mut own = BTreeMap::new();
    for file in &generated.files {
        let done = synthetic::import(&federation, file.borough, file.dataset, &file.path).await?;
        own.insert((done.borough, done.dataset), done.summary.records);
        imports.row(vec![
            done.borough.name().to_string(),
            done.dataset.to_string(),
            done.summary.rows.to_string(),
            done.summary.records.to_string(),
            done.summary.written.to_string(),
            done.summary.flagged.to_string(),
            relative(&done.path, root.path()),
        ]);
    }
    say!(out, "{}", indent(&imports.render()).trim_end());
    say!(
        out,
        "  (flagged: imported with a warning, a terminated postcode; places rows are offers, records are providers)"
    );

    say!(
        out,
        "\nwaiting until every node holds exactly what the agreements allow it ..."
    );
    let book = borough_security::agreements::load_dir(&root.path().join("agreements"))
        .map_err(Error::Agreements)?;
    let expected = Expectations::new(&boroughs, &own, &book, today);
    let waiting = Instant::now();
    let replies =
        wait_for_convergence(&federation, &boroughs, &expected, options.converge_within).await?;
    say!(
        out,
        "converged {:.1}s after the last import: records each node holds, by origin",
        waiting.elapsed().as_secs_f64()
    );
    for dataset in Dataset::ALL {
        say!(
            out,
            "\n{dataset}\n{}",
            indent(&expected.table(dataset, &replies)).trim_end()
        );
    }

    let lambeth = boroughs[0];
    say!(
        out,
        "\nan analyst's questions at {}'s node (Query service, role: analyst; disclosure-controlled: c = suppressed):",
        lambeth.name()
    );
    for question in questions::questions() {
        say!(
            out,
            "\n  {}\n  (borough query --config … {})",
            question.title,
            question.flags
        );
        let answer = questions::ask(&federation, lambeth, &question).await?;
        say!(out, "{}", indent(&answer).trim_end());
    }

    say!(out, "\nrefusals an operator should see:");
    let lewisham = boroughs[2];
    say!(
        out,
        "  1. a certificate from an unknown CA (named like {0}'s CA, but another key), calling {0}:",
        lambeth.name()
    );
    say!(
        out,
        "     {}",
        refusals::unknown_ca_attempt(&federation, lambeth).await
    );
    say!(
        out,
        "  2. {}'s node asking {} for employment-participation (their agreement covers childcare only):",
        lewisham.name(),
        lambeth.name()
    );
    say!(
        out,
        "     {}",
        refusals::outside_agreement_attempt(
            &federation,
            lewisham,
            lambeth,
            Dataset::EmploymentParticipation
        )
        .await
    );

    if options.keep {
        let lambeth_addr = federation.addresses()[&lambeth];
        let places = generated
            .files
            .iter()
            .find(|f| f.borough == lambeth && f.dataset == Dataset::ChildcarePlaces);
        say!(
            out,
            "\nthe nodes keep running (Ctrl-C to stop). Certificates: {certs}\n\
             list the API of Lambeth's node:\n  grpcurl -cacert {certs}/{lambeth}/ca.pem -cert {certs}/{lambeth}/admin.pem -key {certs}/{lambeth}/admin.key {lambeth_addr} list\n\
             its status:\n  grpcurl -cacert {certs}/{lambeth}/ca.pem -cert {certs}/{lambeth}/admin.pem -key {certs}/{lambeth}/admin.key {lambeth_addr} borough.v1.Admin/Status\n\
             or: borough status --config {config}",
            certs = root.path().join("certs").display(),
            config = federation.config_path(lambeth).display(),
        );
        if let Some(places) = places {
            say!(
                out,
                "import a generated file again by hand (nothing changes: the node already holds every record):\n  \
                 borough import --config {} --dataset {} {}\n\
                 the other files are beside it, in {}",
                federation.config_path(lambeth).display(),
                places.dataset,
                places.path.display(),
                root.path().join(synthetic::FOLDER).display()
            );
        }
        let _ = out.flush();
        shutdown.await;
    }
    federation.shutdown().await?;
    say!(
        out,
        "\nall nodes stopped cleanly; removed {} ({:.1}s in all)",
        root.path().display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `path` relative to `root`, or whole if it is not under it.
fn relative(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Polls each node's status until every (node, dataset, origin) holds what the
/// agreements allow it, or the deadline passes.
async fn wait_for_convergence(
    federation: &LocalFederation,
    boroughs: &[GssCode],
    expected: &Expectations,
    within: Duration,
) -> Result<Vec<(GssCode, v1::StatusReply)>, Error> {
    let deadline = Instant::now() + within;
    loop {
        let mut replies = Vec::with_capacity(boroughs.len());
        for &b in boroughs {
            let node = federation.node(b).ok_or(Error::NotRunning(b))?;
            replies.push((b, borough_node::status::fetch(&node.config).await?));
        }
        let mismatches = expected.mismatches(&replies);
        if mismatches.is_empty() {
            return Ok(replies);
        }
        if Instant::now() > deadline {
            return Err(Error::NotConverged { within, mismatches });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

//! DuckDB's side of the query benchmark: the Python virtual environment the
//! harness makes for it (the `duckdb` package pinned in
//! `crates/bench/duckdb-requirements.txt`, installed from PyPI with pip), and one
//! run of `crates/bench/duckdb_query.py` in it, which loads the benchmark's CSV
//! into an in-memory table (untimed) and times the query over it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// The pinned requirement, as pip reads it (shared with `.ci/run`).
pub const REQUIREMENTS: &str = include_str!("../duckdb-requirements.txt");
/// The script run in the environment; written beside the CSV for each run, so the
/// binary needs no source tree.
pub const SCRIPT: &str = include_str!("../duckdb_query.py");
/// Overrides where the environment lives.
pub const VENV_ENV: &str = "BOROUGH_BENCH_VENV";
/// The measured columns, in the order the script reports their sums.
pub const MEASURE_COLUMNS: [&str; 5] = [
    "participants",
    "cohort_6m",
    "outcomes_6m",
    "cohort_12m",
    "outcomes_12m",
];

/// The pinned DuckDB version (`duckdb==X` in [`REQUIREMENTS`]).
pub fn pinned_version() -> &'static str {
    REQUIREMENTS
        .lines()
        .find_map(|l| l.trim().strip_prefix("duckdb=="))
        .map(str::trim)
        .unwrap_or("unknown")
}

/// Where the environment lives: `$BOROUGH_BENCH_VENV`, or `target/bench-venv` in
/// the workspace this crate was built from.
pub fn venv_dir() -> PathBuf {
    match std::env::var_os(VENV_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
            let workspace = manifest.parent().and_then(Path::parent).unwrap_or(manifest);
            workspace.join("target/bench-venv")
        }
    }
}

/// A ready environment.
#[derive(Debug, Clone)]
pub struct Venv {
    /// The environment's directory.
    pub dir: PathBuf,
    /// Its Python.
    pub python: PathBuf,
    /// The DuckDB version it imports.
    pub duckdb_version: String,
    /// Whether this run created or updated it (false: reused as found).
    pub installed: bool,
    /// How long making it ready took.
    pub elapsed: Duration,
}

fn run_checked(cmd: &mut Command, what: &str) -> anyhow::Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("{what}: could not start {:?}", cmd.get_program()))?;
    anyhow::ensure!(
        out.status.success(),
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn imported_version(python: &Path) -> Option<String> {
    let out = Command::new(python)
        .args(["-c", "import duckdb; print(duckdb.__version__)"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Makes the environment at `dir` ready and returns it: reused if its Python
/// already imports the pinned DuckDB; otherwise created with `python3 -m venv`
/// (recreated if its Python is broken) and the pinned package installed with pip.
pub fn ensure_venv(dir: &Path) -> anyhow::Result<Venv> {
    let started = Instant::now();
    let python = dir.join("bin/python");
    let pinned = pinned_version();
    if let Some(version) = imported_version(&python).filter(|v| v == pinned) {
        return Ok(Venv {
            dir: dir.to_path_buf(),
            python,
            duckdb_version: version,
            installed: false,
            elapsed: started.elapsed(),
        });
    }
    let healthy = Command::new(&python)
        .args(["-c", "import pip"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !healthy {
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        run_checked(
            Command::new("python3")
                .args(["-m", "venv", "--clear"])
                .arg(dir),
            "python3 -m venv (on Debian it needs the python3-venv package)",
        )?;
    }
    let requirements = dir.join("duckdb-requirements.txt");
    std::fs::write(&requirements, REQUIREMENTS)
        .with_context(|| format!("writing {}", requirements.display()))?;
    run_checked(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements),
        "pip install of the pinned duckdb",
    )?;
    let version = imported_version(&python)
        .with_context(|| format!("{} does not import duckdb after pip", python.display()))?;
    anyhow::ensure!(
        version == pinned,
        "{} imports duckdb {version}, not the pinned {pinned}",
        python.display()
    );
    Ok(Venv {
        dir: dir.to_path_buf(),
        python,
        duckdb_version: version,
        installed: true,
        elapsed: started.elapsed(),
    })
}

/// What one run of the script measured.
#[derive(Debug, Clone)]
pub struct DuckDbRun {
    /// DuckDB's version.
    pub version: String,
    /// Python's version.
    pub python_version: String,
    /// DuckDB's `threads` setting during the run.
    pub threads: u64,
    /// Rows in the table.
    pub rows_loaded: u64,
    /// Loading the CSV into the table (not part of the figures).
    pub load: Duration,
    /// DuckDB's memory after the load (`duckdb_memory()`), mostly the table.
    pub table_memory_bytes: u64,
    /// Each timed run (the warm-up run is not included), execute to last row
    /// fetched, as timed inside Python.
    pub runs: Vec<Duration>,
    /// Rows of the result: cells and totals.
    pub result_rows: u64,
    /// Of them, total rows (over resident boroughs).
    pub total_rows: u64,
    /// Sums over every row of each of [`MEASURE_COLUMNS`].
    pub sums: [u64; 5],
}

/// Runs the script in `venv` over `csv` (written by the benchmark) `runs` times
/// after one warm-up, with cohorts rated at month index `as_of` and DuckDB at
/// `threads` threads. The script is written into `work_dir`.
pub fn run(
    venv: &Venv,
    work_dir: &Path,
    csv: &Path,
    runs: usize,
    as_of: u32,
    threads: usize,
) -> anyhow::Result<DuckDbRun> {
    let script = work_dir.join("duckdb_query.py");
    std::fs::write(&script, SCRIPT).with_context(|| format!("writing {}", script.display()))?;
    let stdout = run_checked(
        Command::new(&venv.python)
            .arg(&script)
            .arg("--csv")
            .arg(csv)
            .args([
                "--runs",
                &runs.to_string(),
                "--as-of",
                &as_of.to_string(),
                "--threads",
                &threads.to_string(),
            ]),
        "the DuckDB query script",
    )?;
    parse_output(&stdout)
}

fn parse_output(stdout: &str) -> anyhow::Result<DuckDbRun> {
    let line = stdout
        .lines()
        .last()
        .context("the DuckDB script printed nothing")?;
    let v: serde_json::Value =
        serde_json::from_str(line).context("the DuckDB script's output is not JSON")?;
    let int = |key: &str| {
        v[key]
            .as_u64()
            .with_context(|| format!("the DuckDB script's output lacks {key}"))
    };
    let text = |key: &str| v[key].as_str().unwrap_or("unknown").to_string();
    let ms = |x: f64| Duration::from_secs_f64(x.max(0.0) / 1e3);
    let runs = v["runs_ms"]
        .as_array()
        .context("the DuckDB script's output lacks runs_ms")?
        .iter()
        .map(|x| x.as_f64().map(ms).context("a run time is not a number"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut sums = [0u64; 5];
    for (sum, column) in sums.iter_mut().zip(MEASURE_COLUMNS) {
        *sum = v["sums"][column]
            .as_u64()
            .with_context(|| format!("the DuckDB script's output lacks the sum of {column}"))?;
    }
    Ok(DuckDbRun {
        version: text("duckdb_version"),
        python_version: text("python_version"),
        threads: int("threads")?,
        rows_loaded: int("rows_loaded")?,
        load: ms(v["load_ms"].as_f64().unwrap_or(0.0)),
        table_memory_bytes: int("table_memory_bytes")?,
        runs,
        result_rows: int("result_rows")?,
        total_rows: int("total_rows")?,
        sums,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pin_is_read_and_the_output_parses() {
        assert!(pinned_version()
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit()));
        let out = r#"{"duckdb_version": "2.0.1", "python_version": "3.11.7", "threads": 2, "rows_loaded": 3, "load_ms": 8.4, "table_memory_bytes": 53040, "runs_ms": [20.0, 7.5], "result_rows": 2, "total_rows": 1, "sums": {"participants": 4, "cohort_6m": 4, "outcomes_6m": 2, "cohort_12m": 4, "outcomes_12m": 2}}"#;
        let run = parse_output(&format!("noise\n{out}")).expect("parses");
        let ms: Vec<f64> = run.runs.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        assert!(ms.len() == 2 && (ms[0] - 20.0).abs() < 1e-6 && (ms[1] - 7.5).abs() < 1e-6);
        assert_eq!(run.sums, [4, 4, 2, 4, 2]);
        assert_eq!((run.result_rows, run.total_rows, run.threads), (2, 1, 2));
    }
}

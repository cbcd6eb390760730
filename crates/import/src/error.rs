//! The one error type of the importer. Every variant names the file and, where
//! there is one, the line and the column; none carries a value read from a row,
//! so an error can be printed or logged without disclosing personal data.

use std::fmt;
use std::path::PathBuf;

use borough_model::Dataset;

/// One problem with one row: its line, the column at fault (empty when the
/// whole row is) and what is wrong, in the model's words. Never holds a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// The 1-based line of the file the row starts on.
    pub line: u64,
    /// The column, as `docs/DATA.md` names it (`offers[1].capacity` inside a JSONL
    /// provider's offers); empty when the problem is the row's, not a column's.
    pub field: String,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "line {}: {}", self.line, self.problem)
        } else {
            write!(f, "line {}: {}: {}", self.line, self.field, self.problem)
        }
    }
}

/// Why an import or a check could not be done (or not completely).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file's extension says neither CSV nor JSONL.
    #[error("{}: cannot tell the format: name the file `.csv`, `.jsonl` or `.ndjson`", .file.display())]
    UnknownFormat {
        /// The input file.
        file: PathBuf,
    },
    /// The file (or the reject report) could not be opened, read or written.
    #[error("{}{}: {problem}", .file.display(), at_line(*.line))]
    Io {
        /// The file.
        file: PathBuf,
        /// The line being read, if any.
        line: Option<u64>,
        /// What failed, with the operating system's reason.
        problem: String,
    },
    /// A CSV file has no header line.
    #[error("{}: the file is empty: a CSV file starts with a header line naming its columns", .file.display())]
    NoHeader {
        /// The input file.
        file: PathBuf,
    },
    /// The first line of a CSV file is not a header of the dataset's columns
    /// (most likely a file without a header line). Its cells are not repeated,
    /// since they may be a person's details.
    #[error(
        "{}: line {line}: is not a header line of {dataset}: a CSV file starts with a \
         header naming its columns, including `local_ref` (see docs/DATA.md)",
        .file.display()
    )]
    NotAHeader {
        /// The input file.
        file: PathBuf,
        /// The header's line.
        line: u64,
        /// The dataset being imported.
        dataset: Dataset,
    },
    /// The header names columns the dataset does not have: refused, so that a
    /// misspelt column cannot silently drop its data.
    #[error(
        "{}: line {line}: unknown column(s) {} for {dataset}; rename or remove them (the \
         columns are listed in docs/DATA.md; case, spaces, `-` and `_` do not matter)",
        .file.display(),
        quoted(.columns)
    )]
    UnknownColumns {
        /// The input file.
        file: PathBuf,
        /// The header's line.
        line: u64,
        /// The dataset being imported.
        dataset: Dataset,
        /// The unknown header cells, as written.
        columns: Vec<String>,
    },
    /// Two header cells name the same column.
    #[error("{}: line {line}: column `{column}` is named twice (columns {first} and {second})", .file.display())]
    DuplicateColumn {
        /// The input file.
        file: PathBuf,
        /// The header's line.
        line: u64,
        /// The column, as `docs/DATA.md` names it.
        column: String,
        /// The 1-based position of its first cell.
        first: usize,
        /// The 1-based position of its second cell.
        second: usize,
    },
    /// Rows failed their checks and `--skip-invalid` was not given: nothing was
    /// sent to the node.
    #[error("{}", invalid_rows(.file, *.rows, *.problems, .listed, .report.as_ref()))]
    InvalidRows {
        /// The input file.
        file: PathBuf,
        /// Rows that failed.
        rows: u64,
        /// Problems found (a row may have several).
        problems: u64,
        /// The first problems, in file order.
        listed: Vec<RowProblem>,
        /// The reject report holding every problem, if one was written.
        report: Option<PathBuf>,
    },
    /// The records read to be sent are not those the first pass checked (a chunk
    /// of them differs, there is a chunk more or fewer, or a row fails its
    /// checks): the file changed while it was being imported. Nothing from that
    /// line on was sent; batches before it may have been applied.
    #[error(
        "{}: from line {line} on, the file is not as it was when it was checked: was it \
         changed during the import? Nothing from that line on was sent, and {applied} \
         batch(es) before it were applied; importing the file again is safe",
        .file.display()
    )]
    ChangedDuringImport {
        /// The input file.
        file: PathBuf,
        /// The first line of the records found changed (the line after the last
        /// record read, when records are missing at the end).
        line: u64,
        /// Batches the node had acknowledged.
        applied: u64,
    },
    /// The temporary file that finding references used twice sorts them in could
    /// not be made, written or read back. Nothing was sent: references are sorted
    /// before anything is.
    #[error(
        "{}: cannot {what} a temporary file in {} (where the file's references are sorted \
         to find any used twice): {problem}; set TMPDIR to a writable folder with room \
         for 16 bytes a row",
        .file.display(),
        .dir.display()
    )]
    Spill {
        /// The input file.
        file: PathBuf,
        /// The folder the temporary file is (or was to be) in.
        dir: PathBuf,
        /// What failed: `create`, `write` or `read`.
        what: &'static str,
        /// The operating system's reason.
        problem: String,
    },
    /// `--batch` is zero or above the node's `limits.max_ingest_batch`.
    #[error("--batch {requested}: must be from 1 to the node's limits.max_ingest_batch ({limit})")]
    BatchSize {
        /// The batch size asked for.
        requested: usize,
        /// The node's limit.
        limit: usize,
    },
    /// The reject report would overwrite the input file.
    #[error("{}: the reject report cannot be the input file itself; pass another --rejects", .file.display())]
    ReportIsInput {
        /// The input file.
        file: PathBuf,
    },
    /// The node could not be reached, or the system certificate the configuration
    /// names could not be used. Nothing was read or sent.
    #[error(
        "{}: cannot reach the node to import into (is `borough node` running?): {source}",
        .config.display()
    )]
    Connect {
        /// The node's configuration file.
        config: PathBuf,
        /// Why.
        #[source]
        source: borough_node::Error,
    },
    /// The node refused a batch (nothing of that batch was applied). Batches
    /// before it were applied, so importing the file again is safe.
    #[error(
        "{}: lines {first_line}-{last_line}: the node refused the batch ({message}); \
         {applied} earlier batch(es) were applied; importing the file again is safe",
        .file.display()
    )]
    Refused {
        /// The input file.
        file: PathBuf,
        /// The batch's first line.
        first_line: u64,
        /// The batch's last line.
        last_line: u64,
        /// Batches the node had acknowledged.
        applied: u64,
        /// The node's reason (it names fields, never values).
        message: String,
    },
    /// The connection ended before every batch was acknowledged.
    #[error(
        "{}: the node acknowledged {applied} of {sent} batch(es) before the stream ended; \
         importing the file again is safe",
        .file.display()
    )]
    Unacknowledged {
        /// The input file.
        file: PathBuf,
        /// Batches acknowledged.
        applied: u64,
        /// Batches sent.
        sent: u64,
    },
}

fn at_line(line: Option<u64>) -> String {
    line.map(|l| format!(": line {l}")).unwrap_or_default()
}

fn quoted(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn invalid_rows(
    file: &std::path::Path,
    rows: u64,
    problems: u64,
    listed: &[RowProblem],
    report: Option<&PathBuf>,
) -> String {
    let mut text = format!(
        "{}: {rows} row(s) failed their checks, so nothing was sent (fix them, or pass \
         --skip-invalid to import the rest):",
        file.display()
    );
    for p in listed {
        text.push_str(&format!("\n  {p}"));
    }
    let more = problems.saturating_sub(listed.len() as u64);
    if more > 0 {
        text.push_str(&format!("\n  … and {more} more problem(s)"));
    }
    if let Some(report) = report {
        text.push_str(&format!(
            "\nevery problem is listed in {}",
            report.display()
        ));
    }
    text
}

impl Error {
    /// An IO failure on `file`, at `line` if known.
    pub(crate) fn io(
        file: &std::path::Path,
        line: Option<u64>,
        what: &str,
        e: std::io::Error,
    ) -> Error {
        Error::Io {
            file: file.to_path_buf(),
            line,
            problem: format!("{what}: {e}"),
        }
    }
}

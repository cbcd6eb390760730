//! The reject report: a CSV file of `line,field,problem`, one row per problem of a
//! row left out, and one per warning (a terminated postcode) on a row imported,
//! its problem starting `warning:`. It names lines and columns only: no value of
//! the input is ever written to it.
//!
//! The report is rewritten by every check of the file, so it never describes an
//! earlier run. When nothing is reported it is removed again, unless it was asked
//! for (`--rejects`, `--skip-invalid`): then it is left holding its header only.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::{Error, RowProblem};

/// The report's header line.
pub const HEADER: [&str; 3] = ["line", "field", "problem"];

/// The default report path for `file`: `<file>.rejects.csv`.
pub fn default_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".rejects.csv");
    PathBuf::from(name)
}

/// A reject report being written.
pub struct Report {
    path: PathBuf,
    writer: csv::Writer<File>,
    entries: u64,
    keep_empty: bool,
}

impl Report {
    /// Creates (or empties) the report at `path` for the import of `input`; an
    /// empty report is kept at the end only if `keep_empty`.
    pub fn create(path: PathBuf, input: &Path, keep_empty: bool) -> Result<Report, Error> {
        let same = match (path.canonicalize(), input.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same {
            return Err(Error::ReportIsInput {
                file: input.to_path_buf(),
            });
        }
        let failed = |e: csv::Error| Error::Io {
            file: path.clone(),
            line: None,
            problem: format!("cannot write the reject report: {e}"),
        };
        let mut writer = csv::Writer::from_path(&path).map_err(failed)?;
        writer.write_record(HEADER).map_err(failed)?;
        Ok(Report {
            path,
            writer,
            entries: 0,
            keep_empty,
        })
    }

    /// Appends one entry (a problem, or a warning).
    pub fn add(&mut self, entry: &RowProblem) -> Result<(), Error> {
        self.entries += 1;
        let line = entry.line.to_string();
        self.writer
            .write_record([line.as_str(), &entry.field, &entry.problem])
            .map_err(|e| Error::Io {
                file: self.path.clone(),
                line: None,
                problem: format!("cannot write the reject report: {e}"),
            })
    }

    /// Flushes the report; its path, unless it was empty and not asked for (then
    /// it is removed).
    pub fn finish(mut self) -> Result<Option<PathBuf>, Error> {
        let failed = |e| Error::io(&self.path, None, "cannot write the reject report", e);
        self.writer.flush().map_err(failed)?;
        if self.entries == 0 && !self.keep_empty {
            drop(self.writer);
            std::fs::remove_file(&self.path).map_err(|e| {
                Error::io(&self.path, None, "cannot remove the empty reject report", e)
            })?;
            return Ok(None);
        }
        Ok(Some(self.path))
    }
}

#[cfg(test)]
mod tests;

//! From rows to batches: rows are grouped into records (a CSV provider's
//! consecutive rows sharing a `local_ref` are one record; every other row is one
//! record on its own), a reference used by two records of one file is caught (see
//! `repeats`), and checked records are packed into Ingest batches of at most N
//! operations, a provider never split across two.

use std::path::Path;

use borough_model::Dataset;
use borough_proto::v1;

use crate::progress::Progress;
use crate::repeats::{LineMap, Noted, Refs, Spill};
use crate::source::{Format, Source, SourceRow};
use crate::Error;

/// The rows of one record: one row, or a CSV provider's consecutive offer rows.
#[derive(Debug)]
pub struct Group {
    /// The rows, in file order (never empty).
    pub rows: Vec<SourceRow>,
    /// The line of an earlier record of this file with the same `local_ref`.
    pub repeats: Option<u64>,
    /// An earlier checking pass over the file found the record good, with nothing
    /// to report, and it repeats no reference: it need not be checked again.
    pub passed: bool,
}

impl Group {
    /// The line the record starts on.
    pub fn first_line(&self) -> u64 {
        self.rows.first().map(|r| r.line).unwrap_or(0)
    }

    /// The line the record's last row starts on.
    pub fn last_line(&self) -> u64 {
        self.rows.last().map(|r| r.line).unwrap_or(0)
    }
}

/// What a grouper does about a reference used by two records of the file. Which
/// records repeat an earlier one is known only once the whole file has been read,
/// so a pass either notes the references, for the repeats to be found at its end,
/// or is given the repeats an earlier reading found.
pub enum References {
    /// Nothing: the file's checking pass found no reference used twice.
    Unchecked,
    /// Notes each record's reference (and, through [`Grouper::reported`], which
    /// records had something to report); [`Grouper::finish`] finds the repeats.
    Noted(Refs),
    /// Gives each record the repeat (line → earlier line) an earlier reading of
    /// the file found.
    Known(LineMap),
    /// Gives each record the repeat a noting pass found, and marks as passed the
    /// records that pass found good with nothing to report.
    Rechecked(Noted),
}

/// Whether rows of `dataset` read from a `format` file are grouped by reference
/// (CSV providers, one row per offer).
fn grouped_by_local_ref(dataset: Dataset, format: Format) -> bool {
    dataset == Dataset::ChildcarePlaces && format == Format::Csv
}

/// Groups rows into records and notes repeated references, as `references` says.
pub struct Grouper<I> {
    rows: I,
    by_local_ref: bool,
    pending: Option<SourceRow>,
    references: References,
}

impl<I: Iterator<Item = Result<SourceRow, Error>>> Grouper<I> {
    /// Groups `rows` of `dataset` read from a `format` file.
    pub fn new(rows: I, dataset: Dataset, format: Format, references: References) -> Self {
        Grouper {
            rows,
            by_local_ref: grouped_by_local_ref(dataset, format),
            pending: None,
            references,
        }
    }

    fn next_row(&mut self) -> Result<Option<SourceRow>, Error> {
        match self.pending.take() {
            Some(row) => Ok(Some(row)),
            None => self.rows.next().transpose(),
        }
    }

    /// The next record, or `None` at the end of the file.
    pub fn next_group(&mut self) -> Result<Option<Group>, Error> {
        let Some(first) = self.next_row()? else {
            return Ok(None);
        };
        let local_ref = first.local_ref().map(str::to_string);
        let mut rows = vec![first];
        if self.by_local_ref && !rows[0].unreadable {
            if let Some(local_ref) = &local_ref {
                while let Some(next) = self.next_row()? {
                    if !next.unreadable && next.local_ref() == Some(local_ref.as_str()) {
                        rows.push(next);
                    } else {
                        self.pending = Some(next);
                        break;
                    }
                }
            }
        }
        let line = rows[0].line;
        let readable_ref = local_ref.as_deref().filter(|_| !rows[0].unreadable);
        let repeats = match (&mut self.references, readable_ref) {
            (References::Noted(refs), Some(local_ref)) => {
                refs.note(local_ref, line)?;
                None
            }
            (References::Known(repeats), Some(_)) => repeats.get(line)?,
            (References::Rechecked(noted), Some(_)) => noted.repeats.get(line)?,
            _ => None,
        };
        let passed = match &mut self.references {
            References::Rechecked(noted) => {
                repeats.is_none() && noted.reported.get(line)?.is_none()
            }
            _ => false,
        };
        Ok(Some(Group {
            rows,
            repeats,
            passed,
        }))
    }

    /// Notes that the record starting on `line` had something to report, when
    /// the references are being noted.
    pub fn reported(&mut self, line: u64) -> Result<(), Error> {
        match &mut self.references {
            References::Noted(refs) => refs.reported(line),
            _ => Ok(()),
        }
    }

    /// What was noted, when the references were (call it once every record has
    /// been read).
    pub fn finish(self) -> Result<Option<Noted>, Error> {
        match self.references {
            References::Noted(refs) => refs.finish().map(Some),
            _ => Ok(None),
        }
    }
}

/// Reads the references of `file`, rows of `dataset`, and nothing else, to find
/// every record that repeats an earlier one's before a pass that must know it as
/// it meets the record (a pass that sends as it goes). Records are told apart as
/// a [`Grouper`] tells them, without building them.
pub fn find_repeats(
    file: &Path,
    dataset: Dataset,
    spill: &Spill,
    mut progress: Progress,
) -> Result<LineMap, Error> {
    let mut source = Source::open(file, dataset)?;
    let bytes = source.bytes_read();
    let by_local_ref = grouped_by_local_ref(dataset, source.format());
    let mut refs = Refs::new(file, spill);
    // The reference of the record being read, while more of its rows may follow.
    let mut current = String::new();
    let mut rows = 0u64;
    while let Some(row) = source.next_reference()? {
        rows += 1;
        progress.rows(rows, bytes.load(std::sync::atomic::Ordering::Relaxed));
        let joins = by_local_ref
            && !row.unreadable
            && !current.is_empty()
            && row.local_ref == Some(current.as_str());
        if joins {
            continue;
        }
        current.clear();
        if let (Some(local_ref), false) = (row.local_ref, row.unreadable) {
            refs.note(local_ref, row.line)?;
            if by_local_ref {
                current.push_str(local_ref);
            }
        }
    }
    progress.finish();
    Ok(refs.finish()?.repeats)
}

impl<I: Iterator<Item = Result<SourceRow, Error>>> Iterator for Grouper<I> {
    type Item = Result<Group, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_group().transpose()
    }
}

/// One batch ready to send, with the lines it came from.
#[derive(Debug)]
pub struct Batch {
    /// The message.
    pub message: v1::IngestBatch,
    /// The first line of its first record.
    pub first_line: u64,
    /// The first line of its last record's last row.
    pub last_line: u64,
}

/// Packs operations into batches of at most `max_ops` operations and about
/// `max_bytes` of encoded input.
#[derive(Debug)]
pub struct Batcher {
    dataset: Dataset,
    max_ops: usize,
    max_bytes: usize,
    ops: Vec<v1::IngestOp>,
    bytes: usize,
    first_line: u64,
    last_line: u64,
    number: u64,
}

impl Batcher {
    /// A batcher for `dataset`.
    pub fn new(dataset: Dataset, max_ops: usize, max_bytes: usize) -> Batcher {
        Batcher {
            dataset,
            max_ops: max_ops.max(1),
            max_bytes,
            ops: Vec::new(),
            bytes: 0,
            first_line: 0,
            last_line: 0,
            number: 0,
        }
    }

    fn op_bytes(op: &v1::IngestOp) -> usize {
        let upsert = match &op.op {
            Some(v1::ingest_op::Op::Upsert(any)) => any.type_url.len() + any.value.len(),
            _ => 0,
        };
        // Tags and lengths add a few bytes per field.
        op.local_ref.len() + upsert + 16
    }

    /// Adds one record's operation; returns the batch it closed, if any (a batch is
    /// closed when the next operation would not fit in it).
    pub fn push(&mut self, op: v1::IngestOp, first_line: u64, last_line: u64) -> Option<Batch> {
        let size = Self::op_bytes(&op);
        let full = self.ops.len() >= self.max_ops || self.bytes + size > self.max_bytes;
        let done = if full { self.take() } else { None };
        if self.ops.is_empty() {
            self.first_line = first_line;
        }
        self.last_line = last_line;
        self.bytes += size;
        self.ops.push(op);
        done
    }

    /// The last, partly filled batch, if any.
    pub fn finish(&mut self) -> Option<Batch> {
        self.take()
    }

    fn take(&mut self) -> Option<Batch> {
        if self.ops.is_empty() {
            return None;
        }
        self.number += 1;
        self.bytes = 0;
        Some(Batch {
            message: v1::IngestBatch {
                dataset: self.dataset.as_str().to_string(),
                ops: std::mem::take(&mut self.ops),
                // Only a number: a file name may itself say whom the file is about.
                batch_ref: format!("import-{}", self.number),
            },
            first_line: self.first_line,
            last_line: self.last_line,
        })
    }
}

#[cfg(test)]
mod tests;

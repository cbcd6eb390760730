//! From rows to batches: rows are grouped into records (a CSV provider's
//! consecutive rows sharing a `local_ref` are one record; every other row is one
//! record on its own), a reference used by two records of one file is caught, and
//! checked records are packed into Ingest batches of at most N operations, a
//! provider never split across two.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;

use borough_model::Dataset;
use borough_proto::v1;

use crate::source::{Format, SourceRow};
use crate::Error;

/// The rows of one record: one row, or a CSV provider's consecutive offer rows.
#[derive(Debug)]
pub struct Group {
    /// The rows, in file order (never empty).
    pub rows: Vec<SourceRow>,
    /// The line of an earlier record of this file with the same `local_ref`.
    pub repeats: Option<u64>,
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

/// Groups rows into records and notes repeated references. It remembers one
/// 64-bit hash and one line number per reference (16 bytes a record), never the
/// references themselves.
pub struct Grouper<I> {
    rows: I,
    by_local_ref: bool,
    pending: Option<SourceRow>,
    seen: HashMap<u64, u64>,
    hasher: RandomState,
}

impl<I: Iterator<Item = Result<SourceRow, Error>>> Grouper<I> {
    /// Groups `rows` of `dataset` read from a `format` file.
    pub fn new(rows: I, dataset: Dataset, format: Format) -> Self {
        Grouper {
            rows,
            by_local_ref: dataset == Dataset::ChildcarePlaces && format == Format::Csv,
            pending: None,
            seen: HashMap::new(),
            hasher: RandomState::new(),
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
        let repeats = match (&local_ref, rows[0].unreadable) {
            (Some(local_ref), false) => {
                let line = rows[0].line;
                let hash = self.hasher.hash_one(local_ref);
                match self.seen.get(&hash) {
                    Some(&earlier) => Some(earlier),
                    None => {
                        self.seen.insert(hash, line);
                        None
                    }
                }
            }
            _ => None,
        };
        Ok(Some(Group { rows, repeats }))
    }
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

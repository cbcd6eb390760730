//! Finding the records whose `local_ref` an earlier record of the same file used,
//! in memory that does not grow with the file.
//!
//! Each record's reference is kept only as a 64-bit keyed hash, with the line the
//! record starts on. The `(hash, line)` pairs are sorted in runs of a bounded size;
//! a full run is written to a temporary file and the last one stays in memory.
//! Merging the runs brings every hash's lines together, in rising order: each line
//! after the first repeats the first. Those `(line, first line)` pairs are sorted
//! by line the same way, so that a pass over the file takes them in file order as
//! it meets the records. The records a checking pass had something to report on
//! are noted by line the same way, so that a second checking pass, needed only
//! when there are repeats, checks just those and the repeats again.
//!
//! Memory holds at most one run (4 MiB) per sort under way and 4 MiB of read
//! buffers per merge, whatever the file's size and however many repeats it has;
//! the disk holds 16 bytes a record. A file of less than one run is sorted in
//! memory without touching the disk.
//!
//! The temporary file is anonymous (`tempfile::tempfile_in`): the operating system
//! removes it when it is closed, even when the import is interrupted, and every
//! run lives in the one file, read back by offset, so the merge needs one file
//! handle however many runs there are.

use std::cmp::Reverse;
use std::collections::hash_map::RandomState;
use std::collections::BinaryHeap;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::Error;

/// Pairs sorted in memory before they are written out as a run (4 MiB).
pub const RUN_PAIRS: usize = 256 * 1024;

/// The read buffers of all runs together while they are merged.
const MERGE_BYTES: usize = 4 << 20;

/// The largest read buffer of one run.
const MAX_READ: usize = 64 << 10;

/// The smallest read buffer of one run.
const MIN_READ: usize = 256 * PAIR;

/// Bytes of one pair on disk: two little-endian `u64`s.
const PAIR: usize = 16;

/// Two numbers, sorted by the first, then the second.
type Pair = (u64, u64);

/// Where and in what runs references are sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spill {
    /// Pairs per run.
    pub run: usize,
    /// The folder the temporary file is made in; `None`: the system's (`TMPDIR`).
    pub dir: Option<PathBuf>,
}

impl Default for Spill {
    fn default() -> Self {
        Spill {
            run: RUN_PAIRS,
            dir: None,
        }
    }
}

/// What an error names: the input file, and the folder of the temporary file.
#[derive(Debug, Clone)]
struct Place {
    file: PathBuf,
    dir: PathBuf,
}

impl Place {
    fn failed(&self, what: &'static str, e: std::io::Error) -> Error {
        Error::Spill {
            file: self.file.clone(),
            dir: self.dir.clone(),
            what,
            problem: e.to_string(),
        }
    }
}

/// Sorts pairs holding at most one run in memory.
#[derive(Debug)]
struct Sorter {
    place: Place,
    run: usize,
    buf: Vec<Pair>,
    /// The runs written so far, all in one file, made when the first run is full.
    file: Option<File>,
    /// Each written run's `(offset, length)` in bytes.
    runs: Vec<(u64, u64)>,
    written: u64,
    pushed: u64,
}

impl Sorter {
    fn new(place: Place, run: usize) -> Sorter {
        Sorter {
            place,
            run: run.max(1),
            buf: Vec::new(),
            file: None,
            runs: Vec::new(),
            written: 0,
            pushed: 0,
        }
    }

    fn push(&mut self, pair: Pair) -> Result<(), Error> {
        self.buf.push(pair);
        self.pushed += 1;
        if self.buf.len() >= self.run {
            self.write_run()?;
        }
        Ok(())
    }

    /// Sorts the run in memory and appends it to the temporary file.
    fn write_run(&mut self) -> Result<(), Error> {
        self.buf.sort_unstable();
        let file = match self.file.take() {
            Some(file) => file,
            None => tempfile::tempfile_in(&self.place.dir)
                .map_err(|e| self.place.failed("create", e))?,
        };
        let mut out = BufWriter::with_capacity(MAX_READ, &file);
        for (a, b) in &self.buf {
            out.write_all(&a.to_le_bytes())
                .and_then(|()| out.write_all(&b.to_le_bytes()))
                .map_err(|e| self.place.failed("write", e))?;
        }
        out.flush().map_err(|e| self.place.failed("write", e))?;
        drop(out);
        self.file = Some(file);
        let len = (self.buf.len() * PAIR) as u64;
        self.runs.push((self.written, len));
        self.written += len;
        self.buf.clear();
        Ok(())
    }

    /// Every pair pushed, in order.
    fn finish(mut self) -> Result<Merge, Error> {
        self.buf.sort_unstable();
        let read = (MERGE_BYTES / self.runs.len().max(1)).clamp(MIN_READ, MAX_READ) / PAIR * PAIR;
        let mut runs: Vec<Run> = self
            .runs
            .iter()
            .map(|&(offset, len)| Run::Disk {
                at: offset,
                end: offset + len,
                buf: Vec::with_capacity(read),
                next: 0,
            })
            .collect();
        runs.push(Run::Memory(std::mem::take(&mut self.buf).into_iter()));
        let mut merge = Merge {
            place: self.place,
            file: self.file,
            read,
            runs,
            heap: BinaryHeap::new(),
        };
        for index in 0..merge.runs.len() {
            if let Some(pair) = merge.next_of(index)? {
                merge.heap.push(Reverse((pair, index)));
            }
        }
        Ok(merge)
    }
}

/// One sorted run being read.
#[derive(Debug)]
enum Run {
    /// In the temporary file, from `at` to `end`; `buf[next..]` is read already.
    Disk {
        at: u64,
        end: u64,
        buf: Vec<u8>,
        next: usize,
    },
    /// The last run, never written out.
    Memory(std::vec::IntoIter<Pair>),
}

/// The sorted runs, merged into one sorted stream.
#[derive(Debug)]
struct Merge {
    place: Place,
    file: Option<File>,
    read: usize,
    runs: Vec<Run>,
    /// The smallest unread pair of each run not yet exhausted, with its run.
    heap: BinaryHeap<Reverse<(Pair, usize)>>,
}

impl Merge {
    /// The next pair of all runs, or `None` when every run is read.
    fn next(&mut self) -> Result<Option<Pair>, Error> {
        let Some(Reverse((pair, index))) = self.heap.pop() else {
            return Ok(None);
        };
        if let Some(next) = self.next_of(index)? {
            self.heap.push(Reverse((next, index)));
        }
        Ok(Some(pair))
    }

    /// The next pair of run `index`.
    fn next_of(&mut self, index: usize) -> Result<Option<Pair>, Error> {
        let Some(run) = self.runs.get_mut(index) else {
            return Ok(None);
        };
        match run {
            Run::Memory(pairs) => Ok(pairs.next()),
            Run::Disk { at, end, buf, next } => {
                if *next >= buf.len() {
                    let left = end.saturating_sub(*at);
                    if left == 0 {
                        return Ok(None);
                    }
                    let len = left.min(self.read as u64) as usize;
                    buf.resize(len, 0);
                    *next = 0;
                    let Some(file) = &self.file else {
                        return Ok(None);
                    };
                    file.read_exact_at(buf, *at)
                        .map_err(|e| self.place.failed("read", e))?;
                    *at += len as u64;
                }
                let half = |at: usize| -> Option<u64> {
                    Some(u64::from_le_bytes(
                        buf.get(at..at + PAIR / 2)?.try_into().ok()?,
                    ))
                };
                let (Some(a), Some(b)) = (half(*next), half(*next + PAIR / 2)) else {
                    // Runs are written and read whole pairs at a time: a short read
                    // would have failed above, so this is not expected.
                    return Err(self.place.failed(
                        "read",
                        std::io::Error::from(std::io::ErrorKind::UnexpectedEof),
                    ));
                };
                *next += PAIR;
                Ok(Some((a, b)))
            }
        }
    }
}

/// Notes each record's reference as it is read, and the records with something
/// to report, to find the repeats once the whole file has been read.
#[derive(Debug)]
pub struct Refs {
    hasher: RandomState,
    pairs: Sorter,
    reported: Sorter,
}

impl Refs {
    /// Notes for the import of `file`, sorting as `spill` says.
    pub fn new(file: &Path, spill: &Spill) -> Refs {
        let place = Place {
            file: file.to_path_buf(),
            dir: spill.dir.clone().unwrap_or_else(std::env::temp_dir),
        };
        Refs {
            // A key of this process's own: the hashes mean nothing outside it.
            hasher: RandomState::new(),
            pairs: Sorter::new(place.clone(), spill.run),
            reported: Sorter::new(place, spill.run),
        }
    }

    /// Notes that the record starting on `line` has reference `local_ref` (records
    /// are noted in file order).
    pub fn note(&mut self, local_ref: &str, line: u64) -> Result<(), Error> {
        self.pairs.push((self.hasher.hash_one(local_ref), line))
    }

    /// Notes that the record starting on `line` had something to report (a problem
    /// or a warning) when checked without its repeat known.
    pub fn reported(&mut self, line: u64) -> Result<(), Error> {
        self.reported.push((line, 0))
    }

    /// What the notes say: the repeats, and the records with something reported.
    pub fn finish(self) -> Result<Noted, Error> {
        let place = self.pairs.place.clone();
        let run = self.pairs.run;
        let mut by_hash = self.pairs.finish()?;
        let mut repeats = Sorter::new(place, run);
        // Lines come in rising order within a hash, so the first is the earliest.
        let mut first: Option<Pair> = None;
        while let Some((hash, line)) = by_hash.next()? {
            match first {
                Some((seen, earliest)) if seen == hash => repeats.push((line, earliest))?,
                _ => first = Some((hash, line)),
            }
        }
        drop(by_hash);
        Ok(Noted {
            repeats: LineMap::of(repeats)?,
            reported: LineMap::of(self.reported)?,
        })
    }
}

/// What a pass that noted every record learnt about the file.
#[derive(Debug)]
pub struct Noted {
    /// Each record that repeats an earlier one's reference, with the line of the
    /// first record that used it.
    pub repeats: LineMap,
    /// Each record that had something to report.
    pub reported: LineMap,
}

/// Records by the line they start on, each with a number, taken in file order.
#[derive(Debug)]
pub struct LineMap {
    by_line: Option<Merge>,
    count: u64,
    peeked: Option<Pair>,
}

impl LineMap {
    /// The `(line, number)` pairs `sorter` holds.
    fn of(sorter: Sorter) -> Result<LineMap, Error> {
        let count = sorter.pushed;
        let by_line = match count {
            0 => None,
            _ => Some(sorter.finish()?),
        };
        Ok(LineMap {
            by_line,
            count,
            peeked: None,
        })
    }

    /// How many records it holds.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The number of the record starting on `line`, if it holds it. Lines are
    /// asked in rising order; one asked out of order is not found.
    pub fn get(&mut self, line: u64) -> Result<Option<u64>, Error> {
        loop {
            let next = match self.peeked.take() {
                Some(pair) => pair,
                None => match &mut self.by_line {
                    Some(merge) => match merge.next()? {
                        Some(pair) => pair,
                        None => return Ok(None),
                    },
                    None => return Ok(None),
                },
            };
            match next.0.cmp(&line) {
                // A record the caller did not ask about (a file that changed since
                // it was read): passed over.
                std::cmp::Ordering::Less => continue,
                std::cmp::Ordering::Equal => return Ok(Some(next.1)),
                std::cmp::Ordering::Greater => {
                    self.peeked = Some(next);
                    return Ok(None);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;

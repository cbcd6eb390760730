//! Import: `borough import`, which streams a borough system's export (CSV, or
//! JSONL with a provider's offers nested) into its own running node through the
//! node's Ingest RPC (`Ingest/Stream`, as the node's `system` user), and waits
//! until the node has acknowledged every batch as durable.
//!
//! Owns: reading import files row by row with line numbers (`source`), checking
//! each record as the node will (`check`: `Input::from_any` and `Input::derive`, in
//! the node's borough, under a throwaway key), grouping a provider's rows and
//! packing batches (`batch`), the reject report (`report`) and the progress bar.
//! Must not: hold the linkage key or derive anything that is kept — the node
//! re-checks and derives every record itself; print, log or report any value read
//! from a row (errors and the reject report name lines and columns only).
//! Invariants: without `--skip-invalid`, a file with any bad row sends nothing,
//! and the sending pass sends only what the checking pass checked: each chunk of
//! records it reads must have the digest the checking pass took of that chunk, or
//! the import stops before anything of the chunk is sent (the file changed between
//! the passes); a batch is applied whole or not at all, and importing a file again
//! changes nothing (the node maps each `local_ref` to its record, and an identical
//! record is left unchanged). Memory barely grows with the file: a chunk of records
//! is checked while the next is read, and one batch is in flight while the next is
//! read; a `local_ref` used twice is caught by sorting 64-bit hashes of the
//! references in bounded runs on disk (`repeats`), never by holding them; the
//! chunks' digests are one 64-bit word per [`CHECK_CHUNK`] records (8 KB per
//! million rows), kept from the checking pass to the sending pass.

mod batch;
mod check;
mod error;
#[cfg(test)]
mod fixtures;
mod progress;
mod repeats;
pub mod report;
pub mod source;

use std::collections::VecDeque;
use std::fmt;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use borough_model::{Dataset, GssCode};
use borough_node::NodeConfig;
use borough_proto::v1;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;

use batch::{find_repeats, Batch, Batcher, Group, Grouper, References};
use check::{Checked, Checker};
pub use error::{Error, RowProblem};
use progress::Progress;
use repeats::{Noted, Refs, Spill};
use report::Report;
use source::{Format, Source};

/// Records per batch unless `--batch` says otherwise.
pub const DEFAULT_BATCH: usize = 1_000;

/// How many problems an [`Error::InvalidRows`] lists; the report has them all.
pub const PROBLEMS_LISTED: usize = 20;

/// Batches read ahead of the node's acknowledgements.
const IN_FLIGHT: usize = 2;

/// How an import runs (`borough import` flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// Check the file only; send nothing.
    pub dry_run: bool,
    /// Leave out bad rows (listing them in the reject report) and import the rest,
    /// in one pass. Without it, any bad row stops the import before anything is sent.
    pub skip_invalid: bool,
    /// Where the reject report goes (default `<FILE>.rejects.csv`).
    pub rejects: Option<PathBuf>,
    /// Records per Ingest batch (a provider, with all its offers, is one record).
    pub batch: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            dry_run: false,
            skip_invalid: false,
            rejects: None,
            batch: DEFAULT_BATCH,
        }
    }
}

/// What an import (or a check) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Nothing was sent: a dry run.
    pub dry_run: bool,
    /// Rows read (a provider's offers are rows of their own in CSV).
    pub rows: u64,
    /// Records that passed their checks (a provider with its offers is one).
    pub records: u64,
    /// Records sent and acknowledged by the node.
    pub sent: u64,
    /// Batches acknowledged.
    pub batches: u64,
    /// Records the node created or changed (each got a new version).
    pub written: u64,
    /// Records the node already held exactly so (nothing written).
    pub unchanged: u64,
    /// Records deleted.
    pub deleted: u64,
    /// Rows left out because they (or another row of their provider) failed.
    pub rejected: u64,
    /// Rows imported with a warning (a terminated postcode).
    pub flagged: u64,
    /// The dataset's change-log head after the last batch.
    pub head_seq: u64,
    /// The reject report, if one was written.
    pub report: Option<PathBuf>,
    /// How long it took.
    pub elapsed: Duration,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            self.rows as f64 / secs
        } else {
            0.0
        };
        let verb = if self.dry_run { "checked" } else { "imported" };
        write!(
            f,
            "{verb} {} rows ({} records) in {secs:.1} s, {rate:.0} rows/s: ",
            self.rows, self.records
        )?;
        if self.dry_run {
            write!(f, "dry run, nothing sent")?;
        } else {
            write!(
                f,
                "sent {} records in {} batches: {} written, {} unchanged, {} deleted",
                self.sent, self.batches, self.written, self.unchanged, self.deleted
            )?;
        }
        write!(
            f,
            "; {} rows rejected, {} flagged (terminated postcode)",
            self.rejected, self.flagged
        )?;
        if let Some(report) = &self.report {
            write!(f, "; report: {}", report.display())?;
        }
        Ok(())
    }
}

/// What one pass over the file found.
#[derive(Debug, Default)]
struct PassOutcome {
    rows: u64,
    records: u64,
    rejected: u64,
    flagged: u64,
    problems: u64,
    listed: Vec<RowProblem>,
    /// The line from which the file was found changed while sending (only when
    /// sending everything): a bad record's, or the first of a chunk of records
    /// not as checked.
    changed_at: Option<u64>,
    /// The receiving side stopped taking batches.
    stopped: bool,
}

/// The digests of a file's chunks of records (as [`read_chunk`] reads them), in
/// file order, taken by a checking pass for the sending pass to compare with.
///
/// The hash is std's `DefaultHasher` (SipHash), keyed at random once per import:
/// it guards against a file changed by accident between the passes, not against
/// an attacker (who could as well change the file before the import), so a fast
/// 64-bit hash will do; a change it misses is a 1-in-2^64 chance.
#[derive(Debug, Default)]
struct Digests {
    seed: RandomState,
    chunks: Vec<u64>,
}

impl Digests {
    /// The digest of `chunk`: every row's line and values, record by record.
    fn of(&self, chunk: &[Group]) -> u64 {
        let mut state = self.seed.build_hasher();
        for group in chunk {
            state.write_usize(group.rows.len());
            for row in &group.rows {
                row.digest(&mut state);
            }
        }
        state.finish()
    }
}

/// What a pass does with the digests of the chunks of records it reads.
enum Chunks<'a> {
    /// Nothing: a dry run, or the one pass of `--skip-invalid`.
    Unhashed,
    /// Takes them, replacing any taken before: a checking pass before sending.
    Record(&'a mut Digests),
    /// Compares each with the checking pass's before handling its chunk: the
    /// sending pass after a checking pass.
    Compare(&'a Digests),
}

impl<'a> Chunks<'a> {
    /// Taking the digests into `digests`, if given.
    fn taken_into(digests: Option<&'a mut Digests>) -> Chunks<'a> {
        digests.map_or(Chunks::Unhashed, Chunks::Record)
    }

    /// The digests to take a chunk's digest as, if they are being taken.
    fn digests(&self) -> Option<&Digests> {
        match self {
            Chunks::Unhashed => None,
            Chunks::Record(digests) => Some(digests),
            Chunks::Compare(digests) => Some(digests),
        }
    }
}

impl PassOutcome {
    /// An error if the pass met a change to `file` since it was checked, after
    /// `applied` batches were acknowledged.
    fn unchanged(&self, file: &Path, applied: u64) -> Result<(), Error> {
        match self.changed_at {
            Some(line) => Err(Error::ChangedDuringImport {
                file: file.to_path_buf(),
                line,
                applied,
            }),
            None => Ok(()),
        }
    }
}

/// What a sending pass follows.
enum After<'a> {
    /// Nothing: the one pass of `--skip-invalid`, which finds repeated references
    /// itself, sorting them as the `Spill` says.
    Nothing(&'a Spill),
    /// A checking pass that found every row good and took these digests.
    Check(&'a Digests),
}

/// Where a sending pass puts its batches.
struct Sink<'a> {
    batcher: Batcher,
    /// Sends a batch; `false` when the receiving side has stopped.
    send: &'a mut dyn FnMut(Batch) -> bool,
    /// A bad record ends the pass (the file was checked whole before).
    stop_on_bad: bool,
}

/// Reads the whole file once, checking every record; writes problems and warnings
/// to `report`, and good records to `sink`. Repeated references are dealt with as
/// `references` says, and the chunks' digests as `chunks` says; what was noted,
/// if `references` says to note.
fn pass(
    source: Source,
    references: References,
    mut chunks: Chunks<'_>,
    checker: &Checker,
    mut progress: Progress,
    mut report: Option<&mut Report>,
    mut sink: Option<Sink<'_>>,
) -> Result<(PassOutcome, Option<Noted>), Error> {
    let bytes = source.bytes_read();
    let dataset = source.schema().dataset;
    let format = source.format();
    let mut groups = Grouper::new(source, dataset, format, references);
    let mut out = PassOutcome::default();
    if let Chunks::Record(digests) = &mut chunks {
        digests.chunks.clear();
    }
    // Chunks read so far, and the line after the last record read (at first, the
    // line after a CSV file's header).
    let (mut read, mut end) = (0, if format == Format::Csv { 2 } else { 1 });
    // The next chunk is read while this one is checked, so its references are
    // noted before this chunk's records are `reported`: `Refs` sorts the two
    // apart, so their order does not matter. A pass that stops early drops the
    // chunk read ahead, and any error met reading it, as if it were never read.
    let mut next = read_chunk(&mut groups, chunks.digests());
    'file: loop {
        // A read error comes once the chunks before it are handled, and the
        // records before it in its own chunk are not, as before reading ahead.
        let (chunk, digest) = next?;
        match &mut chunks {
            Chunks::Unhashed => {}
            Chunks::Record(digests) => digests.chunks.extend(digest),
            Chunks::Compare(checked) => {
                // A chunk changed, added or gone (the file cut short at the end
                // of a chunk: named by the line after the last record read).
                if checked.chunks.get(read).copied() != digest {
                    out.changed_at = Some(chunk.first().map_or(end, Group::first_line));
                    break;
                }
            }
        }
        let Some(last) = chunk.last() else {
            break;
        };
        (read, end) = (read + 1, last.last_line() + 1);
        let checked;
        (checked, next) = check_all_while(checker, &chunk, || {
            read_chunk(&mut groups, chunks.digests())
        });
        for (group, checked) in chunk.iter().zip(checked) {
            out.rows += group.rows.len() as u64;
            progress.rows(out.rows, bytes.load(Ordering::Relaxed));
            match checked {
                // Only a checking pass, which sends nothing, meets records that
                // passed before.
                Checked::Passed => out.records += 1,
                Checked::Good { op, flags } => {
                    out.records += 1;
                    out.flagged += flags.len() as u64;
                    if !flags.is_empty() {
                        groups.reported(group.first_line())?;
                    }
                    if let Some(report) = report.as_deref_mut() {
                        for flag in &flags {
                            report.add(flag)?;
                        }
                    }
                    if let Some(sink) = &mut sink {
                        if let Some(batch) =
                            sink.batcher.push(op, group.first_line(), group.last_line())
                        {
                            if !(sink.send)(batch) {
                                out.stopped = true;
                                break 'file;
                            }
                        }
                    }
                }
                Checked::Bad { problems, left_out } => {
                    if sink.as_ref().is_some_and(|s| s.stop_on_bad) {
                        out.changed_at = Some(group.first_line());
                        break 'file;
                    }
                    groups.reported(group.first_line())?;
                    out.rejected += group.rows.len() as u64;
                    out.problems += problems.len() as u64;
                    let room = PROBLEMS_LISTED.saturating_sub(out.listed.len());
                    out.listed.extend(problems.iter().take(room).cloned());
                    if let Some(report) = report.as_deref_mut() {
                        for entry in problems.iter().chain(&left_out) {
                            report.add(entry)?;
                        }
                    }
                }
            }
        }
    }
    if let Some(sink) = &mut sink {
        if !out.stopped && out.changed_at.is_none() {
            if let Some(batch) = sink.batcher.finish() {
                out.stopped = !(sink.send)(batch);
            }
        }
    }
    progress.finish();
    // Only a pass that read the whole file has noted every reference.
    let found = match out.stopped || out.changed_at.is_some() {
        true => None,
        false => groups.finish()?,
    };
    Ok((out, found))
}

/// Records read ahead and checked together, split over the machine's CPUs.
const CHECK_CHUNK: usize = 1024;

/// Records a checking thread takes at a time.
const CHECK_BLOCK: usize = 32;

/// The next [`CHECK_CHUNK`] records (fewer at the end of the file, none after
/// it), and their digest if `digests` are being taken. An empty chunk has none, so
/// that the end of the file matches only the end of the checked file.
fn read_chunk(
    groups: &mut Grouper<Source>,
    digests: Option<&Digests>,
) -> Result<(Vec<Group>, Option<u64>), Error> {
    let mut chunk = Vec::with_capacity(CHECK_CHUNK);
    while chunk.len() < CHECK_CHUNK {
        match groups.next_group()? {
            Some(group) => chunk.push(group),
            None => break,
        }
    }
    let digest = digests.filter(|_| !chunk.is_empty()).map(|d| d.of(&chunk));
    Ok((chunk, digest))
}

/// Checks `groups`, returning the results in order, on as many threads as the
/// machine has CPUs (at most 4), while the calling thread runs `meanwhile` (reads
/// the next chunk) and then checks too: checking and deriving is most of a
/// checking pass, and the node is idle while it runs. Threads take blocks of
/// records as they come free, so neither reading nor checking waits for the
/// other's share of a fixed split.
fn check_all_while<T>(
    checker: &Checker,
    groups: &[Group],
    meanwhile: impl FnOnce() -> T,
) -> (Vec<Checked>, T) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let taken = AtomicUsize::new(0);
    // Checks the blocks no thread has taken yet: each block's start and results.
    let take_blocks = || {
        let mut done: Vec<(usize, Vec<Checked>)> = Vec::new();
        loop {
            let start = taken.fetch_add(CHECK_BLOCK, Ordering::Relaxed);
            let Some(block) = groups.get(start..).filter(|rest| !rest.is_empty()) else {
                return done;
            };
            let block = block.iter().take(CHECK_BLOCK);
            done.push((start, block.map(|g| checker.check(g)).collect()));
        }
    };
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(take_blocks)).collect();
        let other = meanwhile();
        let mut blocks = take_blocks();
        for helper in helpers {
            match helper.join() {
                Ok(done) => blocks.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        blocks.sort_unstable_by_key(|(start, _)| *start);
        let checked = blocks.into_iter().flat_map(|(_, c)| c).collect();
        (checked, other)
    })
}

/// Checks every row of `file` as `borough`'s node would, sending nothing, and
/// writes the reject report (problems, and warnings for terminated postcodes).
/// Fails with [`Error::InvalidRows`] if any row is bad, unless
/// `options.skip_invalid`, in which case bad rows are counted as rejected.
pub fn validate(
    borough: GssCode,
    dataset: Dataset,
    file: &Path,
    options: &ImportOptions,
) -> Result<ImportSummary, Error> {
    validate_in(borough, dataset, file, options, &Spill::default())
}

/// [`validate`], sorting references as `spill` says.
fn validate_in(
    borough: GssCode,
    dataset: Dataset,
    file: &Path,
    options: &ImportOptions,
    spill: &Spill,
) -> Result<ImportSummary, Error> {
    validate_taking(borough, dataset, file, options, spill, None)
}

/// [`validate_in`] before a sending pass: also the digests of the file's chunks of
/// records, for the sending pass to send only what was checked.
fn validate_to_send(
    borough: GssCode,
    dataset: Dataset,
    file: &Path,
    options: &ImportOptions,
    spill: &Spill,
) -> Result<(ImportSummary, Digests), Error> {
    let mut digests = Digests::default();
    let summary = validate_taking(borough, dataset, file, options, spill, Some(&mut digests))?;
    Ok((summary, digests))
}

/// [`validate_in`], taking the digests of the file's chunks of records into
/// `digests`, if given (those of the last pass over the file, when it is read
/// twice: the same, as the file is).
fn validate_taking(
    borough: GssCode,
    dataset: Dataset,
    file: &Path,
    options: &ImportOptions,
    spill: &Spill,
    mut digests: Option<&mut Digests>,
) -> Result<ImportSummary, Error> {
    let started = Instant::now();
    let checker = Checker::new(dataset, Format::of(file)?, borough);
    let noting = References::Noted(Refs::new(file, spill));
    let chunks = Chunks::taken_into(digests.as_deref_mut());
    let (mut out, mut report, noted) =
        checking_pass(&checker, dataset, file, options, noting, chunks)?;
    if let Some(noted) = noted.filter(|n| n.repeats.count() > 0) {
        // The repeats are known only now that the whole file has been read, and the
        // pass checked them as if they were not: read the file again, knowing them,
        // so that the report and the counts are exactly as if they had been known
        // all along. Only a file with a repeated reference is read twice, and only
        // the repeats and the records with something to report are checked again:
        // every other record would be found good, with nothing to report, again.
        let rechecked = References::Rechecked(noted);
        // This pass's digests replace the first's (the same, as the file is).
        let chunks = Chunks::taken_into(digests);
        (out, report, _) = checking_pass(&checker, dataset, file, options, rechecked, chunks)?;
    }
    if out.rejected > 0 && !options.skip_invalid {
        return Err(Error::InvalidRows {
            file: file.to_path_buf(),
            rows: out.rejected,
            problems: out.problems,
            listed: out.listed,
            report,
        });
    }
    Ok(ImportSummary {
        dry_run: true,
        rows: out.rows,
        records: out.records,
        rejected: out.rejected,
        flagged: out.flagged,
        report,
        elapsed: started.elapsed(),
        ..ImportSummary::default()
    })
}

/// One checking pass over `file`, writing the reject report afresh: what it found,
/// the report's path (if one is kept), and what `references` noted, if it did.
fn checking_pass(
    checker: &Checker,
    dataset: Dataset,
    file: &Path,
    options: &ImportOptions,
    references: References,
    chunks: Chunks<'_>,
) -> Result<(PassOutcome, Option<PathBuf>, Option<Noted>), Error> {
    let source = Source::open(file, dataset)?;
    let progress = Progress::start("checking", source.size());
    let path = options
        .rejects
        .clone()
        .unwrap_or_else(|| report::default_path(file));
    let asked = options.skip_invalid || options.rejects.is_some();
    let mut report = Report::create(path, file, asked)?;
    let (out, found) = pass(
        source,
        references,
        chunks,
        checker,
        progress,
        Some(&mut report),
        None,
    )?;
    let report = report.finish()?;
    Ok((out, report, found))
}

/// The pass that sends `file`'s good records through `send`, in batches of at
/// most `options.batch` records and about `max_bytes`. With
/// `options.skip_invalid` it is the only pass: it writes the reject report, and
/// first scans the references, since a record repeating an earlier one's must be
/// known as such before it would be sent. Without it, a checking pass has found
/// every row good and taken the `checked` digests of the file's chunks: a chunk
/// that is not as checked (its digest differs, or it is one more or one fewer),
/// or a bad row, means the file changed since, and ends the pass before anything
/// more is sent.
fn sending_pass(
    borough: GssCode,
    dataset: Dataset,
    file: &Path,
    options: &ImportOptions,
    after: After<'_>,
    max_bytes: usize,
    send: &mut dyn FnMut(Batch) -> bool,
) -> Result<(PassOutcome, Option<PathBuf>), Error> {
    let source = Source::open(file, dataset)?;
    let format = source.format();
    let checker = match options.skip_invalid {
        true => Checker::new(dataset, format, borough),
        // The checking pass found every row good.
        false => Checker::new(dataset, format, borough).without_derivation(),
    };
    let mut report = match options.skip_invalid {
        true => Some(Report::create(
            options
                .rejects
                .clone()
                .unwrap_or_else(|| report::default_path(file)),
            file,
            true,
        )?),
        false => None,
    };
    let (references, chunks) = match after {
        After::Nothing(spill) => {
            let progress = Progress::start("scanning", source.size());
            let repeats = find_repeats(file, dataset, spill, progress)?;
            (References::Known(repeats), Chunks::Unhashed)
        }
        // The checking pass found no reference used twice, and the chunks' digests
        // catch a change since that makes one so.
        After::Check(checked) => (References::Unchecked, Chunks::Compare(checked)),
    };
    let progress = Progress::start("importing", source.size());
    let sink = Sink {
        batcher: Batcher::new(dataset, options.batch, max_bytes),
        send,
        stop_on_bad: !options.skip_invalid,
    };
    let (out, _) = pass(
        source,
        references,
        chunks,
        &checker,
        progress,
        report.as_mut(),
        Some(sink),
    )?;
    let report = report.map(Report::finish).transpose()?.flatten();
    Ok((out, report))
}

/// Imports `file` into the running node `config` describes, through its Ingest
/// RPC as its `system` user. Without `options.skip_invalid`, every row is checked
/// first and nothing is sent if any is bad; then the file is read again and sent
/// in batches. With it, one pass sends the good records and reports the bad rows.
/// Returns once the node has acknowledged every batch (each durable on its disk).
/// With `options.dry_run`, only [`validate`]s.
pub async fn import(
    config: &NodeConfig,
    dataset: Dataset,
    file: &Path,
    options: &ImportOptions,
) -> Result<ImportSummary, Error> {
    let started = Instant::now();
    let limit = config.limits.max_ingest_batch;
    if options.batch == 0 || options.batch > limit {
        return Err(Error::BatchSize {
            requested: options.batch,
            limit,
        });
    }
    // A file of no known format is refused before the node is reached.
    Format::of(file)?;
    let borough = config.borough;
    if options.dry_run {
        let (path, options) = (file.to_path_buf(), options.clone());
        return blocking(file, move || validate(borough, dataset, &path, &options)).await;
    }
    // Reach the node before reading: a node that is down is found at once.
    let channel = borough_node::client::connect_as(
        config,
        &config.tools.system_cert,
        &config.tools.system_key,
    )
    .await
    .map_err(|source| Error::Connect {
        config: config.source.clone(),
        source,
    })?;
    let (checked, digests) = if options.skip_invalid {
        (None, None)
    } else {
        let (path, options) = (file.to_path_buf(), options.clone());
        let spill = Spill::default();
        let (summary, digests) = blocking(file, move || {
            validate_to_send(borough, dataset, &path, &options, &spill)
        })
        .await?;
        (Some(summary), Some(digests))
    };

    let (tx, rx) = mpsc::channel::<v1::IngestBatch>(IN_FLIGHT);
    let (stop_tx, stop_rx) = watch::channel(false);
    let spans: Arc<Mutex<VecDeque<(u64, u64)>>> = Arc::default();
    let producer = {
        let spans = spans.clone();
        let runtime = tokio::runtime::Handle::current();
        let (file, options) = (file.to_path_buf(), options.clone());
        let max_bytes = config.limits.sync.max_message_bytes / 2;
        tokio::task::spawn_blocking(move || -> Result<(PassOutcome, Option<PathBuf>), Error> {
            let mut send = |batch: Batch| -> bool {
                if let Ok(mut spans) = spans.lock() {
                    spans.push_back((batch.first_line, batch.last_line));
                }
                let mut stop = stop_rx.clone();
                runtime.block_on(async {
                    tokio::select! {
                        sent = tx.send(batch.message) => sent.is_ok(),
                        _ = stop.wait_for(|stopped| *stopped) => false,
                    }
                })
            };
            let spill = Spill::default();
            let after = match &digests {
                Some(digests) => After::Check(digests),
                None => After::Nothing(&spill),
            };
            sending_pass(
                borough, dataset, &file, &options, after, max_bytes, &mut send,
            )
        })
    };

    let mut summary = ImportSummary::default();
    let refused = |status: tonic::Status, applied: u64| {
        let (first_line, last_line) = spans
            .lock()
            .ok()
            .and_then(|mut s| s.pop_front())
            .unwrap_or((0, 0));
        Error::Refused {
            file: file.to_path_buf(),
            first_line,
            last_line,
            applied,
            message: status.message().to_string(),
        }
    };
    let mut client = v1::ingest_client::IngestClient::new(channel);
    let failure = match client.stream(ReceiverStream::new(rx)).await {
        Err(status) => Some(refused(status, 0)),
        Ok(response) => {
            let mut acks = response.into_inner();
            loop {
                match acks.message().await {
                    Ok(Some(ack)) => {
                        if let Ok(mut spans) = spans.lock() {
                            spans.pop_front();
                        }
                        summary.batches += 1;
                        summary.written += ack.written;
                        summary.unchanged += ack.unchanged;
                        summary.deleted += ack.deleted;
                        summary.head_seq = ack.head_seq;
                    }
                    Ok(None) => break None,
                    Err(status) => break Some(refused(status, summary.batches)),
                }
            }
        }
    };
    // Whatever happened, the reader must not wait for a node that has stopped.
    let _ = stop_tx.send(true);
    let produced = joined(file, producer.await);
    if let Some(failure) = failure {
        return Err(failure);
    }
    let (out, report) = produced?;
    out.unchanged(file, summary.batches)?;
    let unacknowledged = spans.lock().map(|s| s.len() as u64).unwrap_or(0);
    if out.stopped || unacknowledged > 0 {
        return Err(Error::Unacknowledged {
            file: file.to_path_buf(),
            applied: summary.batches,
            sent: summary.batches + unacknowledged,
        });
    }
    let checked = checked.unwrap_or_default();
    Ok(ImportSummary {
        dry_run: false,
        rows: out.rows,
        records: out.records,
        sent: summary.written + summary.unchanged + summary.deleted,
        rejected: out.rejected,
        flagged: if options.skip_invalid {
            out.flagged
        } else {
            checked.flagged
        },
        report: report.or(checked.report),
        elapsed: started.elapsed(),
        ..summary
    })
}

/// Runs blocking work on `file` off the async threads.
async fn blocking<T: Send + 'static>(
    file: &Path,
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    joined(file, tokio::task::spawn_blocking(work).await)
}

/// The result of a finished blocking task: a panic carries on as a panic.
fn joined<T>(
    file: &Path,
    result: Result<Result<T, Error>, tokio::task::JoinError>,
) -> Result<T, Error> {
    match result {
        Ok(result) => result,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => Err(Error::Io {
                file: file.to_path_buf(),
                line: None,
                problem: "reading the file was cancelled".into(),
            }),
        },
    }
}

#[cfg(test)]
mod tests;

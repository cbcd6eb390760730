//! The plan of a generation, the files it produces and the report of what was
//! written; also the text forms (`docs/DATA.md`) every dataset's rows share.

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use borough_model::{Dataset, GssCode, Season, Term};
use time::Date;

use crate::geo::BoroughGeo;
use crate::{employment, places, requests, Error};

/// The most rows per borough and dataset: enough for a benchmark's million-row
/// file. A borough's people are numbered below it (an NI prefix for each block of
/// 10,000, see `people.rs`), and a million places rows need about 284,000 provider
/// URNs, within the 297,727 of the borough's share of the URN space (see
/// `places::Urns`).
pub const MAX_RECORDS: usize = 1_000_000;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenPlan {
    /// The boroughs to generate for, in order; each serves some participants of the
    /// one before it (the first serves the last's).
    pub boroughs: Vec<GssCode>,
    /// The seed: the same plan and seed give byte-identical files.
    pub seed: u64,
    /// Rows per borough per dataset (places may overshoot by one provider's offers).
    pub records: usize,
    /// The day the files are generated as of: no date is after it, and requests
    /// are for the three terms after it.
    pub today: Date,
}

/// One generated CSV file, in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// The borough whose systems would send it.
    pub borough: GssCode,
    /// The dataset its rows are input for.
    pub dataset: Dataset,
    /// Rows, not counting the header.
    pub rows: usize,
    /// The file's bytes: UTF-8 CSV, a header row, `\n` line ends.
    pub csv: Vec<u8>,
}

impl RenderedFile {
    /// Where the file goes under the output directory: `<GSS>/<dataset>.csv`.
    pub fn relative_path(&self) -> PathBuf {
        relative_path(self.borough, self.dataset)
    }
}

/// One file [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// The borough whose systems would send it.
    pub borough: GssCode,
    /// The dataset its rows are input for.
    pub dataset: Dataset,
    /// Rows, not counting the header.
    pub rows: usize,
    /// Where it was written.
    pub path: PathBuf,
}

/// What [`generate`] wrote, borough by borough in plan order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenReport {
    /// Every file written.
    pub files: Vec<GeneratedFile>,
}

impl fmt::Display for GenReport {
    /// One line a file: borough, dataset, rows and path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for file in &self.files {
            writeln!(
                f,
                "{} {:<14} {:<25} {:>7} rows  {}",
                file.borough,
                file.borough.name(),
                file.dataset,
                file.rows,
                file.path.display()
            )?;
        }
        Ok(())
    }
}

/// Generates the plan's files and writes them under `out` as
/// `<out>/<GSS>/<dataset>.csv`, creating directories as needed and replacing
/// files already there. Rows are written as they are made, so memory does not
/// grow with the files. Each file is written under a temporary name
/// (`<dataset>.csv.partial`) and renamed when complete: a failure leaves the
/// files completed before it and no partial one.
pub fn generate(plan: &GenPlan, out: &Path) -> Result<GenReport, Error> {
    let mut sink = FileSink {
        out,
        files: Vec::new(),
        partial: None,
    };
    match produce(plan, &mut sink) {
        Ok(()) => Ok(GenReport { files: sink.files }),
        Err(e) => {
            let Some(partial) = sink.partial else {
                return Err(e);
            };
            // Best effort: the error being reported matters more.
            let _ = std::fs::remove_file(&partial);
            Err(match e {
                // The CSV writer failed to write the file: name it.
                Error::Csv { source, .. } if source.is_io_error() => Error::WriteFile {
                    path: partial,
                    source: match source.into_kind() {
                        csv::ErrorKind::Io(io) => io,
                        other => std::io::Error::other(format!("{other:?}")),
                    },
                },
                e => e,
            })
        }
    }
}

/// Generates the plan's files in memory: for each borough in plan order, its
/// places, requests and employment files.
pub fn render(plan: &GenPlan) -> Result<Vec<RenderedFile>, Error> {
    let mut sink = MemorySink(Vec::new());
    produce(plan, &mut sink)?;
    Ok(sink.0)
}

/// Where [`produce`] puts each file it makes.
trait Sink {
    /// What a file's CSV is written to.
    type Out: Write;
    /// Starts the file of `dataset` for `borough`.
    fn open(&mut self, borough: GssCode, dataset: Dataset) -> Result<Self::Out, Error>;
    /// Completes the file just opened, which has `rows` rows.
    fn close(
        &mut self,
        borough: GssCode,
        dataset: Dataset,
        out: Self::Out,
        rows: usize,
    ) -> Result<(), Error>;
}

/// Keeps each file in memory, for [`render`].
struct MemorySink(Vec<RenderedFile>);

impl Sink for MemorySink {
    type Out = Vec<u8>;

    fn open(&mut self, _: GssCode, _: Dataset) -> Result<Vec<u8>, Error> {
        Ok(Vec::new())
    }

    fn close(
        &mut self,
        borough: GssCode,
        dataset: Dataset,
        csv: Vec<u8>,
        rows: usize,
    ) -> Result<(), Error> {
        self.0.push(RenderedFile {
            borough,
            dataset,
            rows,
            csv,
        });
        Ok(())
    }
}

/// Writes each file under an output directory, for [`generate`].
struct FileSink<'a> {
    out: &'a Path,
    files: Vec<GeneratedFile>,
    /// The temporary path of the file being written, if one is.
    partial: Option<PathBuf>,
}

/// A file being written under a temporary name, and where it goes when done.
struct PartialFile {
    writer: BufWriter<File>,
    partial: PathBuf,
    path: PathBuf,
}

impl Write for PartialFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}

impl Sink for FileSink<'_> {
    type Out = PartialFile;

    fn open(&mut self, borough: GssCode, dataset: Dataset) -> Result<PartialFile, Error> {
        let path = self.out.join(relative_path(borough, dataset));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let mut partial = path.clone().into_os_string();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let file = File::create(&partial).map_err(|source| Error::WriteFile {
            path: partial.clone(),
            source,
        })?;
        self.partial = Some(partial.clone());
        Ok(PartialFile {
            writer: BufWriter::with_capacity(1 << 16, file),
            partial,
            path,
        })
    }

    fn close(
        &mut self,
        borough: GssCode,
        dataset: Dataset,
        out: PartialFile,
        rows: usize,
    ) -> Result<(), Error> {
        let PartialFile {
            writer,
            partial,
            path,
        } = out;
        writer.into_inner().map_err(|e| Error::WriteFile {
            path: partial.clone(),
            source: e.into_error(),
        })?;
        std::fs::rename(&partial, &path).map_err(|source| Error::WriteFile {
            path: path.clone(),
            source,
        })?;
        self.partial = None;
        self.files.push(GeneratedFile {
            borough,
            dataset,
            rows,
            path,
        });
        Ok(())
    }
}

/// Makes the plan's files, borough by borough in plan order (places, requests,
/// employment), writing each row as it is made.
fn produce(plan: &GenPlan, sink: &mut impl Sink) -> Result<(), Error> {
    check(plan)?;
    let geos = plan
        .boroughs
        .iter()
        .map(|b| BoroughGeo::new(*b))
        .collect::<Result<Vec<_>, _>>()?;
    let split = employment::Split::of(plan.records, geos.len());
    for (i, geo) in geos.iter().enumerate() {
        let previous = (geos.len() >= 2).then(|| &geos[(i + geos.len() - 1) % geos.len()]);
        let linked = employment::linked_parents(plan.seed, plan.today, geo, split)?;
        let mut named = Vec::new();
        for dataset in [
            Dataset::ChildcarePlaces,
            Dataset::ChildcareRequests,
            Dataset::EmploymentParticipation,
        ] {
            let mut rows = RowWriter::new(sink.open(geo.gss, dataset)?, geo.gss, dataset)?;
            match dataset {
                Dataset::ChildcarePlaces => {
                    named = places::write(plan.seed, geo, plan.records, &mut rows)?;
                }
                Dataset::ChildcareRequests => requests::write(
                    plan.seed,
                    plan.today,
                    geo,
                    &linked,
                    &named,
                    plan.records,
                    &mut rows,
                )?,
                Dataset::EmploymentParticipation => employment::write(
                    plan.seed, plan.today, geo, previous, split, &linked, &mut rows,
                )?,
            }
            let (out, count) = rows.finish()?;
            sink.close(geo.gss, dataset, out, count)?;
        }
    }
    Ok(())
}

fn check(plan: &GenPlan) -> Result<(), Error> {
    if plan.boroughs.is_empty() {
        return Err(Error::NoBoroughs);
    }
    for (i, b) in plan.boroughs.iter().enumerate() {
        if plan.boroughs[..i].contains(b) {
            return Err(Error::RepeatedBorough(*b));
        }
    }
    if plan.records > MAX_RECORDS {
        return Err(Error::TooManyRecords {
            records: plan.records,
            max: MAX_RECORDS,
        });
    }
    // Terms run to 2099 and journeys reach two years back.
    if !(2001..=2097).contains(&plan.today.year()) {
        return Err(Error::TodayOutOfRange { today: plan.today });
    }
    Ok(())
}

/// `<GSS>/<dataset>.csv`.
fn relative_path(borough: GssCode, dataset: Dataset) -> PathBuf {
    Path::new(&borough.to_string()).join(format!("{dataset}.csv"))
}

/// One file's CSV writer: the model's header for its dataset, then rows of text
/// cells as long as the header, counted. Files are UTF-8 with `\n` line ends.
pub(crate) struct RowWriter<W: Write> {
    csv: csv::Writer<W>,
    rows: usize,
    borough: GssCode,
    dataset: Dataset,
}

impl<W: Write> RowWriter<W> {
    pub(crate) fn new(out: W, borough: GssCode, dataset: Dataset) -> Result<Self, Error> {
        let mut writer = RowWriter {
            csv: csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .buffer_capacity(1 << 16)
                .from_writer(out),
            rows: 0,
            borough,
            dataset,
        };
        writer
            .csv
            .write_record(borough_model::csv_columns(dataset))
            .map_err(|e| writer.failed(e))?;
        Ok(writer)
    }

    /// Writes one row.
    pub(crate) fn row(&mut self, cells: &[String]) -> Result<(), Error> {
        self.csv.write_record(cells).map_err(|e| self.failed(e))?;
        self.rows += 1;
        Ok(())
    }

    /// Flushes the writer, giving back what it wrote to and the rows written.
    pub(crate) fn finish(self) -> Result<(W, usize), Error> {
        let (borough, dataset, rows) = (self.borough, self.dataset, self.rows);
        let out = self.csv.into_inner().map_err(|e| Error::Csv {
            borough,
            dataset,
            source: csv::Error::from(e.into_error()),
        })?;
        Ok((out, rows))
    }

    fn failed(&self, source: csv::Error) -> Error {
        Error::Csv {
            borough: self.borough,
            dataset: self.dataset,
            source,
        }
    }
}

/// A date as `docs/DATA.md` writes it, `2026-03-14`.
pub(crate) fn date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Minutes after midnight as `HH:MM`.
pub(crate) fn time_of_day(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Pence as pounds, `8.50`.
pub(crate) fn money(pence: i64) -> String {
    format!("{}.{:02}", pence / 100, pence % 100)
}

/// `yes` or `no`.
pub(crate) fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

/// The first day of the month `months` months after `from`'s month (before it
/// when negative).
pub(crate) fn first_of_month(from: Date, months: i64) -> Result<Date, Error> {
    let index = i64::from(from.year()) * 12 + i64::from(u8::from(from.month())) - 1 + months;
    let year = i32::try_from(index.div_euclid(12)).ok();
    let month = u8::try_from(index.rem_euclid(12) + 1)
        .ok()
        .and_then(|m| time::Month::try_from(m).ok());
    year.zip(month)
        .and_then(|(y, m)| Date::from_calendar_date(y, m, 1).ok())
        .ok_or(Error::TodayOutOfRange { today: from })
}

/// The three terms that start after `today`.
pub(crate) fn next_terms(today: Date) -> Result<[Term; 3], Error> {
    let month = u8::from(today.month());
    let current = match month {
        9.. => (today.year(), Season::Autumn),
        4.. => (today.year(), Season::Summer),
        _ => (today.year(), Season::Spring),
    };
    let next = |(year, season): (i32, Season)| match season {
        Season::Spring => (year, Season::Summer),
        Season::Summer => (year, Season::Autumn),
        Season::Autumn => (year + 1, Season::Spring),
    };
    let first = next(current);
    let second = next(first);
    let third = next(second);
    let term =
        |(year, season)| Term::new(year, season).map_err(|_| Error::TodayOutOfRange { today });
    Ok([term(first)?, term(second)?, term(third)?])
}

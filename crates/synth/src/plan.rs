//! The plan of a generation, the files it produces and the report of what was
//! written; also the text forms (`docs/DATA.md`) every dataset's rows share.

use std::fmt;
use std::path::{Path, PathBuf};

use borough_model::{Dataset, GssCode, ProviderType, Season, Term};
use time::Date;

use crate::geo::BoroughGeo;
use crate::{employment, places, requests, Error};

/// The most rows per borough and dataset: NI numbers give a person four digits
/// within the borough.
pub const MAX_RECORDS: usize = 9_999;

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
        Path::new(&self.borough.to_string()).join(format!("{}.csv", self.dataset))
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
                "{} {:<14} {:<25} {:>5} rows  {}",
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
/// files already there.
pub fn generate(plan: &GenPlan, out: &Path) -> Result<GenReport, Error> {
    let rendered = render(plan)?;
    let mut files = Vec::with_capacity(rendered.len());
    for file in rendered {
        let path = out.join(file.relative_path());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, &file.csv).map_err(|source| Error::WriteFile {
            path: path.clone(),
            source,
        })?;
        files.push(GeneratedFile {
            borough: file.borough,
            dataset: file.dataset,
            rows: file.rows,
            path,
        });
    }
    Ok(GenReport { files })
}

/// Generates the plan's files in memory: for each borough in plan order, its
/// places, requests and employment files.
pub fn render(plan: &GenPlan) -> Result<Vec<RenderedFile>, Error> {
    check(plan)?;
    let geos = plan
        .boroughs
        .iter()
        .map(|b| BoroughGeo::new(*b))
        .collect::<Result<Vec<_>, _>>()?;
    let split = employment::Split::of(plan.records, geos.len());
    let mut files = Vec::with_capacity(geos.len() * 3);
    for (i, geo) in geos.iter().enumerate() {
        let providers = places::providers(plan.seed, geo, plan.records)?;
        let mut place_rows = Rows::new();
        for provider in &providers {
            provider.rows(&mut place_rows);
        }
        let urns: Vec<&str> = providers
            .iter()
            .filter(|p| p.provider_type != ProviderType::Childminder)
            .map(|p| p.urn.as_str())
            .collect();
        let previous = (geos.len() >= 2).then(|| &geos[(i + geos.len() - 1) % geos.len()]);
        let (employment_rows, linked) =
            employment::rows(plan.seed, plan.today, geo, previous, split)?;
        let request_rows =
            requests::rows(plan.seed, plan.today, geo, &linked, &urns, plan.records)?;
        for (dataset, columns, rows) in [
            (Dataset::ChildcarePlaces, &places::COLUMNS[..], place_rows),
            (
                Dataset::ChildcareRequests,
                &requests::COLUMNS[..],
                request_rows,
            ),
            (
                Dataset::EmploymentParticipation,
                &employment::COLUMNS[..],
                employment_rows,
            ),
        ] {
            files.push(csv_file(geo.gss, dataset, columns, &rows)?);
        }
    }
    Ok(files)
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

/// Rows of text cells, each as long as its file's header.
pub(crate) type Rows = Vec<Vec<String>>;

fn csv_file(
    borough: GssCode,
    dataset: Dataset,
    columns: &[&str],
    rows: &Rows,
) -> Result<RenderedFile, Error> {
    let failed = |source| Error::Csv {
        borough,
        dataset,
        source,
    };
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    writer.write_record(columns).map_err(failed)?;
    for row in rows {
        writer.write_record(row).map_err(failed)?;
    }
    let csv = writer
        .into_inner()
        .map_err(|e| failed(csv::Error::from(e.into_error())))?;
    Ok(RenderedFile {
        borough,
        dataset,
        rows: rows.len(),
        csv,
    })
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

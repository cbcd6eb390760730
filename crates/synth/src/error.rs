//! Why a generation could not be carried out: a plan that cannot be met, or a file
//! that could not be written (named by its path).

use std::io;
use std::path::PathBuf;

use borough_model::{Dataset, GssCode};
use time::Date;

/// A failure of [`generate`](crate::generate) or [`render`](crate::render).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The plan names no borough, so there is nothing to generate.
    #[error("the plan names no borough")]
    NoBoroughs,
    /// A borough is named twice; its files would overwrite each other.
    #[error("borough {0} ({name}) is named twice in the plan", name = .0.name())]
    RepeatedBorough(GssCode),
    /// More records were asked for than people and providers can be numbered.
    #[error(
        "{records} records per borough and dataset were asked for, more than {max}: NI \
         numbers and URNs are numbered within a borough"
    )]
    TooManyRecords {
        /// Records asked for.
        records: usize,
        /// The most allowed, [`MAX_RECORDS`](crate::MAX_RECORDS).
        max: usize,
    },
    /// A borough's places need more provider URNs than its share of the URN space
    /// holds (unreachable within [`MAX_RECORDS`](crate::MAX_RECORDS), which needs
    /// about 284,000).
    #[error(
        "childcare-places for {borough} ({name}): at most {max} providers with a URN fit \
         the borough's share of the URN space; ask for fewer records",
        name = .borough.name()
    )]
    TooManyProviders {
        /// The borough.
        borough: GssCode,
        /// The most providers with a URN a borough can have.
        max: usize,
    },
    /// `today` is too near either end of the range terms and dates can hold.
    #[error("today ({today}) must be in the years 2001 to 2097, so every date and term generated from it is valid")]
    TodayOutOfRange {
        /// The date given.
        today: Date,
    },
    /// The borough has neither listed postcodes nor a district table, so its homes
    /// and providers cannot be given a postcode.
    #[error("borough {borough} ({name}) has no postcode districts to draw from", name = .borough.name())]
    NoPostcodes {
        /// The borough.
        borough: GssCode,
    },
    /// The borough has no LSOA in the bundled list, so a synthesised postcode
    /// could not be placed.
    #[error("borough {borough} ({name}) has no LSOA in the bundled list", name = .borough.name())]
    NoLsoas {
        /// The borough.
        borough: GssCode,
    },
    /// A CSV file could not be built in memory.
    #[error("building {dataset} for {borough}: {source}")]
    Csv {
        /// The borough whose file it is.
        borough: GssCode,
        /// The dataset of the file.
        dataset: Dataset,
        /// What the CSV writer reported.
        source: csv::Error,
    },
    /// An output directory could not be created.
    #[error("creating directory {}: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// What the file system reported.
        source: io::Error,
    },
    /// An output file could not be written.
    #[error("writing {}: {source}", path.display())]
    WriteFile {
        /// The file.
        path: PathBuf,
        /// What the file system reported.
        source: io::Error,
    },
}

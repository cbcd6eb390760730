//! The analytics error type: every variant names the measure, dimension, value
//! or setting that was wrong, and never a record's contents.

use borough_model::Dataset;

/// What can go wrong asking or answering a query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A measure name that is not known.
    #[error("unknown measure `{name}`; known: {known}")]
    UnknownMeasure {
        /// The name given.
        name: String,
        /// Every known measure.
        known: String,
    },
    /// A dimension name that is not known.
    #[error("unknown dimension `{name}`; known: {known}")]
    UnknownDimension {
        /// The name given.
        name: String,
        /// Every known dimension.
        known: String,
    },
    /// A filter value that is not a value of its dimension.
    #[error("filter on {dimension}: `{value}` {problem}")]
    BadValue {
        /// The dimension filtered on.
        dimension: String,
        /// The value given.
        value: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A filter with no values would keep nothing.
    #[error("filter on {dimension} names no values")]
    EmptyFilter {
        /// The dimension filtered on.
        dimension: String,
    },
    /// A measure or dimension of another dataset than the one asked about.
    #[error("{what} does not belong to dataset {dataset}")]
    NotInDataset {
        /// The measure or dimension.
        what: String,
        /// The dataset asked about.
        dataset: Dataset,
    },
    /// No measure was asked for.
    #[error("a query needs at least one measure")]
    NoMeasure,
    /// A measure asked for twice.
    #[error("measure {measure} is asked for twice")]
    RepeatedMeasure {
        /// The measure.
        measure: String,
    },
    /// A dimension grouped by twice.
    #[error("dimension {dimension} is grouped by twice")]
    RepeatedDimension {
        /// The dimension.
        dimension: String,
    },
    /// More than one period dimension.
    #[error("a query may group by at most one period (month, quarter, financial year …)")]
    TwoPeriods,
    /// Too many grouping dimensions.
    #[error("a query may group by at most {max} dimensions; {given} given")]
    TooManyDimensions {
        /// How many were given.
        given: usize,
        /// The most allowed.
        max: usize,
    },
    /// The table would be too large to build.
    #[error(
        "the table would have {cells} cells, more than {max}; group by fewer or coarser dimensions"
    )]
    TooManyCells {
        /// The cells the table would have.
        cells: usize,
        /// The most allowed.
        max: usize,
    },
    /// A differentially private answer was asked for with no ε to spend.
    #[error("a differentially private answer needs an epsilon above 0")]
    NoPrivacyBudget,
    /// A measure that sums quantities (places, vacancies) or takes a median
    /// rather than counting records: one record can move it by more than one,
    /// so no calibrated noise bounds what it reveals.
    #[error("measure {measure} is a sum or a median, not a count, and has no differentially private form; ask a partnership analyst")]
    NotPrivate {
        /// The measure.
        measure: String,
    },
    /// More ε asked for one answer than a node allows.
    #[error(
        "epsilon {asked_micros} (millionths) is more than the {max_micros} one answer may spend"
    )]
    EpsilonTooLarge {
        /// What was asked.
        asked_micros: u64,
        /// The most one answer may spend.
        max_micros: u64,
    },
    /// A disclosure setting looser than its minimum.
    #[error("{setting} {given} is looser than the minimum {minimum}; disclosure control can be made stricter, never looser")]
    LooserThanMinimum {
        /// The setting.
        setting: &'static str,
        /// The value given.
        given: u64,
        /// The minimum.
        minimum: u64,
    },
}

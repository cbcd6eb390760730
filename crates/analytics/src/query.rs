//! What an analyst asks: measures, grouped by dimensions, over filtered records.

use std::fmt;
use std::str::FromStr;

use borough_model::{Dataset, FundedEntitlement};

use crate::dimension::{Dimension, Stage};
use crate::Error;

/// The most dimensions one query may group by: finer tables are all suppressed
/// cells, and every extra dimension multiplies the cells to protect.
pub const MAX_GROUP_BY: usize = 4;

/// A figure an analyst can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Measure {
    /// Referrals, counted in the month of referral.
    Referrals,
    /// Programme starts, in the month of the start.
    Starts,
    /// First earnings, in their month.
    FirstEarnings,
    /// Job outcomes, in their month.
    JobOutcomes,
    /// Sustained job outcomes, in their month.
    SustainedOutcomes,
    /// Distinct people referred, by pseudonym: a person served by two boroughs or
    /// two programmes counts once; `who` narrows them to the joined figure's people.
    Participants {
        /// Which people are counted.
        who: Who,
    },
    /// Of the distinct people who started (in the start cohort the row names),
    /// the share who reached a job outcome within `months` of starting. Only
    /// starters whose `months` have fully passed are in the cohort, as DWP
    /// publishes it; never job outcomes divided by all starts.
    JobOutcomeRate {
        /// 6 or 12.
        months: u32,
        /// Which starters make up the cohort.
        who: Who,
    },
    /// Childcare providers (distinct).
    Providers,
    /// Childcare places (capacity of the offers counted).
    Places,
    /// Vacant places.
    Vacancies,
    /// Places on offers that deliver `entitlement`, or any funded entitlement.
    FundedPlaces {
        /// The entitlement, or `None` for any.
        entitlement: Option<FundedEntitlement>,
    },
    /// Childcare requests.
    Requests,
    /// Distinct families asking (by family link, else parent pseudonym).
    Families,
    /// The median of a value, released only where the providers or families
    /// behind it would be released as a count.
    Median {
        /// What the median is of.
        of: MedianOf,
    },
}

/// What a median is taken of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MedianOf {
    /// Offers' hourly fees in pence (`childcare-places`; one value per offer,
    /// over providers).
    FeePerHour,
    /// The most parents will pay per hour for unfunded hours, in pence
    /// (`childcare-requests`, where given; over families).
    MaxFeePerHour,
    /// The furthest parents will travel, in metres (`childcare-requests`, where
    /// given; over families).
    MaxDistance,
}

impl MedianOf {
    const ALL: [MedianOf; 3] = [
        MedianOf::FeePerHour,
        MedianOf::MaxFeePerHour,
        MedianOf::MaxDistance,
    ];

    /// The name after `median-`, with its unit.
    fn name(self) -> &'static str {
        match self {
            MedianOf::FeePerHour => "fee-per-hour-pence",
            MedianOf::MaxFeePerHour => "max-fee-per-hour-pence",
            MedianOf::MaxDistance => "max-distance-m",
        }
    }

    /// The count whose release decides the median's: all the providers or
    /// families of the cell, exactly the `providers` or `families` measure, so
    /// a median is released where that figure is and says nothing it hides.
    pub(crate) fn base(self) -> Count {
        match self {
            MedianOf::FeePerHour => Count::Providers,
            MedianOf::MaxFeePerHour | MedianOf::MaxDistance => Count::Families,
        }
    }

    /// Released medians are multiples of this: 10p, or 100 m.
    pub fn rounding(self) -> u64 {
        match self {
            MedianOf::FeePerHour | MedianOf::MaxFeePerHour => 10,
            MedianOf::MaxDistance => 100,
        }
    }
}

/// Which people a measure is about. The joined figure the partnership exists for
/// counts participants who reported a childcare barrier, those of them with a
/// childcare request (linked by parent pseudonym, on this node only), and how
/// many of those reached a job outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    /// Every participant.
    Everyone,
    /// Participants on a record with childcare as a barrier to work.
    ChildcareBarrier,
    /// Of those, people with a live childcare request under the same pseudonym.
    BarrierWithRequest,
}

impl Who {
    const ALL: [Who; 3] = [
        Who::Everyone,
        Who::ChildcareBarrier,
        Who::BarrierWithRequest,
    ];

    /// The prefix of a measure's name for these people.
    fn prefix(self) -> &'static str {
        match self {
            Who::Everyone => "",
            Who::ChildcareBarrier => "barrier-",
            Who::BarrierWithRequest => "barrier-request-",
        }
    }
}

impl Measure {
    /// Every measure, in a stable order.
    fn all() -> Vec<Measure> {
        let mut all = vec![
            Measure::Referrals,
            Measure::Starts,
            Measure::FirstEarnings,
            Measure::JobOutcomes,
            Measure::SustainedOutcomes,
        ];
        for who in Who::ALL {
            all.push(Measure::Participants { who });
            all.push(Measure::JobOutcomeRate { months: 6, who });
            all.push(Measure::JobOutcomeRate { months: 12, who });
        }
        all.extend([Measure::Providers, Measure::Places, Measure::Vacancies]);
        all.push(Measure::FundedPlaces { entitlement: None });
        all.extend(
            FundedEntitlement::ALL
                .iter()
                .map(|&e| Measure::FundedPlaces {
                    entitlement: Some(e),
                }),
        );
        all.extend([Measure::Requests, Measure::Families]);
        all.extend(MedianOf::ALL.iter().map(|&of| Measure::Median { of }));
        all
    }

    /// The measure's name in queries.
    pub fn name(self) -> String {
        match self {
            Measure::Referrals => "referrals".into(),
            Measure::Starts => "starts".into(),
            Measure::FirstEarnings => "first-earnings".into(),
            Measure::JobOutcomes => "job-outcomes".into(),
            Measure::SustainedOutcomes => "sustained-outcomes".into(),
            Measure::Participants { who } => format!("{}participants", who.prefix()),
            Measure::JobOutcomeRate { months, who } => {
                format!("{}job-outcome-rate-{months}m", who.prefix())
            }
            Measure::Providers => "providers".into(),
            Measure::Places => "places".into(),
            Measure::Vacancies => "vacancies".into(),
            Measure::FundedPlaces { entitlement: None } => "funded-places".into(),
            Measure::FundedPlaces {
                entitlement: Some(e),
            } => format!("funded-places-{}", e.as_str()),
            Measure::Requests => "requests".into(),
            Measure::Families => "families".into(),
            Measure::Median { of } => format!("median-{}", of.name()),
        }
    }

    /// The dataset the measure counts.
    pub fn dataset(self) -> Dataset {
        match self {
            Measure::Providers
            | Measure::Places
            | Measure::Vacancies
            | Measure::FundedPlaces { .. }
            | Measure::Median {
                of: MedianOf::FeePerHour,
            } => Dataset::ChildcarePlaces,
            Measure::Requests | Measure::Families | Measure::Median { .. } => {
                Dataset::ChildcareRequests
            }
            _ => Dataset::EmploymentParticipation,
        }
    }

    /// Whether the measure is a rate (released as a percentage of two counts).
    pub fn is_rate(self) -> bool {
        matches!(self, Measure::JobOutcomeRate { .. })
    }

    /// The counts this measure is made of: one for a count, numerator then
    /// denominator for a rate.
    pub(crate) fn counts(self) -> Vec<Count> {
        match self {
            Measure::Referrals => vec![Count::Events(Stage::Referral)],
            Measure::Starts => vec![Count::Events(Stage::Start)],
            Measure::FirstEarnings => vec![Count::Events(Stage::FirstEarnings)],
            Measure::JobOutcomes => vec![Count::Events(Stage::JobOutcome)],
            Measure::SustainedOutcomes => vec![Count::Events(Stage::Sustained)],
            Measure::Participants { who } => vec![Count::Participants { who }],
            Measure::JobOutcomeRate { months, who } => vec![
                Count::CohortOutcomes { months, who },
                Count::CohortStarters { months, who },
            ],
            Measure::Providers => vec![Count::Providers],
            Measure::Places => vec![Count::Places],
            Measure::Vacancies => vec![Count::Vacancies],
            Measure::FundedPlaces { entitlement } => vec![Count::FundedPlaces { entitlement }],
            Measure::Requests => vec![Count::Requests],
            Measure::Families => vec![Count::Families],
            Measure::Median { of } => vec![of.base(), Count::Median { of }],
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for Measure {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        Measure::all()
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| Error::UnknownMeasure {
                name: s.to_string(),
                known: Measure::all()
                    .iter()
                    .map(|m| m.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// One count the engine computes per cell; measures are made of these, so a
/// rate's numerator and denominator go through disclosure control like any count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Count {
    /// Records that reached `Stage`, counted in that stage's month.
    Events(Stage),
    /// Distinct people referred.
    Participants { who: Who },
    /// Distinct people who started at least `months` before the reference month.
    CohortStarters { months: u32, who: Who },
    /// Of those, distinct people with a job outcome within `months` of a start.
    CohortOutcomes { months: u32, who: Who },
    /// Distinct providers with an offer counted.
    Providers,
    /// The capacity of the offers counted.
    Places,
    /// Their vacancies.
    Vacancies,
    /// The capacity of offers delivering `entitlement` (or any, for `None`).
    FundedPlaces {
        entitlement: Option<FundedEntitlement>,
    },
    /// Childcare requests.
    Requests,
    /// Distinct families.
    Families,
    /// The median itself (not a count: never perturbed, summed or totalled by
    /// equation).
    Median { of: MedianOf },
}

impl Count {
    /// The stage whose month places this count in time when a period dimension
    /// names no stage of its own.
    pub(crate) fn own_stage(self) -> Stage {
        match self {
            Count::Events(stage) => stage,
            Count::Participants { .. } => Stage::Referral,
            Count::CohortStarters { .. } | Count::CohortOutcomes { .. } => Stage::Start,
            // Childcare has no stages; no period dimension applies to it.
            _ => Stage::Referral,
        }
    }

    /// Whether one record can add more than one to the count.
    pub(crate) fn is_sum(self) -> bool {
        matches!(
            self,
            Count::Places | Count::Vacancies | Count::FundedPlaces { .. }
        )
    }

    /// Whether a differentially private answer can carry it: counts of one per
    /// person can, sums and medians cannot.
    pub(crate) fn has_private_form(self) -> bool {
        !self.is_sum() && !matches!(self, Count::Median { .. })
    }

    /// Whether the count is of distinct people rather than of records.
    pub(crate) fn is_distinct(self) -> bool {
        !matches!(
            self,
            Count::Events(_)
                | Count::Places
                | Count::Vacancies
                | Count::FundedPlaces { .. }
                | Count::Requests
        )
    }
}

/// Keep only records whose value of `dimension` is one of `codes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The dimension filtered on.
    pub dimension: Dimension,
    /// The values kept, as codes ([`Dimension::code_of`]).
    pub codes: Vec<u32>,
}

impl Filter {
    /// A filter from a dimension name and value texts, naming what is wrong.
    pub fn parse(dimension: &str, values: &[String]) -> Result<Filter, Error> {
        let dimension: Dimension = dimension.parse()?;
        if values.is_empty() {
            return Err(Error::EmptyFilter {
                dimension: dimension.name(),
            });
        }
        let codes = values
            .iter()
            .map(|v| dimension.code_of(v))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Filter { dimension, codes })
    }
}

/// A question an analyst asks of their node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The dataset asked about.
    pub dataset: Dataset,
    /// What to count, in output order.
    pub measures: Vec<Measure>,
    /// What to group by, in output order. The first dimension also gets a total
    /// row for each combination of the others.
    pub group_by: Vec<Dimension>,
    /// Which records to count.
    pub filters: Vec<Filter>,
}

impl Query {
    /// Checks the query's shape, naming what is wrong.
    pub fn check(&self) -> Result<(), Error> {
        if self.measures.is_empty() {
            return Err(Error::NoMeasure);
        }
        for m in &self.measures {
            if m.dataset() != self.dataset {
                return Err(Error::NotInDataset {
                    what: format!("measure {m}"),
                    dataset: self.dataset,
                });
            }
        }
        let dims = self
            .group_by
            .iter()
            .chain(self.filters.iter().map(|f| &f.dimension));
        for d in dims {
            if !d.datasets().contains(&self.dataset) {
                return Err(Error::NotInDataset {
                    what: format!("dimension {d}"),
                    dataset: self.dataset,
                });
            }
        }
        if self.group_by.len() > MAX_GROUP_BY {
            return Err(Error::TooManyDimensions {
                given: self.group_by.len(),
                max: MAX_GROUP_BY,
            });
        }
        for (i, d) in self.group_by.iter().enumerate() {
            if self.group_by[..i].contains(d) {
                return Err(Error::RepeatedDimension {
                    dimension: d.name(),
                });
            }
        }
        let periods = self.group_by.iter().filter(|d| d.is_period()).count();
        if periods > 1 {
            return Err(Error::TwoPeriods);
        }
        for (i, m) in self.measures.iter().enumerate() {
            if self.measures[..i].contains(m) {
                return Err(Error::RepeatedMeasure { measure: m.name() });
            }
        }
        Ok(())
    }
}

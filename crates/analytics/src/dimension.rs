//! Dimensions: what a figure can be grouped or filtered by, their names in
//! queries, and the small integer codes the engine groups on.

use std::fmt;
use std::str::FromStr;

use borough_model::{
    AdultAgeBand, AgeBand, Borough, Dataset, EligibilityGroup, FundedEntitlement, GssCode, Month,
    OfstedGrade, Programme, ProviderType, SendNeed, SessionPattern, Sex, SubRegion,
};

use crate::Error;

/// A stage of a participant's journey, each with the month it happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Referred to the programme.
    Referral,
    /// Started on the programme.
    Start,
    /// First earnings from work.
    FirstEarnings,
    /// A job outcome.
    JobOutcome,
    /// The job outcome sustained.
    Sustained,
}

impl Stage {
    const ALL: [Stage; 5] = [
        Stage::Referral,
        Stage::Start,
        Stage::FirstEarnings,
        Stage::JobOutcome,
        Stage::Sustained,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Stage::Referral => "referral",
            Stage::Start => "start",
            Stage::FirstEarnings => "first-earnings",
            Stage::JobOutcome => "job-outcome",
            Stage::Sustained => "sustained",
        }
    }
}

/// How finely time is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grain {
    /// A calendar month, `2025-04`.
    Month,
    /// A calendar quarter, `2025-Q2`.
    Quarter,
    /// A financial year from April, `2025-26`.
    FinancialYear,
}

impl Grain {
    const ALL: [Grain; 3] = [Grain::Month, Grain::Quarter, Grain::FinancialYear];

    fn as_str(self) -> &'static str {
        match self {
            Grain::Month => "month",
            Grain::Quarter => "quarter",
            Grain::FinancialYear => "financial-year",
        }
    }

    /// The period holding month index `m` (see [`month_index`]).
    pub(crate) fn period_of(self, m: u32) -> u32 {
        match self {
            Grain::Month => m,
            Grain::Quarter => m / 3,
            // April is month index 3 of its year.
            Grain::FinancialYear => (m - 3) / 12,
        }
    }

    /// The month index of the first month of period `p`.
    pub(crate) fn first_month(self, p: u32) -> u32 {
        match self {
            Grain::Month => p,
            Grain::Quarter => p * 3,
            Grain::FinancialYear => p * 12 + 3,
        }
    }

    /// The label of period `p`.
    fn label(self, p: u32) -> String {
        match self {
            Grain::Month => format!("{}-{:02}", p / 12, p % 12 + 1),
            Grain::Quarter => format!("{}-Q{}", p / 4, p % 4 + 1),
            Grain::FinancialYear => format!("{}-{:02}", p, (p + 1) % 100),
        }
    }
}

/// The values of [`Dimension::Session`], by code.
const SESSIONS: [&str; 2] = ["sessional", "full-day"];

/// Ofsted's line between sessional and full day care: four hours a day.
const FULL_DAY_MINUTES: u16 = 4 * 60;

/// The [`Dimension::Session`] code of a session pattern.
pub(crate) fn session_code(pattern: &SessionPattern) -> u32 {
    u32::from(pattern.end_minute.saturating_sub(pattern.start_minute) >= FULL_DAY_MINUTES)
}

/// A month as a number that counts months: `year * 12 + month - 1`; never 0 for
/// a real month, so 0 can mean "this stage has not happened".
pub(crate) fn month_index(m: Month) -> u32 {
    m.year() as u32 * 12 + u32::from(m.month()) - 1
}

/// Something figures are grouped or filtered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// The borough the participant lives in.
    ResidentBorough,
    /// The borough delivering the programme.
    DeliveringBorough,
    /// The sub-regional partnership of the resident borough.
    ResidentSubRegion,
    /// The sub-regional partnership of the delivering borough.
    DeliveringSubRegion,
    /// The programme.
    Programme,
    /// The eligibility group.
    EligibilityGroup,
    /// The participant's age band at referral.
    AgeBand,
    /// Sex as recorded.
    Sex,
    /// Whether childcare was recorded as a barrier to work.
    ChildcareBarrier,
    /// The borough a childcare provider is in.
    ProviderBorough,
    /// The sub-regional partnership of the provider's borough.
    ProviderSubRegion,
    /// The borough a family asking for childcare lives in.
    HomeBorough,
    /// The sub-regional partnership of the family's borough.
    HomeSubRegion,
    /// Ofsted's kind of provider.
    ProviderType,
    /// The provider's latest Ofsted grade.
    OfstedGrade,
    /// Whether the provider supports children with SEND.
    SendSupport,
    /// A child's age band: of an offer's places, or of the child asked for.
    ChildAgeBand,
    /// Whether care is (offered or needed) in term time only.
    TermTimeOnly,
    /// Sessional care (under four hours a day) or full day care (four hours or
    /// more), as Ofsted registers day care.
    Session,
    /// The child's special educational needs and disabilities.
    SendNeed,
    /// The funded entitlement a request claims (`none` if it claims none).
    Entitlement,
    /// A period of time. Without a stage, each measure counts in the period its
    /// own event happened (referrals by referral month, job outcomes by job-outcome
    /// month); with one, every measure is over the records whose stage fell in the
    /// period (`start-month`: the start cohort).
    Period {
        /// The stage whose month decides the period, or each measure's own.
        stage: Option<Stage>,
        /// How finely time is cut.
        grain: Grain,
    },
}

impl Dimension {
    /// Every dimension that is not a period, for listing in errors.
    const PLAIN: [Dimension; 21] = [
        Dimension::ResidentBorough,
        Dimension::DeliveringBorough,
        Dimension::ResidentSubRegion,
        Dimension::DeliveringSubRegion,
        Dimension::Programme,
        Dimension::EligibilityGroup,
        Dimension::AgeBand,
        Dimension::Sex,
        Dimension::ChildcareBarrier,
        Dimension::ProviderBorough,
        Dimension::ProviderSubRegion,
        Dimension::HomeBorough,
        Dimension::HomeSubRegion,
        Dimension::ProviderType,
        Dimension::OfstedGrade,
        Dimension::SendSupport,
        Dimension::ChildAgeBand,
        Dimension::TermTimeOnly,
        Dimension::Session,
        Dimension::SendNeed,
        Dimension::Entitlement,
    ];

    /// The datasets that have this dimension.
    pub fn datasets(self) -> &'static [Dataset] {
        use Dataset::{ChildcarePlaces as Places, ChildcareRequests as Requests};
        match self {
            Dimension::ProviderBorough
            | Dimension::ProviderSubRegion
            | Dimension::ProviderType
            | Dimension::OfstedGrade
            | Dimension::SendSupport => &[Places],
            Dimension::HomeBorough
            | Dimension::HomeSubRegion
            | Dimension::SendNeed
            | Dimension::Entitlement => &[Requests],
            Dimension::ChildAgeBand | Dimension::TermTimeOnly | Dimension::Session => {
                &[Places, Requests]
            }
            _ => &[Dataset::EmploymentParticipation],
        }
    }

    /// How many codes the dimension has (periods excepted: their range comes from
    /// the data or the reference month).
    pub(crate) fn domain_size(self) -> u32 {
        match self {
            d if d.is_borough() => 33,
            d if d.is_sub_region() => 4,
            Dimension::Programme => Programme::ALL.len() as u32,
            Dimension::EligibilityGroup => EligibilityGroup::ALL.len() as u32,
            Dimension::AgeBand => AdultAgeBand::ALL.len() as u32,
            Dimension::Sex => Sex::ALL.len() as u32,
            Dimension::ProviderType => ProviderType::ALL.len() as u32,
            Dimension::OfstedGrade => OfstedGrade::ALL.len() as u32,
            Dimension::ChildAgeBand => AgeBand::ALL.len() as u32,
            Dimension::SendNeed => SendNeed::ALL.len() as u32,
            // Every entitlement, and none.
            Dimension::Entitlement => FundedEntitlement::ALL.len() as u32 + 1,
            _ => 2,
        }
    }

    fn is_sub_region(self) -> bool {
        matches!(
            self,
            Dimension::ResidentSubRegion
                | Dimension::DeliveringSubRegion
                | Dimension::ProviderSubRegion
                | Dimension::HomeSubRegion
        )
    }

    fn is_yes_no(self) -> bool {
        matches!(
            self,
            Dimension::ChildcareBarrier | Dimension::SendSupport | Dimension::TermTimeOnly
        )
    }

    /// The dimension's name in queries.
    pub fn name(self) -> String {
        match self {
            Dimension::ResidentBorough => "resident-borough".into(),
            Dimension::DeliveringBorough => "delivering-borough".into(),
            Dimension::ResidentSubRegion => "resident-sub-region".into(),
            Dimension::DeliveringSubRegion => "delivering-sub-region".into(),
            Dimension::Programme => "programme".into(),
            Dimension::EligibilityGroup => "eligibility-group".into(),
            Dimension::AgeBand => "age-band".into(),
            Dimension::Sex => "sex".into(),
            Dimension::ChildcareBarrier => "childcare-barrier".into(),
            Dimension::ProviderBorough => "provider-borough".into(),
            Dimension::ProviderSubRegion => "provider-sub-region".into(),
            Dimension::HomeBorough => "home-borough".into(),
            Dimension::HomeSubRegion => "home-sub-region".into(),
            Dimension::ProviderType => "provider-type".into(),
            Dimension::OfstedGrade => "ofsted-grade".into(),
            Dimension::SendSupport => "send-support".into(),
            Dimension::ChildAgeBand => "child-age-band".into(),
            Dimension::TermTimeOnly => "term-time-only".into(),
            Dimension::SendNeed => "send-need".into(),
            Dimension::Session => "session".into(),
            Dimension::Entitlement => "entitlement".into(),
            Dimension::Period { stage: None, grain } => grain.as_str().into(),
            Dimension::Period {
                stage: Some(stage),
                grain,
            } => format!("{}-{}", stage.as_str(), grain.as_str()),
        }
    }

    /// Whether this dimension is a borough, so its rows are local authorities.
    pub fn is_borough(self) -> bool {
        matches!(
            self,
            Dimension::ResidentBorough
                | Dimension::DeliveringBorough
                | Dimension::ProviderBorough
                | Dimension::HomeBorough
        )
    }

    /// Whether this dimension is a period of time.
    pub fn is_period(self) -> bool {
        matches!(self, Dimension::Period { .. })
    }

    /// The code of a value given as text (a GSS code or borough name, a
    /// programme, `2025-04` …), for filters. Names the dimension when it fails.
    pub fn code_of(self, text: &str) -> Result<u32, Error> {
        let bad = |problem: String| Error::BadValue {
            dimension: self.name(),
            value: text.to_string(),
            problem,
        };
        let t = text.trim();
        Ok(match self {
            d if d.is_borough() => borough_code(
                borough_of_text(t)
                    .ok_or_else(|| bad("is not a London borough's GSS code or name".into()))?,
            ),
            d if d.is_yes_no() => match t {
                "yes" => 1,
                "no" => 0,
                _ => return Err(bad("is not yes or no".into())),
            },
            Dimension::Entitlement if t == "none" => FundedEntitlement::ALL.len() as u32,
            Dimension::Session => SESSIONS
                .iter()
                .position(|s| *s == t)
                .ok_or_else(|| bad(format!("is not {}", SESSIONS.join(" or "))))?
                as u32,
            d if d.is_sub_region() => sub_region_code(sub_region_of_text(t).ok_or_else(|| {
                bad(format!(
                    "is not a sub-region; allowed: {}",
                    SUB_REGIONS
                        .iter()
                        .map(|(_, n)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?),
            Dimension::Programme => enum_code(t, Programme::ALL, bad)?,
            Dimension::EligibilityGroup => enum_code(t, EligibilityGroup::ALL, bad)?,
            Dimension::AgeBand => enum_code(t, AdultAgeBand::ALL, bad)?,
            Dimension::Sex => enum_code(t, Sex::ALL, bad)?,
            Dimension::ProviderType => enum_code(t, ProviderType::ALL, bad)?,
            Dimension::OfstedGrade => enum_code(t, OfstedGrade::ALL, bad)?,
            Dimension::ChildAgeBand => enum_code(t, AgeBand::ALL, bad)?,
            Dimension::SendNeed => enum_code(t, SendNeed::ALL, bad)?,
            Dimension::Entitlement => enum_code(t, FundedEntitlement::ALL, bad)?,
            Dimension::Period { grain, .. } => parse_period(grain, t).ok_or_else(|| {
                let example = grain.label(grain.period_of(EXAMPLE_MONTH_INDEX));
                bad(format!("is not a {} like {example}", grain.as_str()))
            })?,
            // Every other dimension is a borough, sub-region or yes/no, above.
            _ => return Err(bad("is not a value of this dimension".into())),
        })
    }

    /// Code `code` as a filter would give it: a GSS code for a borough, the
    /// label otherwise.
    pub fn code_text(self, code: u32) -> String {
        match self {
            d if d.is_borough() => {
                borough_of_code(code).map_or_else(String::new, |b| b.gss.to_string())
            }
            _ => self.label(code),
        }
    }

    /// The label of code `code`, as released.
    pub fn label(self, code: u32) -> String {
        match self {
            d if d.is_borough() => {
                borough_of_code(code).map_or_else(String::new, |b| b.name.to_string())
            }
            d if d.is_sub_region() => SUB_REGIONS
                .get(code as usize)
                .map_or_else(String::new, |(_, n)| (*n).to_string()),
            d if d.is_yes_no() => if code == 1 { "yes" } else { "no" }.into(),
            Dimension::Session => SESSIONS.get(code as usize).copied().unwrap_or("").into(),
            Dimension::Programme => enum_label(code, Programme::ALL),
            Dimension::EligibilityGroup => enum_label(code, EligibilityGroup::ALL),
            Dimension::AgeBand => enum_label(code, AdultAgeBand::ALL),
            Dimension::Sex => enum_label(code, Sex::ALL),
            Dimension::ProviderType => enum_label(code, ProviderType::ALL),
            Dimension::OfstedGrade => enum_label(code, OfstedGrade::ALL),
            Dimension::ChildAgeBand => enum_label(code, AgeBand::ALL),
            Dimension::SendNeed => enum_label(code, SendNeed::ALL),
            Dimension::Entitlement if code as usize == FundedEntitlement::ALL.len() => {
                "none".into()
            }
            Dimension::Entitlement => enum_label(code, FundedEntitlement::ALL),
            Dimension::Period { grain, .. } => grain.label(code),
            _ => String::new(),
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for Dimension {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        if let Some(d) = Dimension::PLAIN.into_iter().find(|d| d.name() == s) {
            return Ok(d);
        }
        for grain in Grain::ALL {
            if s == grain.as_str() {
                return Ok(Dimension::Period { stage: None, grain });
            }
            for stage in Stage::ALL {
                if s == format!("{}-{}", stage.as_str(), grain.as_str()) {
                    return Ok(Dimension::Period {
                        stage: Some(stage),
                        grain,
                    });
                }
            }
        }
        let mut known: Vec<String> = Dimension::PLAIN.iter().map(|d| d.name()).collect();
        known.extend(Grain::ALL.iter().map(|g| g.as_str().to_string()));
        known.push("start-month, referral-quarter … (<stage>-<grain>)".into());
        Err(Error::UnknownDimension {
            name: s.to_string(),
            known: known.join(", "),
        })
    }
}

/// The sub-regions a borough can belong to, by code, with their query names.
const SUB_REGIONS: [(SubRegion, &str); 4] = [
    (SubRegion::CentralLondonForward, "central-london-forward"),
    (SubRegion::LocalLondon, "local-london"),
    (
        SubRegion::SouthLondonPartnership,
        "south-london-partnership",
    ),
    (SubRegion::WestLondon, "west-london"),
];

/// A borough's code: its place in the reference list.
pub(crate) fn borough_code(gss: GssCode) -> u32 {
    Borough::all()
        .iter()
        .position(|b| b.gss == gss)
        .unwrap_or_default() as u32
}

/// The borough with code `code`.
pub(crate) fn borough_of_code(code: u32) -> Option<&'static Borough> {
    Borough::all().get(code as usize)
}

/// The sub-region code of a borough code.
pub(crate) fn sub_region_of_borough(code: u32) -> u32 {
    borough_of_code(code).map_or(0, |b| sub_region_code(b.sub_region))
}

fn sub_region_code(region: SubRegion) -> u32 {
    SUB_REGIONS
        .iter()
        .position(|(r, _)| *r == region)
        .unwrap_or_default() as u32
}

fn sub_region_of_text(t: &str) -> Option<SubRegion> {
    SUB_REGIONS
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(t))
        .map(|(r, _)| *r)
}

fn borough_of_text(t: &str) -> Option<GssCode> {
    if let Ok(gss) = GssCode::parse(t) {
        return Some(gss);
    }
    Borough::all()
        .iter()
        .find(|b| b.name.eq_ignore_ascii_case(t) || b.short_code.eq_ignore_ascii_case(t))
        .map(|b| b.gss)
}

/// The code of an enum value: its place in `ALL`.
pub(crate) fn enum_index<T: PartialEq>(value: T, all: &[T]) -> u32 {
    all.iter().position(|v| *v == value).unwrap_or_default() as u32
}

fn enum_code<T: Copy + FromStr + PartialEq>(
    t: &str,
    all: &[T],
    bad: impl Fn(String) -> Error,
) -> Result<u32, Error>
where
    T::Err: fmt::Display,
{
    let value: T = t.parse().map_err(|e: T::Err| bad(e.to_string()))?;
    Ok(enum_index(value, all))
}

fn enum_label<T: Copy + fmt::Display>(code: u32, all: &[T]) -> String {
    all.get(code as usize)
        .map_or_else(String::new, |v| v.to_string())
}

/// April 2025 as a month index: the period examples in errors are taken from it.
const EXAMPLE_MONTH_INDEX: u32 = 2025 * 12 + 3;

/// Parses a period label of `grain` into its code.
fn parse_period(grain: Grain, t: &str) -> Option<u32> {
    let (year, rest) = t.split_once('-')?;
    let year: u32 = year.parse().ok().filter(|y| (1900..=9999).contains(y))?;
    match grain {
        Grain::Month => {
            let m = Month::parse(t).ok()?;
            Some(month_index(m))
        }
        Grain::Quarter => {
            let q: u32 = rest
                .strip_prefix('Q')?
                .parse()
                .ok()
                .filter(|q| (1..=4).contains(q))?;
            Some(year * 4 + q - 1)
        }
        Grain::FinancialYear => {
            let next: u32 = rest.parse().ok()?;
            (rest.len() == 2 && next == (year + 1) % 100).then_some(year)
        }
    }
}

#[cfg(test)]
mod tests;

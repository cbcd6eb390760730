//! `childcare-places`: a provider's offers and vacancies. It holds no personal data,
//! but a childminder works from home, so a childminder is never named and never
//! located finer than a ~500 m grid cell.

use crate::invalid::Checks;
use crate::text::text_forms;
use crate::{GssCode, Invalid};

mod provider;
mod request;

pub use provider::{OfferInput, ProviderInput};
pub use request::{ChildcareRequest, PriorityFlags, RequestInput, SendNeed};

/// Ofsted's four kinds of registered provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderType {
    /// Registered childminder, working from their own home.
    Childminder,
    /// Home childcarer, working in the child's home.
    HomeChildcarer,
    /// Childcare on domestic premises (four or more carers in a home).
    DomesticPremises,
    /// Childcare on non-domestic premises: nurseries, pre-schools.
    NonDomesticPremises,
}

text_forms!(ProviderType, "a provider type", {
    Childminder => "childminder",
    HomeChildcarer => "home-childcarer",
    DomesticPremises => "domestic",
    NonDomesticPremises => "non-domestic",
});

impl ProviderType {
    /// Whether the provider works from a private home, so must not be located exactly.
    pub fn is_home_based(self) -> bool {
        matches!(
            self,
            ProviderType::Childminder
                | ProviderType::HomeChildcarer
                | ProviderType::DomesticPremises
        )
    }
}

/// The provider's latest Ofsted grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfstedGrade {
    /// Outstanding.
    Outstanding,
    /// Good.
    Good,
    /// Requires improvement.
    RequiresImprovement,
    /// Inadequate.
    Inadequate,
    /// Registered but not yet inspected.
    NotYetInspected,
}

text_forms!(OfstedGrade, "an Ofsted grade", {
    Outstanding => "outstanding",
    Good => "good",
    RequiresImprovement => "requires-improvement",
    Inadequate => "inadequate",
    NotYetInspected => "not-yet-inspected",
});

/// A child's age band, as offers and entitlements are defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgeBand {
    /// Birth to 23 months.
    Under2,
    /// 24 to 35 months.
    Two,
    /// 36 to 59 months.
    ThreeToFour,
    /// School age (wraparound and holiday care).
    SchoolAge,
}

text_forms!(AgeBand, "an age band", {
    Under2 => "under-2",
    Two => "2",
    ThreeToFour => "3-4",
    SchoolAge => "school-age",
});

/// A government-funded entitlement a provider delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FundedEntitlement {
    /// Universal 15 hours for all 3- and 4-year-olds.
    Universal15Hours,
    /// 15 hours for disadvantaged 2-year-olds.
    Disadvantaged2YearOlds,
    /// Working-parent hours, from 9 months to school age.
    WorkingParent,
}

text_forms!(FundedEntitlement, "a funded entitlement", {
    Universal15Hours => "universal-15",
    Disadvantaged2YearOlds => "disadvantaged-2",
    WorkingParent => "working-parent",
});

impl FundedEntitlement {
    /// Whether the entitlement can apply to a child in this age band.
    pub fn applies_to(self, band: AgeBand) -> bool {
        match self {
            FundedEntitlement::Universal15Hours => band == AgeBand::ThreeToFour,
            FundedEntitlement::Disadvantaged2YearOlds => band == AgeBand::Two,
            FundedEntitlement::WorkingParent => band != AgeBand::SchoolAge,
        }
    }
}

/// A published admission priority, in the order the setting applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdmissionPriority {
    /// Looked-after and previously looked-after children.
    LookedAfter,
    /// Children whose EHC plan names the setting.
    EhcPlanNamingSetting,
    /// Children eligible for disadvantage funding.
    Disadvantage,
    /// Siblings of children already attending.
    Sibling,
    /// Distance from home.
    Distance,
}

text_forms!(AdmissionPriority, "an admission priority", {
    LookedAfter => "looked-after",
    EhcPlanNamingSetting => "ehc-plan",
    Disadvantage => "disadvantage",
    Sibling => "sibling",
    Distance => "distance",
});

/// When care is offered: which days, which hours, and whether only in term time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionPattern {
    /// Days offered, bit 0 = Monday … bit 6 = Sunday.
    pub days: u8,
    /// Opening time in minutes after midnight.
    pub start_minute: u16,
    /// Closing time in minutes after midnight.
    pub end_minute: u16,
    /// Term time only (38 weeks) rather than all year.
    pub term_time_only: bool,
}

/// A ~500 m cell of a regular grid over London: the finest location shared for a
/// home-based provider. Row and column count cells of 1/222° latitude and 1/139°
/// longitude, which are about 500 m each way at London's latitude.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GridCell {
    /// Cell row: floor(latitude × 222).
    pub row: i32,
    /// Cell column: floor(longitude × 139).
    pub col: i32,
}

impl GridCell {
    /// Rows per degree of latitude.
    pub const ROWS_PER_DEGREE: f64 = 222.0;
    /// Columns per degree of longitude.
    pub const COLS_PER_DEGREE: f64 = 139.0;

    /// The cell holding a point.
    pub fn containing(lat: f64, long: f64) -> GridCell {
        GridCell {
            row: (lat * Self::ROWS_PER_DEGREE).floor() as i32,
            col: (long * Self::COLS_PER_DEGREE).floor() as i32,
        }
    }

    /// The cell's centre, for distance calculations.
    pub fn centre(self) -> (f64, f64) {
        (
            (self.row as f64 + 0.5) / Self::ROWS_PER_DEGREE,
            (self.col as f64 + 0.5) / Self::COLS_PER_DEGREE,
        )
    }
}

/// Where a provider is, as precisely as may be shared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Location {
    /// Exact coordinates: only for non-domestic premises.
    Exact {
        /// Latitude, WGS84.
        lat: f64,
        /// Longitude, WGS84.
        long: f64,
    },
    /// A ~500 m grid cell.
    Cell(GridCell),
}

/// One offer: places for an age band on a session pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    /// The age band the places are for.
    pub age_band: AgeBand,
    /// When the places are offered.
    pub pattern: SessionPattern,
    /// Places in total.
    pub capacity: u32,
    /// Places free now.
    pub vacancies: u32,
    /// Funded entitlements delivered on these places.
    pub funded: Vec<FundedEntitlement>,
    /// Fee per hour in pence, for hours beyond any funded entitlement.
    pub fee_per_hour_pence: u32,
}

/// A provider's shareable record in `childcare-places`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildcarePlace {
    /// Ofsted unique reference number; `None` for childminders, who are never named.
    pub provider_urn: Option<String>,
    /// Kind of provider.
    pub provider_type: ProviderType,
    /// Latest Ofsted grade.
    pub ofsted_grade: OfstedGrade,
    /// The borough the provider is in.
    pub borough: GssCode,
    /// Where the provider is, as precisely as may be shared.
    pub location: Location,
    /// Offers by age band and session pattern.
    pub offers: Vec<Offer>,
    /// Supports children with special educational needs and disabilities.
    pub send_support: bool,
    /// Takes children who live in other boroughs.
    pub accepts_out_of_borough: bool,
    /// Published admission priorities, highest first.
    pub admission_priorities: Vec<AdmissionPriority>,
}

/// The most offers one provider record may carry.
pub const MAX_OFFERS: usize = 64;
/// The most places one offer may have.
pub const MAX_CAPACITY: u32 = 500;
/// The highest hourly fee accepted, in pence (£50): anything above is a typo.
pub const MAX_FEE_PENCE: u32 = 5_000;

/// A loose box around Greater London; a point outside it is a data-entry error.
const LONDON_LAT: (f64, f64) = (51.28, 51.70);
const LONDON_LONG: (f64, f64) = (-0.52, 0.34);

/// Whether a latitude and a longitude each fall inside the box around London.
pub(crate) fn in_london(lat: f64, long: f64) -> (bool, bool) {
    (
        lat.is_finite() && (LONDON_LAT.0..=LONDON_LAT.1).contains(&lat),
        long.is_finite() && (LONDON_LONG.0..=LONDON_LONG.1).contains(&long),
    )
}

/// Checks a session pattern, naming its days and its hours by the given fields,
/// so a record and the input it came from report under their own names.
pub(crate) fn check_pattern(c: &mut Checks, p: &SessionPattern, days: &str, hours: &str) {
    c.require(
        p.days != 0 && p.days < 0x80,
        days,
        "must name at least one day of the week",
    );
    c.require(
        p.start_minute < p.end_minute && p.end_minute <= 24 * 60,
        hours,
        format!(
            "opening minute {} must be before closing minute {} within one day",
            p.start_minute, p.end_minute
        ),
    );
}

impl ChildcarePlace {
    /// Checks every rule a record must meet before it is stored or shared, and
    /// reports every failing field.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut c = Checks::default();
        match (&self.provider_urn, self.provider_type) {
            (Some(_), ProviderType::Childminder) => c.fail(
                "provider_urn",
                "must be empty for a childminder, who is never named",
            ),
            (Some(urn), _) => c.require(
                is_urn(urn),
                "provider_urn",
                "must be an Ofsted URN: 6 or 7 digits, or EY/SC followed by 6 digits",
            ),
            (None, _) => {}
        }
        match self.location {
            Location::Exact { lat, long } => {
                if self.provider_type.is_home_based() {
                    c.fail(
                        "location",
                        "a home-based provider must be located by grid cell, not exactly",
                    );
                }
                let (lat_ok, long_ok) = in_london(lat, long);
                c.require(lat_ok, "location.lat", format!("{lat} is outside London"));
                c.require(
                    long_ok,
                    "location.long",
                    format!("{long} is outside London"),
                );
            }
            Location::Cell(cell) => {
                let (lat, long) = cell.centre();
                c.require(
                    in_london(lat, long) == (true, true),
                    "location.grid_cell",
                    "is outside London",
                );
            }
        }
        if self.offers.is_empty() {
            c.fail("offers", "a provider must have at least one offer");
        }
        if self.offers.len() > MAX_OFFERS {
            c.fail(
                "offers",
                format!("{} offers, more than {MAX_OFFERS}", self.offers.len()),
            );
        }
        for (i, offer) in self.offers.iter().enumerate() {
            c.absorb(offer.validate(), &format!("offers[{i}]"));
        }
        for (i, p) in self.admission_priorities.iter().enumerate() {
            if self.admission_priorities[..i].contains(p) {
                c.fail(format!("admission_priorities[{i}]"), "is listed twice");
            }
        }
        c.finish()
    }
}

impl Offer {
    fn validate(&self) -> Result<(), Invalid> {
        let mut c = Checks::default();
        c.require(
            (1..=MAX_CAPACITY).contains(&self.capacity),
            "capacity",
            format!("{} is not between 1 and {MAX_CAPACITY}", self.capacity),
        );
        c.require(
            self.vacancies <= self.capacity,
            "vacancies",
            format!("{} is more than capacity {}", self.vacancies, self.capacity),
        );
        c.require(
            self.fee_per_hour_pence <= MAX_FEE_PENCE,
            "fee_per_hour_pence",
            format!("{} is more than {MAX_FEE_PENCE}", self.fee_per_hour_pence),
        );
        check_pattern(&mut c, &self.pattern, "pattern.days", "pattern");
        for (i, f) in self.funded.iter().enumerate() {
            c.require(
                f.applies_to(self.age_band),
                &format!("funded[{i}]"),
                format!("{f:?} does not apply to age band {:?}", self.age_band),
            );
        }
        c.finish()
    }
}

/// Whether `s` is an Ofsted URN: 6 or 7 digits, or EY/SC and 6 digits.
pub(crate) fn is_urn(s: &str) -> bool {
    let digits =
        |d: &str, n: &[usize]| n.contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = s.strip_prefix("EY").or_else(|| s.strip_prefix("SC")) {
        digits(rest, &[6])
    } else {
        digits(s, &[6, 7])
    }
}

#[cfg(test)]
mod tests;

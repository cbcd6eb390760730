//! `childcare-requests`: a family's request for a childcare place, derived from the
//! identifiable request a broker's case system holds. Names, the child's date of
//! birth, the address, the full postcode, exact coordinates and the HMRC
//! eligibility code never reach the record: the child's age is whole months at the
//! start of the term, the home a postcode sector and a ~500 m grid cell, the
//! parent a pseudonym.

use std::fmt;
use std::str::FromStr;

use time::Date;

use super::{
    check_pattern, in_london, is_urn, FundedEntitlement, GridCell, SessionPattern, MAX_FEE_PENCE,
};
use crate::columns::{PARENT_NI_NUMBER, POSTCODE};
use crate::generalise::{child_age_months, Term};
use crate::geo::{place_columns, PostcodeSector};
use crate::invalid::Checks;
use crate::pseudonym::{NiNumber, Pseudonym};
use crate::text::{given, pounds, split_list, text_forms};
use crate::{DeriveContext, GssCode, Invalid};

/// The oldest child a request may be for, in months at the start of the term
/// (12 years: the end of wraparound care).
pub const MAX_CHILD_AGE_MONTHS: u16 = 144;
/// The most ranked preferences a request may carry.
pub const MAX_PREFERENCES: usize = 10;
/// The longest travel distance a family may give, in metres.
pub const MAX_DISTANCE_M: u32 = 50_000;

/// A child's special educational needs and disabilities, as far as a place needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendNeed {
    /// No identified need.
    None,
    /// SEN support, without an education, health and care plan.
    Support,
    /// An education, health and care (EHC) plan.
    EhcPlan,
}

text_forms!(SendNeed, "a SEND need", {
    None => "none",
    Support => "support",
    EhcPlan => "ehc-plan",
});

/// The admission priorities a request qualifies for under settings' published
/// rules. Text form: a `;`-separated list of `looked-after`, `ehc-plan`,
/// `disadvantage`, `sibling` (empty for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PriorityFlags {
    /// A looked-after or previously looked-after child.
    pub looked_after: bool,
    /// The child's EHC plan names the setting.
    pub ehc_plan_names_setting: bool,
    /// Eligible for disadvantage funding.
    pub disadvantage: bool,
    /// A sibling already attends.
    pub sibling: bool,
}

impl PriorityFlags {
    const TEXT: [&'static str; 4] = ["looked-after", "ehc-plan", "disadvantage", "sibling"];

    fn flags(&self) -> [bool; 4] {
        [
            self.looked_after,
            self.ehc_plan_names_setting,
            self.disadvantage,
            self.sibling,
        ]
    }
}

impl FromStr for PriorityFlags {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        let mut flags = PriorityFlags::default();
        let mut c = Checks::default();
        for (i, item) in split_list(s).into_iter().enumerate() {
            let field = format!("[{i}]");
            let flag = match item.to_ascii_lowercase().as_str() {
                "looked-after" => &mut flags.looked_after,
                "ehc-plan" => &mut flags.ehc_plan_names_setting,
                "disadvantage" => &mut flags.disadvantage,
                "sibling" => &mut flags.sibling,
                _ => {
                    c.fail(
                        field,
                        format!(
                            "is not a priority; allowed: {}",
                            PriorityFlags::TEXT.join(", ")
                        ),
                    );
                    continue;
                }
            };
            *flag = true;
        }
        c.finish()?;
        Ok(flags)
    }
}

impl fmt::Display for PriorityFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set: Vec<&str> = PriorityFlags::TEXT
            .iter()
            .zip(self.flags())
            .filter(|(_, on)| *on)
            .map(|(t, _)| *t)
            .collect();
        f.write_str(&set.join(";"))
    }
}

/// A family's shareable record in `childcare-requests`. It is keyed by a random
/// record id chosen by the node, never by the borough system's request id.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildcareRequest {
    /// The borough the family lives in, from the full postcode or the LSOA.
    pub home_borough: GssCode,
    /// The home's postcode sector.
    pub postcode_sector: PostcodeSector,
    /// The home's ~500 m grid cell, if the home was geocoded.
    pub grid_cell: Option<GridCell>,
    /// The child's age in whole months at the start of `start_term`.
    pub child_age_months: u16,
    /// The term care should start in.
    pub start_term: Term,
    /// The care needed.
    pub pattern: SessionPattern,
    /// The funded entitlement claimed, if any.
    pub entitlement: Option<FundedEntitlement>,
    /// A well-formed HMRC eligibility code backed a working-parent claim (the code
    /// itself is not kept).
    pub entitlement_validated: bool,
    /// The child's SEND need.
    pub send_need: SendNeed,
    /// The priorities the request qualifies for.
    pub priorities: PriorityFlags,
    /// Preferred providers' URNs, most preferred first.
    pub preferences: Vec<String>,
    /// The farthest the family will travel, in metres.
    pub max_distance_m: Option<u32>,
    /// The highest hourly fee the family will pay, in pence.
    pub max_fee_pence: Option<u32>,
    /// Links this family's requests within the start term's allocation round only.
    pub family_link: Option<Pseudonym>,
    /// The parent's participant pseudonym: links across rounds and to
    /// `employment-participation`.
    pub parent_pseudonym: Option<Pseudonym>,
}

/// A childcare request as a broker's case system holds it. Identifiable: `Debug`
/// shows only the term, the entitlement and the SEND need.
#[derive(Clone, PartialEq)]
pub struct RequestInput {
    /// The parent's National Insurance number: pseudonymised, never kept.
    pub parent_ni_number: Option<String>,
    /// The parent's name: never kept.
    pub parent_name: Option<String>,
    /// The child's name: never kept.
    pub child_name: Option<String>,
    /// The child's date of birth: becomes an age in months, never kept.
    pub child_date_of_birth: Date,
    /// The home address: never kept.
    pub address: Option<String>,
    /// The home's full postcode: becomes a sector and decides the borough.
    pub postcode: String,
    /// The home's 2011 LSOA, if known.
    pub lsoa: Option<String>,
    /// The home's latitude, if geocoded: becomes a grid cell.
    pub lat: Option<f64>,
    /// The home's longitude, if geocoded.
    pub long: Option<f64>,
    /// The day the request was made.
    pub request_date: Date,
    /// The term care should start in.
    pub start_term: Term,
    /// Days needed, bit 0 = Monday (see [`crate::parse_days`]).
    pub days: u8,
    /// From, minutes after midnight.
    pub opens: u16,
    /// Until, minutes after midnight.
    pub closes: u16,
    /// Term time only rather than all year.
    pub term_time_only: bool,
    /// The funded entitlement claimed, if any.
    pub entitlement: Option<FundedEntitlement>,
    /// The HMRC eligibility code for working-parent hours: checked, never kept.
    pub hmrc_eligibility_code: Option<String>,
    /// The child's SEND need.
    pub send_need: SendNeed,
    /// The priorities claimed.
    pub priorities: PriorityFlags,
    /// Preferred providers' URNs, most preferred first.
    pub preferences: Vec<String>,
    /// The farthest the family will travel, in kilometres.
    pub max_distance_km: Option<f64>,
    /// The highest hourly fee the family will pay, in pence (the CSV column
    /// `max_fee_per_hour` holds pounds; errors name that column).
    pub max_fee_per_hour_pence: Option<u32>,
}

impl fmt::Debug for RequestInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestInput")
            .field("start_term", &self.start_term)
            .field("entitlement", &self.entitlement)
            .field("send_need", &self.send_need)
            .finish_non_exhaustive()
    }
}

/// The ages, in months at the start of the term, an entitlement is for.
fn entitlement_ages(e: FundedEntitlement) -> (u32, u32) {
    match e {
        FundedEntitlement::Universal15Hours => (36, 59),
        FundedEntitlement::Disadvantaged2YearOlds => (24, 35),
        FundedEntitlement::WorkingParent => (9, 59),
    }
}

fn check_entitlement_age(c: &mut Checks, e: FundedEntitlement, age: u32, field: &str) {
    let (from, to) = entitlement_ages(e);
    c.require(
        (from..=to).contains(&age),
        field,
        format!(
            "{e} is for children aged {from} to {to} months at the start of the term; \
             this child will be {age} months"
        ),
    );
}

fn check_priorities(c: &mut Checks, p: PriorityFlags, send: SendNeed, field: &str) {
    c.require(
        !p.ehc_plan_names_setting || send == SendNeed::EhcPlan,
        field,
        "ehc-plan needs send_need ehc-plan",
    );
}

fn check_preferences<S: AsRef<str>>(c: &mut Checks, preferences: &[S], field: &str) {
    if preferences.len() > MAX_PREFERENCES {
        c.fail(
            field,
            format!(
                "{} preferences, more than {MAX_PREFERENCES}",
                preferences.len()
            ),
        );
    }
    for (i, urn) in preferences.iter().enumerate() {
        let urn = urn.as_ref();
        if !is_urn(urn) {
            c.fail(
                format!("{field}[{i}]"),
                "must be an Ofsted URN: 6 or 7 digits, or EY/SC followed by 6 digits",
            );
        } else if preferences[..i].iter().any(|p| p.as_ref() == urn) {
            c.fail(format!("{field}[{i}]"), "is listed twice");
        }
    }
}

fn check_fee(c: &mut Checks, fee: Option<u32>, field: &str) {
    if let Some(fee) = fee {
        c.require(
            fee <= MAX_FEE_PENCE,
            field,
            format!(
                "{} is more than the {} limit",
                pounds(fee),
                pounds(MAX_FEE_PENCE)
            ),
        );
    }
}

/// Whether an HMRC eligibility code is well-formed: 11 digits, starting with 5.
fn is_hmrc_code(code: &str) -> bool {
    code.len() == 11 && code.starts_with('5') && code.bytes().all(|b| b.is_ascii_digit())
}

impl ChildcareRequest {
    /// Checks every rule a request must meet before it is stored or shared, and
    /// reports every failing field.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut c = Checks::default();
        c.require(
            self.child_age_months <= MAX_CHILD_AGE_MONTHS,
            "child_age_months",
            format!(
                "{} is older than {MAX_CHILD_AGE_MONTHS}",
                self.child_age_months
            ),
        );
        if let Some(e) = self.entitlement {
            check_entitlement_age(&mut c, e, self.child_age_months.into(), "entitlement");
        }
        c.require(
            !self.entitlement_validated
                || self.entitlement == Some(FundedEntitlement::WorkingParent),
            "entitlement_validated",
            "only a working-parent claim is validated by an HMRC code",
        );
        check_pattern(&mut c, &self.pattern, "pattern.days", "pattern");
        check_priorities(&mut c, self.priorities, self.send_need, "priorities");
        check_preferences(&mut c, &self.preferences, "preferences");
        if let Some(m) = self.max_distance_m {
            c.require(
                (1..=MAX_DISTANCE_M).contains(&m),
                "max_distance_m",
                format!("{m} is not between 1 and {MAX_DISTANCE_M}"),
            );
        }
        check_fee(&mut c, self.max_fee_pence, "max_fee_pence");
        if let Some(cell) = self.grid_cell {
            let (lat, long) = cell.centre();
            c.require(
                in_london(lat, long) == (true, true),
                "grid_cell",
                "is outside London",
            );
        }
        c.finish()
    }

    /// Derives the shareable request from a case system's identifiable input,
    /// checking every rule and naming each failing input column. `today` bounds
    /// every date; the borough comes from the full postcode or the LSOA.
    pub fn derive(
        input: &RequestInput,
        ctx: &DeriveContext<'_>,
    ) -> Result<ChildcareRequest, Invalid> {
        let mut c = Checks::default();
        let parent = match given(&input.parent_ni_number) {
            Some(ni) => c.take(NiNumber::parse(ni), PARENT_NI_NUMBER),
            None => None,
        };
        let home = place_columns(&mut c, &input.postcode, &input.lsoa);
        let grid_cell = match (input.lat, input.long) {
            (Some(lat), Some(long)) => {
                // Exact home coordinates: never repeat them in an error.
                let (lat_ok, long_ok) = in_london(lat, long);
                c.require(lat_ok, "lat", "is not a latitude inside London");
                c.require(long_ok, "long", "is not a longitude inside London");
                Some(GridCell::containing(lat, long))
            }
            (Some(_), None) => {
                c.fail("long", "is missing while lat is given");
                None
            }
            (None, Some(_)) => {
                c.fail("lat", "is missing while long is given");
                None
            }
            (None, None) => None,
        };

        let born = input.child_date_of_birth;
        let term = input.start_term;
        c.require(born <= ctx.today, "child_date_of_birth", "is in the future");
        c.require(
            input.request_date <= ctx.today,
            "request_date",
            "is in the future",
        );
        let age = match child_age_months(born, term.starts_on()) {
            None => {
                // A birth date in the future has already been reported.
                if !c.has_failed("child_date_of_birth") {
                    c.fail(
                        "child_date_of_birth",
                        format!("is after the start of the term {term}"),
                    );
                }
                None
            }
            Some(age) if age > MAX_CHILD_AGE_MONTHS.into() => {
                c.fail(
                    "child_date_of_birth",
                    format!(
                        "makes the child {age} months old at the start of {term}, older than \
                         {MAX_CHILD_AGE_MONTHS}"
                    ),
                );
                None
            }
            Some(age) => u16::try_from(age).ok(),
        };
        if let (Some(e), Some(age)) = (input.entitlement, age) {
            check_entitlement_age(&mut c, e, age.into(), "entitlement");
        }
        // A code is checked and then dropped: only whether it checked out is kept.
        let code_ok = match given(&input.hmrc_eligibility_code) {
            Some(code) if is_hmrc_code(code) => true,
            Some(_) => {
                c.fail("hmrc_eligibility_code", "must be 11 digits starting with 5");
                false
            }
            None => false,
        };
        let pattern = SessionPattern {
            days: input.days,
            start_minute: input.opens,
            end_minute: input.closes,
            term_time_only: input.term_time_only,
        };
        check_pattern(&mut c, &pattern, "days", "closes");
        check_priorities(&mut c, input.priorities, input.send_need, "priorities");
        let preferences: Vec<String> = input
            .preferences
            .iter()
            .map(|p| p.trim().to_string())
            .collect();
        check_preferences(&mut c, &preferences, "preferences");
        let max_distance_m = input.max_distance_km.and_then(|km| {
            let m = km * 1000.0;
            let ok = m.is_finite() && m >= 1.0 && m <= f64::from(MAX_DISTANCE_M);
            c.require(
                ok,
                "max_distance_km",
                format!(
                    "must be more than 0 and at most {} km",
                    MAX_DISTANCE_M / 1000
                ),
            );
            ok.then(|| m.round() as u32)
        });
        check_fee(&mut c, input.max_fee_per_hour_pence, "max_fee_per_hour");
        c.finish()?;
        let (Some(home), Some(age)) = (home, age) else {
            // Every way to reach here without a place or an age recorded a failure,
            // so `finish` has already returned it; this is only a safe fallback.
            return Err(Invalid::field(POSTCODE, "could not be placed"));
        };
        let request = ChildcareRequest {
            home_borough: home.borough,
            postcode_sector: home.sector,
            grid_cell,
            child_age_months: age,
            start_term: term,
            pattern,
            entitlement: input.entitlement,
            entitlement_validated: code_ok
                && input.entitlement == Some(FundedEntitlement::WorkingParent),
            send_need: input.send_need,
            priorities: input.priorities,
            preferences,
            max_distance_m,
            max_fee_pence: input.max_fee_per_hour_pence,
            family_link: parent.as_ref().map(|ni| ni.family_link(ctx.key, term)),
            parent_pseudonym: parent.as_ref().map(|ni| ni.pseudonym(ctx.key)),
        };
        request.validate()?;
        Ok(request)
    }
}

#[cfg(test)]
mod tests;

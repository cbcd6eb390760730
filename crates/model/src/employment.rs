//! `employment-participation`: one person's journey through an employment
//! programme, derived from the identifiable record a programme's case system
//! holds. The NI number becomes a pseudonym, the date of birth an age band at
//! referral, every date a month, the postcode a borough; the name is never read.

use std::fmt;

use time::Date;

use crate::columns::NI_NUMBER;
use crate::generalise::{age_in_years, AdultAgeBand, Month};
use crate::geo::place_columns;
use crate::invalid::Checks;
use crate::pseudonym::{NiNumber, Pseudonym};
use crate::text::text_forms;
use crate::{DeriveContext, GssCode, Invalid};

/// An employment support programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Programme {
    /// Connect to Work (supported employment, from 2025).
    ConnectToWork,
    /// The Work and Health Programme.
    WorkAndHealth,
    /// The Restart Scheme.
    Restart,
    /// A borough's own employment support.
    LocalSupport,
}

text_forms!(Programme, "a programme", {
    ConnectToWork => "connect-to-work",
    WorkAndHealth => "work-and-health",
    Restart => "restart",
    LocalSupport => "local-support",
});

/// The group under which a participant is eligible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EligibilityGroup {
    /// Disabled people.
    Disability,
    /// Early-access groups (for example care leavers, ex-offenders, carers).
    EarlyAccess,
    /// Long-term unemployed people.
    LongTermUnemployed,
}

text_forms!(EligibilityGroup, "an eligibility group", {
    Disability => "disability",
    EarlyAccess => "early-access",
    LongTermUnemployed => "long-term-unemployed",
});

/// Sex as recorded by the programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Not known or not recorded.
    NotKnown,
}

text_forms!(Sex, "a sex", {
    Female => "female",
    Male => "male",
    NotKnown => "not-known",
});

/// A participant's shareable record in `employment-participation`.
#[derive(Debug, Clone, PartialEq)]
pub struct EmploymentParticipation {
    /// The participant's pseudonym (from the NI number).
    pub participant: Pseudonym,
    /// The programme.
    pub programme: Programme,
    /// The borough delivering the programme: the deriving borough.
    pub delivering_borough: GssCode,
    /// The borough the participant lives in, from the full postcode or the LSOA.
    pub resident_borough: GssCode,
    /// The eligibility group.
    pub eligibility: EligibilityGroup,
    /// The participant's age band at referral.
    pub age_band: AdultAgeBand,
    /// Sex as recorded.
    pub sex: Sex,
    /// Month of referral.
    pub referral: Month,
    /// Month the participant started, if they have.
    pub start: Option<Month>,
    /// Month of first earnings, if any.
    pub first_earnings: Option<Month>,
    /// Month of the job outcome, if any.
    pub job_outcome: Option<Month>,
    /// Month the job outcome was sustained, if it has been.
    pub sustained: Option<Month>,
    /// Childcare was recorded as a barrier to work.
    pub childcare_barrier: bool,
}

/// A participant as the programme's case system holds them. Identifiable: `Debug`
/// shows only the programme and eligibility group.
#[derive(Clone, PartialEq)]
pub struct ParticipantInput {
    /// National Insurance number: pseudonymised, never kept.
    pub ni_number: String,
    /// Name: never kept.
    pub name: Option<String>,
    /// Date of birth: becomes an age band at referral, never kept.
    pub date_of_birth: Date,
    /// Sex as recorded.
    pub sex: Sex,
    /// Home postcode: decides the resident borough, never kept.
    pub postcode: String,
    /// Home 2011 LSOA, if known.
    pub lsoa: Option<String>,
    /// The programme.
    pub programme: Programme,
    /// The eligibility group.
    pub eligibility_group: EligibilityGroup,
    /// Day of referral.
    pub referral_date: Date,
    /// Day the participant started.
    pub start_date: Option<Date>,
    /// Day of first earnings.
    pub first_earnings_date: Option<Date>,
    /// Day of the job outcome.
    pub job_outcome_date: Option<Date>,
    /// Day the job outcome was sustained.
    pub sustained_date: Option<Date>,
    /// Childcare is a barrier to work.
    pub childcare_barrier: bool,
}

impl fmt::Debug for ParticipantInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParticipantInput")
            .field("programme", &self.programme)
            .field("eligibility_group", &self.eligibility_group)
            .finish_non_exhaustive()
    }
}

/// A participant's stages, in order, each with the name its field has where it
/// is checked (input column or record field).
struct Stages<T> {
    referral: (&'static str, T),
    start: (&'static str, Option<T>),
    first_earnings: (&'static str, Option<T>),
    job_outcome: (&'static str, Option<T>),
    sustained: (&'static str, Option<T>),
}

impl<T: Ord + Copy> Stages<T> {
    /// Checks that stages come in order and a later stage has the earlier ones it
    /// depends on: start after referral, first earnings and job outcome after
    /// start (job outcome also after first earnings), sustained after job outcome.
    /// Each field fails at most once, with its first problem.
    fn check(&self, c: &mut Checks) {
        let referral = (self.referral.0, Some(self.referral.1));
        let rules = [
            (self.start, referral, false),
            (self.first_earnings, self.start, true),
            (self.job_outcome, self.start, true),
            (self.job_outcome, self.first_earnings, false),
            (self.sustained, self.job_outcome, true),
        ];
        for ((name, at), (earlier_name, earlier), required) in rules {
            let Some(at) = at else { continue };
            if c.has_failed(name) {
                continue;
            }
            match earlier {
                None if required => c.fail(name, format!("is given but {earlier_name} is not")),
                None => {}
                Some(earlier) => {
                    c.require(at >= earlier, name, format!("is before {earlier_name}"));
                }
            }
        }
    }
}

impl EmploymentParticipation {
    fn stages(&self) -> Stages<Month> {
        Stages {
            referral: ("referral", self.referral),
            start: ("start", self.start),
            first_earnings: ("first_earnings", self.first_earnings),
            job_outcome: ("job_outcome", self.job_outcome),
            sustained: ("sustained", self.sustained),
        }
    }

    /// Checks every rule a record must meet before it is stored or shared, and
    /// reports every failing field.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut c = Checks::default();
        self.stages().check(&mut c);
        c.finish()
    }

    /// Derives the shareable record from a case system's identifiable input,
    /// checking every rule and naming each failing input column: no date after
    /// `today`, stages in order, 16 or over at referral.
    pub fn derive(
        input: &ParticipantInput,
        ctx: &DeriveContext<'_>,
    ) -> Result<EmploymentParticipation, Invalid> {
        let mut c = Checks::default();
        let ni = c.take(NiNumber::parse(&input.ni_number), NI_NUMBER);
        let home = place_columns(&mut c, &input.postcode, &input.lsoa);
        let dates = Stages {
            referral: ("referral_date", input.referral_date),
            start: ("start_date", input.start_date),
            first_earnings: ("first_earnings_date", input.first_earnings_date),
            job_outcome: ("job_outcome_date", input.job_outcome_date),
            sustained: ("sustained_date", input.sustained_date),
        };
        let all_dates = [
            ("date_of_birth", Some(input.date_of_birth)),
            (dates.referral.0, Some(dates.referral.1)),
            dates.start,
            dates.first_earnings,
            dates.job_outcome,
            dates.sustained,
        ];
        for (name, date) in all_dates {
            if let Some(date) = date {
                c.require(date <= ctx.today, name, "is in the future");
            }
        }
        let age_band = match age_in_years(input.date_of_birth, input.referral_date) {
            _ if c.has_failed("date_of_birth") => None,
            None => {
                c.fail("date_of_birth", "is after referral_date");
                None
            }
            Some(years) => {
                let band = AdultAgeBand::of_age(years);
                c.require(
                    band.is_some(),
                    "date_of_birth",
                    "makes the participant under 16 at referral",
                );
                band
            }
        };
        dates.check(&mut c);
        c.finish()?;
        let (Some(ni), Some(home), Some(age_band)) = (ni, home, age_band) else {
            // Every way to reach here without these recorded a failure, so `finish`
            // has already returned it; this is only a safe fallback.
            return Err(Invalid::field(NI_NUMBER, "could not be derived"));
        };
        let record = EmploymentParticipation {
            participant: ni.pseudonym(ctx.key),
            programme: input.programme,
            delivering_borough: ctx.own_borough,
            resident_borough: home.borough,
            eligibility: input.eligibility_group,
            age_band,
            sex: input.sex,
            referral: Month::of(input.referral_date),
            start: input.start_date.map(Month::of),
            first_earnings: input.first_earnings_date.map(Month::of),
            job_outcome: input.job_outcome_date.map(Month::of),
            sustained: input.sustained_date.map(Month::of),
            childcare_barrier: input.childcare_barrier,
        };
        record.validate()?;
        Ok(record)
    }
}

#[cfg(test)]
mod tests;

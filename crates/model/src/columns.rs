//! Reading identifiable input from named text columns. A CSV row, a JSON object and
//! an Ingest RPC message all present their values as text under the column names of
//! `docs/DATA.md`, so one reader turns each of them into the typed input, and every
//! path into a node checks the same rules with the same messages.

use std::str::FromStr;

use time::Date;

use crate::childcare::{OfferInput, ProviderInput, RequestInput};
use crate::employment::ParticipantInput;
use crate::invalid::Checks;
use crate::text::{
    parse_date, parse_days, parse_list, parse_pence, parse_time, parse_yes_no, split_list,
};
use crate::{Dataset, Invalid};

// Every column name, written once. The lists below, the readers in this file,
// the `*Input` messages' readers (`borough_proto`, checked against these lists
// when it compiles), `borough import`'s headers and `borough gen`'s files all
// take their names from here.
const PROVIDER_URN: &str = "provider_urn";
const PROVIDER_NAME: &str = "provider_name";
const PROVIDER_TYPE: &str = "provider_type";
const OFSTED_GRADE: &str = "ofsted_grade";
const ADDRESS: &str = "address";
pub(crate) const POSTCODE: &str = "postcode";
pub(crate) const LSOA: &str = "lsoa";
pub(crate) const LAT: &str = "lat";
pub(crate) const LONG: &str = "long";
const SEND_SUPPORT: &str = "send_support";
const ACCEPTS_OUT_OF_BOROUGH: &str = "accepts_out_of_borough";
const ADMISSION_PRIORITIES: &str = "admission_priorities";
const AGE_BAND: &str = "age_band";
pub(crate) const DAYS: &str = "days";
const OPENS: &str = "opens";
pub(crate) const CLOSES: &str = "closes";
const TERM_TIME_ONLY: &str = "term_time_only";
const CAPACITY: &str = "capacity";
const VACANCIES: &str = "vacancies";
const FUNDED: &str = "funded";
pub(crate) const FEE_PER_HOUR: &str = "fee_per_hour";
pub(crate) const PARENT_NI_NUMBER: &str = "parent_ni_number";
const PARENT_NAME: &str = "parent_name";
const CHILD_NAME: &str = "child_name";
const CHILD_DATE_OF_BIRTH: &str = "child_date_of_birth";
const REQUEST_DATE: &str = "request_date";
const START_TERM: &str = "start_term";
const ENTITLEMENT: &str = "entitlement";
const HMRC_ELIGIBILITY_CODE: &str = "hmrc_eligibility_code";
const SEND_NEED: &str = "send_need";
const PRIORITIES: &str = "priorities";
const PREFERENCES: &str = "preferences";
const MAX_DISTANCE_KM: &str = "max_distance_km";
const MAX_FEE_PER_HOUR: &str = "max_fee_per_hour";
pub(crate) const NI_NUMBER: &str = "ni_number";
const NAME: &str = "name";
const DATE_OF_BIRTH: &str = "date_of_birth";
const SEX: &str = "sex";
const PROGRAMME: &str = "programme";
const ELIGIBILITY_GROUP: &str = "eligibility_group";
const REFERRAL_DATE: &str = "referral_date";
const START_DATE: &str = "start_date";
const FIRST_EARNINGS_DATE: &str = "first_earnings_date";
const JOB_OUTCOME_DATE: &str = "job_outcome_date";
const SUSTAINED_DATE: &str = "sustained_date";
const CHILDCARE_BARRIER: &str = "childcare_barrier";

/// The column every dataset's rows carry besides its input columns: the borough
/// system's own reference for the record (first in a CSV file). No reader here
/// takes it; the node keeps it only in its local map.
pub const LOCAL_REF: &str = "local_ref";

/// A provider's own columns, in `docs/DATA.md` order: exactly those
/// [`ProviderInput::from_columns`] reads, and the text fields of the
/// `ProviderInput` message. Each CSV row of a provider repeats them.
pub const PROVIDER_COLUMNS: [&str; 12] = [
    PROVIDER_URN,
    PROVIDER_NAME,
    PROVIDER_TYPE,
    OFSTED_GRADE,
    ADDRESS,
    POSTCODE,
    LSOA,
    LAT,
    LONG,
    SEND_SUPPORT,
    ACCEPTS_OUT_OF_BOROUGH,
    ADMISSION_PRIORITIES,
];

/// One offer's columns, in `docs/DATA.md` order: exactly those
/// [`OfferInput::from_columns`] reads, and the fields of the `OfferInput` message.
pub const OFFER_COLUMNS: [&str; 9] = [
    AGE_BAND,
    DAYS,
    OPENS,
    CLOSES,
    TERM_TIME_ONLY,
    CAPACITY,
    VACANCIES,
    FUNDED,
    FEE_PER_HOUR,
];

/// A childcare request's columns, in `docs/DATA.md` order: exactly those
/// [`RequestInput::from_columns`] reads, and the fields of the `RequestInput`
/// message.
pub const REQUEST_COLUMNS: [&str; 22] = [
    PARENT_NI_NUMBER,
    PARENT_NAME,
    CHILD_NAME,
    CHILD_DATE_OF_BIRTH,
    ADDRESS,
    POSTCODE,
    LSOA,
    LAT,
    LONG,
    REQUEST_DATE,
    START_TERM,
    DAYS,
    OPENS,
    CLOSES,
    TERM_TIME_ONLY,
    ENTITLEMENT,
    HMRC_ELIGIBILITY_CODE,
    SEND_NEED,
    PRIORITIES,
    PREFERENCES,
    MAX_DISTANCE_KM,
    MAX_FEE_PER_HOUR,
];

/// An employment participant's columns, in `docs/DATA.md` order: exactly those
/// [`ParticipantInput::from_columns`] reads, and the fields of the
/// `ParticipantInput` message.
pub const PARTICIPANT_COLUMNS: [&str; 14] = [
    NI_NUMBER,
    NAME,
    DATE_OF_BIRTH,
    SEX,
    POSTCODE,
    LSOA,
    PROGRAMME,
    ELIGIBILITY_GROUP,
    REFERRAL_DATE,
    START_DATE,
    FIRST_EARNINGS_DATE,
    JOB_OUTCOME_DATE,
    SUSTAINED_DATE,
    CHILDCARE_BARRIER,
];

/// `parts` one after another, as an array of exactly `N` names (checked when the
/// constant using it is evaluated, so a wrong `N` does not compile).
const fn joined<const N: usize>(parts: &[&[&'static str]]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut at = 0;
    let mut p = 0;
    while p < parts.len() {
        let mut i = 0;
        while i < parts[p].len() {
            out[at] = parts[p][i];
            at += 1;
            i += 1;
        }
        p += 1;
    }
    assert!(at == N, "the parts do not fill the array");
    out
}

const PLACES_CSV: [&str; 22] = joined(&[&[LOCAL_REF], &PROVIDER_COLUMNS, &OFFER_COLUMNS]);
const REQUESTS_CSV: [&str; 23] = joined(&[&[LOCAL_REF], &REQUEST_COLUMNS]);
const EMPLOYMENT_CSV: [&str; 15] = joined(&[&[LOCAL_REF], &PARTICIPANT_COLUMNS]);

/// The header of a dataset's CSV file, as `docs/DATA.md` lists it: [`LOCAL_REF`],
/// then the input's columns (for `childcare-places`, whose rows are one offer
/// each, the provider's and then the offer's).
pub fn csv_columns(dataset: Dataset) -> &'static [&'static str] {
    match dataset {
        Dataset::ChildcarePlaces => &PLACES_CSV,
        Dataset::ChildcareRequests => &REQUESTS_CSV,
        Dataset::EmploymentParticipation => &EMPLOYMENT_CSV,
    }
}

/// Named text columns of one input row. Blank text counts as absent.
pub trait Columns {
    /// The text of column `name`, if present.
    fn column(&self, name: &str) -> Option<&str>;
}

/// Collects every bad column of a row while its values are read.
struct Reader<'a> {
    row: &'a dyn Columns,
    checks: Checks,
}

impl<'a> Reader<'a> {
    fn new(row: &'a dyn Columns) -> Self {
        Reader {
            row,
            checks: Checks::default(),
        }
    }

    fn text(&self, name: &str) -> Option<&'a str> {
        self.row
            .column(name)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    fn owned(&self, name: &str) -> Option<String> {
        self.text(name).map(str::to_string)
    }

    fn parse<T>(
        &mut self,
        name: &str,
        text: &str,
        parse: impl FnOnce(&str) -> Result<T, Invalid>,
    ) -> Option<T> {
        match parse(text) {
            Ok(v) => Some(v),
            Err(e) => {
                self.checks.absorb(Err(e), name);
                None
            }
        }
    }

    fn required<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, Invalid>,
    ) -> Option<T> {
        match self.text(name) {
            Some(text) => self.parse(name, text, parse),
            None => {
                self.checks.fail(name, "is required but empty or missing");
                None
            }
        }
    }

    /// `Some(None)` when absent, `Some(Some(v))` when good, `None` when bad.
    fn optional<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, Invalid>,
    ) -> Option<Option<T>> {
        match self.text(name) {
            Some(text) => self.parse(name, text, parse).map(Some),
            None => Some(None),
        }
    }

    fn enumeration<T: FromStr<Err = Invalid>>(&mut self, name: &str) -> Option<T> {
        self.required(name, T::from_str)
    }

    fn list<T: FromStr<Err = Invalid>>(&mut self, name: &str) -> Option<Vec<T>> {
        match self.text(name) {
            Some(text) => self.parse(name, text, parse_list::<T>),
            None => Some(Vec::new()),
        }
    }

    fn finish<T>(self, value: Option<T>) -> Result<T, Invalid> {
        let checks = self.checks;
        match (checks.finish(), value) {
            (Ok(()), Some(v)) => Ok(v),
            (Err(e), _) => Err(e),
            // Every `None` above records a failure, so this cannot be reached.
            (Ok(()), None) => Err(Invalid::field("", "row could not be read")),
        }
    }
}

fn number(s: &str) -> Result<f64, Invalid> {
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| Invalid::field("", "is not a number"))
}

fn whole(s: &str) -> Result<u32, Invalid> {
    s.parse::<u32>()
        .map_err(|_| Invalid::field("", "is not a whole number"))
}

fn date(s: &str) -> Result<Date, Invalid> {
    parse_date(s)
}

impl OfferInput {
    /// Reads one offer's columns, [`OFFER_COLUMNS`].
    pub fn from_columns(row: &dyn Columns) -> Result<OfferInput, Invalid> {
        let mut r = Reader::new(row);
        let age_band = r.enumeration(AGE_BAND);
        let days = r.required(DAYS, parse_days);
        let opens = r.required(OPENS, parse_time);
        let closes = r.required(CLOSES, parse_time);
        let term_time_only = r.required(TERM_TIME_ONLY, parse_yes_no);
        let capacity = r.required(CAPACITY, whole);
        let vacancies = r.required(VACANCIES, whole);
        let funded = r.list(FUNDED);
        let fee = r.required(FEE_PER_HOUR, parse_pence);
        let value = (|| {
            Some(OfferInput {
                age_band: age_band?,
                days: days?,
                opens: opens?,
                closes: closes?,
                term_time_only: term_time_only?,
                capacity: capacity?,
                vacancies: vacancies?,
                funded: funded?,
                fee_per_hour_pence: fee?,
            })
        })();
        r.finish(value)
    }
}

impl ProviderInput {
    /// Reads a provider's own columns, [`PROVIDER_COLUMNS`]; its offers are read
    /// row by row with
    /// [`OfferInput::from_columns`] by the caller, who knows where each came from.
    pub fn from_columns(
        row: &dyn Columns,
        offers: Vec<OfferInput>,
    ) -> Result<ProviderInput, Invalid> {
        let mut r = Reader::new(row);
        let provider_type = r.enumeration(PROVIDER_TYPE);
        let ofsted_grade = r.enumeration(OFSTED_GRADE);
        let postcode = r.owned(POSTCODE);
        if postcode.is_none() {
            r.checks.fail(POSTCODE, "is required but empty or missing");
        }
        let lat = r.required(LAT, number);
        let long = r.required(LONG, number);
        let send_support = r.required(SEND_SUPPORT, parse_yes_no);
        let out_of_borough = r.required(ACCEPTS_OUT_OF_BOROUGH, parse_yes_no);
        let priorities = r.list(ADMISSION_PRIORITIES);
        let value = (|| {
            Some(ProviderInput {
                provider_urn: r.owned(PROVIDER_URN),
                provider_name: r.owned(PROVIDER_NAME),
                provider_type: provider_type?,
                ofsted_grade: ofsted_grade?,
                address: r.owned(ADDRESS),
                postcode: postcode?,
                lsoa: r.owned(LSOA),
                lat: lat?,
                long: long?,
                send_support: send_support?,
                accepts_out_of_borough: out_of_borough?,
                admission_priorities: priorities?,
                offers,
            })
        })();
        r.finish(value)
    }
}

impl RequestInput {
    /// Reads a childcare request's columns, [`REQUEST_COLUMNS`].
    pub fn from_columns(row: &dyn Columns) -> Result<RequestInput, Invalid> {
        let mut r = Reader::new(row);
        let child_date_of_birth = r.required(CHILD_DATE_OF_BIRTH, date);
        let postcode = r.owned(POSTCODE);
        if postcode.is_none() {
            r.checks.fail(POSTCODE, "is required but empty or missing");
        }
        let lat = r.optional(LAT, number);
        let long = r.optional(LONG, number);
        let request_date = r.required(REQUEST_DATE, date);
        let start_term = r.required(START_TERM, crate::Term::parse);
        let days = r.required(DAYS, parse_days);
        let opens = r.required(OPENS, parse_time);
        let closes = r.required(CLOSES, parse_time);
        let term_time_only = r.required(TERM_TIME_ONLY, parse_yes_no);
        let entitlement = r.optional(ENTITLEMENT, crate::FundedEntitlement::from_str);
        let send_need = r.enumeration(SEND_NEED);
        let priorities = match r.text(PRIORITIES) {
            Some(text) => r.parse(PRIORITIES, text, crate::PriorityFlags::from_str),
            None => Some(crate::PriorityFlags::default()),
        };
        let preferences: Vec<String> = r
            .text(PREFERENCES)
            .map(|t| split_list(t).into_iter().map(str::to_string).collect())
            .unwrap_or_default();
        let max_distance_km = r.optional(MAX_DISTANCE_KM, number);
        let max_fee = r.optional(MAX_FEE_PER_HOUR, parse_pence);
        let value = (|| {
            Some(RequestInput {
                parent_ni_number: r.owned(PARENT_NI_NUMBER),
                parent_name: r.owned(PARENT_NAME),
                child_name: r.owned(CHILD_NAME),
                child_date_of_birth: child_date_of_birth?,
                address: r.owned(ADDRESS),
                postcode: postcode?,
                lsoa: r.owned(LSOA),
                lat: lat?,
                long: long?,
                request_date: request_date?,
                start_term: start_term?,
                days: days?,
                opens: opens?,
                closes: closes?,
                term_time_only: term_time_only?,
                entitlement: entitlement?,
                hmrc_eligibility_code: r.owned(HMRC_ELIGIBILITY_CODE),
                send_need: send_need?,
                priorities: priorities?,
                preferences,
                max_distance_km: max_distance_km?,
                max_fee_per_hour_pence: max_fee?,
            })
        })();
        r.finish(value)
    }
}

impl ParticipantInput {
    /// Reads an employment participant's columns, [`PARTICIPANT_COLUMNS`].
    pub fn from_columns(row: &dyn Columns) -> Result<ParticipantInput, Invalid> {
        let mut r = Reader::new(row);
        let ni_number = r.owned(NI_NUMBER);
        if ni_number.is_none() {
            r.checks.fail(NI_NUMBER, "is required but empty or missing");
        }
        let date_of_birth = r.required(DATE_OF_BIRTH, date);
        let sex = r.enumeration(SEX);
        let postcode = r.owned(POSTCODE);
        if postcode.is_none() {
            r.checks.fail(POSTCODE, "is required but empty or missing");
        }
        let programme = r.enumeration(PROGRAMME);
        let eligibility_group = r.enumeration(ELIGIBILITY_GROUP);
        let referral_date = r.required(REFERRAL_DATE, date);
        let start_date = r.optional(START_DATE, date);
        let first_earnings_date = r.optional(FIRST_EARNINGS_DATE, date);
        let job_outcome_date = r.optional(JOB_OUTCOME_DATE, date);
        let sustained_date = r.optional(SUSTAINED_DATE, date);
        let childcare_barrier = r.required(CHILDCARE_BARRIER, parse_yes_no);
        let value = (|| {
            Some(ParticipantInput {
                ni_number: ni_number?,
                name: r.owned(NAME),
                date_of_birth: date_of_birth?,
                sex: sex?,
                postcode: postcode?,
                lsoa: r.owned(LSOA),
                programme: programme?,
                eligibility_group: eligibility_group?,
                referral_date: referral_date?,
                start_date: start_date?,
                first_earnings_date: first_earnings_date?,
                job_outcome_date: job_outcome_date?,
                sustained_date: sustained_date?,
                childcare_barrier: childcare_barrier?,
            })
        })();
        r.finish(value)
    }
}

/// Columns held as (name, text) pairs: for tests and small callers.
#[derive(Default)]
pub struct ColumnMap(Vec<(String, String)>);

impl ColumnMap {
    /// An empty row.
    pub fn new() -> Self {
        ColumnMap::default()
    }

    /// Sets a column, replacing any earlier value.
    pub fn set(mut self, name: &str, text: impl Into<String>) -> Self {
        self.0.retain(|(n, _)| n != name);
        self.0.push((name.to_string(), text.into()));
        self
    }
}

impl Columns for ColumnMap {
    fn column(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

// Identifiable text is never printed.
impl std::fmt::Debug for ColumnMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(n, _)| n))
            .finish()
    }
}

#[cfg(test)]
mod tests;

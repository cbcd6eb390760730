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
use crate::Invalid;

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
    /// Reads one offer's columns (`age_band`, `days`, `opens`, `closes`,
    /// `term_time_only`, `capacity`, `vacancies`, `funded`, `fee_per_hour`).
    pub fn from_columns(row: &dyn Columns) -> Result<OfferInput, Invalid> {
        let mut r = Reader::new(row);
        let age_band = r.enumeration("age_band");
        let days = r.required("days", parse_days);
        let opens = r.required("opens", parse_time);
        let closes = r.required("closes", parse_time);
        let term_time_only = r.required("term_time_only", parse_yes_no);
        let capacity = r.required("capacity", whole);
        let vacancies = r.required("vacancies", whole);
        let funded = r.list("funded");
        let fee = r.required("fee_per_hour", parse_pence);
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
    /// Reads a provider's own columns; its offers are read row by row with
    /// [`OfferInput::from_columns`] by the caller, who knows where each came from.
    pub fn from_columns(
        row: &dyn Columns,
        offers: Vec<OfferInput>,
    ) -> Result<ProviderInput, Invalid> {
        let mut r = Reader::new(row);
        let provider_type = r.enumeration("provider_type");
        let ofsted_grade = r.enumeration("ofsted_grade");
        let postcode = r.owned("postcode");
        if postcode.is_none() {
            r.checks
                .fail("postcode", "is required but empty or missing");
        }
        let lat = r.required("lat", number);
        let long = r.required("long", number);
        let send_support = r.required("send_support", parse_yes_no);
        let out_of_borough = r.required("accepts_out_of_borough", parse_yes_no);
        let priorities = r.list("admission_priorities");
        let value = (|| {
            Some(ProviderInput {
                provider_urn: r.owned("provider_urn"),
                provider_name: r.owned("provider_name"),
                provider_type: provider_type?,
                ofsted_grade: ofsted_grade?,
                address: r.owned("address"),
                postcode: postcode?,
                lsoa: r.owned("lsoa"),
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
    /// Reads a childcare request's columns.
    pub fn from_columns(row: &dyn Columns) -> Result<RequestInput, Invalid> {
        let mut r = Reader::new(row);
        let child_date_of_birth = r.required("child_date_of_birth", date);
        let postcode = r.owned("postcode");
        if postcode.is_none() {
            r.checks
                .fail("postcode", "is required but empty or missing");
        }
        let lat = r.optional("lat", number);
        let long = r.optional("long", number);
        let request_date = r.required("request_date", date);
        let start_term = r.required("start_term", crate::Term::parse);
        let days = r.required("days", parse_days);
        let opens = r.required("opens", parse_time);
        let closes = r.required("closes", parse_time);
        let term_time_only = r.required("term_time_only", parse_yes_no);
        let entitlement = r.optional("entitlement", crate::FundedEntitlement::from_str);
        let send_need = r.enumeration("send_need");
        let priorities = match r.text("priorities") {
            Some(text) => r.parse("priorities", text, crate::PriorityFlags::from_str),
            None => Some(crate::PriorityFlags::default()),
        };
        let preferences: Vec<String> = r
            .text("preferences")
            .map(|t| split_list(t).into_iter().map(str::to_string).collect())
            .unwrap_or_default();
        let max_distance_km = r.optional("max_distance_km", number);
        let max_fee = r.optional("max_fee_per_hour", parse_pence);
        let value = (|| {
            Some(RequestInput {
                parent_ni_number: r.owned("parent_ni_number"),
                parent_name: r.owned("parent_name"),
                child_name: r.owned("child_name"),
                child_date_of_birth: child_date_of_birth?,
                address: r.owned("address"),
                postcode: postcode?,
                lsoa: r.owned("lsoa"),
                lat: lat?,
                long: long?,
                request_date: request_date?,
                start_term: start_term?,
                days: days?,
                opens: opens?,
                closes: closes?,
                term_time_only: term_time_only?,
                entitlement: entitlement?,
                hmrc_eligibility_code: r.owned("hmrc_eligibility_code"),
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
    /// Reads an employment participant's columns.
    pub fn from_columns(row: &dyn Columns) -> Result<ParticipantInput, Invalid> {
        let mut r = Reader::new(row);
        let ni_number = r.owned("ni_number");
        if ni_number.is_none() {
            r.checks
                .fail("ni_number", "is required but empty or missing");
        }
        let date_of_birth = r.required("date_of_birth", date);
        let sex = r.enumeration("sex");
        let postcode = r.owned("postcode");
        if postcode.is_none() {
            r.checks
                .fail("postcode", "is required but empty or missing");
        }
        let programme = r.enumeration("programme");
        let eligibility_group = r.enumeration("eligibility_group");
        let referral_date = r.required("referral_date", date);
        let start_date = r.optional("start_date", date);
        let first_earnings_date = r.optional("first_earnings_date", date);
        let job_outcome_date = r.optional("job_outcome_date", date);
        let sustained_date = r.optional("sustained_date", date);
        let childcare_barrier = r.required("childcare_barrier", parse_yes_no);
        let value = (|| {
            Some(ParticipantInput {
                ni_number: ni_number?,
                name: r.owned("name"),
                date_of_birth: date_of_birth?,
                sex: sex?,
                postcode: postcode?,
                lsoa: r.owned("lsoa"),
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

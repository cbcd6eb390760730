//! `childcare-places` at the door: the identifiable provider record a Family
//! Information Service sends, and its derivation into a shareable
//! [`ChildcarePlace`]. The provider's name and address are never kept, a
//! childminder's URN is dropped, and a home-based provider is located only by
//! grid cell.

use std::fmt;

use super::{
    in_london, AdmissionPriority, AgeBand, ChildcarePlace, FundedEntitlement, GridCell, Location,
    Offer, OfstedGrade, ProviderType, SessionPattern, MAX_FEE_PENCE,
};
use crate::columns::{CLOSES, DAYS, FEE_PER_HOUR, LAT, LONG, POSTCODE};
use crate::geo::place_columns;
use crate::invalid::Checks;
use crate::text::{given, pounds};
use crate::{DeriveContext, Invalid};

/// A provider as its borough's systems hold it, with name and address. `Debug`
/// shows only the provider type, grade and offers.
#[derive(Clone, PartialEq)]
pub struct ProviderInput {
    /// Ofsted URN; dropped for childminders.
    pub provider_urn: Option<String>,
    /// The provider's name: never kept.
    pub provider_name: Option<String>,
    /// Kind of provider.
    pub provider_type: ProviderType,
    /// Latest Ofsted grade.
    pub ofsted_grade: OfstedGrade,
    /// The premises' address: never kept.
    pub address: Option<String>,
    /// The premises' full postcode: decides the borough, never kept.
    pub postcode: String,
    /// The premises' 2011 LSOA, if the borough system knows it.
    pub lsoa: Option<String>,
    /// Latitude of the premises, WGS84.
    pub lat: f64,
    /// Longitude of the premises, WGS84.
    pub long: f64,
    /// Supports children with special educational needs and disabilities.
    pub send_support: bool,
    /// Takes children who live in other boroughs.
    pub accepts_out_of_borough: bool,
    /// Published admission priorities, highest first.
    pub admission_priorities: Vec<AdmissionPriority>,
    /// The provider's offers.
    pub offers: Vec<OfferInput>,
}

impl fmt::Debug for ProviderInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Name, address, postcode and coordinates can identify a childminder's home.
        f.debug_struct("ProviderInput")
            .field("provider_type", &self.provider_type)
            .field("ofsted_grade", &self.ofsted_grade)
            .field("offers", &self.offers)
            .finish_non_exhaustive()
    }
}

/// One offer as the borough system sends it: places for an age band on a pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferInput {
    /// The age band the places are for.
    pub age_band: AgeBand,
    /// Days offered, bit 0 = Monday (see [`crate::parse_days`]).
    pub days: u8,
    /// Opening time, minutes after midnight (see [`crate::parse_time`]).
    pub opens: u16,
    /// Closing time, minutes after midnight.
    pub closes: u16,
    /// Term time only rather than all year.
    pub term_time_only: bool,
    /// Places in total.
    pub capacity: u32,
    /// Places free now.
    pub vacancies: u32,
    /// Funded entitlements delivered on these places.
    pub funded: Vec<FundedEntitlement>,
    /// Fee per hour in pence (the CSV column `fee_per_hour` holds pounds, see
    /// [`crate::parse_pence`]; errors name that column).
    pub fee_per_hour_pence: u32,
}

impl ChildcarePlace {
    /// Derives the shareable record from a provider's identifiable input: the
    /// borough is the deriving borough, and the postcode (or LSOA) must place the
    /// provider there; the location is exact only for non-domestic premises; a
    /// childminder's URN is dropped; the name and address are never read. Every
    /// failing input column is reported, by its input name.
    pub fn derive(
        input: &ProviderInput,
        ctx: &DeriveContext<'_>,
    ) -> Result<ChildcarePlace, Invalid> {
        let mut c = Checks::default();
        if let Some(home) = place_columns(&mut c, &input.postcode, &input.lsoa) {
            c.require(
                home.borough == ctx.own_borough,
                POSTCODE,
                format!(
                    "lies in {}, not {}: a borough shares only the providers in its own area",
                    home.borough.name(),
                    ctx.own_borough.name()
                ),
            );
        }
        // Coordinates of a home-based provider locate a home: never repeat them.
        let (lat_ok, long_ok) = in_london(input.lat, input.long);
        c.require(lat_ok, "lat", "is not a latitude inside London");
        c.require(long_ok, "long", "is not a longitude inside London");

        for (i, offer) in input.offers.iter().enumerate() {
            // Checked here too so the message is in pounds, as the column is.
            c.require(
                offer.fee_per_hour_pence <= MAX_FEE_PENCE,
                &format!("offers[{i}].fee_per_hour"),
                format!(
                    "{} is more than the {} limit",
                    pounds(offer.fee_per_hour_pence),
                    pounds(MAX_FEE_PENCE)
                ),
            );
        }

        let location = if input.provider_type.is_home_based() {
            Location::Cell(GridCell::containing(input.lat, input.long))
        } else {
            Location::Exact {
                lat: input.lat,
                long: input.long,
            }
        };
        let provider_urn = match input.provider_type {
            ProviderType::Childminder => None,
            _ => given(&input.provider_urn).map(str::to_string),
        };
        let place = ChildcarePlace {
            provider_urn,
            provider_type: input.provider_type,
            ofsted_grade: input.ofsted_grade,
            borough: ctx.own_borough,
            location,
            offers: input.offers.iter().map(OfferInput::to_offer).collect(),
            send_support: input.send_support,
            accepts_out_of_borough: input.accepts_out_of_borough,
            admission_priorities: input.admission_priorities.clone(),
        };
        // The record's own rules are the one source of truth for offers, URNs and
        // priorities; their errors are renamed to the input columns.
        if let Err(invalid) = place.validate() {
            for e in invalid.0 {
                let field = input_column(&e.field);
                let located = field == "lat" && (c.has_failed("lat") || c.has_failed("long"));
                if !located && !c.has_failed(&field) {
                    c.fail(field, e.problem);
                }
            }
        }
        c.finish()?;
        Ok(place)
    }
}

impl OfferInput {
    fn to_offer(&self) -> Offer {
        Offer {
            age_band: self.age_band,
            pattern: SessionPattern {
                days: self.days,
                start_minute: self.opens,
                end_minute: self.closes,
                term_time_only: self.term_time_only,
            },
            capacity: self.capacity,
            vacancies: self.vacancies,
            funded: self.funded.clone(),
            fee_per_hour_pence: self.fee_per_hour_pence,
        }
    }
}

/// The input column a [`ChildcarePlace::validate`] field comes from.
fn input_column(record_field: &str) -> String {
    if record_field.starts_with("location") {
        return match record_field {
            "location.long" => LONG,
            _ => LAT,
        }
        .to_string();
    }
    if let Some(rest) = record_field.strip_prefix("offers[") {
        if let Some((index, field)) = rest.split_once("].") {
            let field = match field {
                "pattern.days" => DAYS,
                "pattern" => CLOSES,
                "fee_per_hour_pence" => FEE_PER_HOUR,
                other => other,
            };
            return format!("offers[{index}].{field}");
        }
    }
    record_field.to_string()
}

#[cfg(test)]
mod tests;

//! Tests of deriving `childcare-places` records from providers' input.

use time::macros::date;

use super::*;
use crate::{GssCode, LinkageKey};

const LEWISHAM: &str = "E09000023";
const LAMBETH: &str = "E09000022";
/// An LSOA in Lambeth.
const LAMBETH_LSOA: &str = "E01003013";

fn gss(s: &str) -> GssCode {
    GssCode::parse(s).unwrap()
}

fn key() -> LinkageKey {
    LinkageKey::from_bytes([1; 32])
}

fn ctx<'k>(own: &str, key: &'k LinkageKey) -> DeriveContext<'k> {
    DeriveContext {
        own_borough: gss(own),
        key,
        today: date!(2026 - 03 - 15),
    }
}

/// A nursery in Sydenham (SE26: a district Lewisham shares with Southwark).
fn nursery() -> ProviderInput {
    ProviderInput {
        provider_urn: Some(" EY123456 ".into()),
        provider_name: Some("Little Acorns Nursery".into()),
        provider_type: ProviderType::NonDomesticPremises,
        ofsted_grade: OfstedGrade::Good,
        address: Some("1 Example Road, London".into()),
        postcode: "se26 4aa".into(),
        lsoa: None,
        lat: 51.4275,
        long: -0.0530,
        send_support: true,
        accepts_out_of_borough: true,
        admission_priorities: vec![AdmissionPriority::LookedAfter, AdmissionPriority::Sibling],
        offers: vec![OfferInput {
            age_band: AgeBand::ThreeToFour,
            days: 0b1_1111,
            opens: 8 * 60,
            closes: 18 * 60,
            term_time_only: false,
            capacity: 24,
            vacancies: 3,
            funded: vec![FundedEntitlement::Universal15Hours],
            fee_per_hour_pence: 850,
        }],
    }
}

/// Derives a Lewisham record after `edit` and checks the input columns named.
fn check(edit: impl FnOnce(&mut ProviderInput), fields: &[&str]) {
    let mut input = nursery();
    edit(&mut input);
    let key = key();
    let named: Vec<String> = match ChildcarePlace::derive(&input, &ctx(LEWISHAM, &key)) {
        Ok(_) => vec![],
        Err(Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
    };
    assert_eq!(named, fields);
}

fn derive(input: &ProviderInput, own: &str) -> ChildcarePlace {
    let key = key();
    ChildcarePlace::derive(input, &ctx(own, &key)).unwrap()
}

#[test]
fn a_nursery_keeps_its_urn_and_exact_location_in_its_own_borough() {
    let place = derive(&nursery(), LEWISHAM);
    assert_eq!(place.provider_urn.as_deref(), Some("EY123456"));
    assert_eq!(place.borough, gss(LEWISHAM));
    assert_eq!(
        place.location,
        Location::Exact {
            lat: 51.4275,
            long: -0.0530
        }
    );
    assert_eq!(place.offers[0].pattern.start_minute, 480);
    assert_eq!(place.admission_priorities.len(), 2);
}

#[test]
fn home_based_providers_are_located_by_grid_cell() {
    for provider_type in [
        ProviderType::Childminder,
        ProviderType::HomeChildcarer,
        ProviderType::DomesticPremises,
    ] {
        let mut input = nursery();
        input.provider_type = provider_type;
        let place = derive(&input, LEWISHAM);
        assert_eq!(
            place.location,
            Location::Cell(GridCell::containing(51.4275, -0.0530)),
            "{provider_type}"
        );
    }
}

#[test]
fn a_childminders_urn_is_dropped() {
    let mut input = nursery();
    input.provider_type = ProviderType::Childminder;
    assert_eq!(derive(&input, LEWISHAM).provider_urn, None);
    input.provider_type = ProviderType::HomeChildcarer;
    assert!(derive(&input, LEWISHAM).provider_urn.is_some());
}

#[test]
fn a_blank_urn_is_absent() {
    let mut input = nursery();
    input.provider_urn = Some("  ".into());
    assert_eq!(derive(&input, LEWISHAM).provider_urn, None);
}

#[test]
fn a_provider_in_another_borough_is_refused_naming_postcode() {
    let mut input = nursery();
    let key = key();
    let err = ChildcarePlace::derive(&input, &ctx(LAMBETH, &key)).unwrap_err();
    assert_eq!(err.0.len(), 1);
    assert_eq!(err.0[0].field, "postcode");
    assert!(err.0[0]
        .problem
        .starts_with("lies in Lewisham, not Lambeth"));
    // A Lambeth provider's postcode is not in the lookup: its LSOA places it.
    input.postcode = "SE11 5QY".into();
    input.lsoa = Some(LAMBETH_LSOA.into());
    input.lat = 51.4880;
    input.long = -0.1110;
    assert_eq!(derive(&input, LAMBETH).borough, gss(LAMBETH));
}

#[test]
fn a_postcode_that_cannot_be_placed_is_named() {
    check(|p| p.postcode = "SE26 6DZ".into(), &["postcode"]);
    check(|p| p.postcode = "not a postcode".into(), &["postcode"]);
    check(|p| p.lsoa = Some("E01XXXXXX".into()), &["lsoa"]);
    check(|p| p.lsoa = Some(" ".into()), &[]);
}

#[test]
fn coordinates_outside_london_are_named_by_their_columns() {
    check(
        |p| {
            p.lat = 53.48;
            p.long = -2.24;
        },
        &["lat", "long"],
    );
    check(
        |p| {
            p.provider_type = ProviderType::Childminder;
            p.lat = f64::NAN;
        },
        &["lat"],
    );
}

#[test]
fn offer_rules_are_named_by_their_input_columns() {
    check(
        |p| p.offers[0].capacity = 0,
        &["offers[0].capacity", "offers[0].vacancies"],
    );
    check(|p| p.offers[0].days = 0, &["offers[0].days"]);
    check(|p| p.offers[0].closes = 7 * 60, &["offers[0].closes"]);
    check(
        |p| p.offers[0].age_band = AgeBand::Under2,
        &["offers[0].funded[0]"],
    );
    check(
        |p| p.offers[0].fee_per_hour_pence = 9_999,
        &["offers[0].fee_per_hour"],
    );
    check(|p| p.offers.clear(), &["offers"]);
}

#[test]
fn every_bad_column_is_reported_at_once() {
    check(
        |p| {
            p.postcode = "SE26".into();
            p.long = 2.0;
            p.provider_urn = Some("12AB".into());
            p.offers[0].vacancies = 99;
            p.admission_priorities.push(AdmissionPriority::Sibling);
        },
        &[
            "postcode",
            "long",
            "provider_urn",
            "offers[0].vacancies",
            "admission_priorities[2]",
        ],
    );
}

#[test]
fn the_providers_name_address_and_postcode_never_reach_the_record_or_debug() {
    let mut input = nursery();
    input.provider_type = ProviderType::Childminder;
    let record = format!("{:?}", derive(&input, LEWISHAM));
    let shown = format!("{input:?}");
    for secret in [
        "Little Acorns",
        "Example Road",
        "SE26 4AA",
        "se26 4aa",
        "51.4275",
    ] {
        assert!(!record.contains(secret), "{secret} in {record}");
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[test]
fn a_fee_over_the_limit_is_reported_in_pounds_as_the_column_holds() {
    let mut input = nursery();
    input.offers[0].fee_per_hour_pence = 5_050;
    let key = key();
    let err = ChildcarePlace::derive(&input, &ctx(LEWISHAM, &key)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "offers[0].fee_per_hour: £50.50 is more than the £50.00 limit"
    );
}

use super::*;

fn nursery() -> ChildcarePlace {
    ChildcarePlace {
        provider_urn: Some("EY123456".into()),
        provider_type: ProviderType::NonDomesticPremises,
        ofsted_grade: OfstedGrade::Good,
        borough: GssCode::parse("E09000022").unwrap(),
        location: Location::Exact {
            lat: 51.46,
            long: -0.12,
        },
        offers: vec![Offer {
            age_band: AgeBand::ThreeToFour,
            pattern: SessionPattern {
                days: 0b1_1111,
                start_minute: 8 * 60,
                end_minute: 18 * 60,
                term_time_only: false,
            },
            capacity: 24,
            vacancies: 3,
            funded: vec![FundedEntitlement::Universal15Hours],
            fee_per_hour_pence: 850,
        }],
        send_support: true,
        accepts_out_of_borough: true,
        admission_priorities: vec![AdmissionPriority::LookedAfter, AdmissionPriority::Sibling],
    }
}

/// Runs `edit` on a valid record and checks the fields validation then names.
fn check(edit: impl FnOnce(&mut ChildcarePlace), fields: &[&str]) {
    let mut place = nursery();
    edit(&mut place);
    let named: Vec<String> = match place.validate() {
        Ok(()) => vec![],
        Err(Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
    };
    assert_eq!(named, fields);
}

#[test]
fn a_well_formed_nursery_is_valid() {
    check(|_| {}, &[]);
}

#[test]
fn childminders_are_never_named_or_located_exactly() {
    check(
        |p| p.provider_type = ProviderType::Childminder,
        &["provider_urn", "location"],
    );
    check(
        |p| {
            p.provider_type = ProviderType::Childminder;
            p.provider_urn = None;
            p.location = Location::Cell(GridCell::containing(51.46, -0.12));
        },
        &[],
    );
}

#[test]
fn offers_must_be_consistent() {
    check(|p| p.offers[0].vacancies = 30, &["offers[0].vacancies"]);
    check(
        |p| p.offers[0].capacity = 0,
        &["offers[0].capacity", "offers[0].vacancies"],
    );
    check(
        |p| p.offers[0].fee_per_hour_pence = 90_000,
        &["offers[0].fee_per_hour_pence"],
    );
    check(
        |p| p.offers[0].pattern.days = 0,
        &["offers[0].pattern.days"],
    );
    check(
        |p| p.offers[0].pattern.end_minute = 60,
        &["offers[0].pattern"],
    );
    check(
        |p| p.offers[0].age_band = AgeBand::Two,
        &["offers[0].funded[0]"],
    );
    check(|p| p.offers.clear(), &["offers"]);
}

#[test]
fn locations_must_be_in_london_and_urns_well_formed() {
    check(
        |p| {
            p.location = Location::Exact {
                lat: 53.4,
                long: -2.2,
            }
        },
        &["location.lat", "location.long"],
    );
    check(|p| p.provider_urn = Some("12AB".into()), &["provider_urn"]);
    check(|p| p.provider_urn = Some("1234567".into()), &[]);
}

#[test]
fn every_bad_field_is_reported_at_once() {
    check(
        |p| {
            p.offers[0].vacancies = 99;
            p.admission_priorities.push(AdmissionPriority::Sibling);
        },
        &["offers[0].vacancies", "admission_priorities[2]"],
    );
}

#[test]
fn grid_cells_are_about_500_metres() {
    let a = GridCell::containing(51.4600, -0.1200);
    let b = GridCell::containing(51.4600 + 1.0 / 222.0, -0.1200);
    assert_eq!(b.row - a.row, 1);
    // 1/222 degree of latitude is about 500 m.
    assert!((111_320.0 / 222.0 - 500.0_f64).abs() < 5.0);
}

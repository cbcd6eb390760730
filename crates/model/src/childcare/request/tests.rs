//! Tests of deriving and validating `childcare-requests` records, with
//! properties over arbitrary identifiable input.

use proptest::prelude::*;
use time::macros::date;

use super::*;
use crate::{LinkageKey, Season};

const LEWISHAM: &str = "E09000023";
const SOUTHWARK: &str = "E09000028";
const TODAY: Date = date!(2026 - 03 - 15);

fn key() -> LinkageKey {
    LinkageKey::from_bytes([2; 32])
}

fn ctx(key: &LinkageKey) -> DeriveContext<'_> {
    DeriveContext {
        own_borough: GssCode::parse(LEWISHAM).unwrap(),
        key,
        today: TODAY,
    }
}

/// A request for a three-year-old (39 months on 1 September 2026) in Sydenham.
fn request() -> RequestInput {
    RequestInput {
        parent_ni_number: Some("ab 12 34 56 c".into()),
        parent_name: Some("Sam Parent".into()),
        child_name: Some("Alex Child".into()),
        child_date_of_birth: date!(2023 - 05 - 10),
        address: Some("2 Sample Street".into()),
        postcode: "SE26 4AA".into(),
        lsoa: None,
        lat: Some(51.4275),
        long: Some(-0.0530),
        request_date: date!(2026 - 02 - 01),
        start_term: Term::new(2026, Season::Autumn).unwrap(),
        days: 0b1_1111,
        opens: 8 * 60,
        closes: 18 * 60,
        term_time_only: true,
        entitlement: Some(FundedEntitlement::Universal15Hours),
        hmrc_eligibility_code: None,
        send_need: SendNeed::None,
        priorities: PriorityFlags::default(),
        preferences: vec!["EY123456".into(), " 123456 ".into()],
        max_distance_km: Some(2.5),
        max_fee_per_hour_pence: Some(900),
    }
}

fn derive(input: &RequestInput) -> Result<ChildcareRequest, Invalid> {
    let key = key();
    ChildcareRequest::derive(input, &ctx(&key))
}

/// Derives a request after `edit` and checks the input columns named.
fn check(edit: impl FnOnce(&mut RequestInput), fields: &[&str]) {
    let mut input = request();
    edit(&mut input);
    let named: Vec<String> = match derive(&input) {
        Ok(_) => vec![],
        Err(Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
    };
    assert_eq!(named, fields);
}

#[test]
fn a_request_is_generalised_to_sector_cell_age_in_months_and_pseudonyms() {
    let r = derive(&request()).unwrap();
    let parent = NiNumber::parse("AB123456C").unwrap();
    let term = Term::new(2026, Season::Autumn).unwrap();
    assert_eq!(r.home_borough.to_string(), LEWISHAM);
    assert_eq!(r.postcode_sector.as_str(), "SE26 4");
    assert_eq!(r.grid_cell, Some(GridCell::containing(51.4275, -0.0530)));
    assert_eq!(r.child_age_months, 39);
    assert_eq!(r.preferences, ["EY123456", "123456"]);
    assert_eq!(r.max_distance_m, Some(2_500));
    assert_eq!(r.max_fee_pence, Some(900));
    assert_eq!(r.parent_pseudonym, Some(parent.pseudonym(&key())));
    assert_eq!(r.family_link, Some(parent.family_link(&key(), term)));
    assert!(!r.entitlement_validated);
}

#[test]
fn a_request_without_a_parent_ni_number_has_no_pseudonyms() {
    let mut input = request();
    input.parent_ni_number = Some(" ".into());
    let r = derive(&input).unwrap();
    assert_eq!((r.family_link, r.parent_pseudonym), (None, None));
}

#[test]
fn a_request_without_coordinates_has_no_grid_cell() {
    let mut input = request();
    (input.lat, input.long) = (None, None);
    assert_eq!(derive(&input).unwrap().grid_cell, None);
}

#[test]
fn the_home_borough_may_be_another_than_the_deriving_one() {
    let mut input = request();
    input.postcode = "SE22 8HA".into();
    input.lsoa = Some("E01003911".into());
    (input.lat, input.long) = (None, None);
    assert_eq!(derive(&input).unwrap().home_borough.to_string(), SOUTHWARK);
}

#[test]
fn dates_in_the_future_are_refused() {
    check(
        |r| {
            r.child_date_of_birth = date!(2026 - 03 - 16);
            r.entitlement = None;
        },
        &["child_date_of_birth"],
    );
    check(
        |r| r.request_date = date!(2026 - 03 - 16),
        &["request_date"],
    );
    check(|r| r.request_date = TODAY, &[]);
}

#[test]
fn a_child_must_be_born_by_the_start_of_the_term_and_at_most_144_months() {
    check(
        |r| {
            r.start_term = Term::new(2026, Season::Spring).unwrap();
            r.child_date_of_birth = date!(2026 - 02 - 01);
            r.entitlement = None;
        },
        &["child_date_of_birth"],
    );
    check(
        |r| {
            r.child_date_of_birth = date!(2014 - 08 - 01); // 145 months
            r.entitlement = None;
        },
        &["child_date_of_birth"],
    );
    check(
        |r| {
            r.child_date_of_birth = date!(2014 - 09 - 01); // 144 months
            r.entitlement = None;
        },
        &[],
    );
}

#[test]
fn entitlements_hold_only_for_their_ages_at_the_start_of_the_term() {
    use FundedEntitlement::*;
    // Ages on 1 September 2026.
    let cases = [
        (Universal15Hours, date!(2023 - 09 - 01), true), // 36 months
        (Universal15Hours, date!(2023 - 09 - 02), false), // 35 months
        (Universal15Hours, date!(2021 - 09 - 02), true), // 59 months
        (Universal15Hours, date!(2021 - 09 - 01), false), // 60 months
        (Disadvantaged2YearOlds, date!(2024 - 09 - 01), true), // 24 months
        (Disadvantaged2YearOlds, date!(2023 - 09 - 02), true), // 35 months
        (Disadvantaged2YearOlds, date!(2023 - 09 - 01), false), // 36 months
        (WorkingParent, date!(2025 - 12 - 01), true),    // 9 months
        (WorkingParent, date!(2025 - 12 - 02), false),   // 8 months
        (WorkingParent, date!(2021 - 09 - 02), true),    // 59 months
    ];
    for (entitlement, born, ok) in cases {
        let mut input = request();
        input.entitlement = Some(entitlement);
        input.child_date_of_birth = born;
        let named: Vec<String> = derive(&input)
            .err()
            .map(|e| e.0.into_iter().map(|e| e.field).collect())
            .unwrap_or_default();
        let expected: &[&str] = if ok { &[] } else { &["entitlement"] };
        assert_eq!(named, expected, "{entitlement} born {born}");
    }
}

#[test]
fn a_working_parent_claim_is_validated_only_by_a_well_formed_hmrc_code() {
    let cases = [
        (
            Some(FundedEntitlement::WorkingParent),
            Some("50012345678"),
            true,
        ),
        (Some(FundedEntitlement::WorkingParent), None, false),
        (Some(FundedEntitlement::WorkingParent), Some(" "), false),
        (
            Some(FundedEntitlement::Universal15Hours),
            Some("50012345678"),
            false,
        ),
        (None, Some("50012345678"), false),
    ];
    for (entitlement, code, validated) in cases {
        let mut input = request();
        input.entitlement = entitlement;
        input.hmrc_eligibility_code = code.map(String::from);
        let r = derive(&input).unwrap();
        assert_eq!(
            r.entitlement_validated, validated,
            "{entitlement:?} {code:?}"
        );
    }
}

#[test]
fn a_malformed_hmrc_code_is_refused() {
    for bad in ["40012345678", "5001234567", "500123456789", "5001234567X"] {
        check(
            |r| {
                r.entitlement = Some(FundedEntitlement::WorkingParent);
                r.hmrc_eligibility_code = Some(bad.into());
            },
            &["hmrc_eligibility_code"],
        );
    }
}

#[test]
fn coordinates_come_in_pairs_inside_london() {
    check(|r| r.long = None, &["long"]);
    check(|r| r.lat = None, &["lat"]);
    check(|r| r.lat = Some(52.2), &["lat"]);
}

#[test]
fn an_ehc_plan_priority_needs_an_ehc_plan() {
    check(
        |r| r.priorities.ehc_plan_names_setting = true,
        &["priorities"],
    );
    check(
        |r| {
            r.priorities.ehc_plan_names_setting = true;
            r.send_need = SendNeed::EhcPlan;
        },
        &[],
    );
}

#[test]
fn preferences_are_distinct_urns_and_few() {
    check(
        |r| r.preferences = vec!["EY123456".into(), "bad".into()],
        &["preferences[1]"],
    );
    check(
        |r| r.preferences = vec!["EY123456".into(), "EY123456".into()],
        &["preferences[1]"],
    );
    check(
        |r| r.preferences = (0..11).map(|i| format!("10000{i:02}")).collect(),
        &["preferences"],
    );
}

#[test]
fn distance_and_fee_limits_must_be_sensible() {
    for km in [0.0, -1.0, 50.1, f64::NAN, f64::INFINITY] {
        check(|r| r.max_distance_km = Some(km), &["max_distance_km"]);
    }
    check(|r| r.max_distance_km = Some(50.0), &[]);
    check(
        |r| r.max_fee_per_hour_pence = Some(5_001),
        &["max_fee_per_hour"],
    );
}

#[test]
fn pattern_columns_are_named() {
    check(|r| r.days = 0, &["days"]);
    check(|r| r.closes = r.opens, &["closes"]);
}

#[test]
fn a_bad_ni_number_is_named() {
    check(
        |r| r.parent_ni_number = Some("QQ123456C".into()),
        &["parent_ni_number"],
    );
}

#[test]
fn every_bad_column_is_reported_at_once() {
    check(
        |r| {
            r.parent_ni_number = Some("nope".into());
            r.postcode = "SE26 6DZ".into();
            r.request_date = date!(2027 - 01 - 01);
            r.entitlement = Some(FundedEntitlement::Disadvantaged2YearOlds);
            r.days = 0;
            r.max_fee_per_hour_pence = Some(10_000);
        },
        &[
            "parent_ni_number",
            "postcode",
            "request_date",
            "entitlement",
            "days",
            "max_fee_per_hour",
        ],
    );
}

#[test]
fn a_request_input_is_redacted_in_debug() {
    let shown = format!("{:?}", request());
    assert_eq!(
        shown,
        "RequestInput { start_term: Term(2026-autumn), entitlement: Some(Universal15Hours), \
         send_need: None, .. }"
    );
}

#[test]
fn priority_flags_parse_from_and_print_as_a_list() {
    let flags: PriorityFlags = " Looked-After ; sibling".parse().unwrap();
    assert!(flags.looked_after && flags.sibling);
    assert!(!flags.disadvantage && !flags.ehc_plan_names_setting);
    assert_eq!(flags.to_string(), "looked-after;sibling");
    assert_eq!(
        "".parse::<PriorityFlags>().unwrap(),
        PriorityFlags::default()
    );
    let err = "sibling;distance".parse::<PriorityFlags>().unwrap_err();
    assert_eq!(err.within("priorities").0[0].field, "priorities[1]");
}

/// Checks a valid request with `edit` applied and gives the fields named.
fn check_record(edit: impl FnOnce(&mut ChildcareRequest), fields: &[&str]) {
    let mut r = derive(&request()).unwrap();
    edit(&mut r);
    let named: Vec<String> = match r.validate() {
        Ok(()) => vec![],
        Err(Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
    };
    assert_eq!(named, fields);
}

#[test]
fn a_record_from_the_wire_is_checked_by_the_same_rules() {
    check_record(|_| {}, &[]);
    check_record(
        |r| r.child_age_months = 145,
        &["child_age_months", "entitlement"],
    );
    check_record(
        |r| r.entitlement_validated = true,
        &["entitlement_validated"],
    );
    check_record(|r| r.pattern.days = 0, &["pattern.days"]);
    check_record(|r| r.max_distance_m = Some(0), &["max_distance_m"]);
    check_record(|r| r.max_fee_pence = Some(6_000), &["max_fee_pence"]);
    check_record(
        |r| r.grid_cell = Some(GridCell::containing(53.4, -2.2)),
        &["grid_cell"],
    );
    check_record(
        |r| r.preferences.push("EY123456".into()),
        &["preferences[2]"],
    );
}

fn lewisham_postcode() -> impl Strategy<Value = String> {
    let live: Vec<String> = crate::Geography::bundled()
        .postcodes()
        .map(|(p, _)| p.as_str().to_string())
        .collect();
    proptest::sample::select(live)
}

proptest! {
    /// Whatever the identifiable input, the record holds no date, no postcode
    /// finer than a sector, no exact coordinates and no identifier.
    #[test]
    fn a_derived_request_never_holds_identifiable_values(
        postcode in lewisham_postcode(),
        // Old enough for working-parent hours (9 months) by 1 September 2026, young
        // enough (59 months) for them still to apply.
        born_days_ago in 110i64..1_500,
        lat in 51.40f64..51.48,
        long in -0.08f64..0.0,
        code in "5[0-9]{10}",
    ) {
        let mut input = request();
        input.postcode = postcode.to_lowercase();
        input.child_date_of_birth = TODAY - time::Duration::days(born_days_ago);
        (input.lat, input.long) = (Some(lat), Some(long));
        input.entitlement = Some(FundedEntitlement::WorkingParent);
        input.hmrc_eligibility_code = Some(code.clone());
        let r = derive(&input);
        prop_assert!(r.is_ok(), "{:?}", r);
        if let Ok(r) = r {
            let shown = format!("{r:?}");
            prop_assert!(!shown.contains(&postcode), "{}", shown);
            prop_assert!(!shown.contains(&code));
            prop_assert!(!shown.contains(&input.child_date_of_birth.to_string()));
            let lat_text = lat.to_string();
            prop_assert!(!shown.contains(&lat_text));
            prop_assert!(!shown.contains("AB123456C") && !shown.contains("Sam") && !shown.contains("Alex"));
            let p = crate::Postcode::parse(&postcode).unwrap();
            prop_assert_eq!(&r.postcode_sector, &p.sector());
            prop_assert!(r.child_age_months <= MAX_CHILD_AGE_MONTHS);
            prop_assert!(r.entitlement_validated);
        }
    }
}

//! Tests of deriving and validating `employment-participation` records, with
//! properties over arbitrary dates.

use proptest::prelude::*;
use time::macros::date;

use super::*;
use crate::LinkageKey;

const LAMBETH: &str = "E09000022";
const LEWISHAM: &str = "E09000023";
const TODAY: Date = date!(2026 - 03 - 15);

fn key() -> LinkageKey {
    LinkageKey::from_bytes([3; 32])
}

fn derive(input: &ParticipantInput) -> Result<EmploymentParticipation, Invalid> {
    let key = key();
    let ctx = DeriveContext {
        own_borough: GssCode::parse(LAMBETH).unwrap(),
        key: &key,
        today: TODAY,
    };
    EmploymentParticipation::derive(input, &ctx)
}

/// A Lewisham resident on Lambeth's Connect to Work, in work since February.
fn participant() -> ParticipantInput {
    ParticipantInput {
        ni_number: "AB 12 34 56 C".into(),
        name: Some("Jo Example".into()),
        date_of_birth: date!(1990 - 06 - 15),
        sex: Sex::NotKnown,
        postcode: "SE6 1AA".into(),
        lsoa: None,
        programme: Programme::ConnectToWork,
        eligibility_group: EligibilityGroup::Disability,
        referral_date: date!(2025 - 11 - 03),
        start_date: Some(date!(2025 - 12 - 01)),
        first_earnings_date: Some(date!(2026 - 01 - 20)),
        job_outcome_date: Some(date!(2026 - 02 - 02)),
        sustained_date: None,
        childcare_barrier: true,
    }
}

/// Derives after `edit` and checks the input columns named.
fn check(edit: impl FnOnce(&mut ParticipantInput), fields: &[&str]) {
    let mut input = participant();
    edit(&mut input);
    let named: Vec<String> = match derive(&input) {
        Ok(_) => vec![],
        Err(Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
    };
    assert_eq!(named, fields);
}

fn month(s: &str) -> Month {
    Month::parse(s).unwrap()
}

#[test]
fn a_participant_becomes_a_pseudonym_with_months_and_an_age_band() {
    let r = derive(&participant()).unwrap();
    let ni = NiNumber::parse("AB123456C").unwrap();
    assert_eq!(r.participant, ni.pseudonym(&key()));
    assert_eq!(r.delivering_borough.to_string(), LAMBETH);
    assert_eq!(r.resident_borough.to_string(), LEWISHAM);
    assert_eq!(r.age_band, AdultAgeBand::Age35To49);
    assert_eq!(r.referral, month("2025-11"));
    assert_eq!(r.start, Some(month("2025-12")));
    assert_eq!(r.first_earnings, Some(month("2026-01")));
    assert_eq!(r.job_outcome, Some(month("2026-02")));
    assert_eq!(r.sustained, None);
    assert!(r.childcare_barrier);
}

#[test]
fn the_age_band_is_taken_at_referral() {
    let mut input = participant();
    input.date_of_birth = date!(1990 - 11 - 04); // 34 at referral, 35 today
    assert_eq!(derive(&input).unwrap().age_band, AdultAgeBand::Age25To34);
}

#[test]
fn no_date_may_be_in_the_future() {
    let tomorrow = date!(2026 - 03 - 16);
    check(|p| p.date_of_birth = tomorrow, &["date_of_birth"]);
    check(
        |p| {
            p.job_outcome_date = None;
            p.first_earnings_date = Some(tomorrow);
        },
        &["first_earnings_date"],
    );
    check(|p| p.sustained_date = Some(tomorrow), &["sustained_date"]);
    check(|p| p.sustained_date = Some(TODAY), &[]);
}

#[test]
fn stages_must_come_in_order() {
    check(
        |p| p.start_date = Some(date!(2025 - 11 - 02)),
        &["start_date"],
    );
    check(
        |p| p.first_earnings_date = Some(date!(2025 - 11 - 30)),
        &["first_earnings_date"],
    );
    check(
        |p| p.job_outcome_date = Some(date!(2026 - 01 - 19)),
        &["job_outcome_date"],
    );
    check(
        |p| p.sustained_date = Some(date!(2026 - 02 - 01)),
        &["sustained_date"],
    );
    // The same day counts as in order.
    check(|p| p.start_date = Some(p.referral_date), &[]);
}

#[test]
fn a_later_stage_needs_the_earlier_ones() {
    check(
        |p| {
            p.start_date = None;
        },
        &["first_earnings_date", "job_outcome_date"],
    );
    check(
        |p| {
            p.job_outcome_date = None;
            p.sustained_date = Some(date!(2026 - 03 - 01));
        },
        &["sustained_date"],
    );
    // First earnings are optional before a job outcome.
    check(|p| p.first_earnings_date = None, &[]);
}

#[test]
fn a_participant_must_be_16_at_referral() {
    check(
        |p| p.date_of_birth = date!(2009 - 11 - 04),
        &["date_of_birth"],
    );
    check(|p| p.date_of_birth = date!(2009 - 11 - 03), &[]);
}

#[test]
fn the_resident_borough_comes_from_the_lsoa_when_the_postcode_is_not_listed() {
    let mut input = participant();
    input.postcode = "SE11 5QY".into();
    input.lsoa = Some("E01003013".into());
    assert_eq!(
        derive(&input).unwrap().resident_borough.to_string(),
        LAMBETH
    );
    check(|p| p.postcode = "SE11 5QY".into(), &["postcode"]);
}

#[test]
fn every_bad_column_is_reported_at_once() {
    check(
        |p| {
            p.ni_number = "ZZ123456C".into();
            p.postcode = "SE26".into();
            p.date_of_birth = date!(2015 - 01 - 01);
            p.start_date = None;
        },
        &[
            "ni_number",
            "postcode",
            "date_of_birth",
            "first_earnings_date",
            "job_outcome_date",
        ],
    );
}

#[test]
fn a_participant_input_is_redacted_in_debug() {
    assert_eq!(
        format!("{:?}", participant()),
        "ParticipantInput { programme: ConnectToWork, eligibility_group: Disability, .. }"
    );
}

#[test]
fn a_record_from_the_wire_is_checked_by_the_same_stage_rules() {
    let mut r = derive(&participant()).unwrap();
    r.start = Some(month("2025-10"));
    r.sustained = Some(month("2026-01"));
    let named: Vec<String> = r
        .validate()
        .unwrap_err()
        .0
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(named, ["start", "sustained"]);
}

/// Days back from today of referral, start and job outcome, in order.
fn ordered_stages() -> impl Strategy<Value = (i64, Option<i64>, Option<i64>)> {
    (0i64..3_650).prop_flat_map(|referral| {
        (0..=referral).prop_flat_map(move |start| {
            (
                Just(referral),
                proptest::option::of(Just(start)),
                proptest::option::of(0..=start),
            )
        })
    })
}

proptest! {
    /// Whatever the dates, a derived record holds months and a band, never a day.
    #[test]
    fn a_derived_participation_never_holds_a_date_or_an_exact_age(
        born_days_ago in (17 * 366i64)..(90 * 365),
        (referral, start, job) in ordered_stages(),
    ) {
        let day = |back: i64| TODAY - time::Duration::days(back);
        let mut input = participant();
        input.date_of_birth = day(born_days_ago + referral);
        input.referral_date = day(referral);
        input.start_date = start.map(day);
        input.first_earnings_date = None;
        input.job_outcome_date = start.and(job).map(day);
        let r = derive(&input);
        prop_assert!(r.is_ok(), "{:?}", r);
        let r = r.unwrap();
        let shown = format!("{r:?}");
        let days = [Some(input.date_of_birth), Some(input.referral_date), input.start_date, input.job_outcome_date];
        for d in days.into_iter().flatten() {
            prop_assert!(!shown.contains(&d.to_string()), "{} in {}", d, shown);
        }
        prop_assert_eq!(r.referral, Month::of(input.referral_date));
        prop_assert_eq!(r.start, input.start_date.map(Month::of));
        let years = crate::age_in_years(input.date_of_birth, input.referral_date).unwrap();
        prop_assert!(r.age_band.contains(years));
        prop_assert!(!shown.contains("AB123456C") && !shown.contains("Jo Example"));
    }
}

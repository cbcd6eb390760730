//! Tests of the CSV text forms.

use super::*;
use crate::{
    AdmissionPriority, AdultAgeBand, AgeBand, EligibilityGroup, FundedEntitlement, OfstedGrade,
    Programme, ProviderType, SendNeed, Sex,
};

/// Parses `s` and gives the value or the field paths of its errors.
fn fields<T>(result: Result<T, Invalid>) -> Result<T, Vec<String>> {
    result.map_err(|e| e.0.into_iter().map(|e| e.field).collect())
}

/// Every text form of an enum parses back to its value, in any case and with
/// surrounding spaces.
fn round_trips<T>(all: &[T])
where
    T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + std::str::FromStr<Err = Invalid>,
{
    for v in all {
        let text = v.to_string();
        for typed in [text.clone(), format!("  {}  ", text.to_uppercase())] {
            assert_eq!(typed.parse::<T>().unwrap(), *v, "{typed:?}");
        }
    }
}

#[test]
fn every_enum_text_form_round_trips_ignoring_case_and_spaces() {
    round_trips(ProviderType::ALL);
    round_trips(OfstedGrade::ALL);
    round_trips(AgeBand::ALL);
    round_trips(FundedEntitlement::ALL);
    round_trips(AdmissionPriority::ALL);
    round_trips(SendNeed::ALL);
    round_trips(Programme::ALL);
    round_trips(EligibilityGroup::ALL);
    round_trips(Sex::ALL);
    round_trips(AdultAgeBand::ALL);
}

#[test]
fn enum_text_forms_are_the_documented_ones() {
    let cases: [(Vec<&str>, &[&str]); 9] = [
        (
            ProviderType::ALL.iter().map(|v| v.as_str()).collect(),
            &["childminder", "home-childcarer", "domestic", "non-domestic"],
        ),
        (
            OfstedGrade::ALL.iter().map(|v| v.as_str()).collect(),
            &[
                "outstanding",
                "good",
                "requires-improvement",
                "inadequate",
                "not-yet-inspected",
            ],
        ),
        (
            AgeBand::ALL.iter().map(|v| v.as_str()).collect(),
            &["under-2", "2", "3-4", "school-age"],
        ),
        (
            FundedEntitlement::ALL.iter().map(|v| v.as_str()).collect(),
            &["universal-15", "disadvantaged-2", "working-parent"],
        ),
        (
            AdmissionPriority::ALL.iter().map(|v| v.as_str()).collect(),
            &[
                "looked-after",
                "ehc-plan",
                "disadvantage",
                "sibling",
                "distance",
            ],
        ),
        (
            SendNeed::ALL.iter().map(|v| v.as_str()).collect(),
            &["none", "support", "ehc-plan"],
        ),
        (
            Programme::ALL.iter().map(|v| v.as_str()).collect(),
            &[
                "connect-to-work",
                "work-and-health",
                "restart",
                "local-support",
            ],
        ),
        (
            EligibilityGroup::ALL.iter().map(|v| v.as_str()).collect(),
            &["disability", "early-access", "long-term-unemployed"],
        ),
        (
            Sex::ALL.iter().map(|v| v.as_str()).collect(),
            &["female", "male", "not-known"],
        ),
    ];
    for (actual, expected) in cases {
        assert_eq!(actual, expected);
    }
}

#[test]
fn an_unknown_enum_value_lists_the_allowed_ones_without_repeating_it() {
    let err = "Jane Smith"
        .parse::<ProviderType>()
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "is not a provider type; allowed: childminder, home-childcarer, domestic, non-domestic"
    );
    let err = "".parse::<Sex>().unwrap_err().to_string();
    assert_eq!(err, "is empty; expected a sex: female, male, not-known");
}

#[test]
fn days_parse_as_lists_ranges_or_both() {
    let cases: &[(&str, Result<u8, Vec<String>>)] = &[
        ("Mon-Fri", Ok(0b001_1111)),
        ("Mon;Wed;Fri", Ok(0b001_0101)),
        (" mon - wed ; SAT ", Ok(0b010_0111)),
        ("Sun", Ok(0b100_0000)),
        ("Mon;Mon", Ok(0b000_0001)),
        ("Fri-Mon", Err(vec![String::new()])),
        ("Monday", Err(vec![String::new()])),
        ("", Err(vec![String::new()])),
        (";", Err(vec![String::new()])),
    ];
    for (input, expected) in cases {
        assert_eq!(&fields(parse_days(input)), expected, "{input:?}");
    }
}

#[test]
fn times_parse_as_minutes_after_midnight() {
    let cases: &[(&str, Option<u16>)] = &[
        ("08:00", Some(480)),
        ("8:30", Some(510)),
        (" 18:45 ", Some(1125)),
        ("00:00", Some(0)),
        ("24:00", Some(1440)),
        ("24:01", None),
        ("25:00", None),
        ("08:60", None),
        ("0800", None),
        ("8am", None),
        ("08:0", None),
        ("", None),
    ];
    for (input, expected) in cases {
        assert_eq!(parse_time(input).ok(), *expected, "{input:?}");
    }
}

#[test]
fn money_in_pounds_parses_as_pence() {
    let cases: &[(&str, Option<u32>)] = &[
        ("8.50", Some(850)),
        ("8.5", Some(850)),
        ("8", Some(800)),
        ("£12.05", Some(1205)),
        (" 0.99 ", Some(99)),
        ("8.505", None),
        ("8.", None),
        (".50", None),
        ("-1", None),
        ("8,50", None),
        ("", None),
        ("99999999999", None),
    ];
    for (input, expected) in cases {
        assert_eq!(parse_pence(input).ok(), *expected, "{input:?}");
    }
}

#[test]
fn yes_no_booleans_parse_in_any_case() {
    let cases: &[(&str, Option<bool>)] = &[
        ("yes", Some(true)),
        (" YES ", Some(true)),
        ("no", Some(false)),
        ("true", Some(true)),
        ("False", Some(false)),
        ("y", None),
        ("", None),
    ];
    for (input, expected) in cases {
        assert_eq!(parse_yes_no(input).ok(), *expected, "{input:?}");
    }
}

#[test]
fn dates_parse_only_in_iso_form() {
    assert_eq!(
        parse_date(" 2026-03-14 ").unwrap(),
        time::macros::date!(2026 - 03 - 14)
    );
    for bad in ["14/03/2026", "2026-02-30", "2026-3-14", ""] {
        let err = parse_date(bad).unwrap_err().to_string();
        assert_eq!(
            err, "must be a date YYYY-MM-DD, such as 2026-03-14",
            "{bad:?}"
        );
    }
}

#[test]
fn list_items_are_named_by_position() {
    assert_eq!(
        parse_list::<FundedEntitlement>("universal-15; working-parent").unwrap(),
        [
            FundedEntitlement::Universal15Hours,
            FundedEntitlement::WorkingParent
        ]
    );
    assert_eq!(parse_list::<FundedEntitlement>(" ").unwrap(), []);
    let err = parse_list::<FundedEntitlement>("universal-15;bogus;x")
        .unwrap_err()
        .within("funded");
    let named: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(named, ["funded[1]", "funded[2]"]);
}

#[test]
fn split_list_trims_and_skips_blanks() {
    assert_eq!(split_list(" EY123456 ;; 123456;"), ["EY123456", "123456"]);
    assert!(split_list("").is_empty());
}

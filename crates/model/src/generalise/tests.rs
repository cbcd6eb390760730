//! Tests of months, ages, age bands and terms, with properties over arbitrary
//! inputs.

use proptest::prelude::*;
use time::macros::date;

use super::*;
use crate::{parse_days, parse_pence, parse_time, LinkageKey, NiNumber, Postcode};

#[test]
fn a_month_displays_as_year_and_month() {
    let m = Month::of(date!(2026 - 03 - 14));
    assert_eq!(m.to_string(), "2026-03");
    assert_eq!((m.year(), m.month()), (2026, 3));
    assert_eq!(Month::parse(" 2026-03 ").unwrap(), m);
    for bad in ["2026-3", "2026-13", "2026-00", "26-03", "2026-03-14", ""] {
        assert!(Month::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn months_order_by_year_then_month() {
    assert!(Month::parse("2025-12").unwrap() < Month::parse("2026-01").unwrap());
}

#[test]
fn child_age_is_whole_months_complete_on_the_same_day_of_the_month() {
    let cases = [
        (date!(2023 - 05 - 10), date!(2026 - 09 - 01), Some(39)),
        (date!(2023 - 05 - 10), date!(2023 - 05 - 10), Some(0)),
        (date!(2023 - 05 - 10), date!(2023 - 06 - 09), Some(0)),
        (date!(2023 - 05 - 10), date!(2023 - 06 - 10), Some(1)),
        (date!(2024 - 01 - 31), date!(2024 - 02 - 29), Some(0)),
        (date!(2024 - 01 - 31), date!(2024 - 03 - 01), Some(1)),
        (date!(2023 - 05 - 10), date!(2023 - 05 - 09), None),
    ];
    for (born, at, months) in cases {
        assert_eq!(child_age_months(born, at), months, "{born} at {at}");
    }
}

#[test]
fn age_in_years_turns_on_the_birthday_and_on_1_march_for_29_february() {
    let cases = [
        (date!(1990 - 06 - 15), date!(2026 - 06 - 14), Some(35)),
        (date!(1990 - 06 - 15), date!(2026 - 06 - 15), Some(36)),
        (date!(2008 - 02 - 29), date!(2026 - 02 - 28), Some(17)),
        (date!(2008 - 02 - 29), date!(2026 - 03 - 01), Some(18)),
        (date!(2026 - 01 - 02), date!(2026 - 01 - 01), None),
    ];
    for (born, at, years) in cases {
        assert_eq!(age_in_years(born, at), years, "{born} at {at}");
    }
}

#[test]
fn adult_age_bands_have_the_published_boundaries() {
    let cases = [
        (15, None),
        (16, Some(AdultAgeBand::Age16To24)),
        (24, Some(AdultAgeBand::Age16To24)),
        (25, Some(AdultAgeBand::Age25To34)),
        (34, Some(AdultAgeBand::Age25To34)),
        (35, Some(AdultAgeBand::Age35To49)),
        (49, Some(AdultAgeBand::Age35To49)),
        (50, Some(AdultAgeBand::Age50To64)),
        (64, Some(AdultAgeBand::Age50To64)),
        (65, Some(AdultAgeBand::Age65Plus)),
        (110, Some(AdultAgeBand::Age65Plus)),
    ];
    for (years, band) in cases {
        assert_eq!(AdultAgeBand::of_age(years), band, "{years}");
    }
}

#[test]
fn an_adult_age_band_is_refused_under_16() {
    let err = AdultAgeBand::at(date!(2012 - 01 - 01), date!(2026 - 01 - 01)).unwrap_err();
    assert!(err.to_string().contains("under 16"), "{err}");
    assert_eq!(
        AdultAgeBand::at(date!(2010 - 01 - 01), date!(2026 - 01 - 01)).unwrap(),
        AdultAgeBand::Age16To24
    );
}

#[test]
fn terms_parse_display_and_start_on_their_first_day() {
    let cases = [
        ("2026-autumn", date!(2026 - 09 - 01)),
        (" 2027-Spring ", date!(2027 - 01 - 01)),
        ("2027-SUMMER", date!(2027 - 04 - 01)),
    ];
    for (typed, starts) in cases {
        let term = Term::parse(typed).unwrap();
        assert_eq!(term.starts_on(), starts, "{typed:?}");
        assert_eq!(term.to_string(), typed.trim().to_lowercase());
    }
    for bad in [
        "2026-winter",
        "autumn-2026",
        "26-autumn",
        "1999-autumn",
        "2026",
        "",
    ] {
        assert!(Term::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn terms_order_by_their_start() {
    let t = |s: &str| Term::parse(s).unwrap();
    assert!(t("2026-spring") < t("2026-summer"));
    assert!(t("2026-summer") < t("2026-autumn"));
    assert!(t("2026-autumn") < t("2027-spring"));
}

fn any_date() -> impl Strategy<Value = Date> {
    (1900i32..=2100, 1u32..=366).prop_map(|(year, day)| {
        Date::from_ordinal_date(year, day.min(365) as u16).expect("days 1 to 365 exist")
    })
}

proptest! {
    #[test]
    fn parsers_never_panic_on_arbitrary_text(s in "\\PC{0,24}") {
        let _ = NiNumber::parse(&s);
        let _ = Postcode::parse(&s);
        let _ = LinkageKey::from_hex(&s);
        let _ = Month::parse(&s);
        let _ = Term::parse(&s);
        let _ = parse_days(&s);
        let _ = parse_time(&s);
        let _ = parse_pence(&s);
    }

    #[test]
    fn postcode_like_text_never_panics(s in "[A-Za-z0-9 ]{0,10}") {
        if let Ok(p) = Postcode::parse(&s) {
            // A valid postcode always has a sector one digit past its district.
            prop_assert_eq!(p.sector().as_str().len(), p.district().as_str().len() + 2);
        }
    }

    #[test]
    fn a_month_is_never_finer_than_year_and_month(date in any_date()) {
        let month = Month::of(date);
        prop_assert_eq!(month.to_string().len(), 7);
        prop_assert_eq!(Month::parse(&month.to_string()).unwrap(), month);
        let year = format!("{:04}-", date.year());
        prop_assert!(month.to_string().starts_with(&year));
    }

    #[test]
    fn an_adult_age_band_always_holds_the_age(born in any_date(), at in any_date()) {
        match (age_in_years(born, at), AdultAgeBand::at(born, at)) {
            (Some(years), Ok(band)) => prop_assert!(band.contains(years)),
            (Some(years), Err(_)) => prop_assert!(years < 16),
            (None, result) => prop_assert!(result.is_err()),
        }
    }
}

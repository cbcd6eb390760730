use super::*;

#[test]
fn every_dimension_name_parses_back_to_itself() {
    let mut all: Vec<Dimension> = Dimension::PLAIN.to_vec();
    for grain in Grain::ALL {
        all.push(Dimension::Period { stage: None, grain });
        for stage in Stage::ALL {
            all.push(Dimension::Period {
                stage: Some(stage),
                grain,
            });
        }
    }
    for d in all {
        assert_eq!(d.name().parse::<Dimension>(), Ok(d), "{d}");
    }
}

#[test]
fn an_unknown_dimension_is_named_with_the_known_ones() {
    let err = "borough".parse::<Dimension>().unwrap_err().to_string();
    assert!(
        err.contains("`borough`") && err.contains("resident-borough"),
        "{err}"
    );
}

#[test]
fn period_labels_parse_back_to_their_codes() {
    let april_2025 = month_index(Month::new(2025, 4).unwrap());
    let cases = [
        (Grain::Month, "2025-04"),
        (Grain::Quarter, "2025-Q2"),
        (Grain::FinancialYear, "2025-26"),
    ];
    for (grain, label) in cases {
        let code = grain.period_of(april_2025);
        assert_eq!(grain.label(code), label);
        let dim = Dimension::Period { stage: None, grain };
        assert_eq!(dim.code_of(label), Ok(code), "{label}");
        assert!(grain.first_month(code) <= april_2025);
    }
}

#[test]
fn march_belongs_to_the_financial_year_before() {
    let march = month_index(Month::new(2026, 3).unwrap());
    let april = month_index(Month::new(2026, 4).unwrap());
    assert_eq!(
        Grain::FinancialYear.label(Grain::FinancialYear.period_of(march)),
        "2025-26"
    );
    assert_eq!(
        Grain::FinancialYear.label(Grain::FinancialYear.period_of(april)),
        "2026-27"
    );
}

#[test]
fn boroughs_are_found_by_code_or_name_and_labelled_by_name() {
    let d = Dimension::ResidentBorough;
    let by_code = d.code_of("E09000022").unwrap();
    assert_eq!(d.code_of("lambeth"), Ok(by_code));
    assert_eq!(d.label(by_code), "Lambeth");
    let err = d.code_of("Gotham").unwrap_err().to_string();
    assert!(
        err.contains("resident-borough") && err.contains("Gotham"),
        "{err}"
    );
}

#[test]
fn a_bad_period_value_names_an_example() {
    let d = Dimension::Period {
        stage: Some(Stage::Start),
        grain: Grain::Quarter,
    };
    let err = d.code_of("2025-5").unwrap_err().to_string();
    assert!(
        err.contains("start-quarter") && err.contains("2025-Q2"),
        "{err}"
    );
}

#[test]
fn sessions_under_four_hours_are_sessional_and_longer_ones_full_day() {
    let pattern = |hours: u16, minutes: u16| SessionPattern {
        days: 0b11111,
        start_minute: 9 * 60,
        end_minute: 9 * 60 + hours * 60 + minutes,
        term_time_only: true,
    };
    assert_eq!(
        Dimension::Session.label(session_code(&pattern(3, 59))),
        "sessional"
    );
    assert_eq!(
        Dimension::Session.label(session_code(&pattern(4, 0))),
        "full-day"
    );
    assert_eq!(Dimension::Session.code_of("full-day"), Ok(1));
    let err = Dimension::Session
        .code_of("mornings")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("session")
            && err.contains("mornings")
            && err.contains("sessional or full-day"),
        "{err}"
    );
}

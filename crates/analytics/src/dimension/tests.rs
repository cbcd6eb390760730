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

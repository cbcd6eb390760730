use super::*;
use crate::{Dataset, DeriveContext, GssCode, LinkageKey};

fn participant() -> ColumnMap {
    ColumnMap::new()
        .set("ni_number", "ab 12 34 56 c")
        .set("name", "Ada Example")
        .set("date_of_birth", "1990-04-02")
        .set("sex", "Female")
        .set("postcode", "se26 4aa")
        .set("lsoa", "")
        .set("programme", "connect-to-work")
        .set("eligibility_group", "disability")
        .set("referral_date", "2026-01-05")
        .set("start_date", "2026-02-01")
        .set("childcare_barrier", "yes")
}

/// The columns a reader names in its error, sorted.
fn named(result: Result<impl Sized, Invalid>) -> Vec<String> {
    let mut fields: Vec<String> = match result {
        Ok(_) => vec![],
        Err(Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
    };
    fields.sort();
    fields
}

#[test]
fn a_complete_participant_row_reads() {
    let input = ParticipantInput::from_columns(&participant()).unwrap();
    assert_eq!(
        input.start_date.map(|d| d.to_string()),
        Some("2026-02-01".into())
    );
    assert_eq!(input.first_earnings_date, None);
}

#[test]
fn every_bad_column_is_named_at_once() {
    let row = participant()
        .set("date_of_birth", "02/04/1990")
        .set("sex", "f")
        .set("programme", "")
        .set("childcare_barrier", "perhaps");
    assert_eq!(
        named(ParticipantInput::from_columns(&row)),
        ["childcare_barrier", "date_of_birth", "programme", "sex"]
    );
}

#[test]
fn errors_never_repeat_the_value() {
    let row = participant().set("date_of_birth", "Ada Example");
    let err = ParticipantInput::from_columns(&row)
        .unwrap_err()
        .to_string();
    assert!(!err.contains("Ada"), "{err}");
}

#[test]
fn offers_read_with_money_in_pounds() {
    let row = ColumnMap::new()
        .set("age_band", "3-4")
        .set("days", "Mon-Fri")
        .set("opens", "08:00")
        .set("closes", "18:00")
        .set("term_time_only", "no")
        .set("capacity", "24")
        .set("vacancies", "3")
        .set("funded", "universal-15;working-parent")
        .set("fee_per_hour", "8.50");
    let offer = OfferInput::from_columns(&row).unwrap();
    assert_eq!(offer.fee_per_hour_pence, 850);
    assert_eq!(offer.funded.len(), 2);
    assert_eq!(
        named(OfferInput::from_columns(&row.set("capacity", "lots"))),
        ["capacity"]
    );
}

#[test]
fn a_read_row_derives_a_shareable_record() {
    let key = LinkageKey::from_bytes([7; 32]);
    let ctx = DeriveContext {
        own_borough: GssCode::parse("E09000023").unwrap(),
        key: &key,
        today: time::macros::date!(2026 - 11 - 23),
    };
    // A live Lewisham postcode: the lookup places it, no LSOA needed.
    let row = participant().set("postcode", "se6 1aa");
    let input = ParticipantInput::from_columns(&row).unwrap();
    let record = crate::EmploymentParticipation::derive(&input, &ctx).unwrap();
    assert_eq!(record.resident_borough, ctx.own_borough);
    assert_eq!(record.referral.to_string(), "2026-01");
}

/// Wraps a row and records every column name a reader asks it for.
struct Recording<'a> {
    row: &'a ColumnMap,
    asked: std::cell::RefCell<Vec<String>>,
}

impl Columns for Recording<'_> {
    fn column(&self, name: &str) -> Option<&str> {
        self.asked.borrow_mut().push(name.to_string());
        self.row.column(name)
    }
}

/// A good value for every input column, so a reader reads each one.
fn good(name: &str) -> &'static str {
    match name {
        "provider_urn" => "EY123456",
        "provider_type" => "non-domestic",
        "ofsted_grade" => "good",
        "postcode" => "SE6 1AA",
        "lsoa" => "E01003189",
        "lat" => "51.44",
        "long" => "-0.02",
        "send_support" | "accepts_out_of_borough" | "term_time_only" | "childcare_barrier" => "no",
        "admission_priorities" => "looked-after",
        "age_band" => "3-4",
        "days" => "Mon-Fri",
        "opens" => "08:00",
        "closes" => "18:00",
        "capacity" => "24",
        "vacancies" => "3",
        "funded" => "universal-15",
        "fee_per_hour" | "max_fee_per_hour" => "8.50",
        "parent_ni_number" | "ni_number" => "AB123456C",
        "child_date_of_birth" => "2023-05-10",
        "date_of_birth" => "1990-04-02",
        "request_date" | "referral_date" => "2026-01-05",
        "start_term" => "2026-autumn",
        "entitlement" => "universal-15",
        "hmrc_eligibility_code" => "50000000001",
        "send_need" => "none",
        "priorities" => "sibling",
        "preferences" => "EY123456",
        "max_distance_km" => "2.5",
        "sex" => "female",
        "programme" => "restart",
        "eligibility_group" => "disability",
        "start_date" | "first_earnings_date" | "job_outcome_date" | "sustained_date" => {
            "2026-02-01"
        }
        _ => "Some Text",
    }
}

/// The names `read` asks for when every column of `list` holds a good value, after
/// checking it reads such a row without a problem.
fn names_read<T>(
    list: &[&str],
    read: impl FnOnce(&dyn Columns) -> Result<T, Invalid>,
) -> std::collections::BTreeSet<String> {
    let row = list
        .iter()
        .fold(ColumnMap::new(), |row, name| row.set(name, good(name)));
    let recording = Recording {
        row: &row,
        asked: Default::default(),
    };
    let problems = named(read(&recording));
    assert!(problems.is_empty(), "{list:?}: {problems:?}");
    recording.asked.into_inner().into_iter().collect()
}

#[test]
fn each_reader_reads_exactly_its_listed_columns() {
    let set = |list: &[&str]| -> std::collections::BTreeSet<String> {
        list.iter().map(|n| n.to_string()).collect()
    };
    for (list, read) in [
        (
            &PROVIDER_COLUMNS[..],
            names_read(&PROVIDER_COLUMNS, |r| {
                ProviderInput::from_columns(r, Vec::new())
            }),
        ),
        (
            &OFFER_COLUMNS[..],
            names_read(&OFFER_COLUMNS, OfferInput::from_columns),
        ),
        (
            &REQUEST_COLUMNS[..],
            names_read(&REQUEST_COLUMNS, RequestInput::from_columns),
        ),
        (
            &PARTICIPANT_COLUMNS[..],
            names_read(&PARTICIPANT_COLUMNS, ParticipantInput::from_columns),
        ),
    ] {
        assert_eq!(set(list).len(), list.len(), "a name listed twice: {list:?}");
        assert_eq!(read, set(list));
    }
}

#[test]
fn a_csv_header_is_local_ref_then_the_input_columns() {
    let places: Vec<&str> = [LOCAL_REF]
        .iter()
        .chain(&PROVIDER_COLUMNS)
        .chain(&OFFER_COLUMNS)
        .copied()
        .collect();
    assert_eq!(csv_columns(Dataset::ChildcarePlaces), places);
    assert_eq!(
        csv_columns(Dataset::ChildcareRequests),
        [&[LOCAL_REF][..], &REQUEST_COLUMNS].concat()
    );
    assert_eq!(
        csv_columns(Dataset::EmploymentParticipation),
        [&[LOCAL_REF][..], &PARTICIPANT_COLUMNS].concat()
    );
    for dataset in Dataset::ALL {
        let header = csv_columns(dataset);
        let distinct: std::collections::BTreeSet<_> = header.iter().collect();
        assert_eq!(distinct.len(), header.len(), "{dataset}");
    }
}

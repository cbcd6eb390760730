use super::*;
use crate::{DeriveContext, GssCode, LinkageKey};

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

//! Medians: the middle value over at least the threshold of providers or
//! families, rounded, released exactly where the count of those providers or
//! families is, and never in a private answer.

use borough_model::{
    AgeBand, ChildcarePlace, Dataset, FundedEntitlement, Offer, OfstedGrade, ProviderType,
    SessionPattern,
};
use borough_proto::Payload;
use proptest::prelude::*;

use super::childcare::{childcare_request, location, place, send};
use super::{key, month, origin, request};
use crate::{Analytics, Dimension, DisclosureControl, Error, Figure, Measure, MedianOf, Query};

const FEE: Measure = Measure::Median {
    of: MedianOf::FeePerHour,
};

/// A childminder in origin `o`'s borough with one offer at `fee` pence an hour.
fn childminder(o: usize, fee: u32) -> ChildcarePlace {
    ChildcarePlace {
        provider_urn: None,
        provider_type: ProviderType::Childminder,
        ofsted_grade: OfstedGrade::Good,
        borough: origin(o),
        location: location(ProviderType::Childminder),
        offers: vec![Offer {
            age_band: AgeBand::Two,
            pattern: SessionPattern {
                days: 0b11111,
                start_minute: 480,
                end_minute: 1080,
                term_time_only: false,
            },
            capacity: 3,
            vacancies: 1,
            funded: vec![FundedEntitlement::WorkingParent],
            fee_per_hour_pence: fee,
        }],
        send_support: false,
        accepts_out_of_borough: true,
        admission_priorities: vec![],
    }
}

fn fees_by_borough(analytics: &Analytics) -> Vec<(Option<u32>, Figure)> {
    let query = Query {
        dataset: Dataset::ChildcarePlaces,
        measures: vec![FEE],
        group_by: vec![Dimension::ProviderBorough],
        filters: vec![],
    };
    let released = analytics.answer(&query, month(40)).expect("answered");
    released
        .rows()
        .iter()
        .map(|r| (r.codes[0], r.figures[0]))
        .collect()
}

#[test]
fn a_median_fee_is_the_middle_of_at_least_the_threshold_of_providers_rounded_to_10p() {
    let analytics = Analytics::new(key(), DisclosureControl::default());
    // Twelve providers in origin 0's borough at £8.00 to £13.50 an hour: the
    // middle two are £10.50 and £11.00, so the median is 1075p, released as
    // 1080p. Four in origin 1's borough: too few to release.
    for i in 0..12u8 {
        let place = childminder(0, 800 + 50 * u32::from(i));
        send(
            &analytics,
            Dataset::ChildcarePlaces,
            0,
            i,
            Some(Payload::ChildcarePlace(place)),
        );
    }
    for i in 0..4u8 {
        let place = childminder(1, 900);
        send(
            &analytics,
            Dataset::ChildcarePlaces,
            1,
            i,
            Some(Payload::ChildcarePlace(place)),
        );
    }
    let figures = fees_by_borough(&analytics);
    let of = |o: Option<usize>| {
        figures
            .iter()
            .find(|(code, _)| *code == o.map(|o| crate::dimension::borough_code(origin(o))))
            .map(|(_, f)| *f)
            .expect("a row")
    };
    assert_eq!(of(Some(0)), Figure::Count(1080));
    assert_eq!(of(Some(1)), Figure::Suppressed);
    // The total is over all sixteen: 800, 850, five at 900, 950, 1000 … 1350;
    // the middle two are 950 and 1000.
    assert_eq!(of(None), Figure::Count(980));
}

#[test]
fn parents_who_gave_no_maximum_are_left_out_of_its_median() {
    let analytics = Analytics::new(key(), DisclosureControl::default());
    for i in 0..20u8 {
        let mut r = request(Some(i));
        r.max_distance_m = (i < 10).then_some(1_000 + 100 * u32::from(i));
        send(
            &analytics,
            Dataset::ChildcareRequests,
            0,
            i,
            Some(Payload::ChildcareRequest(r)),
        );
    }
    let query = Query {
        dataset: Dataset::ChildcareRequests,
        measures: vec![
            Measure::Families,
            Measure::Median {
                of: MedianOf::MaxDistance,
            },
        ],
        group_by: vec![],
        filters: vec![],
    };
    let released = analytics.answer(&query, month(40)).expect("answered");
    // Ten families gave 1000..=1900 m: the median is 1450 m, released as 1500 m.
    assert_eq!(released.rows()[0].figures[1], Figure::Count(1500));
}

#[test]
fn medians_have_no_private_form() {
    let analytics = Analytics::new(key(), DisclosureControl::default());
    let query = Query {
        dataset: Dataset::ChildcarePlaces,
        measures: vec![Measure::Providers, FEE],
        group_by: vec![],
        filters: vec![],
    };
    assert_eq!(
        analytics.private_sensitivity(&query),
        Err(Error::NotPrivate {
            measure: "median-fee-per-hour-pence".into()
        })
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// A median tells no more than its providers count: it is a number exactly
    /// where the count is (after primary and secondary suppression), so a
    /// suppressed count cannot be learnt from its median's presence.
    #[test]
    fn a_median_is_released_exactly_where_its_providers_count_is(
        places in proptest::collection::vec((0usize..3, place()), 1..120),
        by in proptest::sample::select(vec![
            Dimension::ProviderBorough,
            Dimension::ProviderType,
            Dimension::OfstedGrade,
        ]),
    ) {
        let analytics = Analytics::new(key(), DisclosureControl::default());
        for (i, (o, place)) in places.into_iter().enumerate() {
            send(&analytics, Dataset::ChildcarePlaces, o, i as u8, Some(Payload::ChildcarePlace(place)));
        }
        let query = Query {
            dataset: Dataset::ChildcarePlaces,
            measures: vec![Measure::Providers, FEE],
            group_by: vec![by],
            filters: vec![],
        };
        let released = analytics.answer(&query, month(40)).expect("answered");
        for row in released.rows() {
            let count_released = matches!(row.figures[0], Figure::Count(_));
            let median_released = matches!(row.figures[1], Figure::Count(_));
            prop_assert_eq!(count_released, median_released, "{:?}", row);
        }
    }

    /// The same for families: a median of what parents gave is released
    /// exactly where the families count is, though not every family gave one.
    #[test]
    fn a_request_median_is_released_exactly_where_its_families_count_is(
        requests in proptest::collection::vec((0usize..3, childcare_request()), 1..150),
        by in proptest::sample::select(vec![
            Dimension::HomeBorough,
            Dimension::ChildAgeBand,
            Dimension::Session,
        ]),
    ) {
        let analytics = Analytics::new(key(), DisclosureControl::default());
        for (i, (o, request)) in requests.into_iter().enumerate() {
            send(&analytics, Dataset::ChildcareRequests, o, i as u8, Some(Payload::ChildcareRequest(request)));
        }
        let query = Query {
            dataset: Dataset::ChildcareRequests,
            measures: vec![Measure::Families, Measure::Median { of: MedianOf::MaxDistance }],
            group_by: vec![by],
            filters: vec![],
        };
        let released = analytics.answer(&query, month(40)).expect("answered");
        for row in released.rows() {
            if matches!(row.figures[1], Figure::Count(_)) {
                prop_assert!(matches!(row.figures[0], Figure::Count(_)), "{:?}", row);
            }
        }
    }
}

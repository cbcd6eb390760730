//! Childcare figures against a brute-force count: random provider records and
//! requests put and removed across three origins, random place and request
//! queries, compared before disclosure control.

use std::collections::{BTreeMap, BTreeSet};

use borough_model::{
    AgeBand, ChildcarePlace, ChildcareRequest, Dataset, FundedEntitlement, GridCell, GssCode,
    Location, Offer, OfstedGrade, ProviderType, Pseudonym, RecordId, SendNeed, SessionPattern,
};
use borough_proto::Payload;
use borough_store::{Observer, RecordChange};
use proptest::prelude::*;

use super::{engine_cells, key, origin, request, Cells};
use crate::dimension::{borough_code, enum_index, month_index, sub_region_of_borough};
use crate::query::{Count, MedianOf};
use crate::{Analytics, Dimension, DisclosureControl, Error, Measure, Query};

const BOROUGHS: [&str; 5] = [
    "E09000022",
    "E09000028",
    "E09000023",
    "E09000001",
    "E09000012",
];

prop_compose! {
    fn offer()(
        age in 0usize..4,
        term_time_only in any::<bool>(),
        capacity in 1u32..40,
        free in 0u32..40,
        funded in proptest::collection::btree_set(0usize..3, 0..3),
        fee_per_hour_pence in 0u32..2000,
        hours in 2u16..11,
    ) -> Offer {
        Offer {
            age_band: AgeBand::ALL[age],
            pattern: SessionPattern {
                days: 0b11111,
                start_minute: 8 * 60,
                end_minute: (8 + hours) * 60,
                term_time_only,
            },
            capacity,
            vacancies: free.min(capacity),
            funded: funded
                .into_iter()
                .map(|f| FundedEntitlement::ALL[f])
                .filter(|f| f.applies_to(AgeBand::ALL[age]))
                .collect(),
            fee_per_hour_pence,
        }
    }
}

prop_compose! {
    pub(super) fn place()(
        provider_type in 0usize..4,
        ofsted in 0usize..5,
        borough in 0usize..5,
        send_support in any::<bool>(),
        offers in proptest::collection::vec(offer(), 1..4),
    ) -> ChildcarePlace {
        let provider_type = ProviderType::ALL[provider_type];
        ChildcarePlace {
            provider_urn: None,
            provider_type,
            ofsted_grade: OfstedGrade::ALL[ofsted],
            borough: GssCode::parse(BOROUGHS[borough]).unwrap(),
            location: location(provider_type),
            offers,
            send_support,
            accepts_out_of_borough: true,
            admission_priorities: vec![],
        }
    }
}

prop_compose! {
    pub(super) fn childcare_request()(
        parent in proptest::option::of(0u8..20),
        family in proptest::option::of(20u8..30),
        home in 0usize..5,
        age_months in 0u16..80,
        term_time_only in any::<bool>(),
        send in 0usize..SendNeed::ALL.len(),
        entitlement in proptest::option::of(0usize..3),
        max_distance_m in proptest::option::of(1u32..20_000),
        max_fee_pence in proptest::option::of(0u32..1500),
        hours in 2u16..11,
    ) -> ChildcareRequest {
        let mut r = request(parent);
        r.family_link = family.map(|f| Pseudonym::from_bytes([f; 32]));
        r.home_borough = GssCode::parse(BOROUGHS[home]).unwrap();
        r.child_age_months = age_months;
        r.pattern.term_time_only = term_time_only;
        r.pattern.end_minute = r.pattern.start_minute + hours * 60;
        r.send_need = SendNeed::ALL[send];
        r.entitlement = entitlement.map(|e| FundedEntitlement::ALL[e]);
        r.max_distance_m = max_distance_m;
        r.max_fee_pence = max_fee_pence;
        if r.validate().is_err() {
            // An entitlement the child is too young or too old for.
            r.entitlement = None;
        }
        assert_eq!(r.validate(), Ok(()));
        r
    }
}

/// A valid location for a provider of `kind`: home-based ones by grid cell.
pub(super) fn location(kind: ProviderType) -> Location {
    if kind.is_home_based() {
        Location::Cell(GridCell::containing(51.47, -0.11))
    } else {
        Location::Exact {
            lat: 51.47,
            long: -0.11,
        }
    }
}

#[derive(Debug, Clone)]
enum Step {
    Place {
        origin: usize,
        id: u8,
        place: ChildcarePlace,
    },
    Unplace {
        origin: usize,
        id: u8,
    },
    Request {
        origin: usize,
        id: u8,
        request: ChildcareRequest,
    },
    Unrequest {
        origin: usize,
        id: u8,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0usize..3, 0u8..20, place()).prop_map(|(origin, id, place)| Step::Place { origin, id, place }),
        1 => (0usize..3, 0u8..20).prop_map(|(origin, id)| Step::Unplace { origin, id }),
        3 => (0usize..3, 0u8..20, childcare_request())
            .prop_map(|(origin, id, request)| Step::Request { origin, id, request }),
        1 => (0usize..3, 0u8..20).prop_map(|(origin, id)| Step::Unrequest { origin, id }),
    ]
}

fn places_query() -> impl Strategy<Value = Query> {
    let dims = [
        Dimension::ProviderBorough,
        Dimension::ProviderSubRegion,
        Dimension::ProviderType,
        Dimension::OfstedGrade,
        Dimension::SendSupport,
        Dimension::ChildAgeBand,
        Dimension::TermTimeOnly,
        Dimension::Session,
    ];
    let measures = [
        Measure::Providers,
        Measure::Places,
        Measure::Vacancies,
        Measure::FundedPlaces { entitlement: None },
        Measure::FundedPlaces {
            entitlement: Some(FundedEntitlement::Universal15Hours),
        },
        Measure::FundedPlaces {
            entitlement: Some(FundedEntitlement::WorkingParent),
        },
        Measure::Median {
            of: MedianOf::FeePerHour,
        },
    ];
    query_over(Dataset::ChildcarePlaces, dims.to_vec(), measures.to_vec())
}

fn requests_query() -> impl Strategy<Value = Query> {
    let dims = [
        Dimension::HomeBorough,
        Dimension::HomeSubRegion,
        Dimension::ChildAgeBand,
        Dimension::TermTimeOnly,
        Dimension::Session,
        Dimension::SendNeed,
        Dimension::Entitlement,
    ];
    query_over(
        Dataset::ChildcareRequests,
        dims.to_vec(),
        vec![
            Measure::Requests,
            Measure::Families,
            Measure::Median {
                of: MedianOf::MaxFeePerHour,
            },
            Measure::Median {
                of: MedianOf::MaxDistance,
            },
        ],
    )
}

fn query_over(
    dataset: Dataset,
    dims: Vec<Dimension>,
    measures: Vec<Measure>,
) -> impl Strategy<Value = Query> {
    (
        proptest::sample::subsequence(measures, 1..=2),
        proptest::sample::subsequence(dims.clone(), 0..=2).prop_shuffle(),
        proptest::option::of((proptest::sample::select(dims), 0u32..3)),
    )
        .prop_map(move |(measures, group_by, filter)| Query {
            dataset,
            measures,
            group_by,
            filters: filter
                .map(|(dimension, code)| crate::Filter {
                    dimension,
                    codes: vec![code, code + 1],
                })
                .into_iter()
                .collect(),
        })
}

/// Hours a day a session pattern covers, in whole hours.
fn hours_of(p: &SessionPattern) -> u16 {
    (p.end_minute - p.start_minute) / 60
}

/// One row of the brute force: what it is about, that subject's record key,
/// its code per dimension, what it adds to a count, and the values it gives
/// medians.
struct Row {
    subject: String,
    key: u8,
    codes: BTreeMap<&'static str, u32>,
    weight: Box<dyn Fn(Count) -> u64>,
    value: Box<dyn Fn(MedianOf) -> Option<u32>>,
}

fn dim_key(d: Dimension) -> &'static str {
    match d {
        Dimension::ProviderBorough | Dimension::HomeBorough => "borough",
        Dimension::ProviderSubRegion | Dimension::HomeSubRegion => "sub-region",
        Dimension::ProviderType => "type",
        Dimension::OfstedGrade => "ofsted",
        Dimension::SendSupport => "send-support",
        Dimension::ChildAgeBand => "age",
        Dimension::TermTimeOnly => "term-time",
        Dimension::Session => "session",
        Dimension::SendNeed => "send-need",
        Dimension::Entitlement => "entitlement",
        other => panic!("{other} is not a childcare dimension"),
    }
}

fn place_rows(places: &BTreeMap<(usize, u8), ChildcarePlace>) -> Vec<Row> {
    let k = key();
    let mut rows = Vec::new();
    for ((o, id), p) in places {
        let subject = format!("provider|{}|r{id}", origin(*o));
        let borough = borough_code(p.borough);
        for offer in &p.offers {
            let (capacity, vacancies, funded) =
                (offer.capacity, offer.vacancies, offer.funded.clone());
            let fee = offer.fee_per_hour_pence;
            rows.push(Row {
                key: k.record_key(subject.as_bytes()),
                subject: subject.clone(),
                codes: BTreeMap::from([
                    ("borough", borough),
                    ("sub-region", sub_region_of_borough(borough)),
                    ("type", enum_index(p.provider_type, ProviderType::ALL)),
                    ("ofsted", enum_index(p.ofsted_grade, OfstedGrade::ALL)),
                    ("send-support", u32::from(p.send_support)),
                    ("age", enum_index(offer.age_band, AgeBand::ALL)),
                    ("term-time", u32::from(offer.pattern.term_time_only)),
                    ("session", u32::from(hours_of(&offer.pattern) >= 4)),
                ]),
                weight: Box::new(move |c| {
                    u64::from(match c {
                        Count::Providers => 1,
                        Count::Places => capacity,
                        Count::Vacancies => vacancies,
                        Count::FundedPlaces { entitlement: None } if !funded.is_empty() => capacity,
                        Count::FundedPlaces {
                            entitlement: Some(e),
                        } if funded.contains(&e) => capacity,
                        _ => 0,
                    })
                }),
                value: Box::new(move |of| (of == MedianOf::FeePerHour).then_some(fee)),
            });
        }
    }
    rows
}

fn request_rows(requests: &BTreeMap<(usize, u8), ChildcareRequest>) -> Vec<Row> {
    let k = key();
    requests
        .iter()
        .map(|((o, id), r)| {
            let (subject, key) = match r.family_link.or(r.parent_pseudonym) {
                Some(p) => (format!("{:?}", p.as_bytes()), k.record_key(p.as_bytes())),
                None => {
                    let s = format!("request|{}|r{id}", origin(*o));
                    let key = k.record_key(s.as_bytes());
                    (s, key)
                }
            };
            let age = match r.child_age_months {
                0..=23 => AgeBand::Under2,
                24..=35 => AgeBand::Two,
                36..=59 => AgeBand::ThreeToFour,
                _ => AgeBand::SchoolAge,
            };
            let borough = borough_code(r.home_borough);
            Row {
                subject,
                key,
                codes: BTreeMap::from([
                    ("borough", borough),
                    ("sub-region", sub_region_of_borough(borough)),
                    ("age", enum_index(age, AgeBand::ALL)),
                    ("term-time", u32::from(r.pattern.term_time_only)),
                    ("session", u32::from(hours_of(&r.pattern) >= 4)),
                    ("send-need", enum_index(r.send_need, SendNeed::ALL)),
                    (
                        "entitlement",
                        r.entitlement
                            .map_or(FundedEntitlement::ALL.len() as u32, |e| {
                                enum_index(e, FundedEntitlement::ALL)
                            }),
                    ),
                ]),
                weight: Box::new(|c| u64::from(matches!(c, Count::Requests | Count::Families))),
                value: {
                    let (fee, distance) = (r.max_fee_pence, r.max_distance_m);
                    Box::new(move |of| match of {
                        MedianOf::MaxFeePerHour => fee,
                        MedianOf::MaxDistance => distance,
                        MedianOf::FeePerHour => None,
                    })
                },
            }
        })
        .collect()
}

/// One cell as the brute force accumulates it: its value, the subjects
/// counted, the sum of their record keys, and (for a median) every value.
type NaiveCell = (u64, BTreeSet<String>, u64, Vec<u32>);

/// The table by brute force, in [`engine_cells`]' shape.
fn naive(rows: &[Row], query: &Query) -> Cells {
    let counts: Vec<Count> = query.measures.iter().flat_map(|m| m.counts()).collect();
    let mut groups: BTreeMap<Vec<Option<u32>>, Vec<NaiveCell>> = BTreeMap::new();
    for (ci, &count) in counts.iter().enumerate() {
        for row in rows {
            let (weight, value) = match count {
                Count::Median { of } => ((row.value)(of).map_or(0, |_| 1), (row.value)(of)),
                _ => ((row.weight)(count), None),
            };
            let kept = query
                .filters
                .iter()
                .all(|f| f.codes.contains(&row.codes[dim_key(f.dimension)]));
            if weight == 0 || !kept {
                continue;
            }
            let codes: Vec<Option<u32>> = query
                .group_by
                .iter()
                .map(|&d| Some(row.codes[dim_key(d)]))
                .collect();
            let mut keys = vec![codes.clone()];
            if !codes.is_empty() {
                let mut total = codes;
                total[0] = None;
                keys.push(total);
            }
            for g in keys {
                let cells = groups
                    .entry(g)
                    .or_insert_with(|| vec![(0, BTreeSet::new(), 0, Vec::new()); counts.len()]);
                let cell = &mut cells[ci];
                let new = cell.1.insert(row.subject.clone());
                if let Some(v) = value {
                    cell.3.push(v);
                } else if !count.is_distinct() {
                    cell.0 += weight;
                    cell.2 += u64::from(row.key);
                } else if new {
                    cell.0 += 1;
                    cell.2 += u64::from(row.key);
                }
            }
        }
    }
    groups
        .into_iter()
        .map(|(g, cells)| {
            let cells = cells
                .into_iter()
                .zip(&counts)
                .map(|((v, s, k, mut values), count)| match count {
                    // A median: the middle value, or the mean of the middle two
                    // rounded down; no cell key.
                    Count::Median { .. } => {
                        values.sort_unstable();
                        let n = values.len();
                        let m = match n {
                            0 => 0,
                            _ if n % 2 == 1 => u64::from(values[n / 2]),
                            _ => (u64::from(values[n / 2 - 1]) + u64::from(values[n / 2])) / 2,
                        };
                        (m, s.len() as u64, 0)
                    }
                    _ => (v, s.len() as u64, (k % 256) as u8),
                })
                .collect();
            (g, cells)
        })
        .collect()
}

pub(super) fn send(
    analytics: &Analytics,
    dataset: Dataset,
    o: usize,
    id: u8,
    payload: Option<Payload>,
) {
    match &payload {
        Some(Payload::ChildcarePlace(p)) => assert_eq!(p.validate(), Ok(())),
        Some(Payload::ChildcareRequest(r)) => assert_eq!(r.validate(), Ok(())),
        _ => {}
    }
    let rid = RecordId::parse(&format!("r{id}")).unwrap();
    let bytes = payload.map(|p| p.encode());
    analytics.records_changed(
        dataset,
        origin(o),
        &[RecordChange {
            id: &rid,
            payload: bytes.as_deref(),
        }],
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_childcare_figure_equals_a_brute_force_count_before_disclosure_control(
        steps in proptest::collection::vec(step(), 1..80),
        place_queries in proptest::collection::vec(places_query(), 1..3),
        request_queries in proptest::collection::vec(requests_query(), 1..3),
    ) {
        let analytics = Analytics::new(key(), DisclosureControl::default());
        let mut places = BTreeMap::new();
        let mut requests = BTreeMap::new();
        for step in steps {
            match step {
                Step::Place { origin, id, place } => {
                    send(&analytics, Dataset::ChildcarePlaces, origin, id, Some(Payload::ChildcarePlace(place.clone())));
                    places.insert((origin, id), place);
                }
                Step::Unplace { origin, id } => {
                    send(&analytics, Dataset::ChildcarePlaces, origin, id, None);
                    places.remove(&(origin, id));
                }
                Step::Request { origin, id, request } => {
                    send(&analytics, Dataset::ChildcareRequests, origin, id, Some(Payload::ChildcareRequest(request.clone())));
                    requests.insert((origin, id), request);
                }
                Step::Unrequest { origin, id } => {
                    send(&analytics, Dataset::ChildcareRequests, origin, id, None);
                    requests.remove(&(origin, id));
                }
            }
        }
        let as_of = month_index(super::month(40));
        let rows = place_rows(&places);
        for q in &place_queries {
            prop_assert_eq!(engine_cells(&analytics, q, as_of), naive(&rows, q), "{:?}", q);
        }
        let rows = request_rows(&requests);
        for q in &request_queries {
            prop_assert_eq!(engine_cells(&analytics, q, as_of), naive(&rows, q), "{:?}", q);
        }
        prop_assert_eq!(analytics.size().childcare_providers, places.len());
        prop_assert_eq!(analytics.size().childcare_requests, requests.len());
        let parents: BTreeSet<_> = requests.values().filter_map(|r| r.parent_pseudonym).collect();
        prop_assert_eq!(analytics.size().persons, parents.len());
    }
}

#[test]
fn two_requests_for_one_family_are_two_requests_and_one_family() {
    let analytics = Analytics::new(key(), DisclosureControl::default());
    for id in 0..2 {
        let mut r = request(Some(3));
        r.family_link = Some(Pseudonym::from_bytes([99; 32]));
        send(
            &analytics,
            Dataset::ChildcareRequests,
            id,
            id as u8,
            Some(Payload::ChildcareRequest(r)),
        );
    }
    let query = Query {
        dataset: Dataset::ChildcareRequests,
        measures: vec![Measure::Requests, Measure::Families],
        group_by: vec![],
        filters: vec![],
    };
    let cells = engine_cells(&analytics, &query, month_index(super::month(40)));
    let total: Vec<u64> = cells[&vec![]].iter().map(|c| c.0).collect();
    assert_eq!(total, vec![2, 1]);
}

#[test]
fn places_have_no_private_form() {
    let analytics = Analytics::new(key(), DisclosureControl::default());
    let query = Query {
        dataset: Dataset::ChildcarePlaces,
        measures: vec![Measure::Providers, Measure::Vacancies],
        group_by: vec![Dimension::ProviderBorough],
        filters: vec![],
    };
    let err = analytics.private_sensitivity(&query).unwrap_err();
    assert_eq!(
        err,
        Error::NotPrivate {
            measure: "vacancies".into()
        }
    );
    let mut rng = rand::rng();
    let asked = analytics.answer_private(&query, super::month(40), 100_000, &mut rng);
    assert!(matches!(asked, Err(Error::NotPrivate { .. })));
}

#[test]
fn a_provider_is_counted_once_however_many_offers_it_has() {
    let analytics = Analytics::new(key(), DisclosureControl::default());
    let offer = |age, capacity| Offer {
        age_band: age,
        pattern: SessionPattern {
            days: 0b11111,
            start_minute: 480,
            end_minute: 1080,
            term_time_only: false,
        },
        capacity,
        vacancies: 1,
        funded: vec![FundedEntitlement::WorkingParent],
        fee_per_hour_pence: 900,
    };
    let place = ChildcarePlace {
        provider_urn: None,
        provider_type: ProviderType::Childminder,
        ofsted_grade: OfstedGrade::Good,
        borough: origin(0),
        location: location(ProviderType::Childminder),
        offers: vec![offer(AgeBand::Two, 4), offer(AgeBand::ThreeToFour, 6)],
        send_support: false,
        accepts_out_of_borough: true,
        admission_priorities: vec![],
    };
    send(
        &analytics,
        Dataset::ChildcarePlaces,
        0,
        1,
        Some(Payload::ChildcarePlace(place)),
    );
    let query = Query {
        dataset: Dataset::ChildcarePlaces,
        measures: vec![Measure::Providers, Measure::Places, Measure::Vacancies],
        group_by: vec![],
        filters: vec![],
    };
    let cells = engine_cells(&analytics, &query, month_index(super::month(40)));
    let total: Vec<u64> = cells[&vec![]].iter().map(|c| c.0).collect();
    assert_eq!(total, vec![1, 10, 2]);
}

//! The engine against a brute-force count over the same records: random records,
//! random changes (updates, deletes, removals as erasure and purges make them)
//! and random queries, compared before disclosure control.

use std::collections::{BTreeMap, BTreeSet};

use borough_model::{
    AdultAgeBand, Borough, EligibilityGroup, EmploymentParticipation, GssCode, Month,
    PerturbationKey, Programme, Pseudonym, RecordId, Sex,
};
use borough_proto::Payload;
use borough_store::{Observer, RecordChange};
use proptest::prelude::*;

use super::*;

mod childcare;
mod median;
use crate::dimension::{borough_code, enum_index, month_index, sub_region_of_borough};
use crate::query::Count;

fn key() -> PerturbationKey {
    PerturbationKey::from_bytes([7; 32])
}

fn month(i: u32) -> Month {
    // Months from January 2023 on.
    Month::new(2023 + (i / 12) as i32, (i % 12) as u8 + 1).unwrap()
}

fn origin(i: usize) -> GssCode {
    [
        GssCode::parse("E09000022").unwrap(),
        GssCode::parse("E09000028").unwrap(),
        GssCode::parse("E09000023").unwrap(),
    ][i % 3]
}

prop_compose! {
    fn record()(
        person in 0u8..40,
        programme in 0usize..4,
        resident in 0usize..5,
        eligibility in 0usize..3,
        age in 0usize..5,
        sex in 0usize..3,
        barrier in any::<bool>(),
        referral in 0u32..30,
        gaps in proptest::collection::vec(0u32..8, 4),
        reached in 0usize..5,
        origin_index in 0usize..3,
    ) -> EmploymentParticipation {
        let residents = ["E09000022", "E09000028", "E09000023", "E09000001", "E09000012"];
        let mut stage = referral;
        let mut next = |i: usize| {
            stage += gaps[i];
            (reached > i).then(|| month(stage))
        };
        let start = next(0);
        let first_earnings = next(1);
        let job_outcome = next(2);
        let sustained = next(3);
        EmploymentParticipation {
            participant: Pseudonym::from_bytes([person; 32]),
            programme: Programme::ALL[programme],
            delivering_borough: origin(origin_index),
            resident_borough: GssCode::parse(residents[resident]).unwrap(),
            eligibility: EligibilityGroup::ALL[eligibility],
            age_band: AdultAgeBand::ALL[age],
            sex: Sex::ALL[sex],
            referral: month(referral),
            start,
            first_earnings,
            job_outcome,
            sustained,
            childcare_barrier: barrier,
        }
    }
}

fn dimension() -> impl Strategy<Value = Dimension> {
    prop_oneof![
        Just(Dimension::ResidentBorough),
        Just(Dimension::DeliveringBorough),
        Just(Dimension::ResidentSubRegion),
        Just(Dimension::Programme),
        Just(Dimension::EligibilityGroup),
        Just(Dimension::AgeBand),
        Just(Dimension::Sex),
        Just(Dimension::ChildcareBarrier),
        Just(Dimension::Period {
            stage: None,
            grain: Grain::Month
        }),
        Just(Dimension::Period {
            stage: None,
            grain: Grain::Quarter
        }),
        Just(Dimension::Period {
            stage: Some(Stage::Start),
            grain: Grain::Month
        }),
        Just(Dimension::Period {
            stage: Some(Stage::Referral),
            grain: Grain::FinancialYear
        }),
    ]
}

fn measure() -> impl Strategy<Value = Measure> {
    prop_oneof![
        Just(Measure::Referrals),
        Just(Measure::Starts),
        Just(Measure::FirstEarnings),
        Just(Measure::JobOutcomes),
        Just(Measure::SustainedOutcomes),
        prop_oneof![
            Just(Who::Everyone),
            Just(Who::ChildcareBarrier),
            Just(Who::BarrierWithRequest)
        ]
        .prop_map(|who| Measure::Participants { who }),
        (
            prop_oneof![Just(6u32), Just(12)],
            prop_oneof![Just(Who::Everyone), Just(Who::BarrierWithRequest)]
        )
            .prop_map(|(months, who)| Measure::JobOutcomeRate { months, who }),
    ]
}

prop_compose! {
    fn query()(
        measures in proptest::collection::btree_set(measure().prop_map(|m| m.name()), 1..4),
        dims in proptest::collection::vec(dimension(), 0..4),
        filter in proptest::option::of((dimension(), proptest::collection::vec(0u32..6, 1..3))),
    ) -> Query {
        let mut group_by: Vec<Dimension> = Vec::new();
        for d in dims {
            let second_period = d.is_period() && group_by.iter().any(|g| g.is_period());
            if !group_by.contains(&d) && !second_period {
                group_by.push(d);
            }
        }
        let filters = filter
            .into_iter()
            .map(|(dimension, codes)| {
                // Period codes are near the data's months; others are small indexes.
                let codes = match dimension {
                    Dimension::Period { grain, .. } => codes
                        .iter()
                        .map(|c| grain.period_of(month_index(month(c * 4))))
                        .collect(),
                    Dimension::ResidentBorough | Dimension::DeliveringBorough => codes
                        .iter()
                        .map(|c| borough_code(origin(*c as usize)))
                        .collect(),
                    _ => codes,
                };
                Filter { dimension, codes }
            })
            .collect();
        Query {
            dataset: borough_model::Dataset::EmploymentParticipation,
            measures: measures.iter().map(|m| m.parse().unwrap()).collect(),
            group_by,
            filters,
        }
    }
}

/// The code a record has for a dimension under a count, worked out directly.
fn naive_code(r: &EmploymentParticipation, dim: Dimension, count: Count) -> Option<u32> {
    Some(match dim {
        Dimension::ResidentBorough => borough_code(r.resident_borough),
        Dimension::DeliveringBorough => borough_code(r.delivering_borough),
        Dimension::ResidentSubRegion => sub_region_of_borough(borough_code(r.resident_borough)),
        Dimension::DeliveringSubRegion => sub_region_of_borough(borough_code(r.delivering_borough)),
        Dimension::Programme => enum_index(r.programme, Programme::ALL),
        Dimension::EligibilityGroup => enum_index(r.eligibility, EligibilityGroup::ALL),
        Dimension::AgeBand => enum_index(r.age_band, AdultAgeBand::ALL),
        Dimension::Sex => enum_index(r.sex, Sex::ALL),
        Dimension::ChildcareBarrier => u32::from(r.childcare_barrier),
        Dimension::Period { stage, grain } => {
            let m = match stage.unwrap_or(count.own_stage()) {
                Stage::Referral => Some(r.referral),
                Stage::Start => r.start,
                Stage::FirstEarnings => r.first_earnings,
                Stage::JobOutcome => r.job_outcome,
                Stage::Sustained => r.sustained,
            }?;
            grain.period_of(month_index(m))
        }
        _ => return None,
    })
}

fn naive_counts(
    r: &EmploymentParticipation,
    count: Count,
    as_of: u32,
    requesters: &BTreeSet<Pseudonym>,
) -> bool {
    let start = r.start.map(month_index);
    let mature = |months: u32| start.is_some_and(|s| s + months <= as_of);
    let among = |who: Who| match who {
        Who::Everyone => true,
        Who::ChildcareBarrier => r.childcare_barrier,
        Who::BarrierWithRequest => r.childcare_barrier && requesters.contains(&r.participant),
    };
    match count {
        Count::Events(Stage::Referral) => true,
        Count::Participants { who } => among(who),
        Count::Events(Stage::Start) => r.start.is_some(),
        Count::Events(Stage::FirstEarnings) => r.first_earnings.is_some(),
        Count::Events(Stage::JobOutcome) => r.job_outcome.is_some(),
        Count::Events(Stage::Sustained) => r.sustained.is_some(),
        Count::CohortStarters { months, who } => among(who) && mature(months),
        Count::CohortOutcomes { months, who } => {
            among(who)
                && mature(months)
                && r.job_outcome
                    .zip(start)
                    .is_some_and(|(j, s)| month_index(j) - s <= months)
        }
        _ => false,
    }
}

type Cells = BTreeMap<Vec<Option<u32>>, Vec<(u64, u64, u8)>>;

/// One cell being counted by brute force: value, people, sum of record keys.
type Tallied = (u64, BTreeSet<Pseudonym>, u64);

/// The whole table by brute force: per row (codes, `None` first for totals), per
/// count, (value, persons, cell key).
fn naive(
    records: &[EmploymentParticipation],
    requesters: &BTreeSet<Pseudonym>,
    query: &Query,
    as_of: u32,
) -> Cells {
    let counts: Vec<Count> = query.measures.iter().flat_map(|m| m.counts()).collect();
    let mut groups: BTreeMap<Vec<Option<u32>>, Vec<Tallied>> = BTreeMap::new();
    let k = key();
    for (ci, &count) in counts.iter().enumerate() {
        for r in records {
            if !naive_counts(r, count, as_of, requesters) {
                continue;
            }
            let kept = query
                .filters
                .iter()
                .all(|f| naive_code(r, f.dimension, count).is_some_and(|c| f.codes.contains(&c)));
            let codes: Option<Vec<Option<u32>>> = query
                .group_by
                .iter()
                .map(|&d| naive_code(r, d, count).map(Some))
                .collect();
            let (true, Some(codes)) = (kept, codes) else {
                continue;
            };
            let mut rows = vec![codes.clone()];
            if !codes.is_empty() {
                let mut total = codes.clone();
                total[0] = None;
                rows.push(total);
            }
            for row in rows {
                let cells = groups
                    .entry(row)
                    .or_insert_with(|| vec![(0, BTreeSet::new(), 0); counts.len()]);
                let cell = &mut cells[ci];
                let new = cell.1.insert(r.participant);
                if count.is_distinct() {
                    if new {
                        cell.0 += 1;
                        cell.2 += u64::from(k.record_key(r.participant.as_bytes()));
                    }
                } else {
                    cell.0 += 1;
                    cell.2 += u64::from(k.record_key(r.participant.as_bytes()));
                }
            }
        }
    }
    groups
        .into_iter()
        .map(|(row, cells)| {
            let cells = cells
                .into_iter()
                .map(|(v, p, key)| (v, p.len() as u64, (key % 256) as u8))
                .collect();
            (row, cells)
        })
        .collect()
}

/// The engine's table in the same shape as [`naive`].
fn engine_cells(analytics: &Analytics, query: &Query, as_of: u32) -> Cells {
    let state = analytics.state.read().unwrap();
    let raw = state
        .evaluate(query, as_of, engine::Mode::Controlled)
        .unwrap();
    raw.rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let cells = raw
                .cells
                .iter()
                .map(|column| (column[i].value, column[i].persons, column[i].key))
                .collect();
            (row.codes.clone(), cells)
        })
        .collect()
}

#[derive(Debug, Clone)]
enum Step {
    Put {
        origin: usize,
        id: u8,
        record: EmploymentParticipation,
    },
    Remove {
        origin: usize,
        id: u8,
    },
    /// A childcare request naming person `parent` (0..40), or no one.
    Request {
        origin: usize,
        id: u8,
        parent: Option<u8>,
    },
    Unrequest {
        origin: usize,
        id: u8,
    },
}

/// A valid childcare request whose parent is person `parent`, if any.
fn request(parent: Option<u8>) -> borough_model::ChildcareRequest {
    borough_model::ChildcareRequest {
        home_borough: origin(0),
        postcode_sector: borough_model::PostcodeSector::parse("SE11 5").unwrap(),
        grid_cell: None,
        child_age_months: 30,
        start_term: borough_model::Term::parse("2026-autumn").unwrap(),
        pattern: borough_model::SessionPattern {
            days: 0b11111,
            start_minute: 8 * 60,
            end_minute: 18 * 60,
            term_time_only: false,
        },
        entitlement: None,
        entitlement_validated: false,
        send_need: borough_model::SendNeed::None,
        priorities: Default::default(),
        preferences: vec![],
        max_distance_m: None,
        max_fee_pence: None,
        family_link: None,
        parent_pseudonym: parent.map(|p| Pseudonym::from_bytes([p; 32])),
    }
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0usize..3, 0u8..60, record()).prop_map(|(origin, id, record)| Step::Put { origin, id, record }),
        1 => (0usize..3, 0u8..60).prop_map(|(origin, id)| Step::Remove { origin, id }),
        2 => (0usize..3, 0u8..30, proptest::option::of(0u8..40))
            .prop_map(|(origin, id, parent)| Step::Request { origin, id, parent }),
        1 => (0usize..3, 0u8..30).prop_map(|(origin, id)| Step::Unrequest { origin, id }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_figure_equals_a_brute_force_count_before_disclosure_control(
        steps in proptest::collection::vec(step(), 1..120),
        queries in proptest::collection::vec(query(), 1..4),
        as_of in 10u32..45,
    ) {
        let analytics = Analytics::new(key(), DisclosureControl::default());
        let mut live: BTreeMap<(usize, u8), EmploymentParticipation> = BTreeMap::new();
        let mut requests: BTreeMap<(usize, u8), Option<u8>> = BTreeMap::new();
        for step in &steps {
            match step {
                Step::Put { origin: o, id, record } => {
                    let rid = RecordId::parse(&format!("r{id}")).unwrap();
                    let bytes = Payload::EmploymentParticipation(record.clone()).encode();
                    analytics.records_changed(
                        Dataset::EmploymentParticipation,
                        origin(*o),
                        &[RecordChange { id: &rid, payload: Some(&bytes) }],
                    );
                    live.insert((*o, *id), record.clone());
                }
                Step::Remove { origin: o, id } => {
                    let rid = RecordId::parse(&format!("r{id}")).unwrap();
                    analytics.records_changed(
                        Dataset::EmploymentParticipation,
                        origin(*o),
                        &[RecordChange { id: &rid, payload: None }],
                    );
                    live.remove(&(*o, *id));
                }
                Step::Request { origin: o, id, parent } => {
                    // The same ids as employment records: datasets never mix.
                    let rid = RecordId::parse(&format!("r{id}")).unwrap();
                    let bytes = Payload::ChildcareRequest(request(*parent)).encode();
                    analytics.records_changed(
                        Dataset::ChildcareRequests,
                        origin(*o),
                        &[RecordChange { id: &rid, payload: Some(&bytes) }],
                    );
                    requests.insert((*o, *id), *parent);
                }
                Step::Unrequest { origin: o, id } => {
                    let rid = RecordId::parse(&format!("r{id}")).unwrap();
                    analytics.records_changed(
                        Dataset::ChildcareRequests,
                        origin(*o),
                        &[RecordChange { id: &rid, payload: None }],
                    );
                    requests.remove(&(*o, *id));
                }
            }
        }
        let records: Vec<EmploymentParticipation> = live.values().cloned().collect();
        let requesters: BTreeSet<Pseudonym> = requests
            .values()
            .flatten()
            .map(|p| Pseudonym::from_bytes([*p; 32]))
            .collect();
        let as_of = month_index(month(as_of));
        for query in &queries {
            prop_assert_eq!(engine_cells(&analytics, query, as_of), naive(&records, &requesters, query, as_of), "{:?}", query);
        }
        let mut people: BTreeSet<Pseudonym> = records.iter().map(|r| r.participant).collect();
        people.extend(requesters.iter().copied());
        prop_assert_eq!(analytics.size().persons, people.len());
    }
}

#[test]
fn a_person_in_two_boroughs_and_two_programmes_is_one_participant() {
    let analytics = Analytics::new(key(), DisclosureControl::default());
    let base = EmploymentParticipation {
        participant: Pseudonym::from_bytes([1; 32]),
        programme: Programme::Restart,
        delivering_borough: origin(0),
        resident_borough: origin(0),
        eligibility: EligibilityGroup::Disability,
        age_band: AdultAgeBand::Age25To34,
        sex: Sex::Female,
        referral: month(3),
        start: None,
        first_earnings: None,
        job_outcome: None,
        sustained: None,
        childcare_barrier: true,
    };
    let other = EmploymentParticipation {
        programme: Programme::WorkAndHealth,
        delivering_borough: origin(1),
        ..base.clone()
    };
    for (o, record) in [(0, &base), (1, &other)] {
        let rid = RecordId::parse("r1").unwrap();
        let bytes = Payload::EmploymentParticipation(record.clone()).encode();
        analytics.records_changed(
            Dataset::EmploymentParticipation,
            origin(o),
            &[RecordChange {
                id: &rid,
                payload: Some(&bytes),
            }],
        );
    }
    let query = Query {
        dataset: Dataset::EmploymentParticipation,
        measures: vec![
            Measure::Referrals,
            Measure::Participants { who: Who::Everyone },
        ],
        group_by: vec![Dimension::DeliveringBorough],
        filters: vec![],
    };
    let cells = engine_cells(&analytics, &query, month_index(month(20)));
    let total = &cells[&vec![None]];
    assert_eq!(
        (total[0].0, total[1].0),
        (2, 1),
        "two referrals, one person"
    );
    let _ = Borough::all();
}

/// An analytics view over `n` people referred at Lambeth, the last of them the
/// only woman, with people keyed by `seed`.
fn women_and_men(n: u8, seed: u8) -> Analytics {
    let analytics = Analytics::new(
        PerturbationKey::from_bytes([seed; 32]),
        DisclosureControl::default(),
    );
    for i in 0..n {
        let record = EmploymentParticipation {
            participant: Pseudonym::from_bytes([i; 32]),
            programme: Programme::Restart,
            delivering_borough: origin(0),
            resident_borough: origin(i as usize % 2),
            eligibility: EligibilityGroup::Disability,
            age_band: AdultAgeBand::Age25To34,
            sex: if i + 1 == n { Sex::Female } else { Sex::Male },
            referral: month(3),
            start: None,
            first_earnings: None,
            job_outcome: None,
            sustained: None,
            childcare_barrier: false,
        };
        let rid = RecordId::parse(&format!("r{i}")).unwrap();
        let bytes = Payload::EmploymentParticipation(record).encode();
        analytics.records_changed(
            Dataset::EmploymentParticipation,
            origin(0),
            &[RecordChange {
                id: &rid,
                payload: Some(&bytes),
            }],
        );
    }
    analytics
}

fn participants(
    analytics: &Analytics,
    group_by: Vec<Dimension>,
    filters: Vec<Filter>,
) -> Vec<Figure> {
    let query = Query {
        dataset: Dataset::EmploymentParticipation,
        measures: vec![Measure::Participants { who: Who::Everyone }],
        group_by,
        filters,
    };
    analytics
        .answer(&query, month(20))
        .unwrap()
        .rows()
        .iter()
        .map(|r| r.figures[0])
        .collect()
}

/// Differencing: Q counts everyone, Q′ adds a filter that removes exactly one
/// person. Over many such pairs the released difference is the true difference
/// (one person) in well under half of them.
#[test]
fn the_difference_of_two_queries_does_not_reliably_reveal_one_person() {
    let (mut pairs, mut revealing) = (0, 0);
    for seed in 0..20u8 {
        for n in 12..40u8 {
            let analytics = women_and_men(n, seed);
            let all = participants(&analytics, vec![], vec![]);
            let men = participants(
                &analytics,
                vec![],
                vec![Filter::parse("sex", &["male".to_string()]).unwrap()],
            );
            if let ([Figure::Count(a)], [Figure::Count(b)]) = (all.as_slice(), men.as_slice()) {
                pairs += 1;
                revealing += usize::from(a.checked_sub(*b) == Some(1));
            }
        }
    }
    assert!(pairs > 400, "only {pairs} pairs released");
    assert!(
        revealing * 4 < pairs,
        "{revealing} of {pairs} differences revealed the person"
    );
}

/// The same cell asked through two different queries gets the same value: a
/// borough's row of a grouped table, and the same borough asked alone.
#[test]
fn the_same_cell_asked_two_ways_gets_the_same_value() {
    for seed in 0..30u8 {
        let analytics = women_and_men(45, seed);
        let grouped = participants(&analytics, vec![Dimension::ResidentBorough], vec![]);
        let lambeth_code = borough_code(origin(0));
        let alone = participants(
            &analytics,
            vec![],
            vec![Filter {
                dimension: Dimension::ResidentBorough,
                codes: vec![lambeth_code],
            }],
        );
        // Rows are in borough order: Lambeth (E09000022) before Southwark.
        let lambeth_row = grouped[0];
        if lambeth_row != Figure::Suppressed {
            assert_eq!(lambeth_row, alone[0], "seed {seed}");
        }
    }
}

/// Differential privacy: the noise on a private answer is discrete Laplace with
/// scale sensitivity / ε. One count, no grouping: sensitivity 1, so at ε = 0.5
/// the scale is 2 and the variance 2p/(1-p)² with p = exp(-1/2).
#[test]
fn private_noise_has_the_variance_its_epsilon_promises() {
    use rand::SeedableRng;
    let analytics = women_and_men(45, 3);
    let query = Query {
        dataset: Dataset::EmploymentParticipation,
        measures: vec![Measure::Participants { who: Who::Everyone }],
        group_by: vec![],
        filters: vec![],
    };
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
    let runs = 20_000;
    let mut noise = Vec::with_capacity(runs);
    for _ in 0..runs {
        let (released, spent) = analytics
            .answer_private(&query, month(20), 500_000, &mut rng)
            .unwrap();
        assert_eq!(spent.sensitivity, 1);
        let Figure::Count(n) = released.rows()[0].figures[0] else {
            panic!("a count")
        };
        noise.push(n as f64 - 45.0);
    }
    let p = (-0.5f64).exp();
    let variance = 2.0 * p / (1.0 - p).powi(2);
    let mean = noise.iter().sum::<f64>() / runs as f64;
    let var = noise.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / runs as f64;
    assert!(
        mean.abs() < 5.0 * (variance / runs as f64).sqrt(),
        "mean {mean}"
    );
    assert!(
        (var - variance).abs() < 0.1 * variance,
        "variance {var}, expected {variance}"
    );
}

/// A private table has every cell of its domain, whether or not any record
/// falls in it, so which cells appear says nothing about anyone.
#[test]
fn a_private_table_has_every_cell_of_its_domain() {
    let analytics = women_and_men(20, 1);
    let query = Query {
        dataset: Dataset::EmploymentParticipation,
        measures: vec![Measure::Referrals],
        group_by: vec![Dimension::Sex],
        filters: vec![],
    };
    let mut rng = rand::rng();
    let (released, noise) = analytics
        .answer_private(&query, month(20), 500_000, &mut rng)
        .unwrap();
    // Female, male, not known, and the total.
    assert_eq!(released.rows().len(), 4);
    assert_eq!(noise.sensitivity, 2);
    let err = analytics
        .answer_private(&query, month(20), 0, &mut rng)
        .unwrap_err();
    assert_eq!(err, Error::NoPrivacyBudget);
}

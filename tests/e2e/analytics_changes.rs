//! Figures over replicas after random changes at their origin: for random
//! cases, corrections, deletions and erasures at Southwark, replicated to
//! Lambeth, both nodes give exactly the same figures for Southwark's records,
//! and every released figure is within disclosure control's bounds of a brute
//! force count over what Southwark was sent.

use std::collections::{BTreeMap, BTreeSet};

use borough_model::Dataset;
use borough_proto::v1;
use proptest::prelude::*;

use crate::support::*;

const EMPLOYMENT: Dataset = Dataset::EmploymentParticipation;
const PROGRAMMES: [&str; 4] = [
    "connect-to-work",
    "work-and-health",
    "restart",
    "local-support",
];

/// A case: the person it is about and their programme.
#[derive(Debug, Clone, Copy)]
struct Case {
    person: u32,
    programme: usize,
}

#[derive(Debug, Clone, Copy)]
enum Change {
    /// The case moves to another programme (a correction).
    Correct {
        case: usize,
        programme: usize,
    },
    Delete {
        case: usize,
    },
    Erase {
        case: usize,
    },
}

fn change(cases: usize) -> impl Strategy<Value = Change> {
    prop_oneof![
        2 => (0..cases, 0..PROGRAMMES.len())
            .prop_map(|(case, programme)| Change::Correct { case, programme }),
        1 => (0..cases).prop_map(|case| Change::Delete { case }),
        1 => (0..cases).prop_map(|case| Change::Erase { case }),
    ]
}

fn history() -> impl Strategy<Value = (Vec<Case>, Vec<Change>)> {
    (60usize..200).prop_flat_map(|n| {
        (
            proptest::collection::vec(
                (0u32..150, 0..PROGRAMMES.len())
                    .prop_map(|(person, programme)| Case { person, programme }),
                n,
            ),
            proptest::collection::vec(change(n), 0..60),
        )
    })
}

fn input(case: Case) -> v1::ParticipantInput {
    participant(
        SOUTHWARK,
        &format!("AB{:06}C", case.person),
        PROGRAMMES[case.programme],
    )
}

/// Sends the history to Southwark, returning the cases it should then hold.
async fn send(fed: &Federation, cases: &[Case], changes: &[Change]) -> BTreeMap<usize, Case> {
    let reference = |i: usize| format!("case-{i}");
    let rows = cases
        .iter()
        .enumerate()
        .map(|(i, c)| (reference(i), input(*c)))
        .collect();
    fed.ingest_inputs(SOUTHWARK, EMPLOYMENT, rows).await;
    let mut held: BTreeMap<usize, Case> = cases.iter().copied().enumerate().collect();
    let channel = fed.client_as(SOUTHWARK, "system").await;
    let mut system = v1::ingest_client::IngestClient::new(channel);
    for change in changes {
        match *change {
            Change::Correct { case, programme } => {
                let corrected = Case {
                    programme,
                    ..cases[case]
                };
                fed.ingest_inputs(
                    SOUTHWARK,
                    EMPLOYMENT,
                    vec![(reference(case), input(corrected))],
                )
                .await;
                held.insert(case, corrected);
            }
            Change::Delete { case } => {
                fed.delete(SOUTHWARK, EMPLOYMENT, &[&reference(case)]).await;
                held.remove(&case);
            }
            Change::Erase { case } => {
                system
                    .erase(v1::EraseRequest {
                        dataset: EMPLOYMENT.as_str().into(),
                        local_ref: reference(case),
                    })
                    .await
                    .expect("erase answered");
                held.remove(&case);
            }
        }
    }
    held
}

async fn ask(fed: &Federation, borough: &str) -> v1::QueryReply {
    let channel = fed.client_as(borough, "analyst").await;
    let request = v1::QueryRequest {
        dataset: EMPLOYMENT.as_str().into(),
        measures: vec!["referrals".into(), "participants".into()],
        group_by: vec!["programme".into()],
        filters: vec![v1::QueryFilter {
            dimension: "delivering-borough".into(),
            values: vec![SOUTHWARK.into()],
        }],
    };
    v1::query_client::QueryClient::new(channel)
        .run(request)
        .await
        .expect("answered")
        .into_inner()
}

/// The true referrals and participants of `programme` (all, for `None`).
fn truth(held: &BTreeMap<usize, Case>, programme: Option<&str>) -> [u64; 2] {
    let on: Vec<&Case> = held
        .values()
        .filter(|c| programme.is_none_or(|p| PROGRAMMES[c.programme] == p))
        .collect();
    let people: BTreeSet<u32> = on.iter().map(|c| c.person).collect();
    [on.len() as u64, people.len() as u64]
}

async fn check(cases: Vec<Case>, changes: Vec<Change>) -> Result<(), TestCaseError> {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK]).await;
    let held = send(&fed, &cases, &changes).await;
    fed.caught_up(LAMBETH, SOUTHWARK, EMPLOYMENT).await;
    let (at_lambeth, at_southwark) = (ask(&fed, LAMBETH).await, ask(&fed, SOUTHWARK).await);
    prop_assert_eq!(&at_lambeth.rows, &at_southwark.rows);
    for row in &at_lambeth.rows {
        let programme = (!row.codes[0].is_empty()).then_some(row.labels[0].as_str());
        for (figure, truth) in row.figures.iter().zip(truth(&held, programme)) {
            match &figure.value {
                Some(v1::figure::Value::Count(n)) => prop_assert!(
                    n.abs_diff(truth) <= 4 && truth >= 10,
                    "{}: released {n}, true {truth}",
                    row.labels[0]
                ),
                Some(v1::figure::Value::Symbol(c)) => prop_assert_eq!(c, "c"),
                other => prop_assert!(false, "{other:?}"),
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn replicas_give_the_figures_their_origin_gives_after_random_changes(
        (cases, changes) in history()
    ) {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.block_on(check(cases, changes))?;
    }
}

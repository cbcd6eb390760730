use std::collections::BTreeMap;
use std::path::Path;

use borough_model::{Dataset, GssCode};
use borough_node::demo::EXAMPLE_AGREEMENTS;
use borough_proto::v1;
use borough_security::agreements::{Agreement, AgreementBook, AgreementState};
use time::macros::date;

use super::{Expect, Expectations};

fn gss(code: &str) -> GssCode {
    GssCode::parse(code).expect("a London borough")
}

fn lambeth() -> GssCode {
    gss("E09000022")
}
fn southwark() -> GssCode {
    gss("E09000028")
}
fn lewisham() -> GssCode {
    gss("E09000023")
}

fn book() -> AgreementBook {
    let agreements = EXAMPLE_AGREEMENTS
        .iter()
        .map(|(name, text)| Agreement::parse(Path::new(name), text).expect("example agreement"))
        .collect();
    AgreementBook::new(agreements).expect("example agreements agree")
}

/// Each borough took in 10 × (its position + 1) + the dataset's position records,
/// so every count is distinct.
fn own() -> BTreeMap<(GssCode, Dataset), u64> {
    let mut own = BTreeMap::new();
    for (i, b) in [lambeth(), southwark(), lewisham()].into_iter().enumerate() {
        for (j, d) in Dataset::ALL.into_iter().enumerate() {
            own.insert((b, d), 10 * (i as u64 + 1) + j as u64);
        }
    }
    own
}

fn expectations(today: time::Date) -> Expectations {
    Expectations::new(
        &[lambeth(), southwark(), lewisham()],
        &own(),
        &book(),
        today,
    )
}

#[test]
fn the_example_agreements_decide_what_each_node_holds() {
    let e = expectations(date!(2026 - 11 - 23));
    let own = own();
    let agreed = |origin: GssCode, d: Dataset| Expect::Agreed(own[&(origin, d)]);
    let (places, requests, employment) = (
        Dataset::ChildcarePlaces,
        Dataset::ChildcareRequests,
        Dataset::EmploymentParticipation,
    );
    // Lambeth and Southwark share all three, both ways.
    for d in Dataset::ALL {
        assert_eq!(e.get(d, lambeth(), southwark()), agreed(southwark(), d));
        assert_eq!(e.get(d, southwark(), lambeth()), agreed(lambeth(), d));
    }
    // Lambeth and Lewisham share childcare only.
    for d in [places, requests] {
        assert_eq!(e.get(d, lambeth(), lewisham()), agreed(lewisham(), d));
        assert_eq!(e.get(d, lewisham(), lambeth()), agreed(lambeth(), d));
    }
    assert_eq!(e.get(employment, lambeth(), lewisham()), Expect::NotAgreed);
    assert_eq!(e.get(employment, lewisham(), lambeth()), Expect::NotAgreed);
    // Southwark and Lewisham: places from Lewisham only, employment both ways.
    assert_eq!(
        e.get(places, southwark(), lewisham()),
        agreed(lewisham(), places)
    );
    assert_eq!(e.get(places, lewisham(), southwark()), Expect::NotAgreed);
    assert_eq!(e.get(requests, southwark(), lewisham()), Expect::NotAgreed);
    assert_eq!(e.get(requests, lewisham(), southwark()), Expect::NotAgreed);
    assert_eq!(
        e.get(employment, southwark(), lewisham()),
        agreed(lewisham(), employment)
    );
    assert_eq!(
        e.get(employment, lewisham(), southwark()),
        agreed(southwark(), employment)
    );
    // Each node holds its own.
    for b in [lambeth(), southwark(), lewisham()] {
        for d in Dataset::ALL {
            assert_eq!(e.get(d, b, b), Expect::Own(own[&(b, d)]));
        }
    }
}

#[test]
fn an_expired_agreement_means_nothing_is_expected() {
    let e = expectations(date!(2029 - 04 - 01));
    assert_eq!(
        e.get(Dataset::ChildcarePlaces, lambeth(), southwark()),
        Expect::NotInForce(AgreementState::Expired {
            until: date!(2029 - 03 - 31)
        })
    );
}

/// Status replies in which every node holds exactly what `e` expects.
fn converged(e: &Expectations) -> Vec<(GssCode, v1::StatusReply)> {
    let boroughs = [lambeth(), southwark(), lewisham()];
    boroughs
        .iter()
        .map(|&holder| {
            let mut reply = v1::StatusReply {
                borough: holder.to_string(),
                borough_name: holder.name().to_string(),
                ..Default::default()
            };
            for d in Dataset::ALL {
                for &origin in &boroughs {
                    match e.get(d, holder, origin) {
                        Expect::Own(n) => reply.own.push(v1::OwnDataset {
                            dataset: d.as_str().into(),
                            head_seq: n,
                            records: n,
                        }),
                        Expect::Agreed(n) => reply.inbound.push(v1::PeerFlow {
                            peer: origin.to_string(),
                            dataset: d.as_str().into(),
                            connection: "connected".into(),
                            records: n,
                            ..Default::default()
                        }),
                        Expect::NotInForce(_) | Expect::NotAgreed => {}
                    }
                }
            }
            (holder, reply)
        })
        .collect()
}

#[test]
fn replies_matching_the_agreements_have_no_mismatch() {
    let e = expectations(date!(2026 - 11 - 23));
    let replies = converged(&e);
    assert_eq!(e.mismatches(&replies), Vec::<String>::new());
    let table = e.table(Dataset::EmploymentParticipation, &replies);
    let lewisham_row = table
        .lines()
        .find(|l| l.starts_with("Lewisham"))
        .expect("a row for Lewisham");
    assert!(lewisham_row.contains("not agreed"), "{table}");
    assert!(lewisham_row.contains("(own)"), "{table}");
}

#[test]
fn a_flow_behind_or_not_agreed_is_a_mismatch_naming_node_origin_and_dataset() {
    let e = expectations(date!(2026 - 11 - 23));
    let mut replies = converged(&e);
    // Lambeth is one record behind Southwark's places.
    let (_, lambeth_reply) = &mut replies[0];
    let flow = lambeth_reply
        .inbound
        .iter_mut()
        .find(|f| f.peer == southwark().to_string() && f.dataset == "childcare-places")
        .expect("the flow");
    flow.records -= 1;
    flow.lag_records = 1;
    // Lewisham pulls Southwark's places, which no agreement allows.
    let (_, lewisham_reply) = &mut replies[2];
    lewisham_reply.inbound.push(v1::PeerFlow {
        peer: southwark().to_string(),
        dataset: "childcare-places".into(),
        connection: "connected".into(),
        ..Default::default()
    });
    let mismatches = e.mismatches(&replies);
    assert_eq!(mismatches.len(), 2, "{mismatches:#?}");
    assert!(
        mismatches.iter().any(
            |m| m.starts_with("Lambeth holding Southwark's childcare-places")
                && m.contains("lag 1")
        ),
        "{mismatches:#?}"
    );
    assert!(
        mismatches.iter().any(
            |m| m.starts_with("Lewisham holding Southwark's childcare-places")
                && m.contains("no agreement")
        ),
        "{mismatches:#?}"
    );
}

//! Replication: records ingested at one borough reach every peer an agreement
//! allows, changes and deletions follow them, and only agreed fields travel.

use crate::support::*;

/// A record ingested at Lambeth reaches Southwark and Lewisham.
#[tokio::test]
async fn record_ingested_at_lambeth_reaches_both_peers() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK, LEWISHAM]).await;
    let mut sample = places(LAMBETH, 1);
    let (id, place) = sample.remove(0);
    fed.ingest(LAMBETH, vec![(id.clone(), place.clone())]).await;
    let at_lambeth = fed
        .held(LAMBETH, LAMBETH, &id)
        .expect("stored at the origin");
    for peer in [SOUTHWARK, LEWISHAM] {
        let held = fed.wait_for(peer, LAMBETH, &id, |_| true).await;
        assert_eq!(held, at_lambeth);
    }
}

/// An update replaces the peer's copy; a delete removes it.
#[tokio::test]
async fn updates_and_deletes_follow_the_record() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK]).await;
    let (id, mut place) = places(LAMBETH, 1).remove(0);
    fed.ingest(LAMBETH, vec![(id.clone(), place.clone())]).await;
    fed.wait_for(SOUTHWARK, LAMBETH, &id, |_| true).await;

    let capacity: u32 = place.offers[0].capacity.parse::<u32>().expect("capacity") + 5;
    place.offers[0].vacancies = "0".into();
    place.offers[0].capacity = capacity.to_string();
    let ack = fed.ingest(LAMBETH, vec![(id.clone(), place)]).await;
    assert_eq!(ack.written, 1);
    fed.wait_for(SOUTHWARK, LAMBETH, &id, |p| {
        p.offers[0].capacity == capacity
    })
    .await;

    fed.delete(LAMBETH, borough_model::Dataset::ChildcarePlaces, &[&id])
        .await;
    eventually("Southwark to drop the deleted record", CONVERGE, || {
        let gone = fed.held(SOUTHWARK, LAMBETH, &id).is_none();
        async move { gone.then_some(()) }
    })
    .await;
}

/// Southwark and Lewisham's agreement leaves out `admission_priorities`: Southwark
/// never stores that field of Lewisham's records, while Lambeth (whose agreement
/// includes it) does.
#[tokio::test]
async fn peer_receives_only_agreed_fields() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK, LEWISHAM]).await;
    let (id, place) = places(LEWISHAM, 1).remove(0);
    assert!(
        !place.admission_priorities.is_empty(),
        "the sample has priorities"
    );
    fed.ingest(LEWISHAM, vec![(id.clone(), place)]).await;
    let at_lambeth = fed.wait_for(LAMBETH, LEWISHAM, &id, |_| true).await;
    assert!(!at_lambeth.admission_priorities.is_empty());
    let at_southwark = fed.wait_for(SOUTHWARK, LEWISHAM, &id, |_| true).await;
    assert!(at_southwark.admission_priorities.is_empty());
    assert_eq!(at_southwark.offers, at_lambeth.offers);
}

/// No agreement lets Southwark disclose its childcare places to Lewisham: Lewisham
/// never holds them, and does not even try to pull them.
#[tokio::test]
async fn records_do_not_flow_where_no_agreement_allows() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK, LEWISHAM]).await;
    let (id, place) = places(SOUTHWARK, 1).remove(0);
    fed.ingest(SOUTHWARK, vec![(id.clone(), place)]).await;
    fed.wait_for(LAMBETH, SOUTHWARK, &id, |_| true).await;
    assert!(fed.held(LEWISHAM, SOUTHWARK, &id).is_none());
    let status = fed.status(LEWISHAM).await;
    assert!(
        status
            .inbound
            .iter()
            .all(|f| f.peer != SOUTHWARK || f.dataset != "childcare-places"),
        "{status:?}"
    );
}

/// With Lewisham down, Lambeth and Southwark keep replicating with each other;
/// when Lewisham returns it catches up without manual action.
#[tokio::test]
async fn one_peer_down_does_not_stop_the_others_and_it_catches_up() {
    let mut fed = Federation::start(&[LAMBETH, SOUTHWARK, LEWISHAM]).await;
    fed.inner.stop(gss(LEWISHAM)).await.expect("stop Lewisham");

    let sample = places(LAMBETH, 5);
    fed.ingest(LAMBETH, sample.clone()).await;
    for (id, _) in &sample {
        fed.wait_for(SOUTHWARK, LAMBETH, id, |_| true).await;
    }

    fed.inner
        .restart(gss(LEWISHAM))
        .await
        .expect("restart Lewisham");
    for (id, _) in &sample {
        fed.wait_for(LEWISHAM, LAMBETH, id, |_| true).await;
    }
}

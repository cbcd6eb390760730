//! The real datasets across the federation: pseudonyms that link the same person
//! across borough lines (and only under the same key), agreement projection of
//! employment records, erasure reaching every peer, and retention purging expired
//! replicas and nothing else.

use borough_model::{Dataset, Geography};
use borough_proto::v1;
use prost::Message;

use crate::support::*;

const EMPLOYMENT: Dataset = Dataset::EmploymentParticipation;

/// A valid participant of `borough`, placed there by one of its LSOAs (no open
/// postcode lookup exists outside Lewisham).
fn participant(borough: &str, ni_number: &str) -> v1::ParticipantInput {
    let lsoa = Geography::bundled().lsoas_in(gss(borough))[0];
    v1::ParticipantInput {
        ni_number: ni_number.into(),
        name: "Canary Testperson".into(),
        date_of_birth: "1988-07-14".into(),
        sex: "female".into(),
        postcode: "SE1 7ZZ".into(),
        lsoa: lsoa.to_string(),
        programme: "connect-to-work".into(),
        eligibility_group: "disability".into(),
        referral_date: "2026-02-03".into(),
        start_date: "2026-03-10".into(),
        childcare_barrier: "yes".into(),
        ..Default::default()
    }
}

/// Ingests participants (local reference, input) at `borough`.
async fn ingest_participants(
    fed: &Federation,
    borough: &str,
    rows: Vec<(&str, v1::ParticipantInput)>,
) {
    let rows = rows.into_iter().map(|(r, p)| (r.to_string(), p)).collect();
    fed.ingest_inputs(borough, EMPLOYMENT, rows).await;
}

/// `origin`'s employment record for `local_ref` as held at `at`, once it is there.
async fn employment_held(
    fed: &Federation,
    at: &str,
    origin: &str,
    local_ref: &str,
) -> v1::EmploymentParticipation {
    let local = borough_store::LocalRef::parse(local_ref).expect("local ref");
    let id = fed
        .store(origin)
        .resolve_local_ref(EMPLOYMENT, &local)
        .expect("resolve")
        .expect("the origin holds the record");
    eventually(
        &format!("{at} to hold {origin}'s {local_ref}"),
        CONVERGE,
        || {
            let held = fed
                .store(at)
                .get(EMPLOYMENT, gss(origin), &id)
                .expect("store read")
                .map(|r| v1::EmploymentParticipation::decode(&r.payload[..]).expect("decodes"));
            async move { held }
        },
    )
    .await
}

/// The same person entered in Lambeth and Southwark, NI number typed differently,
/// gets one pseudonym, so regional figures count them once.
#[tokio::test]
async fn same_person_in_two_boroughs_gets_one_pseudonym() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK]).await;
    ingest_participants(
        &fed,
        LAMBETH,
        vec![("case-1", participant(LAMBETH, "AB 12 34 56 C"))],
    )
    .await;
    ingest_participants(
        &fed,
        SOUTHWARK,
        vec![("sw-77", participant(SOUTHWARK, "ab123456c"))],
    )
    .await;
    let lambeths = employment_held(&fed, SOUTHWARK, LAMBETH, "case-1").await;
    let southwarks = employment_held(&fed, LAMBETH, SOUTHWARK, "sw-77").await;
    assert_eq!(lambeths.participant, southwarks.participant);
    assert_eq!(lambeths.participant.len(), 64, "a hex SHA-256 pseudonym");
}

/// A federation with another linkage key makes another pseudonym for the same NI
/// number: without the key there is no linkage.
#[tokio::test]
async fn another_linkage_key_links_nobody() {
    let first = Federation::start(&[LAMBETH]).await;
    let second = Federation::start(&[LAMBETH]).await;
    for fed in [&first, &second] {
        ingest_participants(
            fed,
            LAMBETH,
            vec![("case-1", participant(LAMBETH, "AB123456C"))],
        )
        .await;
    }
    let a = employment_held(&first, LAMBETH, LAMBETH, "case-1").await;
    let b = employment_held(&second, LAMBETH, LAMBETH, "case-1").await;
    assert_ne!(a.participant, b.participant);
}

/// The Southwark–Lewisham agreement leaves `sex` out of employment records: Lewisham
/// never stores it, while Lambeth, whose agreement includes it, does.
#[tokio::test]
async fn a_field_excluded_by_an_agreement_is_absent_from_that_peers_store() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK, LEWISHAM]).await;
    ingest_participants(
        &fed,
        SOUTHWARK,
        vec![("sw-1", participant(SOUTHWARK, "AB123456C"))],
    )
    .await;
    let at_lambeth = employment_held(&fed, LAMBETH, SOUTHWARK, "sw-1").await;
    let at_lewisham = employment_held(&fed, LEWISHAM, SOUTHWARK, "sw-1").await;
    assert_ne!(at_lambeth.sex, 0, "Lambeth's agreement carries sex");
    assert_eq!(at_lewisham.sex, 0, "Lewisham's agreement does not");
    assert_eq!(at_lewisham.participant, at_lambeth.participant);
}

/// `borough erase` at Lambeth tombstones the record and every peer drops it.
#[tokio::test]
async fn erasure_reaches_every_peer() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK, LEWISHAM]).await;
    let (local_ref, provider) = places(LAMBETH, 1).remove(0);
    fed.ingest(LAMBETH, vec![(local_ref.clone(), provider)])
        .await;
    let id = fed.record_id(LAMBETH, &local_ref).expect("record id");
    for peer in [SOUTHWARK, LEWISHAM] {
        fed.wait_for(peer, LAMBETH, &local_ref, |_| true).await;
    }
    let node = fed.inner.node(gss(LAMBETH)).expect("Lambeth runs");
    let seq = borough_node::client::erase(&node.config, Dataset::ChildcarePlaces, &local_ref)
        .await
        .expect("erase")
        .expect("a record was erased");
    assert!(seq > 0);
    for peer in [SOUTHWARK, LEWISHAM] {
        eventually(
            &format!("{peer} to drop the erased record"),
            CONVERGE,
            || {
                let gone = fed
                    .store(peer)
                    .get(Dataset::ChildcarePlaces, gss(LAMBETH), &id)
                    .expect("read")
                    .is_none();
                async move { gone.then_some(()) }
            },
        )
        .await;
    }
    assert!(
        fed.record_id(LAMBETH, &local_ref).is_none(),
        "the local link is gone"
    );
}

/// Replicas older than the agreement's retention period are purged by the node's
/// background task, and audited; a fresh replica stays.
#[tokio::test]
async fn retention_purges_expired_replicas_and_nothing_else() {
    let extra = format!("{FAST_RETRY}retention_check_ms = 50\n");
    let mut fed =
        Federation::start_with(&[LAMBETH, SOUTHWARK], &example_agreements(), &extra).await;
    let mut sample = places(SOUTHWARK, 2);
    let (fresh_ref, fresh) = sample.pop().expect("two");
    let (old_ref, old) = sample.pop().expect("two");
    fed.ingest(
        SOUTHWARK,
        vec![(old_ref.clone(), old), (fresh_ref.clone(), fresh)],
    )
    .await;
    let old_id = fed.record_id(SOUTHWARK, &old_ref).expect("id");
    let fresh_id = fed.record_id(SOUTHWARK, &fresh_ref).expect("id");
    fed.wait_for(LAMBETH, SOUTHWARK, &old_ref, |_| true).await;
    fed.wait_for(LAMBETH, SOUTHWARK, &fresh_ref, |_| true).await;

    // Age one replica past the 400 days of the Lambeth–Southwark agreement, as if it
    // had arrived long ago, with Lambeth's node stopped.
    let data_dir = fed
        .inner
        .node(gss(LAMBETH))
        .expect("runs")
        .config
        .data_dir
        .clone();
    fed.inner.stop(gss(LAMBETH)).await.expect("stop");
    {
        let store = borough_store::Store::open(&data_dir, gss(LAMBETH)).expect("open");
        let held = store
            .get(Dataset::ChildcarePlaces, gss(SOUTHWARK), &old_id)
            .expect("read")
            .expect("held");
        let checkpoint = store
            .checkpoint(gss(SOUTHWARK), Dataset::ChildcarePlaces)
            .expect("checkpoint");
        let aged = borough_store::Change {
            seq: held.seq,
            id: old_id.clone(),
            version: borough_model::Version(held.version.0 + 1),
            payload: Some(held.payload),
        };
        let long_ago = 1_000_000; // 1970-01-12
        store
            .apply_peer_batch_at(
                gss(SOUTHWARK),
                Dataset::ChildcarePlaces,
                &[aged],
                checkpoint,
                long_ago,
            )
            .expect("age the replica");
    }
    fed.inner.restart(gss(LAMBETH)).await.expect("restart");

    eventually("Lambeth to purge the expired replica", CONVERGE, || {
        let gone = fed
            .store(LAMBETH)
            .get(Dataset::ChildcarePlaces, gss(SOUTHWARK), &old_id)
            .expect("read")
            .is_none();
        async move { gone.then_some(()) }
    })
    .await;
    let store = fed.store(LAMBETH);
    assert!(
        store
            .get(Dataset::ChildcarePlaces, gss(SOUTHWARK), &fresh_id)
            .expect("read")
            .is_some(),
        "a fresh replica is kept"
    );
    let purges: Vec<_> = store
        .audit()
        .entries()
        .map(|e| e.expect("audit entry").entry)
        .filter(|e| e.action == borough_store::AuditAction::Purged)
        .collect();
    assert_eq!(purges.len(), 1, "{purges:?}");
    assert_eq!(purges[0].records, 1);
    assert_eq!(purges[0].peer, Some(gss(SOUTHWARK)));
}

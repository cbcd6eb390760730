//! Agreements: a node discloses nothing unless an agreement in force, held
//! identically by both sides, allows it, and every refusal is audited.

use borough_model::GssCode;
use borough_proto::v1;
use borough_security::agreements::Agreement;
use borough_store::{AuditAction, AuditOutcome, AuditRecord};
use tonic::Code;

use crate::support::handshake::*;
use crate::support::*;

const LAMBETH_SOUTHWARK_ID: &str = "lambeth-southwark-childcare";

/// Every entry of `borough`'s audit log, after checking the hash chain.
fn audit(fed: &Federation, borough: &str) -> Vec<AuditRecord> {
    let log = fed.store(borough).audit();
    log.verify().expect("audit chain verifies");
    log.entries()
        .collect::<Result<Vec<_>, _>>()
        .expect("audit entries read")
}

/// The refusals in `borough`'s audit log by `actor` (an identity such as
/// `E09000023/node`) whose detail mentions `detail`.
fn refusals(fed: &Federation, borough: &str, actor: &str, detail: &str) -> Vec<AuditRecord> {
    audit(fed, borough)
        .into_iter()
        .filter(|r| {
            r.entry.action == AuditAction::Refused
                && r.entry.outcome == AuditOutcome::Refused
                && r.entry.actor == actor
                && r.entry.detail.contains(detail)
        })
        .collect()
}

/// Asserts that `borough`'s audit log verifies and holds exactly one more refusal
/// by `actor` mentioning `detail` than `before`, naming `peer`; returns it.
fn assert_one_refusal_audited(
    fed: &Federation,
    borough: &str,
    actor: &str,
    detail: &str,
    before: usize,
    peer: Option<GssCode>,
) -> AuditRecord {
    let mut after = refusals(fed, borough, actor, detail);
    assert_eq!(
        after.len(),
        before + 1,
        "{borough}'s audit log should hold one new refusal of {actor} mentioning {detail:?}: {:#?}",
        audit(fed, borough)
    );
    let record = after.pop().expect("one refusal");
    assert_eq!(record.entry.peer, peer, "{record:#?}");
    record
}

/// The flow in `flows` with `peer` for childcare places.
fn flow<'a>(flows: &'a [v1::PeerFlow], peer: &str) -> Option<&'a v1::PeerFlow> {
    flows
        .iter()
        .find(|f| f.peer == peer && f.dataset == childcare())
}

/// The example Lambeth–Southwark agreement with `term` (a whole line) replaced.
fn lambeth_southwark_with(term: &str, replacement: &str) -> String {
    let (_, text) = example_agreements()
        .into_iter()
        .find(|(name, _)| name == "lambeth-southwark.toml")
        .expect("example agreement");
    assert!(text.contains(term), "example agreement has `{term}`");
    text.replace(term, replacement)
}

/// The hash of an agreement's text, as a node holding it would send it.
fn hash_of(text: &str) -> String {
    Agreement::parse(std::path::Path::new("test.toml"), text)
        .expect("agreement parses")
        .hash()
        .to_string()
}

/// The example agreements with the Lambeth–Southwark one replaced by `text`.
fn agreements_with_lambeth_southwark(text: &str) -> Vec<(String, String)> {
    example_agreements()
        .into_iter()
        .map(|(name, t)| {
            if name == "lambeth-southwark.toml" {
                (name, text.to_string())
            } else {
                (name, t)
            }
        })
        .collect()
}

/// The Southwark–Lewisham agreement lets only Lewisham disclose: Lewisham's node
/// asking Southwark for childcare places gets PERMISSION_DENIED, and Southwark's
/// audit log records the refusal, naming Lewisham, in a chain that verifies.
#[tokio::test]
async fn lewisham_asking_southwark_outside_the_agreement_is_denied_and_audited() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK, LEWISHAM]).await;
    let actor = format!("{LEWISHAM}/node");
    let before = refusals(&fed, SOUTHWARK, &actor, "no agreement").len();
    let channel = channel_as(&fed, SOUTHWARK, LEWISHAM, "node").await;
    let status = changes_refusal(channel, changes_request(childcare(), "", "")).await;
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains("no agreement"), "{status:?}");
    let record = assert_one_refusal_audited(
        &fed,
        SOUTHWARK,
        &actor,
        "no agreement",
        before,
        Some(gss(LEWISHAM)),
    );
    assert!(record.entry.actor.contains(LEWISHAM));
    assert_eq!(
        record.entry.dataset,
        Some(borough_model::Dataset::ChildcarePlaces)
    );
}

/// Replication is for node certificates only: Lambeth's analyst calling
/// `Replication/Changes` on Lambeth gets PERMISSION_DENIED, audited.
#[tokio::test]
async fn analyst_calling_replication_changes_is_denied_and_audited() {
    let fed = Federation::start(&[LAMBETH]).await;
    let actor = format!("{LAMBETH}/analyst/analyst");
    let path = "/borough.v1.Replication/Changes";
    let before = refusals(&fed, LAMBETH, &actor, path).len();
    let channel = channel_as(&fed, LAMBETH, LAMBETH, "analyst").await;
    let status = changes_refusal(channel, changes_request(childcare(), "", "")).await;
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(
        status.message().contains("role analyst may not replicate"),
        "{status:?}"
    );
    assert_one_refusal_audited(&fed, LAMBETH, &actor, path, before, None);
}

/// Ingest is for system certificates only: Lambeth's analyst calling
/// `Ingest/Apply` on Lambeth gets PERMISSION_DENIED, audited, and nothing is written.
#[tokio::test]
async fn analyst_calling_ingest_apply_is_denied_and_audited() {
    let fed = Federation::start(&[LAMBETH]).await;
    let actor = format!("{LAMBETH}/analyst/analyst");
    let path = "/borough.v1.Ingest/Apply";
    let before = refusals(&fed, LAMBETH, &actor, path).len();
    let channel = channel_as(&fed, LAMBETH, LAMBETH, "analyst").await;
    let status = ingest_one(channel, LAMBETH).await.expect_err("refused");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(
        status.message().contains("role analyst may not ingest"),
        "{status:?}"
    );
    assert_one_refusal_audited(&fed, LAMBETH, &actor, path, before, None);
    let head = fed.status(LAMBETH).await.own[0].head_seq;
    assert_eq!(head, 0, "nothing may be written by a refused ingest");
}

/// A borough's system may ingest only at its own node: Southwark's system
/// certificate (which passes Lambeth's handshake, Southwark being a peer) calling
/// Lambeth's `Ingest/Apply` gets PERMISSION_DENIED, audited naming Southwark.
#[tokio::test]
async fn another_boroughs_system_calling_ingest_is_denied_and_audited() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK]).await;
    let actor = format!("{SOUTHWARK}/system/system");
    let path = "/borough.v1.Ingest/Apply";
    let before = refusals(&fed, LAMBETH, &actor, path).len();
    let channel = channel_as(&fed, LAMBETH, SOUTHWARK, "system").await;
    let status = ingest_one(channel, SOUTHWARK).await.expect_err("refused");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(
        status
            .message()
            .contains("a Southwark system may not ingest records on Lambeth's node"),
        "{status:?}"
    );
    assert_one_refusal_audited(&fed, LAMBETH, &actor, path, before, Some(gss(SOUTHWARK)));
}

/// Both sides must hold the same terms: when Southwark's copy of the
/// Lambeth–Southwark agreement differs in one term (retention), sharing stops —
/// a record ingested at Lambeth never reaches Southwark — and each side's status
/// says why: Southwark's inbound and Lambeth's outbound flow show "mismatch" with
/// the agreement mismatch as the last error.
#[tokio::test]
async fn agreement_hash_mismatch_stops_sharing_and_both_sides_say_why() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let (mut inner, listeners) = borough_node::federation::LocalFederation::lay_out(
        root,
        &[gss(LAMBETH), gss(SOUTHWARK)],
        &example_agreements(),
        FAST_RETRY,
    )
    .await
    .expect("lay out");
    let theirs = lambeth_southwark_with("retention_days = 400", "retention_days = 365");
    let southwark_dir = root.join("agreements-southwark");
    std::fs::create_dir_all(&southwark_dir).expect("create agreements dir");
    for (name, text) in agreements_with_lambeth_southwark(&theirs) {
        std::fs::write(southwark_dir.join(name), text).expect("write agreement");
    }
    let config_path = inner.config_path(gss(SOUTHWARK));
    let config = std::fs::read_to_string(&config_path).expect("read config");
    assert!(config.contains("agreements = \"agreements\""), "{config}");
    std::fs::write(
        &config_path,
        config.replace(
            "agreements = \"agreements\"",
            "agreements = \"agreements-southwark\"",
        ),
    )
    .expect("rewrite Southwark's config");
    for (borough, listener) in [gss(LAMBETH), gss(SOUTHWARK)].into_iter().zip(listeners) {
        inner.launch(borough, listener).expect("launch");
    }
    let fed = Federation { inner, dir };

    let (id, place) = places(LAMBETH, 1).remove(0);
    fed.ingest(LAMBETH, vec![(id.clone(), place)]).await;
    let actor = format!("{SOUTHWARK}/node");
    let refused_before = refusals(&fed, LAMBETH, &actor, "agreement mismatch").len();
    let ours = hash_of(
        &example_agreements()
            .into_iter()
            .find(|(n, _)| n == "lambeth-southwark.toml")
            .expect("example")
            .1,
    );
    let theirs = hash_of(&theirs);
    assert_ne!(ours, theirs);

    let inbound = eventually(
        "Southwark's inbound flow from Lambeth to show the mismatch",
        CONVERGE,
        || async {
            let status = fed.status(SOUTHWARK).await;
            flow(&status.inbound, LAMBETH)
                .filter(|f| f.agreement == "mismatch")
                .cloned()
        },
    )
    .await;
    assert!(
        inbound.last_error.contains("agreement mismatch"),
        "{inbound:?}"
    );
    let outbound = eventually(
        "Lambeth's outbound flow to Southwark to show the mismatch",
        CONVERGE,
        || async {
            let status = fed.status(LAMBETH).await;
            flow(&status.outbound, SOUTHWARK)
                .filter(|f| f.agreement == "mismatch")
                .cloned()
        },
    )
    .await;
    assert!(
        outbound.last_error.contains("agreement mismatch")
            && outbound.last_error.contains(&ours)
            && outbound.last_error.contains(&theirs),
        "Lambeth's outbound error should name both hashes: {outbound:?}"
    );

    // Southwark asked again after the record existed, and was refused.
    eventually(
        "Lambeth to refuse a request of Southwark's made after the ingest",
        CONVERGE,
        || {
            let n = refusals(&fed, LAMBETH, &actor, "agreement mismatch").len();
            async move { (n > refused_before).then_some(()) }
        },
    )
    .await;
    assert!(
        fed.held(SOUTHWARK, LAMBETH, &id).is_none(),
        "Lambeth's record reached Southwark despite the mismatch"
    );
    let inbound = fed.status(SOUTHWARK).await;
    assert_eq!(flow(&inbound.inbound, LAMBETH).expect("flow").records, 0);
    assert!(
        audit(&fed, LAMBETH)
            .iter()
            .all(|r| r.entry.action != AuditAction::Disclosed),
        "Lambeth disclosed records under a mismatched agreement"
    );
}

/// An agreement past its `valid_until` stops sharing: Southwark's inbound flow
/// from Lambeth shows "expired" and "expired on <date>", nothing replicates, and
/// a direct `Changes` call by Southwark's node with the right id and hash gets
/// FAILED_PRECONDITION saying the agreement expired.
#[tokio::test]
async fn expired_agreement_stops_sharing() {
    let expired = lambeth_southwark_with(
        "valid_from = 2026-04-01\nvalid_until = 2029-03-31",
        "valid_from = 2020-01-01\nvalid_until = 2020-12-31",
    );
    let fed = Federation::start_with(
        &[LAMBETH, SOUTHWARK],
        &agreements_with_lambeth_southwark(&expired),
        FAST_RETRY,
    )
    .await;
    let (id, place) = places(LAMBETH, 1).remove(0);
    fed.ingest(LAMBETH, vec![(id.clone(), place)]).await;

    let inbound = eventually(
        "Southwark's inbound flow from Lambeth to show the expiry",
        CONVERGE,
        || async {
            let status = fed.status(SOUTHWARK).await;
            flow(&status.inbound, LAMBETH)
                .filter(|f| f.agreement == "expired")
                .cloned()
        },
    )
    .await;
    assert!(
        inbound.last_error.contains("expired on 2020-12-31"),
        "{inbound:?}"
    );
    assert_eq!(inbound.records, 0, "{inbound:?}");

    let actor = format!("{SOUTHWARK}/node");
    let before = refusals(&fed, LAMBETH, &actor, "expired").len();
    let channel = channel_as(&fed, LAMBETH, SOUTHWARK, "node").await;
    let status = changes_refusal(
        channel,
        changes_request(childcare(), LAMBETH_SOUTHWARK_ID, &hash_of(&expired)),
    )
    .await;
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().contains("expired on 2020-12-31"),
        "{status:?}"
    );
    assert_one_refusal_audited(
        &fed,
        LAMBETH,
        &actor,
        "expired",
        before,
        Some(gss(SOUTHWARK)),
    );
    assert!(fed.held(SOUTHWARK, LAMBETH, &id).is_none());
}

/// A peer naming a dataset the serving node does not know gets INVALID_ARGUMENT
/// naming that dataset, and the refusal is audited.
#[tokio::test]
async fn changes_for_an_unknown_dataset_is_invalid_argument_naming_it() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK]).await;
    let actor = format!("{SOUTHWARK}/node");
    for dataset in ["employment", "nonsense"] {
        let before = refusals(&fed, LAMBETH, &actor, dataset).len();
        let channel = channel_as(&fed, LAMBETH, SOUTHWARK, "node").await;
        let status =
            changes_refusal(channel, changes_request(dataset, LAMBETH_SOUTHWARK_ID, "")).await;
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(
            status.message().contains(&format!("`{dataset}`")),
            "{status:?}"
        );
        assert_one_refusal_audited(&fed, LAMBETH, &actor, dataset, before, Some(gss(SOUTHWARK)));
    }
}

/// Sends one upsert of a sample `borough` record for childcare places on `channel`.
async fn ingest_one(
    channel: tonic::transport::Channel,
    borough: &str,
) -> Result<v1::IngestAck, tonic::Status> {
    let (id, place) = places(borough, 1).remove(0);
    v1::ingest_client::IngestClient::new(channel)
        .apply(v1::IngestBatch {
            dataset: childcare().to_string(),
            ops: vec![v1::IngestOp {
                local_ref: id,
                op: Some(v1::ingest_op::Op::Upsert(borough_proto::input_any(
                    borough_model::Dataset::ChildcarePlaces,
                    &place,
                ))),
            }],
            batch_ref: "test".into(),
        })
        .await
        .map(|r| r.into_inner())
}

//! Regional analytics as an analyst sees it (docs/DISCLOSURE.md): figures over
//! the node's own records and the replicas its agreements let it hold, people
//! counted once across borough lines, small cells suppressed, every answer
//! audited and stating how fresh each origin's data is, and only analysts may ask.

use borough_model::{Dataset, Geography};
use borough_proto::v1;
use borough_store::AuditAction;
use tonic::Code;

use crate::support::*;

const EMPLOYMENT: Dataset = Dataset::EmploymentParticipation;

/// Ingests participants of `programme` at `borough`, one case per NI number.
async fn ingest(fed: &Federation, borough: &str, programme: &str, ni_numbers: &[String]) {
    let rows = ni_numbers
        .iter()
        .map(|ni| {
            (
                format!("{programme}-{ni}"),
                participant(borough, ni, programme),
            )
        })
        .collect();
    fed.ingest_inputs(borough, EMPLOYMENT, rows).await;
}

fn request(measures: &[&str], group_by: &[&str]) -> v1::QueryRequest {
    v1::QueryRequest {
        dataset: EMPLOYMENT.as_str().into(),
        measures: measures.iter().map(|m| m.to_string()).collect(),
        group_by: group_by.iter().map(|d| d.to_string()).collect(),
        filters: vec![],
    }
}

async fn ask(
    fed: &Federation,
    borough: &str,
    role: &str,
    req: v1::QueryRequest,
) -> Result<v1::QueryReply, tonic::Status> {
    let channel = fed.client_as(borough, role).await;
    v1::query_client::QueryClient::new(channel)
        .run(req)
        .await
        .map(tonic::Response::into_inner)
}

fn count(f: &v1::Figure) -> Option<u64> {
    match f.value {
        Some(v1::figure::Value::Count(n)) => Some(n),
        _ => None,
    }
}

fn symbol(f: &v1::Figure) -> Option<&str> {
    match &f.value {
        Some(v1::figure::Value::Symbol(s)) => Some(s),
        _ => None,
    }
}

/// The true values a released count can stand for: rounding to 5 hides ±2, the
/// perturbation ±2.
fn could_be(released: u64, truth: u64) -> bool {
    released.abs_diff(truth) <= 4
}

/// Waits until Lambeth holds `n` of Southwark's employment records.
async fn replicated(fed: &Federation, n: u64) {
    eventually(
        "Lambeth to hold Southwark's participants",
        CONVERGE,
        || async {
            (fed.store(LAMBETH)
                .count(EMPLOYMENT, gss(SOUTHWARK))
                .expect("count")
                == n)
                .then_some(())
        },
    )
    .await;
}

/// A person served by two boroughs is one participant in the region's figures,
/// while each borough's row counts them.
#[tokio::test]
async fn a_person_served_by_two_boroughs_counts_once_in_the_total() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK]).await;
    // 30 people at Lambeth; 30 at Southwark, 20 of them also at Lambeth.
    ingest(&fed, LAMBETH, "restart", &people(0..30)).await;
    ingest(&fed, SOUTHWARK, "work-and-health", &people(10..40)).await;
    replicated(&fed, 30).await;

    let reply = ask(
        &fed,
        LAMBETH,
        "analyst",
        request(&["participants", "referrals"], &["delivering-borough"]),
    )
    .await
    .expect("the analyst is answered");
    let total = reply.rows.iter().find(|r| r.total).expect("a total row");
    let participants = count(&total.figures[0]).expect("released");
    let referrals = count(&total.figures[1]).expect("released");
    assert!(
        could_be(participants, 40),
        "40 people released as {participants}"
    );
    assert!(
        could_be(referrals, 60),
        "60 referrals released as {referrals}"
    );
    for row in reply.rows.iter().filter(|r| !r.total) {
        let n = count(&row.figures[0]).expect("released");
        assert!(
            could_be(n, 30),
            "{:?}: 30 people released as {n}",
            row.labels
        );
    }
}

/// A cell of fewer people than the threshold is released as `c`, never a number,
/// and so is whatever would let it be worked out from the total.
#[tokio::test]
async fn a_cell_of_fewer_people_than_the_threshold_is_suppressed() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK]).await;
    ingest(&fed, LAMBETH, "restart", &people(0..40)).await;
    ingest(&fed, SOUTHWARK, "restart", &people(100..104)).await;
    replicated(&fed, 4).await;

    let reply = ask(
        &fed,
        LAMBETH,
        "analyst",
        request(&["participants"], &["delivering-borough"]),
    )
    .await
    .expect("answered");
    let southwark = reply
        .rows
        .iter()
        .find(|r| r.codes.first().map(String::as_str) == Some(SOUTHWARK))
        .expect("a Southwark row");
    assert_eq!(symbol(&southwark.figures[0]), Some("c"));
    let lambeth = reply
        .rows
        .iter()
        .find(|r| r.codes.first().map(String::as_str) == Some(LAMBETH))
        .expect("a Lambeth row");
    let total = reply.rows.iter().find(|r| r.total).expect("a total");
    // With the total and Lambeth both released, Southwark's 4 would be narrowed
    // to total − Lambeth ± 8; disclosure control must not allow that to pin it.
    if let (Some(t), Some(l)) = (count(&total.figures[0]), count(&lambeth.figures[0])) {
        let (lo, hi) = (
            t.saturating_sub(4) as i64 - (l + 4) as i64,
            (t + 4) as i64 - (l.saturating_sub(4).max(10)) as i64,
        );
        assert!(lo <= 0 && hi >= 9, "Southwark narrowed to {lo}..={hi}");
    }
    let disclosure = reply.disclosure.expect("disclosure summary");
    assert_eq!((disclosure.threshold, disclosure.rounding_base), (10, 5));
    assert!(disclosure.cells_suppressed >= 1);
}

/// Only an analyst certificate may query: broker, system, admin and a peer
/// node's certificate are refused, and each refusal is audited.
#[tokio::test]
async fn only_an_analyst_may_query() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK]).await;
    for role in ["broker", "system", "admin"] {
        let err = ask(&fed, LAMBETH, role, request(&["referrals"], &[]))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{role}: {err:?}");
    }
    // Southwark's node certificate, presented to Lambeth as a peer would.
    let certs = fed.certs(SOUTHWARK);
    let lambeth = fed.inner.node(gss(LAMBETH)).expect("Lambeth runs");
    let channel = borough_node::client::connect_as(
        &lambeth.config,
        &certs.join("node.pem"),
        &certs.join("node.key"),
    )
    .await
    .expect("a peer node connects");
    let err = v1::query_client::QueryClient::new(channel)
        .run(request(&["referrals"], &[]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let refused = fed
        .store(LAMBETH)
        .audit()
        .entries()
        .map(|e| e.expect("entry").entry)
        .filter(|e| e.action == AuditAction::Refused && e.detail.contains("borough.v1.Query"))
        .count();
    assert_eq!(refused, 4, "refusals audited");
}

/// Every answer is an audit entry naming the analyst, the query and how many
/// figures were released and suppressed.
#[tokio::test]
async fn every_query_is_audited_with_the_analyst_and_what_was_released() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK]).await;
    ingest(&fed, LAMBETH, "restart", &people(0..25)).await;
    let reply = ask(
        &fed,
        LAMBETH,
        "analyst",
        request(&["starts"], &["programme"]),
    )
    .await
    .expect("answered");
    let entry = fed
        .store(LAMBETH)
        .audit()
        .entries()
        .map(|e| e.expect("entry").entry)
        .find(|e| e.action == AuditAction::Queried)
        .expect("the query is audited");
    assert!(entry.actor.contains("analyst"), "{}", entry.actor);
    assert!(
        entry.detail.contains("measures=starts") && entry.detail.contains("group_by=programme"),
        "{}",
        entry.detail
    );
    let released = reply.disclosure.expect("summary").cells_released;
    assert!(
        entry.detail.contains(&format!("released={released}")),
        "{}",
        entry.detail
    );
    assert!(fed.store(LAMBETH).audit().verify().is_ok());
}

/// The answer states, per origin, how current its data is: this node's own and a
/// connected peer's are current; a configured peer with no agreement for the
/// dataset is missing; a peer that goes down becomes stale, not silently old.
#[tokio::test]
async fn freshness_names_missing_boroughs_and_a_peer_that_goes_down_turns_stale() {
    let mut fed = Federation::start(&[LAMBETH, SOUTHWARK, LEWISHAM]).await;
    ingest(&fed, SOUTHWARK, "restart", &people(0..12)).await;
    replicated(&fed, 12).await;
    let state = |reply: &v1::QueryReply, borough: &str| {
        reply
            .freshness
            .iter()
            .find(|f| f.borough == borough)
            .map(|f| f.state.clone())
            .unwrap_or_default()
    };
    let reply = eventually(
        "Southwark's data to be current at Lambeth",
        CONVERGE,
        || async {
            let reply = ask(&fed, LAMBETH, "analyst", request(&["referrals"], &[]))
                .await
                .ok()?;
            (state(&reply, SOUTHWARK) == "current").then_some(reply)
        },
    )
    .await;
    assert_eq!(state(&reply, LAMBETH), "current");
    // Lambeth and Lewisham share childcare only.
    assert_eq!(state(&reply, LEWISHAM), "missing");
    let southwark = reply
        .freshness
        .iter()
        .find(|f| f.borough == SOUTHWARK)
        .expect("listed");
    assert_eq!(southwark.records, 12);
    assert!(southwark.seq > 0);

    fed.inner
        .stop(gss(SOUTHWARK))
        .await
        .expect("stop Southwark");
    eventually(
        "Southwark's data to turn stale at Lambeth",
        CONVERGE,
        || async {
            let reply = ask(&fed, LAMBETH, "analyst", request(&["referrals"], &[]))
                .await
                .ok()?;
            (state(&reply, SOUTHWARK) == "stale").then_some(())
        },
    )
    .await;
}

/// A query naming an unknown measure or a bad filter value is refused with
/// INVALID_ARGUMENT naming what was wrong.
#[tokio::test]
async fn a_bad_query_is_refused_naming_what_is_wrong() {
    let fed = Federation::start(&[LAMBETH]).await;
    let err = ask(&fed, LAMBETH, "analyst", request(&["headcount"], &[]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("headcount") && err.message().contains("participants"),
        "{}",
        err.message()
    );
    let mut req = request(&["referrals"], &["resident-borough"]);
    req.filters.push(v1::QueryFilter {
        dimension: "programme".into(),
        values: vec!["bootcamp".into()],
    });
    let err = ask(&fed, LAMBETH, "analyst", req).await.unwrap_err();
    assert!(
        err.message().contains("programme") && err.message().contains("bootcamp"),
        "{}",
        err.message()
    );
}

/// The view follows erasure: an erased person no longer counts.
#[tokio::test]
async fn an_erased_record_no_longer_counts() {
    let fed = Federation::start(&[LAMBETH]).await;
    ingest(&fed, LAMBETH, "restart", &people(0..30)).await;
    let before = ask(&fed, LAMBETH, "analyst", request(&["referrals"], &[]))
        .await
        .expect("answered");
    let channel = fed.client_as(LAMBETH, "system").await;
    let mut ingest_client = v1::ingest_client::IngestClient::new(channel);
    for ni in people(0..20) {
        ingest_client
            .erase(v1::EraseRequest {
                dataset: EMPLOYMENT.as_str().into(),
                local_ref: format!("restart-{ni}"),
            })
            .await
            .expect("erased");
    }
    let after = ask(&fed, LAMBETH, "analyst", request(&["referrals"], &[]))
        .await
        .expect("answered");
    assert!(could_be(
        count(&before.rows[0].figures[0]).expect("released"),
        30
    ));
    assert!(could_be(
        count(&after.rows[0].figures[0]).expect("released"),
        10
    ));
}

/// A childcare request at `borough` whose parent has NI number `ni_number`.
fn childcare_request(borough: &str, ni_number: &str) -> v1::RequestInput {
    let lsoa = Geography::bundled().lsoas_in(gss(borough))[0];
    v1::RequestInput {
        parent_ni_number: ni_number.into(),
        parent_name: "Query Testparent".into(),
        child_name: "Query Testchild".into(),
        child_date_of_birth: "2023-05-10".into(),
        address: "1 Test Street".into(),
        postcode: "SE1 7ZZ".into(),
        lsoa: lsoa.to_string(),
        lat: "51.49".into(),
        long: "-0.09".into(),
        request_date: "2026-02-01".into(),
        start_term: "2026-autumn".into(),
        days: "Mon-Fri".into(),
        opens: "08:00".into(),
        closes: "13:00".into(),
        term_time_only: "yes".into(),
        entitlement: "universal-15".into(),
        send_need: "none".into(),
        ..Default::default()
    }
}

/// The joined figure: of the participants who reported a childcare barrier, how
/// many have a childcare request under the same pseudonym, linked across borough
/// lines on the analyst's own node, and how many of those reached a job outcome.
#[tokio::test]
async fn the_joined_figure_links_participants_to_childcare_requests_across_boroughs() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK]).await;
    let rows = people(0..40)
        .iter()
        .enumerate()
        .map(|(i, ni)| {
            let mut p = participant(LAMBETH, ni, "restart");
            // The first 30 report childcare as a barrier.
            p.childcare_barrier = if i < 30 { "yes" } else { "no" }.into();
            (format!("case-{ni}"), p)
        })
        .collect();
    fed.ingest_inputs(LAMBETH, EMPLOYMENT, rows).await;
    // Southwark's brokers hold requests for 20 of the 30, and for 5 people with
    // no barrier, who must not count.
    let requesters: Vec<String> = people(0..20).into_iter().chain(people(32..37)).collect();
    let rows = requesters
        .iter()
        .map(|ni| (format!("request-{ni}"), childcare_request(SOUTHWARK, ni)))
        .collect();
    fed.ingest_inputs(SOUTHWARK, Dataset::ChildcareRequests, rows)
        .await;
    eventually("Lambeth to hold Southwark's requests", CONVERGE, || async {
        (fed.store(LAMBETH)
            .count(Dataset::ChildcareRequests, gss(SOUTHWARK))
            .expect("count")
            == 25)
            .then_some(())
    })
    .await;

    let reply = ask(
        &fed,
        LAMBETH,
        "analyst",
        request(
            &[
                "barrier-participants",
                "barrier-request-participants",
                "barrier-request-job-outcome-rate-6m",
            ],
            &[],
        ),
    )
    .await
    .expect("answered");
    let row = &reply.rows[0];
    let barrier = count(&row.figures[0]).expect("released");
    let linked = count(&row.figures[1]).expect("released");
    assert!(
        could_be(barrier, 30),
        "30 with a barrier released as {barrier}"
    );
    assert!(could_be(linked, 20), "20 linked released as {linked}");
    // All 20 started in March 2026 and reached a job outcome two months later:
    // numerator and denominator are the same people, so the same cell key and the
    // same released count, and the rate is exactly 100.
    match &row.figures[2].value {
        Some(v1::figure::Value::Rate(r)) => assert_eq!(*r, 100.0),
        other => panic!("a rate, not {other:?}"),
    }
}

fn private(measures: &[&str], epsilon_micros: u64) -> v1::PrivateQueryRequest {
    v1::PrivateQueryRequest {
        query: Some(request(measures, &["sex"])),
        epsilon_micros,
    }
}

async fn ask_private(
    fed: &Federation,
    role: &str,
    req: v1::PrivateQueryRequest,
) -> Result<v1::QueryReply, tonic::Status> {
    let channel = fed.client_as(LAMBETH, role).await;
    v1::query_client::QueryClient::new(channel)
        .run_private(req)
        .await
        .map(tonic::Response::into_inner)
}

/// Differential privacy for researchers outside the partnership: every answer
/// spends from a budget kept in the store, a spent budget is RESOURCE_EXHAUSTED,
/// and it stays spent after the node restarts. Each spend is audited.
#[tokio::test]
async fn a_researchers_privacy_budget_is_spent_refused_and_survives_a_restart() {
    let mut fed = Federation::start(&[LAMBETH]).await;
    ingest(&fed, LAMBETH, "restart", &people(0..30)).await;
    let first = ask_private(&fed, "researcher", private(&["participants"], 500_000))
        .await
        .expect("answered");
    let spend = first.privacy.expect("a private answer says what it spent");
    assert_eq!(
        (spend.spent_micros, spend.remaining_micros),
        (500_000, 500_000)
    );
    // One count grouped by sex, with its total: sensitivity 2, ε 0.5, scale 4.
    assert_eq!(spend.noise_scale, 4.0);
    // Every cell of the domain is released: female, male, not known, and the total.
    assert_eq!(first.rows.len(), 4);
    assert!(first.disclosure.is_none());

    ask_private(&fed, "researcher", private(&["participants"], 500_000))
        .await
        .expect("the rest of the budget");
    let err = ask_private(&fed, "researcher", private(&["participants"], 1))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");

    fed.inner.stop(gss(LAMBETH)).await.expect("stop Lambeth");
    fed.inner
        .restart(gss(LAMBETH))
        .await
        .expect("restart Lambeth");
    let err = ask_private(&fed, "researcher", private(&["participants"], 1))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::ResourceExhausted,
        "still spent after a restart: {err:?}"
    );
    let spends = fed
        .store(LAMBETH)
        .audit()
        .entries()
        .map(|e| e.expect("entry").entry)
        .filter(|e| e.action == AuditAction::BudgetSpent)
        .collect::<Vec<_>>();
    assert_eq!(spends.len(), 2);
    assert!(spends.iter().all(|e| e.actor.contains("researcher")));
}

/// Researchers get only noisy answers and analysts only disclosure-controlled
/// ones; one answer may not spend more than a node allows.
#[tokio::test]
async fn researchers_and_analysts_each_call_only_their_own_method() {
    let fed = Federation::start(&[LAMBETH]).await;
    let err = ask_private(&fed, "analyst", private(&["referrals"], 100_000))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = ask(&fed, LAMBETH, "researcher", request(&["referrals"], &[]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = ask_private(&fed, "researcher", private(&["referrals"], 600_000))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(
        err.message().contains("epsilon_micros"),
        "{}",
        err.message()
    );
    assert_eq!(
        fed.store(LAMBETH)
            .privacy_spent(&format!("{LAMBETH}/researcher"))
            .unwrap_or(0),
        0
    );
}

/// The capacity and vacancies of sample providers' offers, as their inputs give them.
fn capacity_and_vacancies(providers: &[(String, v1::ProviderInput)]) -> (u64, u64) {
    providers
        .iter()
        .flat_map(|(_, p)| &p.offers)
        .map(|o| {
            let n = |s: &str| s.parse::<u64>().expect("sample numbers parse");
            (n(&o.capacity), n(&o.vacancies))
        })
        .fold((0, 0), |(c, v), (oc, ov)| (c + oc, v + ov))
}

/// The median hourly fee of the providers' offers in pence, rounded half up to
/// 10p as released.
fn median_fee(providers: &[(String, v1::ProviderInput)]) -> u64 {
    let mut fees: Vec<u64> = providers
        .iter()
        .flat_map(|(_, p)| &p.offers)
        .map(|o| {
            let pounds: f64 = o.fee_per_hour.parse().expect("sample fees parse");
            (pounds * 100.0).round() as u64
        })
        .collect();
    fees.sort_unstable();
    let n = fees.len();
    let median = if n % 2 == 1 {
        fees[n / 2]
    } else {
        (fees[n / 2 - 1] + fees[n / 2]) / 2
    };
    (median + 5) / 10 * 10
}

/// Childcare providers, places, vacancies and the median fee are counted per
/// provider borough over the node's own providers and the replicas it holds.
#[tokio::test]
async fn childcare_places_are_counted_per_provider_borough_across_the_federation() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK]).await;
    let ours = places(LAMBETH, 25);
    let theirs = places(SOUTHWARK, 30);
    fed.ingest(LAMBETH, ours.clone()).await;
    fed.ingest(SOUTHWARK, theirs.clone()).await;
    eventually("Lambeth to hold Southwark's places", CONVERGE, || async {
        (fed.store(LAMBETH)
            .count(Dataset::ChildcarePlaces, gss(SOUTHWARK))
            .expect("count")
            == 30)
            .then_some(())
    })
    .await;
    let req = v1::QueryRequest {
        dataset: Dataset::ChildcarePlaces.as_str().into(),
        measures: vec![
            "providers".into(),
            "places".into(),
            "median-fee-per-hour-pence".into(),
        ],
        group_by: vec!["provider-borough".into()],
        filters: vec![],
    };
    let reply = ask(&fed, LAMBETH, "analyst", req).await.expect("answered");
    let row = |code: &str| {
        reply
            .rows
            .iter()
            .find(|r| r.codes.first().map(String::as_str) == Some(code))
            .unwrap_or_else(|| panic!("a row for {code}"))
    };
    for (borough, providers) in [(LAMBETH, &ours), (SOUTHWARK, &theirs)] {
        let figures = &row(borough).figures;
        let (capacity, _) = capacity_and_vacancies(providers);
        let released = count(&figures[0]).expect("providers released");
        assert!(
            could_be(released, providers.len() as u64),
            "{borough}: {released} providers"
        );
        let released = count(&figures[1]).expect("places released");
        assert!(
            could_be(released, capacity),
            "{borough}: {released} of {capacity} places"
        );
        assert_eq!(count(&figures[2]), Some(median_fee(providers)), "{borough}");
    }
    let total = count(&row("").figures[0]).expect("total released");
    assert!(could_be(total, 55), "{total} providers in all");
}

/// Requests and distinct families are counted by home borough; a measure of
/// another dataset is refused, naming it.
#[tokio::test]
async fn childcare_requests_count_families_by_home_borough() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK]).await;
    let rows = people(0..20)
        .iter()
        .map(|ni| (format!("request-{ni}"), childcare_request(SOUTHWARK, ni)))
        .collect();
    fed.ingest_inputs(SOUTHWARK, Dataset::ChildcareRequests, rows)
        .await;
    let mut req = v1::QueryRequest {
        dataset: Dataset::ChildcareRequests.as_str().into(),
        measures: vec!["requests".into(), "families".into()],
        group_by: vec!["home-borough".into()],
        filters: vec![],
    };
    let reply = ask(&fed, SOUTHWARK, "analyst", req.clone())
        .await
        .expect("answered");
    let southwark = reply
        .rows
        .iter()
        .find(|r| r.codes.first().map(String::as_str) == Some(SOUTHWARK))
        .expect("a row for Southwark");
    assert!(could_be(
        count(&southwark.figures[0]).expect("requests"),
        20
    ));
    assert!(could_be(
        count(&southwark.figures[1]).expect("families"),
        20
    ));
    req.measures.push("referrals".into());
    let refused = ask(&fed, SOUTHWARK, "analyst", req)
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("referrals"),
        "{}",
        refused.message()
    );
}

const PROGRAMMES: [&str; 4] = [
    "connect-to-work",
    "work-and-health",
    "restart",
    "local-support",
];

/// The figures a node gives over a peer's replicas follow every kind of change
/// the peer makes: new cases, a programme corrected, cases deleted and cases
/// erased. Each step moves a programme's figures by more than disclosure
/// control's ±4, so a change the view missed would show.
#[tokio::test]
async fn figures_over_replicas_follow_a_peers_updates_deletions_and_erasures() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK]).await;
    // Case k is person k % 200 on programme k % 4: 40 people have two cases,
    // both on the same programme.
    let mut cases: std::collections::BTreeMap<u32, (String, &str)> = (0..240)
        .map(|k| {
            (
                k,
                (format!("AB{:06}C", k % 200), PROGRAMMES[k as usize % 4]),
            )
        })
        .collect();
    let input = |ni: &str, programme: &str| participant(SOUTHWARK, ni, programme);
    let rows = |cases: &std::collections::BTreeMap<u32, (String, &str)>, pick: fn(u32) -> bool| {
        cases
            .iter()
            .filter(|(k, _)| pick(**k))
            .map(|(k, (ni, p))| (format!("case-{k}"), input(ni, p)))
            .collect::<Vec<_>>()
    };
    fed.ingest_inputs(SOUTHWARK, EMPLOYMENT, rows(&cases, |_| true))
        .await;

    // Every fifth case was really on Restart.
    for (k, case) in cases.iter_mut() {
        if k % 5 == 0 {
            case.1 = "restart";
        }
    }
    fed.ingest_inputs(SOUTHWARK, EMPLOYMENT, rows(&cases, |k| k % 5 == 0))
        .await;
    // Every seventh is deleted, every sixth of the rest erased.
    let deleted: Vec<String> = (0..240)
        .filter(|k| k % 7 == 0)
        .map(|k| format!("case-{k}"))
        .collect();
    let refs: Vec<&str> = deleted.iter().map(String::as_str).collect();
    fed.delete(SOUTHWARK, EMPLOYMENT, &refs).await;
    let channel = fed.client_as(SOUTHWARK, "system").await;
    let mut ingest_client = v1::ingest_client::IngestClient::new(channel);
    for k in (0..240).filter(|k| k % 7 != 0 && k % 6 == 0) {
        ingest_client
            .erase(v1::EraseRequest {
                dataset: EMPLOYMENT.as_str().into(),
                local_ref: format!("case-{k}"),
            })
            .await
            .expect("erased");
    }
    cases.retain(|k, _| k % 7 != 0 && k % 6 != 0);

    fed.caught_up(LAMBETH, SOUTHWARK, EMPLOYMENT).await;

    let reply = ask(
        &fed,
        LAMBETH,
        "analyst",
        request(&["referrals", "participants"], &["programme"]),
    )
    .await
    .expect("answered");
    for row in &reply.rows {
        let on = |p: &str| row.labels[0] == "Total" || row.labels[0] == p;
        let referrals = cases.values().filter(|(_, p)| on(p)).count() as u64;
        let people: std::collections::BTreeSet<&String> = cases
            .values()
            .filter(|(_, p)| on(p))
            .map(|(ni, _)| ni)
            .collect();
        for (figure, truth) in row.figures.iter().zip([referrals, people.len() as u64]) {
            let released = count(figure).unwrap_or_else(|| panic!("{row:?} released"));
            assert!(
                could_be(released, truth),
                "{}: released {released}, true {truth}",
                row.labels[0]
            );
        }
    }
    assert_eq!(reply.rows.len(), PROGRAMMES.len() + 1, "{reply:?}");
}

/// Southwark's own node and Lambeth's, holding Southwark's records as
/// replicas, give the same figures for them: the same cell over the same
/// records gets the same perturbation at whichever node holds them.
#[tokio::test]
async fn two_nodes_holding_the_same_records_give_the_same_figures() {
    let fed = Federation::start(&[LAMBETH, SOUTHWARK]).await;
    for (i, programme) in PROGRAMMES.iter().enumerate() {
        let first = 200 * i as u32;
        ingest(
            &fed,
            SOUTHWARK,
            programme,
            &people(first..first + 20 + 13 * i as u32),
        )
        .await;
    }
    ingest(&fed, LAMBETH, "restart", &people(5_000..5_040)).await;
    replicated(&fed, 20 + 33 + 46 + 59).await;
    let mut req = request(
        &["referrals", "participants"],
        &["programme", "start-month"],
    );
    req.filters = vec![v1::QueryFilter {
        dimension: "delivering-borough".into(),
        values: vec![SOUTHWARK.into()],
    }];
    let at_lambeth = ask(&fed, LAMBETH, "analyst", req.clone())
        .await
        .expect("answered");
    let at_southwark = ask(&fed, SOUTHWARK, "analyst", req)
        .await
        .expect("answered");
    assert_eq!(at_lambeth.rows, at_southwark.rows);
    assert_eq!(at_lambeth.rows.len(), PROGRAMMES.len() + 1);
    let released = at_lambeth
        .rows
        .iter()
        .flat_map(|r| &r.figures)
        .filter(|f| count(f).is_some())
        .count();
    assert_eq!(
        released,
        2 * (PROGRAMMES.len() + 1),
        "every figure released"
    );
}

//! The canary: records carrying distinctive direct identifiers are ingested at
//! Lambeth and replicated; afterwards no identifier appears — in plain text or in
//! an obvious encoding — in any byte of any node's data directory, in any response
//! a peer or an analyst can get, or in any node's log at trace level.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use borough_model::{Dataset, Geography};
use borough_proto::{input_any, v1};
use borough_security::certs::node_server_name;
use borough_security::tls::{self, Credentials, TrustAnchors};
use borough_sync::{dial, SyncLimits};
use prost::Message;

use crate::support::process::{inbound, ProcessFederation};
use crate::support::*;

/// The identifiers that must never be stored, sent or logged.
const CANARIES: &[&str] = &[
    "Zebedee",
    "Quillfeather",
    "Octavia",
    "Petronella",
    "Xylophone Mews",
    "WX 97 53 18 B",
    "WX975318B",
    "1979-03-17",
    "2024-01-19",
    "SW9 6QZ",
    "50987654321",
    "51.46512",
];

/// The forms in which a value might leak: as typed, upper and lower case, without
/// spaces, and each of those in hex and base64 (at every byte alignment).
fn encodings(value: &str) -> Vec<Vec<u8>> {
    let mut forms: Vec<String> = vec![
        value.to_string(),
        value.to_uppercase(),
        value.to_lowercase(),
    ];
    for f in forms.clone() {
        forms.push(f.replace(' ', ""));
    }
    forms.sort();
    forms.dedup();
    let mut out = Vec::new();
    let b64 = base64::engine::general_purpose::STANDARD;
    for f in &forms {
        out.push(f.as_bytes().to_vec());
        out.push(hex::encode(f).into_bytes());
        out.push(hex::encode_upper(f).into_bytes());
        for shift in 0..3 {
            // Shifting by 1 or 2 bytes changes which base64 characters the value
            // lands in; keep only the characters that depend on the value alone.
            let mut padded = vec![b'#'; shift];
            padded.extend_from_slice(f.as_bytes());
            let encoded = b64.encode(&padded);
            let start = (shift * 4).div_ceil(3);
            let end = encoded.trim_end_matches('=').len().saturating_sub(2);
            if end > start + 4 {
                out.push(encoded.as_bytes()[start..end].to_vec());
            }
        }
    }
    out
}

/// Every canary form found in `haystack`, described.
fn leaks(haystack: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for value in CANARIES {
        for form in encodings(value) {
            if haystack.windows(form.len()).any(|w| w == form.as_slice()) {
                found.push(format!("{value:?} as {:?}", String::from_utf8_lossy(&form)));
            }
        }
    }
    found
}

fn all_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            all_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn lambeth_lsoa() -> String {
    Geography::bundled().lsoas_in(gss(LAMBETH))[0].to_string()
}

fn canary_participant() -> v1::ParticipantInput {
    v1::ParticipantInput {
        ni_number: "WX 97 53 18 B".into(),
        name: "Zebedee Quillfeather".into(),
        date_of_birth: "1979-03-17".into(),
        sex: "male".into(),
        postcode: "SW9 6QZ".into(),
        lsoa: lambeth_lsoa(),
        programme: "work-and-health".into(),
        eligibility_group: "early-access".into(),
        referral_date: "2026-03-02".into(),
        start_date: "2026-04-06".into(),
        childcare_barrier: "yes".into(),
        ..Default::default()
    }
}

fn canary_request() -> v1::RequestInput {
    v1::RequestInput {
        parent_ni_number: "wx975318b".into(),
        parent_name: "Zebedee Quillfeather".into(),
        child_name: "Octavia Quillfeather".into(),
        child_date_of_birth: "2024-01-19".into(),
        address: "17 Xylophone Mews".into(),
        postcode: "sw96qz".into(),
        lsoa: lambeth_lsoa(),
        lat: "51.46512".into(),
        long: "-0.11873".into(),
        request_date: "2026-10-01".into(),
        start_term: "2027-spring".into(),
        days: "Mon-Fri".into(),
        opens: "08:00".into(),
        closes: "18:00".into(),
        term_time_only: "no".into(),
        entitlement: "working-parent".into(),
        hmrc_eligibility_code: "50987654321".into(),
        send_need: "none".into(),
        ..Default::default()
    }
}

fn canary_childminder() -> v1::ProviderInput {
    v1::ProviderInput {
        provider_name: "Petronella Quillfeather".into(),
        provider_type: "childminder".into(),
        ofsted_grade: "good".into(),
        address: "17 Xylophone Mews".into(),
        postcode: "SW9 6QZ".into(),
        lsoa: lambeth_lsoa(),
        lat: "51.46512".into(),
        long: "-0.11873".into(),
        send_support: "yes".into(),
        accepts_out_of_borough: "yes".into(),
        offers: vec![v1::OfferInput {
            age_band: "2".into(),
            days: "Mon-Fri".into(),
            opens: "08:00".into(),
            closes: "18:00".into(),
            term_time_only: "no".into(),
            capacity: "3".into(),
            vacancies: "1".into(),
            funded: "working-parent".into(),
            fee_per_hour: "8.50".into(),
        }],
        ..Default::default()
    }
}

/// Reads every batch a peer gets from `Changes` until it has caught up.
async fn everything_served(
    address: &str,
    server: &str,
    caller_certs: &Path,
    server_ca: &Path,
    dataset: Dataset,
) -> Vec<u8> {
    let credentials = Credentials::load(
        &caller_certs.join("node.pem"),
        &caller_certs.join("node.key"),
    )
    .expect("node credentials");
    let mut anchors = TrustAnchors::new();
    anchors.insert(gss(server), server_ca).expect("CA");
    let tls = tls::client_config(&credentials, gss(server), &anchors).expect("tls");
    let channel = dial(
        address,
        &node_server_name(gss(server)),
        tls,
        &SyncLimits::default(),
    )
    .await
    .expect("dial");
    let mut bytes = Vec::new();
    let response = v1::replication_client::ReplicationClient::new(channel)
        .changes(v1::ChangesRequest {
            dataset: dataset.as_str().into(),
            since_seq: 0,
            agreement_id: String::new(),
            agreement_hash: String::new(),
        })
        .await;
    // A flow without an agreement is refused; the refusal is a response too.
    let mut stream = match response {
        Ok(r) => r.into_inner(),
        Err(status) => {
            bytes.extend_from_slice(status.message().as_bytes());
            return bytes;
        }
    };
    while let Ok(Ok(Some(batch))) =
        tokio::time::timeout(Duration::from_secs(2), stream.message()).await
    {
        bytes.extend(batch.encode_to_vec());
        if batch.up_to_seq >= batch.head_seq {
            break;
        }
    }
    bytes
}

/// No direct identifier survives the door: not in any store, response or log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_identifier_is_stored_sent_or_logged() {
    let boroughs = [LAMBETH, SOUTHWARK, LEWISHAM];
    let fed = ProcessFederation::lay_out(&boroughs, FAST_RETRY)
        .await
        .with_log_filter("trace");
    let mut nodes = Vec::new();
    for b in boroughs {
        nodes.push(fed.start(b).await);
    }
    let channel = nodes[0].connect_as("system").await.expect("system");
    let mut client = v1::ingest_client::IngestClient::new(channel);
    for (dataset, any) in [
        (
            Dataset::EmploymentParticipation,
            input_any(Dataset::EmploymentParticipation, &canary_participant()),
        ),
        (
            Dataset::ChildcareRequests,
            input_any(Dataset::ChildcareRequests, &canary_request()),
        ),
        (
            Dataset::ChildcarePlaces,
            input_any(Dataset::ChildcarePlaces, &canary_childminder()),
        ),
    ] {
        client
            .apply(v1::IngestBatch {
                dataset: dataset.as_str().into(),
                ops: vec![v1::IngestOp {
                    local_ref: "canary-case".into(),
                    op: Some(v1::ingest_op::Op::Upsert(any)),
                }],
                batch_ref: "canary".into(),
            })
            .await
            .unwrap_or_else(|s| panic!("{dataset} canary accepted: {s}"));
    }
    // Wait until every peer holds what its agreements let it have.
    let expected = [
        (SOUTHWARK, Dataset::ChildcarePlaces),
        (SOUTHWARK, Dataset::ChildcareRequests),
        (SOUTHWARK, Dataset::EmploymentParticipation),
        (LEWISHAM, Dataset::ChildcarePlaces),
        (LEWISHAM, Dataset::ChildcareRequests),
    ];
    for (peer, dataset) in expected {
        let node = &mut nodes[boroughs.iter().position(|b| *b == peer).expect("peer")];
        node.wait_status(
            &format!("{peer} to hold Lambeth's {dataset}"),
            CONVERGE,
            |s| {
                inbound(s, LAMBETH, dataset)
                    .filter(|f| f.records == 1 && f.lag_records == 0)
                    .map(|_| ())
            },
        )
        .await;
    }

    // Everything a peer can be sent, and everything an analyst can ask for.
    let mut responses = Vec::new();
    let lambeth_address = borough_node::status::local_address(nodes[0].config().listen).to_string();
    for caller in [SOUTHWARK, LEWISHAM] {
        for dataset in Dataset::ALL {
            responses.extend(
                everything_served(
                    &lambeth_address,
                    LAMBETH,
                    &fed.root().join("certs").join(caller),
                    &fed.root().join("certs").join(LAMBETH).join("ca.pem"),
                    dataset,
                )
                .await,
            );
        }
    }
    for node in &nodes {
        let status = node.status().await;
        responses.extend(status.encode_to_vec());
        responses.extend(format!("{status:?}").into_bytes());
    }

    for node in &mut nodes {
        node.stop().await;
    }
    let mut files = Vec::new();
    for node in &nodes {
        all_files(&node.config().data_dir, &mut files);
    }
    assert!(!files.is_empty());
    for file in &files {
        let bytes = std::fs::read(file).expect("read store file");
        let found = leaks(&bytes);
        assert!(found.is_empty(), "{} holds {found:?}", file.display());
    }
    assert!(!responses.is_empty());
    let found = leaks(&responses);
    assert!(found.is_empty(), "responses carry {found:?}");
    for b in boroughs {
        let log = std::fs::read(fed.log_path(b)).expect("node log");
        assert!(log.len() > 1000, "{b} logged at trace level");
        let found = leaks(&log);
        assert!(found.is_empty(), "{b}'s log carries {found:?}");
    }
}

#[test]
fn the_canary_search_finds_each_encoding() {
    let value = "Quillfeather";
    for form in encodings(value) {
        let mut haystack = b"prefix ".to_vec();
        haystack.extend(&form);
        assert!(
            !leaks(&haystack).is_empty(),
            "{:?} not found",
            String::from_utf8_lossy(&form)
        );
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(b"xy Zebedee Quillfeather z");
    assert!(
        !leaks(b64.as_bytes()).is_empty(),
        "base64 at an odd alignment"
    );
    assert!(leaks(b"nothing to see").is_empty());
}

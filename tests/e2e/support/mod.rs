//! Shared set-up for the end-to-end tests: borough constants, a federation that
//! starts real nodes in this process, clients that present real certificates, and
//! `eventually` for waits that name what they were waiting for.

#![allow(dead_code)]

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use borough_model::{Dataset, GssCode};
use borough_node::demo::{sample_providers, EXAMPLE_AGREEMENTS};
use borough_node::federation::LocalFederation;
use borough_proto::{input_any, v1};
use tonic::transport::Channel;

pub const LAMBETH: &str = "E09000022";
pub const SOUTHWARK: &str = "E09000028";
pub const LEWISHAM: &str = "E09000023";

/// Parses a GSS code constant.
pub fn gss(code: &str) -> GssCode {
    GssCode::parse(code).expect("test borough constant")
}

/// How long a test waits for replication before failing.
pub const CONVERGE: Duration = Duration::from_secs(20);

/// Polls `check` until it returns `Some`, failing the test with `what` after `within`.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {within:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The example agreements as (file name, text).
pub fn example_agreements() -> Vec<(String, String)> {
    EXAMPLE_AGREEMENTS
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect()
}

/// A running federation in a temporary folder, stopped when dropped.
pub struct Federation {
    pub inner: LocalFederation,
    pub dir: tempfile::TempDir,
}

impl Federation {
    /// Starts the given boroughs under the example agreements.
    pub async fn start(boroughs: &[&str]) -> Federation {
        Federation::start_with(boroughs, &example_agreements(), FAST_RETRY).await
    }

    /// Starts the given boroughs under `agreements`, with `extra` config appended.
    pub async fn start_with(
        boroughs: &[&str],
        agreements: &[(String, String)],
        extra: &str,
    ) -> Federation {
        let dir = tempfile::tempdir().expect("temp dir");
        let boroughs: Vec<GssCode> = boroughs.iter().map(|b| gss(b)).collect();
        let inner = LocalFederation::start(dir.path(), &boroughs, agreements, extra)
            .await
            .expect("federation starts");
        Federation { inner, dir }
    }

    pub fn certs(&self, borough: &str) -> PathBuf {
        self.dir.path().join("certs").join(borough)
    }

    pub fn store(&self, borough: &str) -> &borough_store::Store {
        &self.inner.node(gss(borough)).expect("node running").store
    }

    /// A channel to `borough`'s node as its user with `role` (system, admin …).
    pub async fn client_as(&self, borough: &str, role: &str) -> Channel {
        let node = self.inner.node(gss(borough)).expect("node running");
        let certs = self.certs(borough);
        borough_node::client::connect_as(
            &node.config,
            &certs.join(format!("{role}.pem")),
            &certs.join(format!("{role}.key")),
        )
        .await
        .expect("connect as user")
    }

    /// Upserts providers (local reference, identifiable input) at `borough`
    /// through the Ingest RPC.
    pub async fn ingest(
        &self,
        borough: &str,
        providers: Vec<(String, v1::ProviderInput)>,
    ) -> v1::IngestAck {
        self.ingest_inputs(borough, Dataset::ChildcarePlaces, providers)
            .await
    }

    /// Upserts identifiable inputs (local reference, input) of `dataset` at
    /// `borough` through the Ingest RPC, as its case system does.
    pub async fn ingest_inputs<M: prost::Message>(
        &self,
        borough: &str,
        dataset: Dataset,
        rows: Vec<(String, M)>,
    ) -> v1::IngestAck {
        let ops = rows
            .into_iter()
            .map(|(local_ref, input)| v1::IngestOp {
                local_ref,
                op: Some(v1::ingest_op::Op::Upsert(input_any(dataset, &input))),
            })
            .collect();
        self.apply(borough, dataset, ops)
            .await
            .unwrap_or_else(|e| panic!("{borough} refused the {dataset} batch: {e}"))
    }

    /// Sends raw ingest operations for `childcare-places` at `borough`.
    pub async fn ingest_ops(
        &self,
        borough: &str,
        ops: Vec<v1::IngestOp>,
    ) -> Result<v1::IngestAck, tonic::Status> {
        self.apply(borough, Dataset::ChildcarePlaces, ops).await
    }

    /// Sends raw ingest operations for `dataset` at `borough`, as its system.
    pub async fn apply(
        &self,
        borough: &str,
        dataset: Dataset,
        ops: Vec<v1::IngestOp>,
    ) -> Result<v1::IngestAck, tonic::Status> {
        let channel = self.client_as(borough, "system").await;
        v1::ingest_client::IngestClient::new(channel)
            .apply(v1::IngestBatch {
                dataset: dataset.as_str().into(),
                ops,
                batch_ref: "test".into(),
            })
            .await
            .map(|r| r.into_inner())
    }

    /// Waits until `holder` has applied every change `origin` has made to
    /// `dataset` so far.
    pub async fn caught_up(&self, holder: &str, origin: &str, dataset: Dataset) {
        let head = self.store(origin).head(dataset).expect("head");
        let what = format!("{holder} to hold all of {origin}'s {dataset} changes");
        eventually(&what, CONVERGE, || async {
            (self
                .store(holder)
                .checkpoint(gss(origin), dataset)
                .expect("checkpoint")
                >= head)
                .then_some(())
        })
        .await;
    }

    /// Deletes `dataset` records at `borough`, by local reference, through the
    /// Ingest RPC.
    pub async fn delete(
        &self,
        borough: &str,
        dataset: Dataset,
        local_refs: &[&str],
    ) -> v1::IngestAck {
        let ops = local_refs
            .iter()
            .map(|r| v1::IngestOp {
                local_ref: r.to_string(),
                op: Some(v1::ingest_op::Op::Delete(v1::Delete {})),
            })
            .collect();
        self.apply(borough, dataset, ops)
            .await
            .expect("delete accepted")
    }

    /// The status reply of `borough`'s node, asked as its admin.
    pub async fn status(&self, borough: &str) -> v1::StatusReply {
        let node = self.inner.node(gss(borough)).expect("node running");
        borough_node::status::fetch(&node.config)
            .await
            .expect("status")
    }

    /// The record id `origin` chose for its local reference, if it has one.
    pub fn record_id(&self, origin: &str, local_ref: &str) -> Option<borough_model::RecordId> {
        let local_ref = borough_store::LocalRef::parse(local_ref).expect("local ref");
        self.store(origin)
            .resolve_local_ref(Dataset::ChildcarePlaces, &local_ref)
            .expect("store read")
    }

    /// The stored payload of `origin`'s record for `local_ref` as held at `at`.
    pub fn held(&self, at: &str, origin: &str, local_ref: &str) -> Option<v1::ChildcarePlace> {
        use prost::Message;
        let id = self.record_id(origin, local_ref)?;
        self.store(at)
            .get(Dataset::ChildcarePlaces, gss(origin), &id)
            .expect("store read")
            .map(|r| v1::ChildcarePlace::decode(&r.payload[..]).expect("stored payload decodes"))
    }

    /// Waits until `at` holds `origin`'s record `id` and `accept` holds for it.
    pub async fn wait_for(
        &self,
        at: &str,
        origin: &str,
        id: &str,
        accept: impl Fn(&v1::ChildcarePlace) -> bool,
    ) -> v1::ChildcarePlace {
        eventually(&format!("{at} to hold {origin}'s {id}"), CONVERGE, || {
            let r = self.held(at, origin, id).filter(|p| accept(p));
            async move { r }
        })
        .await
    }
}

/// Config appended to every test node: quick retries so a restarted peer is found fast.
pub const FAST_RETRY: &str = "\n[limits]\nbackoff_min_ms = 20\nbackoff_max_ms = 300\n";

/// `n` sample providers of `borough`: (local reference, identifiable input).
pub fn places(borough: &str, n: usize) -> Vec<(String, v1::ProviderInput)> {
    sample_providers(gss(borough), n)
}
/// A participant delivered by `borough` and living there, who started in March
/// 2026 and reached a job outcome in May 2026.
pub fn participant(borough: &str, ni_number: &str, programme: &str) -> v1::ParticipantInput {
    let lsoa = borough_model::Geography::bundled().lsoas_in(gss(borough))[0];
    v1::ParticipantInput {
        ni_number: ni_number.into(),
        name: "Query Testperson".into(),
        date_of_birth: "1990-01-20".into(),
        sex: "male".into(),
        postcode: "SE1 7ZZ".into(),
        lsoa: lsoa.to_string(),
        programme: programme.into(),
        eligibility_group: "long-term-unemployed".into(),
        referral_date: "2026-02-03".into(),
        start_date: "2026-03-10".into(),
        job_outcome_date: "2026-05-11".into(),
        childcare_barrier: "no".into(),
        ..Default::default()
    }
}

/// NI numbers `AB<n>C` for n in `range`, each a distinct person.
pub fn people(range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|n| format!("AB{n:06}C")).collect()
}

pub mod handshake;

pub mod process;

pub mod binary;

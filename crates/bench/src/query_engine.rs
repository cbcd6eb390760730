//! borough-net's side of the query benchmark: the analytics engine over
//! Lambeth's loaded store, attached as the node attaches it at start
//! (`Store::observe`, which rebuilds the view from every stored record) and asked
//! as `Query.Run` asks it (`Analytics::answer`, disclosure control included).
//! It runs in this process, so the figures leave out the gRPC and TLS round trip
//! of one reply; the sync benchmark measures those paths.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use borough_analytics::{Analytics, DisclosureControl, Query};
use borough_model::{Dataset, Month, PerturbationKey};
use borough_store::Store;

use crate::import_load::resident_bytes;
use crate::query_load::{LoadedStore, OurSide, Startup, GROUP_BY, MEASURES};

/// The engine in this process, once started.
#[derive(Default)]
pub struct InProcess {
    running: Option<Running>,
}

struct Running {
    // Held so the observed store stays open while the engine answers.
    _store: Store,
    analytics: Arc<Analytics>,
    query: Query,
    as_of: Month,
}

/// The benchmark's query, parsed as the node parses a `QueryRequest`.
pub fn query() -> anyhow::Result<Query> {
    let query = Query {
        dataset: Dataset::EmploymentParticipation,
        measures: MEASURES
            .iter()
            .map(|m| m.parse())
            .collect::<Result<_, _>>()?,
        group_by: GROUP_BY
            .iter()
            .map(|d| d.parse())
            .collect::<Result<_, _>>()?,
        filters: vec![],
    };
    query.check()?;
    Ok(query)
}

impl OurSide for InProcess {
    fn start(&mut self, loaded: &LoadedStore<'_>) -> anyhow::Result<Startup> {
        let store = Store::open(loaded.dir, loaded.own)
            .with_context(|| format!("opening {}", loaded.dir.display()))?;
        // Any key does: it decides perturbations, not speed.
        let analytics = Arc::new(Analytics::new(
            PerturbationKey::from_bytes([0x5A; 32]),
            DisclosureControl::default(),
        ));
        let before = resident_bytes("/proc/self/status");
        let started = Instant::now();
        store.observe(analytics.clone())?;
        let rebuild = started.elapsed();
        let after = resident_bytes("/proc/self/status");
        let size = analytics.size();
        anyhow::ensure!(
            size.employment_records as u64 == loaded.records && size.undecodable == 0,
            "the view holds {} of {} records ({} undecodable)",
            size.employment_records,
            loaded.records,
            size.undecodable
        );
        let view_bytes = before.zip(after).map(|(b, a)| {
            (
                a.saturating_sub(b),
                "growth of this process's resident memory over the rebuild".to_string(),
            )
        });
        self.running = Some(Running {
            _store: store,
            analytics,
            query: query()?,
            as_of: loaded.as_of,
        });
        Ok(Startup {
            description: "the analytics engine in this process over Lambeth's store, attached with Store::observe and asked with Analytics::answer (what Query.Run calls, without its TLS round trip)".into(),
            rebuild,
            view_bytes,
        })
    }

    fn query(&mut self) -> anyhow::Result<usize> {
        let running = self
            .running
            .as_ref()
            .context("the engine was asked before it was started")?;
        let released = running.analytics.answer(&running.query, running.as_of)?;
        Ok(released.rows().len())
    }
}

//! Retention: a background task that purges peers' replicas once they are older than
//! the retention period of the agreement they arrived under, and audits each purge.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use borough_model::{Dataset, GssCode};
use borough_security::agreements::AgreementBook;
use borough_store::{AuditAction, AuditEntry, AuditOutcome, Store};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

const SECONDS_PER_DAY: u64 = 86_400;

/// Purges every peer's expired replicas now and then every `interval`, until `stop`.
pub(crate) async fn run(
    store: Store,
    agreements: Arc<AgreementBook>,
    peers: Vec<GssCode>,
    interval: Duration,
    stop: CancellationToken,
) {
    loop {
        let (store, agreements, peers) = (store.clone(), agreements.clone(), peers.clone());
        let swept = tokio::task::spawn_blocking(move || sweep(&store, &agreements, &peers)).await;
        if let Err(e) = swept {
            warn!(error = %e, "retention sweep failed to run");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.cancelled() => break,
        }
    }
}

/// One pass over every (peer, dataset) flow this node receives.
fn sweep(store: &Store, agreements: &AgreementBook, peers: &[GssCode]) {
    let me = store.own_borough();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    for &peer in peers {
        for dataset in Dataset::ALL {
            let Some((agreement, _)) = agreements.covering(peer, me, dataset) else {
                continue;
            };
            let keep = u64::from(agreement.retention_days) * SECONDS_PER_DAY;
            let cutoff = now.saturating_sub(keep);
            let agreement_id = agreement.id.clone();
            let audit = |purged: u64| AuditEntry {
                at_unix_ms: now * 1000,
                actor: format!("{me}/node"),
                action: AuditAction::Purged,
                dataset: Some(dataset),
                peer: Some(peer),
                records: purged,
                outcome: AuditOutcome::Allowed,
                detail: format!(
                    "replicas older than the {} days agreement {agreement_id} allows",
                    agreement.retention_days
                ),
            };
            match store.purge_replicas(peer, dataset, cutoff, audit) {
                Ok(0) => {}
                Ok(purged) => info!(%peer, %dataset, purged, "purged expired replicas"),
                Err(e) => warn!(%peer, %dataset, error = %e, "retention purge failed"),
            }
        }
    }
}

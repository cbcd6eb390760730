//! Measurement 3: live replication lag. With both nodes running and caught up,
//! Lambeth's system updates existing records at a steady rate through the Ingest
//! RPC, and each change is timed from just before its Ingest call is sent until
//! Southwark's checkpoint of Lambeth first reaches the seq the call's acknowledgement
//! reported (`IngestAck.head_seq`, the seq of the batch's last change). Southwark's
//! checkpoint is read by a thread polling its store every millisecond, so every
//! figure may be late by up to one poll interval (reported alongside).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use borough_model::Dataset;
use borough_proto::v1;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use crate::cluster::Cluster;
use crate::records::RecordSet;

/// How often the watcher thread reads Southwark's checkpoint.
pub const POLL: Duration = Duration::from_millis(1);
/// The send interval aimed for: batches go out every 10 ms when the rate allows.
const TICK: Duration = Duration::from_millis(10);
/// How long to wait for Southwark to catch up, before and after the run.
const CATCH_UP: Duration = Duration::from_secs(60);

/// Percentiles of a set of durations.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spread {
    /// Samples.
    pub count: u64,
    /// Smallest.
    pub min: Duration,
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Largest.
    pub max: Duration,
}

impl Spread {
    /// Nearest-rank percentiles of `samples` (sorted here).
    pub fn of(samples: &mut [Duration]) -> Spread {
        samples.sort_unstable();
        let rank = |p: f64| -> Duration {
            if samples.is_empty() {
                return Duration::ZERO;
            }
            let k = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
            samples[k - 1]
        };
        Spread {
            count: samples.len() as u64,
            min: samples.first().copied().unwrap_or_default(),
            p50: rank(0.50),
            p99: rank(0.99),
            max: samples.last().copied().unwrap_or_default(),
        }
    }
}

/// What the lag run measured.
#[derive(Debug, Clone)]
pub struct LiveLag {
    /// Changes per second asked for.
    pub rate: u32,
    /// Seconds of sending asked for.
    pub seconds: f64,
    /// Changes per Ingest batch.
    pub batch_size: u64,
    /// Interval between batches.
    pub tick: Duration,
    /// Ingest batches sent (all acknowledged).
    pub batches: u64,
    /// Changes sent (all acknowledged as written).
    pub changes: u64,
    /// From the first send to the last, for the achieved rate.
    pub send_span: Duration,
    /// Per change: just before the Ingest call to Southwark's checkpoint covering it.
    pub lag: Spread,
    /// Per change: just before the Ingest call to its acknowledgement (Lambeth has
    /// validated, written and flushed the batch).
    pub ack: Spread,
    /// Batches whose changes Southwark had not applied when measuring stopped.
    pub missing: u64,
    /// Checkpoint reads the watcher made.
    pub polls: u64,
    /// Mean time between checkpoint reads (the measurement error is up to this).
    pub poll_mean: Duration,
    /// Longest time between two checkpoint reads.
    pub poll_max: Duration,
}

impl LiveLag {
    /// Changes per second actually sent.
    pub fn achieved_rate(&self) -> f64 {
        if self.send_span.is_zero() {
            return self.changes as f64;
        }
        self.changes.saturating_sub(self.batch_size) as f64 / self.send_span.as_secs_f64()
    }
}

/// The checkpoint changes the watcher saw: (when first seen, new checkpoint).
struct Watch {
    transitions: Vec<(Instant, u64)>,
    polls: u64,
    span: Duration,
    max_gap: Duration,
}

/// Waits until Southwark's checkpoint reaches `seq`.
async fn wait_for_checkpoint(cluster: &Cluster, seq: u64) -> anyhow::Result<()> {
    let deadline = Instant::now() + CATCH_UP;
    loop {
        let checkpoint = cluster.southwark_checkpoint()?.0;
        if checkpoint >= seq {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "Southwark's checkpoint is {checkpoint}, still short of {seq} after {CATCH_UP:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Sends `rate` updates per second for `seconds` to the first `records` records at
/// Lambeth and measures each one's lag to Southwark. Both nodes must be running.
pub async fn run(
    cluster: &Cluster,
    set: &RecordSet,
    records: u64,
    rate: u32,
    seconds: f64,
) -> anyhow::Result<LiveLag> {
    anyhow::ensure!(
        records > 0,
        "the lag run updates existing records: load some first"
    );
    anyhow::ensure!(rate > 0, "the rate must be at least one change per second");
    // Batches every 10 ms when the rate allows (1,000/s → 10 per batch), else one
    // change per batch at 1/rate intervals.
    let per_tick = f64::from(rate) * TICK.as_secs_f64();
    let batch_size = per_tick.round().max(1.0) as u64;
    let tick = Duration::from_secs_f64(batch_size as f64 / f64::from(rate));
    let total_batches = ((f64::from(rate) * seconds) / batch_size as f64)
        .round()
        .max(1.0) as u64;

    wait_for_checkpoint(cluster, cluster.lambeth_head()?.0).await?;

    let store = cluster.store(cluster.southwark)?.clone();
    let lambeth = cluster.lambeth;
    // The seq the watcher waits for before it stops: unknown (MAX) until every
    // acknowledgement is in; 0 tells it to give up at once.
    let target = Arc::new(AtomicU64::new(u64::MAX));
    let watcher_target = target.clone();
    let watcher = std::thread::Builder::new()
        .name("lag-watcher".into())
        .spawn(move || -> anyhow::Result<Watch> {
            let mut transitions = Vec::new();
            let mut last = store.checkpoint(lambeth, Dataset::ChildcarePlaces)?.0;
            let (begin, mut previous) = (Instant::now(), Instant::now());
            let (mut polls, mut max_gap) = (0u64, Duration::ZERO);
            let mut deadline = None;
            loop {
                let checkpoint = store.checkpoint(lambeth, Dataset::ChildcarePlaces)?.0;
                let now = Instant::now();
                polls += 1;
                max_gap = max_gap.max(now - previous);
                previous = now;
                if checkpoint > last {
                    transitions.push((now, checkpoint));
                    last = checkpoint;
                }
                let wanted = watcher_target.load(Ordering::Acquire);
                if wanted != u64::MAX {
                    if last >= wanted {
                        break;
                    }
                    let deadline = *deadline.get_or_insert(now + CATCH_UP);
                    anyhow::ensure!(
                        wanted != 0 && now < deadline,
                        "Southwark's checkpoint is {last}, short of Lambeth's head {wanted} {CATCH_UP:?} after the last change was acknowledged"
                    );
                }
                std::thread::sleep(POLL);
            }
            Ok(Watch {
                transitions,
                polls,
                span: previous - begin,
                max_gap,
            })
        })?;
    let join_watcher = move || {
        watcher
            .join()
            .map_err(|_| anyhow::anyhow!("the lag watcher panicked"))?
    };

    let sent = send(cluster, set, records, batch_size, tick, total_batches).await;
    let sends = match sent {
        Ok(sends) => sends,
        Err(e) => {
            target.store(0, Ordering::Release);
            let _ = tokio::task::spawn_blocking(join_watcher).await;
            return Err(e);
        }
    };
    let final_head = sends.iter().map(|s| s.2).max().unwrap_or(0);
    target.store(final_head, Ordering::Release);
    let watch = tokio::task::spawn_blocking(join_watcher).await??;

    let mut lags = Vec::with_capacity((total_batches * batch_size) as usize);
    let mut acks = Vec::with_capacity(lags.capacity());
    let mut missing = 0u64;
    for &(sent, acked, head) in &sends {
        let i = watch.transitions.partition_point(|&(_, seq)| seq < head);
        let Some(&(seen, _)) = watch.transitions.get(i) else {
            missing += 1;
            continue;
        };
        for _ in 0..batch_size {
            lags.push(seen.saturating_duration_since(sent));
            acks.push(acked - sent);
        }
    }
    let first = sends.iter().map(|s| s.0).min();
    let last = sends.iter().map(|s| s.0).max();
    Ok(LiveLag {
        rate,
        seconds,
        batch_size,
        tick,
        batches: sends.len() as u64,
        changes: sends.len() as u64 * batch_size,
        send_span: match (first, last) {
            (Some(f), Some(l)) => l - f,
            _ => Duration::ZERO,
        },
        lag: Spread::of(&mut lags),
        ack: Spread::of(&mut acks),
        missing,
        polls: watch.polls,
        poll_mean: if watch.polls > 1 {
            watch.span / (watch.polls - 1) as u32
        } else {
            Duration::ZERO
        },
        poll_max: watch.max_gap,
    })
}

/// Sends `total_batches` update batches of `batch_size`, one every `tick`, each as
/// its own `Ingest.Apply` call, and returns (sent, acknowledged, head_seq) for each.
async fn send(
    cluster: &Cluster,
    set: &RecordSet,
    records: u64,
    batch_size: u64,
    tick: Duration,
    total_batches: u64,
) -> anyhow::Result<Vec<(Instant, Instant, u64)>> {
    let client = v1::ingest_client::IngestClient::new(cluster.lambeth_system().await?);
    let mut interval = tokio::time::interval(tick);
    // A late tick is made up at once, so the rate asked for is the rate sent.
    interval.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut calls = JoinSet::new();
    let mut change = 0u64;
    for _ in 0..total_batches {
        interval.tick().await;
        let ops = (change..change + batch_size)
            .map(|c| set.update_op(c % records, c / records + 1))
            .collect();
        change += batch_size;
        let batch = v1::IngestBatch {
            dataset: Dataset::ChildcarePlaces.as_str().into(),
            ops,
            batch_ref: format!("lag-{change}"),
        };
        let mut client = client.clone();
        calls.spawn(async move {
            let sent = Instant::now();
            let ack = client.apply(batch).await;
            (sent, Instant::now(), ack)
        });
    }
    let mut sends = Vec::with_capacity(total_batches as usize);
    while let Some(joined) = calls.join_next().await {
        let (sent, acked, ack) = joined?;
        let ack = ack
            .map_err(|s| anyhow::anyhow!("an Ingest call failed: {s}"))?
            .into_inner();
        anyhow::ensure!(
            ack.written == batch_size,
            "an update batch wrote {} of {batch_size} changes",
            ack.written
        );
        sends.push((sent, acked, ack.head_seq));
    }
    Ok(sends)
}

//! The plain-text report of a `sync` run: machine, command, ceilings, initial sync
//! and live lag with their ratios and targets, ready to paste into
//! `docs/BENCHMARKS.md`.

use std::fmt::Write as _;
use std::time::Duration;

use crate::import_load::{ImportReport, ImportRun, IMPORT_RATIO_TARGET};
use crate::live_lag::Spread;
use crate::machine::{Machine, Phase};
use crate::query_load::{QueryReport, GROUP_BY, MEASURES, QUERY_RATIO_TARGET};
use crate::{SyncReport, LAG_P99_TARGET_MS, SYNC_RATIO_TARGET};

/// `1234567.8` → `"1,234,568"`.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration in milliseconds with one decimal.
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// A duration in seconds with two decimals.
fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn verdict(met: bool) -> &'static str {
    if met {
        "MET"
    } else {
        "NOT MET"
    }
}

/// The lines every report starts with: what ran, where and on which source.
struct RunHeader<'a> {
    benchmark: &'a str,
    command: &'a str,
    settings: &'a str,
    started_at: &'a str,
    machine: &'a Machine,
    source: &'a str,
}

impl RunHeader<'_> {
    fn write(&self, o: &mut String) {
        let m = self.machine;
        let _ = writeln!(o, "borough-bench {}", self.benchmark);
        let _ = writeln!(o, "command:  {}", self.command);
        let _ = writeln!(o, "settings: {}", self.settings);
        let _ = writeln!(o, "started:  {}", self.started_at);
        let _ = writeln!(
            o,
            "machine:  {} CPUs (nproc), {}, {:.1} GiB memory, Linux {}, temp dir {}",
            m.cpus,
            m.cpu_model,
            m.memory_bytes as f64 / (1u64 << 30) as f64,
            m.kernel,
            m.temp_dir.display()
        );
        let _ = writeln!(o, "build:    {}, source {}", m.profile, self.source);
    }
}

/// Renders the report.
pub fn render(r: &SyncReport) -> String {
    let mut o = String::new();
    let m = &r.machine;
    let c = &r.config;
    let settings = format!(
        "records {}, lag {} s at {} changes/s",
        thousands(c.records as f64),
        c.lag_seconds,
        thousands(f64::from(c.rate))
    );
    let run = RunHeader {
        benchmark: "sync",
        command: &c.command,
        settings: &settings,
        started_at: &r.started_at,
        machine: m,
        source: &r.source,
    };
    run.write(&mut o);
    let _ = writeln!(
        o,
        "records:  Lambeth provider inputs cycling {} templates, distinct local references; derived record (payload) mean {:.1} B as derived here, {:.1} B as stored at Lambeth; mean on-wire change {:.1} B",
        r.templates, r.mean_payload_bytes, r.sync.mean_payload_bytes, r.wire_record_bytes
    );

    let tls = &r.tls;
    let sled = &r.sled;
    let binding = r.binding();
    let _ = writeln!(o, "\n1. Ceilings (same process, measured first)");
    let _ = writeln!(
        o,
        "   rustls loopback  {:.0} MiB in {} KiB writes, TLS 1.3 mutual auth, node certificates: {:.1} MB/s = {} records/s at {:.1} B/change (handshake {})",
        tls.bytes as f64 / 1_048_576.0,
        tls.write_bytes / 1024,
        tls.mb_per_s(),
        thousands(tls.records_per_s(r.wire_record_bytes)),
        r.wire_record_bytes,
        ms(tls.handshake)
    );
    let _ = writeln!(
        o,
        "   sled batched     {} records of {:.0} B under 35 B keys rising like node-assigned ids, {} batches of {} + checkpoint, apply_batch then flush each: {} records/s (apply {}, flush {}, slowest flush {})",
        thousands(sled.records as f64),
        sled.mean_value_bytes,
        thousands(sled.batches as f64),
        thousands(sled.batch_size as f64),
        thousands(sled.records_per_s()),
        secs(sled.apply),
        secs(sled.flush),
        ms(sled.flush_max)
    );
    let _ = writeln!(
        o,
        "   binding ceiling  {}: {} records/s",
        binding.name,
        thousands(binding.records_per_s)
    );

    let s = &r.sync;
    let _ = writeln!(
        o,
        "\n2. Initial sync (Southwark restarted, pulls Lambeth's records over mutual-TLS gRPC into sled)"
    );
    let _ = writeln!(
        o,
        "   aside: loading at Lambeth via Ingest.Stream, {} batches of up to 10,000: {} records in {} = {} records/s",
        s.load.batches,
        thousands(s.load.records as f64),
        secs(s.load.elapsed),
        thousands(s.load.records_per_s())
    );
    let _ = writeln!(
        o,
        "          vs store  Store::ingest_local alone (no RPC, no decoding or derivation), {} per call: {} records/s; the load reached {:.2} of it",
        thousands(r.own_ingest.batch_size as f64),
        thousands(r.own_ingest.records_per_s()),
        s.load.records_per_s() / r.own_ingest.records_per_s()
    );
    let _ = writeln!(
        o,
        "   sync             {} records ({:.1} MB payload) in {} = {} records/s, {:.1} MB/s payload",
        thousands(s.records as f64),
        s.payload_bytes as f64 / 1e6,
        secs(s.elapsed),
        thousands(s.records_per_s()),
        s.payload_mb_per_s()
    );
    let ratio = r.sync_ratio();
    let _ = writeln!(
        o,
        "   ratio            {:.2} of the binding ceiling; target >= {:.2}: {}",
        ratio,
        SYNC_RATIO_TARGET,
        verdict(ratio >= SYNC_RATIO_TARGET)
    );
    let _ = writeln!(
        o,
        "   where time goes  Store::apply_peer_batch alone (no network, no decoding), {} per call: {} records/s; the sync reached {:.2} of it",
        thousands(r.peer_apply.batch_size as f64),
        thousands(r.peer_apply.records_per_s()),
        s.records_per_s() / r.peer_apply.records_per_s()
    );
    let _ = writeln!(
        o,
        "   detail           restart {}, first record after {}; checkpoint {} = Lambeth head {}; Southwark holds {}",
        ms(s.restart),
        ms(s.first_record),
        s.checkpoint,
        s.lambeth_head,
        thousands(s.southwark_count as f64)
    );
    if s.progress.len() >= 2 {
        let mut line = String::new();
        let mut previous = (Duration::ZERO, 0u64);
        for &(t, count) in &s.progress {
            let rate = (count - previous.1) as f64 / (t - previous.0).as_secs_f64();
            let _ = write!(line, " {}", thousands(rate));
            previous = (t, count);
        }
        let _ = writeln!(o, "   records/s by second:{line}");
    }

    let l = &r.lag;
    let _ = writeln!(
        o,
        "\n3. Live replication lag (both nodes running and caught up; updates at Lambeth via Ingest.Apply)"
    );
    let _ = writeln!(
        o,
        "   sent             {} changes in {} batches of {} every {} ({} /s asked, {:.1} /s achieved), each changing one field of an existing record",
        thousands(l.changes as f64),
        thousands(l.batches as f64),
        l.batch_size,
        ms(l.tick),
        thousands(f64::from(l.rate)),
        l.achieved_rate()
    );
    let p99_ms = l.lag.p99.as_secs_f64() * 1e3;
    let _ = writeln!(
        o,
        "   lag              p50 {}, p99 {}, max {} over {} changes ({} batches missing); target p99 < {:.0} ms: {}",
        ms(l.lag.p50),
        ms(l.lag.p99),
        ms(l.lag.max),
        thousands(l.lag.count as f64),
        l.missing,
        LAG_P99_TARGET_MS,
        verdict(l.missing == 0 && l.lag.count > 0 && p99_ms < LAG_P99_TARGET_MS)
    );
    let _ = writeln!(
        o,
        "   of which ack     send to Lambeth's durable acknowledgement: p50 {}, p99 {}, max {}",
        ms(l.ack.p50),
        ms(l.ack.p99),
        ms(l.ack.max)
    );
    let _ = writeln!(
        o,
        "   error            Southwark's checkpoint was polled every {} on average (longest gap {}, {} polls): each lag may be late by up to one poll interval",
        ms(l.poll_mean),
        ms(l.poll_max),
        thousands(l.polls as f64)
    );
    let _ = writeln!(
        o,
        "\n4. Machine load (shared machine: other processes compete for the same {} CPUs)",
        m.cpus
    );
    phase_lines(&mut o, &r.phases);
    o
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1_048_576.0)
}

fn import_line(o: &mut String, name: &str, run: &ImportRun) {
    let _ = writeln!(
        o,
        "   {name:<16} {} rows ({} records, {}) in {} = {} rows/s ({} records/s); peak memory: import {}, node {}; node holds {}",
        thousands(run.rows as f64),
        thousands(run.records as f64),
        mib(run.file_bytes),
        secs(run.elapsed),
        thousands(run.rows_per_s()),
        thousands(run.records_per_s()),
        mib(run.import_peak_bytes),
        mib(run.node_peak_bytes),
        thousands(run.stored as f64)
    );
}

/// Renders the report of an `import` run.
pub fn render_import(r: &ImportReport) -> String {
    let mut o = String::new();
    let c = &r.config;
    let settings = format!(
        "{} rows of {} (borough gen, one borough, seed {}), batches of {}",
        thousands(c.rows as f64),
        c.dataset,
        crate::import_load::SEED,
        thousands(c.batch as f64)
    );
    let run = RunHeader {
        benchmark: "import",
        command: &c.command,
        settings: &settings,
        started_at: &r.started_at,
        machine: &r.machine,
        source: &r.source,
    };
    run.write(&mut o);
    let _ = writeln!(o, "file:     generated in {}", secs(r.generate));

    let (csv, sled) = (&r.csv, &r.sled);
    let _ = writeln!(o, "\n1. Ceilings (same run, same machine)");
    let _ = writeln!(
        o,
        "   plain CSV parse  {} rows ({} fields) into csv::StringRecord in {} = {} rows/s",
        thousands(csv.rows as f64),
        thousands(csv.fields as f64),
        secs(csv.elapsed),
        thousands(csv.rows_per_s())
    );
    let rows_per_record = r.full.rows as f64 / r.full.records.max(1) as f64;
    let _ = writeln!(
        o,
        "   sled batched     {} records of {:.0} B, {} batches of {} + checkpoint, apply_batch then flush each: {} records/s = {} rows/s at {:.2} rows per record (apply {}, flush {})",
        thousands(sled.records as f64),
        sled.mean_value_bytes,
        thousands(sled.batches as f64),
        thousands(sled.batch_size as f64),
        thousands(sled.records_per_s()),
        thousands(sled.records_per_s() * rows_per_record),
        rows_per_record,
        secs(sled.apply),
        secs(sled.flush)
    );
    let (name, rate) = r.binding();
    let _ = writeln!(o, "   slower ceiling   {name}: {} rows/s", thousands(rate));

    let _ = writeln!(
        o,
        "\n2. borough import through a running node's Ingest.Stream (check pass, then parse, derive, store durably; node and import in their own processes)"
    );
    import_line(&mut o, "quarter file", &r.quarter);
    import_line(&mut o, "whole file", &r.full);
    let ratio = r.ratio();
    let _ = writeln!(
        o,
        "   ratio            {ratio:.2} of the slower ceiling; target >= {IMPORT_RATIO_TARGET:.2}: {}",
        verdict(ratio >= IMPORT_RATIO_TARGET)
    );
    let (import_growth, node_growth) = r.memory_growth();
    let _ = writeln!(
        o,
        "   memory           peak at 4x the rows over peak at 1x: import {import_growth:.2}, node {node_growth:.2} (flat is 1.00; the node's includes sled's page cache)"
    );
    let _ = writeln!(o, "\n3. Machine load (shared machine)");
    for p in &r.phases {
        let _ = writeln!(
            o,
            "   {:<18} {:>8}, load average at start {}",
            p.name,
            secs(p.wall),
            p.load_average
                .map_or_else(|| "unknown".to_string(), |l| format!("{l:.2}"))
        );
    }
    o
}

fn spread_line(s: &Spread) -> String {
    format!(
        "p50 {}, p99 {}, min {}, max {} over {} runs",
        ms(s.p50),
        ms(s.p99),
        ms(s.min),
        ms(s.max),
        s.count
    )
}

/// One line per step: its wall time, this process's CPU use and the load average.
fn phase_lines(o: &mut String, phases: &[Phase]) {
    for p in phases {
        let _ = writeln!(
            o,
            "   {:<18} {:>8}, this process used {:.2} CPUs on average; load average at start {}",
            p.name,
            secs(p.wall),
            p.cpu.as_secs_f64() / p.wall.as_secs_f64().max(1e-9),
            p.load_average
                .map_or_else(|| "unknown".to_string(), |l| format!("{l:.2}"))
        );
    }
}

/// Renders the report of a `query` run.
pub fn render_query(r: &QueryReport) -> String {
    let mut o = String::new();
    let c = &r.config;
    let settings = format!(
        "{} employment-participation records (seed {}) across 3 origins at Lambeth; {} runs per side after 1 warm-up; reference month {}",
        thousands(c.records as f64),
        c.seed,
        thousands(c.runs as f64),
        c.as_of
    );
    let run = RunHeader {
        benchmark: "query",
        command: &c.command,
        settings: &settings,
        started_at: &r.started_at,
        machine: &r.machine,
        source: &r.source,
    };
    run.write(&mut o);
    let origins: Vec<String> = r
        .load
        .iter()
        .map(|l| {
            format!(
                "{} {} {} ({}, {:.1} B mean payload, {} records/s)",
                l.borough.name(),
                thousands(l.records as f64),
                if l.own { "own" } else { "replicated" },
                if l.own {
                    "Store::ingest"
                } else {
                    "Store::apply_peer_batch"
                },
                l.payload_bytes as f64 / l.records.max(1) as f64,
                thousands(l.records as f64 / l.elapsed.as_secs_f64().max(1e-9))
            )
        })
        .collect();
    let _ = writeln!(
        o,
        "records:  {}, {} per call",
        origins.join("; "),
        thousands(crate::query_load::BATCH as f64)
    );
    let e = &r.export.expected;
    let _ = writeln!(
        o,
        "people:   {} distinct pseudonyms ({} generated, {} of them in two records); {} records with a start month",
        thousands(e.people as f64),
        thousands(r.people as f64),
        thousands(r.people_in_two as f64),
        thousands(e.starters as f64)
    );
    let _ = writeln!(
        o,
        "query:    {} by {}, totals over resident borough: {} rows ({} cells + {} totals)",
        MEASURES.join(", "),
        GROUP_BY.join(" x "),
        thousands(e.rows as f64),
        thousands((e.rows - e.total_rows) as f64),
        thousands(e.total_rows as f64)
    );
    let _ = writeln!(
        o,
        "rows:     read back from Lambeth's store and decoded, written as CSV ({}) in {}",
        mib(r.export.bytes),
        secs(r.export.elapsed)
    );

    let d = &r.duckdb;
    let duck = r.duckdb_spread();
    let _ = writeln!(
        o,
        "\n1. DuckDB {} (Python {} package in {}, {}), in-memory table, threads={}",
        d.version,
        d.python_version,
        r.venv.dir.display(),
        if r.venv.installed {
            format!("installed in {}", secs(r.venv.elapsed))
        } else {
            "reused".to_string()
        },
        d.threads
    );
    let _ = writeln!(
        o,
        "   load             {} rows from the CSV in {} (not timed in the figures); DuckDB memory {} = {:.0} B per record",
        thousands(d.rows_loaded as f64),
        secs(d.load),
        mib(d.table_memory_bytes),
        d.table_memory_bytes as f64 / d.rows_loaded.max(1) as f64
    );
    let _ = writeln!(
        o,
        "   query            {}; COUNT(DISTINCT participant) with FILTERs, GROUPING SETS, whole result fetched, timed inside Python",
        spread_line(&duck)
    );
    let _ = writeln!(
        o,
        "   answer           {} rows ({} totals), column sums {:?}: as expected",
        thousands(d.result_rows as f64),
        thousands(d.total_rows as f64),
        d.sums
    );

    let _ = writeln!(o, "\n2. borough-net");
    let (ours, spread, (p50, p99)) = (&r.ours, r.ours_spread(), r.ratios());
    let s = &ours.startup;
    let _ = writeln!(o, "   measured         {}", s.description);
    let memory = match &s.view_bytes {
        Some((bytes, how)) => format!(
            "; view memory {} = {:.0} B per record ({how})",
            mib(*bytes),
            *bytes as f64 / r.export.rows.max(1) as f64
        ),
        None => "; view memory not measured".to_string(),
    };
    let _ = writeln!(
        o,
        "   start            view rebuilt from the store in {}{memory}",
        secs(s.rebuild)
    );
    let _ = writeln!(
        o,
        "   query            {}, timed around each call; {} rows as expected",
        spread_line(&spread),
        thousands(ours.rows as f64)
    );
    let _ = writeln!(
        o,
        "   ratio            borough-net / DuckDB: p50 {p50:.2}, p99 {p99:.2}; target p50 <= {QUERY_RATIO_TARGET:.2}: {}",
        verdict(p50 <= QUERY_RATIO_TARGET)
    );
    let _ = writeln!(
        o,
        "\n3. Ceiling (same run, same machine)\n   one pass         reading the {} B per record the query touches (resident, programme, start and outcome months, person) for {} records and adding them up: {}\n   ratio            borough-net / ceiling: p50 {:.1}",
        crate::query_ceiling::BYTES_PER_RECORD,
        thousands(r.export.rows as f64),
        spread_line(&r.ceiling),
        r.ceiling_ratio()
    );
    let _ = writeln!(o, "\n4. Machine load (shared machine)");
    phase_lines(&mut o, &r.phases);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1_234_567.8), "1,234,568");
    }
}

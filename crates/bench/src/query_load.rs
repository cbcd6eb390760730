//! The query benchmark: N seeded employment-participation records across three
//! origins held at one node (Lambeth's own third written with `Store::ingest`,
//! Southwark's and Lewisham's thirds applied as replicated peer batches), the
//! query "distinct participants and job-outcome rate by start cohort, by
//! resident borough × start month × programme" answered R times by DuckDB over
//! the same rows in the same run, and the same query answered by borough-net
//! through the seam [`OurSide`].
//!
//! The rows DuckDB gets are read back from the node's store after the load and
//! decoded, so both sides see exactly what the node holds. The expected shape
//! of the answer (rows, and the sum of every measured column) is computed here
//! from those rows, and each side's answer is checked against it.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use borough_model::{
    AdultAgeBand, Borough, Dataset, EligibilityGroup, EmploymentParticipation, GssCode, Month,
    Programme, Pseudonym, Seq, Sex, Version,
};
use borough_proto::{decode_payload, Payload};
use borough_store::{Change, Ingest, Store};

use crate::duckdb::{self, DuckDbRun, Venv};
use crate::live_lag::Spread;
use crate::machine::{Machine, Phase, PhaseClock};
use crate::records::{gss, mix, RecordSet, LAMBETH, LEWISHAM, SOUTHWARK};

/// The seed of the generated records: every run holds the same rows.
pub const SEED: u64 = 2033;
/// The last month any stage may fall in: referrals run over the
/// [`REFERRAL_MONTHS`] months ending here.
pub const LAST_MONTH: (i32, u8) = (2026, 11);
/// How many months referrals are spread over.
pub const REFERRAL_MONTHS: u32 = 36;
/// Records per `Store::ingest` call and per peer batch.
pub const BATCH: usize = 1_000;
/// The measures of the query, as `QueryRequest.measures` names them.
pub const MEASURES: [&str; 3] = [
    "participants",
    "job-outcome-rate-6m",
    "job-outcome-rate-12m",
];
/// The grouping of the query, as `QueryRequest.group_by` names it. The engine
/// adds a total over the first (resident borough) for every (start month,
/// programme).
pub const GROUP_BY: [&str; 3] = ["resident-borough", "start-month", "programme"];
/// The query's target: borough-net's p50 at most this multiple of DuckDB's.
pub const QUERY_RATIO_TARGET: f64 = 1.0;

/// What `borough-bench query` runs.
#[derive(Debug, Clone)]
pub struct QueryConfig {
    /// Records held at the node, over the three origins.
    pub records: usize,
    /// Timed runs of the query on each side, after one warm-up run.
    pub runs: usize,
    /// The generator's seed.
    pub seed: u64,
    /// The reference month cohorts are rated against (the node uses the
    /// current month, in UTC).
    pub as_of: Month,
    /// DuckDB's `threads` setting.
    pub duckdb_threads: usize,
    /// The command line to print in the report.
    pub command: String,
}

impl QueryConfig {
    /// `records` records and `runs` runs, with the default seed, the current
    /// month as the reference month and DuckDB on one thread per CPU (its own
    /// default).
    pub fn new(records: usize, runs: usize, command: String) -> QueryConfig {
        QueryConfig {
            records,
            runs,
            seed: SEED,
            as_of: Month::of(time::OffsetDateTime::now_utc().date()),
            duckdb_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            command,
        }
    }

    /// The smoke configuration: 3,000 records, 3 runs.
    pub fn smoke() -> QueryConfig {
        QueryConfig::new(
            3_000,
            3,
            "cargo run -p borough-bench -- query --records 3000 --runs 3".into(),
        )
    }
}

/// A month as the analytics engine numbers months: `year * 12 + month - 1`.
pub fn month_index(m: Month) -> u32 {
    m.year() as u32 * 12 + u32::from(m.month()) - 1
}

fn month_of_index(i: u32) -> anyhow::Result<Month> {
    Month::new((i / 12) as i32, (i % 12 + 1) as u8)
        .map_err(|e| anyhow::anyhow!("month index {i}: {e}"))
}

/// The three origins, Lambeth (the node) first.
pub fn origins() -> anyhow::Result<[GssCode; 3]> {
    Ok([gss(LAMBETH)?, gss(SOUTHWARK)?, gss(LEWISHAM)?])
}

/// A deterministic stream of draws for one person.
struct Draw {
    key: u64,
    n: u64,
}

impl Draw {
    fn new(seed: u64, person: u64) -> Draw {
        Draw {
            key: mix(seed ^ mix(person ^ 0x0051_5E57)),
            n: 0,
        }
    }

    fn next(&mut self) -> u64 {
        self.n += 1;
        mix(self.key ^ self.n.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    /// An index into `weights`, drawn in proportion to them.
    fn weighted(&mut self, weights: &[u64]) -> usize {
        let mut x = self.below(weights.iter().sum());
        for (i, &w) in weights.iter().enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// The generated records, by origin (Lambeth, Southwark, Lewisham).
#[derive(Debug, Clone)]
pub struct Generated {
    /// Each origin's records.
    pub by_origin: [Vec<EmploymentParticipation>; 3],
    /// Distinct people.
    pub people: u64,
    /// People with two records (two boroughs, or two programmes at one).
    pub people_in_two: u64,
}

/// One record's journey: referral in the [`REFERRAL_MONTHS`] months ending at
/// [`LAST_MONTH`]; 70 % start 0–2 months after referral; 30 % of starters reach a
/// job outcome 1–18 months after the start, most with first earnings up to two
/// months before it, 60 % of those sustained six months later; 15 % of other
/// starters have first earnings only. A stage past the last month has not
/// happened yet, and nor have the stages after it.
type Journey = (u32, Option<u32>, Option<u32>, Option<u32>, Option<u32>);

fn journey(d: &mut Draw, last: u32) -> Journey {
    let referral = last + 1 - REFERRAL_MONTHS + d.below(u64::from(REFERRAL_MONTHS)) as u32;
    let start = d
        .percent(70)
        .then(|| referral + d.below(3) as u32)
        .filter(|&m| m <= last);
    let Some(start) = start else {
        return (referral, None, None, None, None);
    };
    let outcome = d
        .percent(30)
        .then(|| start + 1 + d.below(18) as u32)
        .filter(|&m| m <= last);
    let earnings = match outcome {
        Some(o) => Some(o.saturating_sub(d.below(3) as u32).max(start)),
        None => d
            .percent(15)
            .then(|| start + d.below(12) as u32)
            .filter(|&m| m <= last),
    };
    let sustained = outcome
        .and_then(|o| d.percent(60).then_some(o + 6))
        .filter(|&m| m <= last);
    (referral, Some(start), earnings, outcome, sustained)
}

/// `records` employment records over the three origins, seeded. Each person
/// lives in one borough: 72 % in the borough whose programme serves them, 14 %
/// in one of the other two, 14 % in one of the other 30 London boroughs. About
/// one person in ten has two records under the same pseudonym: half at two
/// boroughs, half on two programmes at one. Every record validates.
pub fn generate(records: usize, seed: u64) -> anyhow::Result<Generated> {
    let origins = origins()?;
    let others: Vec<GssCode> = Borough::all()
        .iter()
        .map(|b| b.gss)
        .filter(|g| !origins.contains(g))
        .collect();
    let last = month_index(Month::new(LAST_MONTH.0, LAST_MONTH.1)?);
    let mut by_origin: [Vec<EmploymentParticipation>; 3] = Default::default();
    let (mut made, mut people, mut people_in_two) = (0usize, 0u64, 0u64);
    while made < records {
        let mut d = Draw::new(seed, people);
        let mut bytes = [0u8; 32];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&d.next().to_le_bytes());
        }
        let participant = Pseudonym::from_bytes(bytes);
        let home = d.below(3) as usize;
        let resident = match d.below(100) {
            0..72 => origins[home],
            72..86 => origins[(home + 1 + d.below(2) as usize) % 3],
            _ => others[d.below(others.len() as u64) as usize],
        };
        let sex = [Sex::Female, Sex::Male, Sex::NotKnown][d.weighted(&[49, 49, 2])];
        let age_band = AdultAgeBand::ALL[d.weighted(&[18, 27, 32, 20, 3])];
        let eligibility = EligibilityGroup::ALL[d.weighted(&[45, 20, 35])];
        let childcare_barrier = d.percent(14);
        let programmes = [
            Programme::ConnectToWork,
            Programme::Restart,
            Programme::WorkAndHealth,
            Programme::LocalSupport,
        ];
        let weights = [40, 25, 15, 20];
        let first = (home, d.weighted(&weights));
        let mut placements = vec![first];
        if records - made >= 2 && d.percent(10) {
            people_in_two += 1;
            placements.push(if d.percent(50) {
                ((home + 1 + d.below(2) as usize) % 3, d.weighted(&weights))
            } else {
                (home, (first.1 + 1 + d.below(3) as usize) % 4)
            });
        }
        for (origin, programme) in placements {
            let (referral, start, first_earnings, job_outcome, sustained) = journey(&mut d, last);
            let month = |m: Option<u32>| m.map(month_of_index).transpose();
            let record = EmploymentParticipation {
                participant,
                programme: programmes[programme],
                delivering_borough: origins[origin],
                resident_borough: resident,
                eligibility,
                age_band,
                sex,
                referral: month_of_index(referral)?,
                start: month(start)?,
                first_earnings: month(first_earnings)?,
                job_outcome: month(job_outcome)?,
                sustained: month(sustained)?,
                childcare_barrier,
            };
            record
                .validate()
                .map_err(|e| anyhow::anyhow!("a generated record is invalid: {e}"))?;
            by_origin[origin].push(record);
            made += 1;
        }
        people += 1;
    }
    Ok(Generated {
        by_origin,
        people,
        people_in_two,
    })
}

/// One origin's records written into the node's store.
#[derive(Debug, Clone)]
pub struct OriginLoad {
    /// The origin.
    pub borough: GssCode,
    /// Whether these are the node's own records (`Store::ingest`) rather than a
    /// peer's (`Store::apply_peer_batch`).
    pub own: bool,
    /// Records written (and counted in the store afterwards).
    pub records: u64,
    /// Their encoded payload bytes.
    pub payload_bytes: u64,
    /// Time inside the store calls.
    pub elapsed: Duration,
    /// The own log head, or the checkpoint of the peer, afterwards.
    pub seq: u64,
}

/// Writes `generated` into a Lambeth store at `dir`, as the node would hold it:
/// Lambeth's records with `Store::ingest`, the others as version-1 peer changes
/// with `Store::apply_peer_batch`, [`BATCH`] per call. Returns the open store.
pub fn load_store(dir: &Path, generated: &Generated) -> anyhow::Result<(Store, Vec<OriginLoad>)> {
    let origins = origins()?;
    let dataset = Dataset::EmploymentParticipation;
    let store = Store::open(dir, origins[0])?;
    let mut loads = Vec::new();
    for (k, records) in generated.by_origin.iter().enumerate() {
        let borough = origins[k];
        let (mut elapsed, mut payload_bytes) = (Duration::ZERO, 0u64);
        for (b, chunk) in records.chunks(BATCH).enumerate() {
            let first = (b * BATCH) as u64;
            let payloads: Vec<Vec<u8>> = chunk
                .iter()
                .map(|r| Payload::EmploymentParticipation(r.clone()).encode())
                .collect();
            payload_bytes += payloads.iter().map(|p| p.len() as u64).sum::<u64>();
            let ids = (first..first + chunk.len() as u64)
                .map(RecordSet::record_id)
                .collect::<anyhow::Result<Vec<_>>>()?;
            if k == 0 {
                let batch: Vec<Ingest> = ids
                    .into_iter()
                    .zip(payloads)
                    .map(|(id, payload)| Ingest::Upsert { id, payload })
                    .collect();
                let started = Instant::now();
                store.ingest(dataset, &batch)?;
                elapsed += started.elapsed();
            } else {
                let changes: Vec<Change> = ids
                    .into_iter()
                    .zip(payloads)
                    .enumerate()
                    .map(|(i, (id, payload))| Change {
                        seq: Seq(first + i as u64 + 1),
                        id,
                        version: Version(1),
                        payload: Some(payload),
                    })
                    .collect();
                let up_to = Seq(first + chunk.len() as u64);
                let started = Instant::now();
                store.apply_peer_batch(borough, dataset, &changes, up_to)?;
                elapsed += started.elapsed();
            }
        }
        let count = store.count(dataset, borough)?;
        let n = records.len() as u64;
        anyhow::ensure!(
            count == n,
            "{borough}: the store holds {count} of {n} records"
        );
        let seq = if k == 0 {
            store.head(dataset)?.0
        } else {
            store.checkpoint(borough, dataset)?.0
        };
        anyhow::ensure!(seq == n, "{borough}: seq {seq} after {n} records");
        loads.push(OriginLoad {
            borough,
            own: k == 0,
            records: n,
            payload_bytes,
            elapsed,
            seq,
        });
    }
    Ok((store, loads))
}

/// The CSV header: one column per record field, months as month indexes.
pub const CSV_HEADER: [&str; 13] = [
    "participant",
    "programme",
    "delivering_borough",
    "resident_borough",
    "eligibility",
    "age_band",
    "sex",
    "referral_month",
    "start_month",
    "first_earnings_month",
    "job_outcome_month",
    "sustained_month",
    "childcare_barrier",
];

/// What the query must answer, computed from the rows directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Expected {
    /// Rows of the answer: cells and totals.
    pub rows: u64,
    /// Of them, totals over resident boroughs.
    pub total_rows: u64,
    /// Per measured column ([`duckdb::MEASURE_COLUMNS`]), the sum over every row.
    pub sums: [u64; 5],
    /// Distinct people in the rows.
    pub people: u64,
    /// Records with a start month.
    pub starters: u64,
}

/// Builds [`Expected`] one record at a time: the engine's rule for each column,
/// and distinct (row, person) pairs sorted at the end.
struct ExpectedBuilder {
    as_of: u32,
    persons: HashMap<Pseudonym, u32>,
    cells: HashMap<(u8, u32, u8), u32>,
    totals: u64,
    pairs: [Vec<u64>; 5],
    starters: u64,
}

impl ExpectedBuilder {
    fn new(as_of: u32) -> ExpectedBuilder {
        ExpectedBuilder {
            as_of,
            persons: HashMap::new(),
            cells: HashMap::new(),
            totals: 0,
            pairs: Default::default(),
            starters: 0,
        }
    }

    fn add(&mut self, r: &EmploymentParticipation) {
        let next = self.persons.len() as u32;
        let person = *self.persons.entry(r.participant).or_insert(next);
        let Some(start) = r.start.map(month_index) else {
            return;
        };
        self.starters += 1;
        let outcome = r.job_outcome.map(month_index);
        let mature = |months: u32| start + months <= self.as_of;
        let within = |months: u32| mature(months) && outcome.is_some_and(|o| o - start <= months);
        let counted = [true, mature(6), within(6), mature(12), within(12)];
        let resident = Borough::all()
            .iter()
            .position(|b| b.gss == r.resident_borough)
            .unwrap_or_default() as u8;
        let programme = Programme::ALL
            .iter()
            .position(|p| *p == r.programme)
            .unwrap_or_default() as u8;
        for resident in [resident, u8::MAX] {
            let fresh = self.cells.len() as u32;
            let cell = *self
                .cells
                .entry((resident, start, programme))
                .or_insert(fresh);
            if cell == fresh && resident == u8::MAX {
                self.totals += 1;
            }
            for (column, _) in counted.iter().enumerate().filter(|(_, &c)| c) {
                self.pairs[column].push(u64::from(cell) << 32 | u64::from(person));
            }
        }
    }

    fn finish(mut self) -> Expected {
        let mut sums = [0u64; 5];
        for (sum, pairs) in sums.iter_mut().zip(self.pairs.iter_mut()) {
            pairs.sort_unstable();
            pairs.dedup();
            *sum = pairs.len() as u64;
        }
        Expected {
            rows: self.cells.len() as u64,
            total_rows: self.totals,
            sums,
            people: self.persons.len() as u64,
            starters: self.starters,
        }
    }
}

/// The rows as read back from the store and written for DuckDB.
#[derive(Debug, Clone)]
pub struct Export {
    /// Rows written (every live record of the three origins).
    pub rows: u64,
    /// The CSV file's size.
    pub bytes: u64,
    /// Reading, decoding and writing them.
    pub elapsed: Duration,
    /// What the query must answer over them.
    pub expected: Expected,
}

fn month_cell(m: Option<Month>) -> String {
    m.map(|m| month_index(m).to_string()).unwrap_or_default()
}

/// Reads every live employment record of the three origins back from `store`,
/// decodes it, writes it to `csv` as a row and works out what the query must
/// answer over the rows, with cohorts rated at `as_of`.
pub fn export(store: &Store, csv: &Path, as_of: Month) -> anyhow::Result<Export> {
    let started = Instant::now();
    let dataset = Dataset::EmploymentParticipation;
    let file = std::fs::File::create(csv).with_context(|| format!("creating {}", csv.display()))?;
    let mut out = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 20, file));
    out.write_record(CSV_HEADER)?;
    let mut expected = ExpectedBuilder::new(month_index(as_of));
    let mut rows = 0u64;
    for origin in origins()? {
        for stored in store.records(dataset, origin) {
            let stored = stored?;
            let Payload::EmploymentParticipation(r) = decode_payload(dataset, &stored.payload)?
            else {
                anyhow::bail!("a stored employment record decoded as another dataset");
            };
            let participant = r.participant.to_string();
            let delivering = r.delivering_borough.to_string();
            let resident = r.resident_borough.to_string();
            let referral = month_index(r.referral).to_string();
            let stages = [r.start, r.first_earnings, r.job_outcome, r.sustained].map(month_cell);
            out.write_record([
                participant.as_str(),
                r.programme.as_str(),
                delivering.as_str(),
                resident.as_str(),
                r.eligibility.as_str(),
                r.age_band.as_str(),
                r.sex.as_str(),
                referral.as_str(),
                stages[0].as_str(),
                stages[1].as_str(),
                stages[2].as_str(),
                stages[3].as_str(),
                if r.childcare_barrier { "true" } else { "false" },
            ])?;
            expected.add(&r);
            rows += 1;
        }
    }
    let mut inner = out
        .into_inner()
        .map_err(|e| anyhow::anyhow!("writing {}: {}", csv.display(), e.error()))?;
    inner.flush()?;
    drop(inner);
    Ok(Export {
        rows,
        bytes: std::fs::metadata(csv)?.len(),
        elapsed: started.elapsed(),
        expected: expected.finish(),
    })
}

/// What borough-net's side is handed once the store is loaded: the node's store
/// directory, **closed** (sled allows one opener), with everything it holds.
#[derive(Debug, Clone, Copy)]
pub struct LoadedStore<'a> {
    /// The sled directory of Lambeth's store (`Store::open(dir, own)`), which
    /// stays until the run ends.
    pub dir: &'a Path,
    /// The node's borough: Lambeth.
    pub own: GssCode,
    /// What each origin's records are, and the own head or peer checkpoint.
    pub origins: &'a [OriginLoad],
    /// Records held, over every origin.
    pub records: u64,
    /// The reference month DuckDB rated cohorts at.
    pub as_of: Month,
    /// What the answer must be: `rows` is what [`OurSide::query`] must return.
    pub expected: Expected,
}

/// What starting borough-net's side measured.
#[derive(Debug, Clone)]
pub struct Startup {
    /// What was started and how the query is asked, for the report (e.g.
    /// "Lambeth node, Query.Run over mutual TLS as its analyst").
    pub description: String,
    /// How long the analytical view took to be rebuilt from the store on start.
    pub rebuild: Duration,
    /// The view's memory, if measured, and how (e.g. "RSS growth over the
    /// rebuild").
    pub view_bytes: Option<(u64, String)>,
}

/// borough-net's side of the benchmark. [`run`] calls [`OurSide::start`] once,
/// after DuckDB's side, then [`OurSide::query`] once as a warm-up and
/// `config.runs` times timed, each call timed around it by the harness. Both are
/// called on a blocking thread (the CLI runs [`run`] in `spawn_blocking`), so an
/// implementation that calls an async client (the node's `Query.Run`) can use
/// `tokio::runtime::Handle::block_on` with a handle captured beforehand.
pub trait OurSide {
    /// Starts over the loaded store (for example a node with its data directory
    /// at `loaded.dir`) and reports the view's rebuild.
    fn start(&mut self, loaded: &LoadedStore<'_>) -> anyhow::Result<Startup>;

    /// Answers the query ([`MEASURES`] by [`GROUP_BY`], disclosure control
    /// included) once, fetching the whole answer, and returns its rows (cells
    /// and totals), which must equal `loaded.expected.rows`.
    fn query(&mut self) -> anyhow::Result<usize>;
}

/// borough-net's side, measured.
#[derive(Debug, Clone)]
pub struct OursRun {
    /// What starting it reported.
    pub startup: Startup,
    /// Each timed run.
    pub runs: Vec<Duration>,
    /// Rows of the answer.
    pub rows: u64,
}

/// Everything one `query` run measured.
#[derive(Debug, Clone)]
pub struct QueryReport {
    /// The configuration run.
    pub config: QueryConfig,
    /// Where it ran.
    pub machine: Machine,
    /// When it started (UTC, RFC 3339).
    pub started_at: String,
    /// The source measured: `git describe --always --dirty`, if available.
    pub source: String,
    /// Distinct people generated.
    pub people: u64,
    /// Of them, people with two records.
    pub people_in_two: u64,
    /// Each origin's load into the store.
    pub load: Vec<OriginLoad>,
    /// The rows read back and written for DuckDB.
    pub export: Export,
    /// DuckDB's environment.
    pub venv: Venv,
    /// DuckDB's side.
    pub duckdb: DuckDbRun,
    /// borough-net's side.
    pub ours: OursRun,
    /// The physical ceiling: one pass reading the columns the query touches.
    pub ceiling: Spread,
    /// Wall time, CPU time and load average of each step.
    pub phases: Vec<Phase>,
}

impl QueryReport {
    /// DuckDB's run times.
    pub fn duckdb_spread(&self) -> Spread {
        Spread::of(&mut self.duckdb.runs.clone())
    }

    /// borough-net's run times.
    pub fn ours_spread(&self) -> Spread {
        Spread::of(&mut self.ours.runs.clone())
    }

    /// borough-net's p50 over the ceiling's: how far above the least any
    /// answer must cost.
    pub fn ceiling_ratio(&self) -> f64 {
        self.ours_spread().p50.as_secs_f64() / self.ceiling.p50.as_secs_f64().max(1e-9)
    }

    /// borough-net's p50 over DuckDB's (target ≤ [`QUERY_RATIO_TARGET`]), and
    /// the same for p99.
    pub fn ratios(&self) -> (f64, f64) {
        let (ours, duck) = (self.ours_spread(), self.duckdb_spread());
        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
        (ratio(ours.p50, duck.p50), ratio(ours.p99, duck.p99))
    }
}

/// Generates and loads the records, writes them for DuckDB, runs DuckDB's side,
/// then `ours`, calling `progress` before each step. Blocking: async
/// callers use `spawn_blocking`.
pub fn run(
    config: &QueryConfig,
    ours: &mut dyn OurSide,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<QueryReport> {
    anyhow::ensure!(
        config.records > 0 && config.runs > 0,
        "records and runs must be positive"
    );
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let machine = Machine::current();
    let mut phases = Vec::new();
    let work = tempfile::Builder::new()
        .prefix("borough-bench-query-")
        .tempdir()?;
    let store_dir = work.path().join("lambeth");
    let csv = work.path().join("employment.csv");

    progress(&format!("generating {} employment records", config.records));
    let clock = PhaseClock::start("generate");
    let generated = generate(config.records, config.seed)?;
    phases.push(clock.stop());

    progress("loading them into Lambeth's store (own, then two peers)");
    let clock = PhaseClock::start("load store");
    let (store, load) = load_store(&store_dir, &generated)?;
    phases.push(clock.stop());
    let (people, people_in_two) = (generated.people, generated.people_in_two);
    drop(generated);

    progress("reading them back from the store into a CSV for DuckDB");
    let clock = PhaseClock::start("export CSV");
    let export = export(&store, &csv, config.as_of)?;
    phases.push(clock.stop());
    drop(store);
    let records: u64 = load.iter().map(|o| o.records).sum();
    anyhow::ensure!(
        export.rows == records,
        "read back {} of {records} records",
        export.rows
    );
    let expected = export.expected;

    let venv_dir = duckdb::venv_dir();
    progress(&format!(
        "DuckDB: the Python environment at {}",
        venv_dir.display()
    ));
    let clock = PhaseClock::start("DuckDB venv");
    let venv = duckdb::ensure_venv(&venv_dir)?;
    phases.push(clock.stop());

    progress(&format!(
        "DuckDB {}: loading the CSV, then {} runs after a warm-up",
        venv.duckdb_version, config.runs
    ));
    let clock = PhaseClock::start("DuckDB");
    let duck = duckdb::run(
        &venv,
        work.path(),
        &csv,
        config.runs,
        month_index(config.as_of),
        config.duckdb_threads,
    )?;
    phases.push(clock.stop());
    anyhow::ensure!(
        duck.rows_loaded == records,
        "DuckDB loaded {} of {records} rows",
        duck.rows_loaded
    );
    anyhow::ensure!(
        (duck.result_rows, duck.total_rows, duck.sums)
            == (expected.rows, expected.total_rows, expected.sums),
        "DuckDB answered {} rows ({} totals) with column sums {:?}; expected {} rows ({} totals) with {:?}",
        duck.result_rows,
        duck.total_rows,
        duck.sums,
        expected.rows,
        expected.total_rows,
        expected.sums
    );
    anyhow::ensure!(
        duck.runs.len() == config.runs,
        "DuckDB timed {} runs",
        duck.runs.len()
    );

    let loaded = LoadedStore {
        dir: &store_dir,
        own: load[0].borough,
        origins: &load,
        records,
        as_of: config.as_of,
        expected,
    };
    progress("borough-net: starting over the loaded store");
    let clock = PhaseClock::start("ours start");
    let startup = ours.start(&loaded)?;
    phases.push(clock.stop());
    progress(&format!(
        "borough-net: {} runs after a warm-up",
        config.runs
    ));
    let clock = PhaseClock::start("ours");
    let mut runs = Vec::with_capacity(config.runs);
    for i in 0..=config.runs {
        let started = Instant::now();
        let rows = ours.query()? as u64;
        let elapsed = started.elapsed();
        anyhow::ensure!(
            rows == expected.rows,
            "borough-net answered {rows} rows; expected {}",
            expected.rows
        );
        if i > 0 {
            runs.push(elapsed);
        }
    }
    phases.push(clock.stop());
    let ours = OursRun {
        startup,
        runs,
        rows: expected.rows,
    };

    progress("ceiling: one pass over the columns the query reads");
    let clock = PhaseClock::start("ceiling");
    let ceiling = crate::query_ceiling::scan(records as usize, config.runs);
    phases.push(clock.stop());

    Ok(QueryReport {
        config: config.clone(),
        machine,
        started_at,
        source: crate::source(),
        people,
        people_in_two,
        load,
        export,
        venv,
        duckdb: duck,
        ours,
        ceiling,
        phases,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_seeded_split_and_shaped() {
        let a = generate(6_000, 7).expect("generates");
        let b = generate(6_000, 7).expect("generates");
        assert_eq!(a.by_origin, b.by_origin, "same seed, same records");
        let total: usize = a.by_origin.iter().map(Vec::len).sum();
        assert_eq!(total, 6_000);
        for (k, records) in a.by_origin.iter().enumerate() {
            assert!(
                (1_700..2_300).contains(&records.len()),
                "origin {k}: {}",
                records.len()
            );
            assert!(records
                .iter()
                .all(|r| r.delivering_borough == origins().expect("origins")[k]));
        }
        let twice = a.people_in_two as f64 / a.people as f64;
        assert!((0.07..0.13).contains(&twice), "{twice}");
        let all: Vec<&EmploymentParticipation> = a.by_origin.iter().flatten().collect();
        let share = |f: &dyn Fn(&EmploymentParticipation) -> bool| {
            all.iter().filter(|r| f(r)).count() as f64 / all.len() as f64
        };
        let starters = share(&|r| r.start.is_some());
        assert!((0.6..0.75).contains(&starters), "{starters}");
        let outcomes = share(&|r| r.job_outcome.is_some()) / starters;
        assert!((0.15..0.32).contains(&outcomes), "{outcomes}");
        let outside = share(&|r| !origins().expect("origins").contains(&r.resident_borough));
        assert!((0.08..0.2).contains(&outside), "{outside}");
        let last = Month::new(LAST_MONTH.0, LAST_MONTH.1).expect("month");
        assert!(all.iter().all(|r| r.referral <= last
            && [r.start, r.first_earnings, r.job_outcome, r.sustained]
                .iter()
                .flatten()
                .all(|m| *m <= last)));
    }

    #[test]
    fn expected_follows_the_engine_rules() {
        let p = |b: u8| Pseudonym::from_bytes([b; 32]);
        let m = |i: u32| Some(month_of_index(i).expect("month"));
        let lambeth = gss(LAMBETH).expect("lambeth");
        let base = EmploymentParticipation {
            participant: p(1),
            programme: Programme::Restart,
            delivering_borough: lambeth,
            resident_borough: lambeth,
            eligibility: EligibilityGroup::Disability,
            age_band: AdultAgeBand::Age25To34,
            sex: Sex::Female,
            referral: month_of_index(24_300).expect("month"),
            start: m(24_300),
            first_earnings: None,
            job_outcome: m(24_306),
            sustained: None,
            childcare_barrier: false,
        };
        let mut b = ExpectedBuilder::new(24_310);
        // Outcome at 6 months, 6-month cohort mature, 12-month not.
        b.add(&base);
        // The same person again in the same cell counts once.
        b.add(&EmploymentParticipation {
            delivering_borough: gss(SOUTHWARK).expect("southwark"),
            ..base.clone()
        });
        // Another person, another resident borough: a second cell, same total.
        b.add(&EmploymentParticipation {
            participant: p(2),
            resident_borough: gss(LEWISHAM).expect("lewisham"),
            job_outcome: m(24_307),
            ..base.clone()
        });
        // Not started: not counted, but a person.
        b.add(&EmploymentParticipation {
            participant: p(3),
            start: None,
            job_outcome: None,
            ..base.clone()
        });
        let e = b.finish();
        assert_eq!((e.rows, e.total_rows, e.people, e.starters), (3, 1, 3, 3));
        // participants 1+1+2, cohort_6m the same, outcomes_6m only person 1
        // (1 in its cell, 1 in the total), nobody mature for 12 months.
        assert_eq!(e.sums, [4, 4, 2, 0, 0]);
    }
}

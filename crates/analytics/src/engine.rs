//! The engine: evaluates a query over the view into a table of true counts, each
//! cell with the people it counts and its cell key, ready for disclosure control.
//! Nothing here is released; only `disclosure` turns a `RawTable` into figures.

use crate::dimension::{sub_region_of_borough, Dimension, Stage};
use crate::query::{Count, MedianOf, Query, Who};
use crate::view::{stage_column, EmploymentView, Persons};
use crate::Error;

/// The most cells (including totals) a table may have. A finer table would be
/// almost all suppressed cells, and building it would cost memory for nothing.
pub const MAX_CELLS: usize = 1 << 22;

/// One cell before disclosure control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RawCell {
    /// The true count (records, or distinct people for a distinct count).
    pub value: u64,
    /// Distinct people behind the count.
    pub persons: u64,
    /// The cell key: the sum of the record keys of what is counted, modulo 256.
    pub key: u8,
}

/// A row of a table: a code per grouping dimension, `None` in the first
/// dimension for a total row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    /// Per grouping dimension, the value's code; the first is `None` in a total.
    pub codes: Vec<Option<u32>>,
}

/// A total row is the sum of its parts (exactly, for counts of records; at most,
/// for counts of distinct people, whom two parts may share).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equation {
    /// The total row.
    pub total: usize,
    /// The rows it totals.
    pub parts: Vec<usize>,
}

/// A query's true counts: rows, one column per count, and the totals' equations.
#[derive(Debug, Clone)]
pub struct RawTable {
    /// The grouping dimensions, in order.
    pub dims: Vec<Dimension>,
    /// Parts first, in dimension order; totals after them.
    pub rows: Vec<RawRow>,
    /// The counts computed, one column each.
    pub(crate) counts: Vec<Count>,
    /// `cells[column][row]`.
    pub cells: Vec<Vec<RawCell>>,
    /// One per total row.
    pub equations: Vec<Equation>,
}

/// One grouping dimension's codes as dense indexes `code - offset` below `size`.
#[derive(Debug, Clone, Copy)]
struct Axis {
    dim: Dimension,
    offset: u32,
    size: u32,
}

impl Axis {
    /// The dense index of `code`, if it lies on this axis.
    fn index(&self, code: u32) -> Option<u64> {
        code.checked_sub(self.offset)
            .filter(|&i| i < self.size)
            .map(u64::from)
    }

    /// The axis of `dim`: a dimension's whole domain, and for periods the range
    /// the data covers (controlled) or a fixed range before the reference month
    /// that no record can move (private).
    fn new(dim: Dimension, facts: &dyn Facts, mode: Mode, as_of: u32) -> Axis {
        if let (Mode::Private, Dimension::Period { grain, .. }) = (mode, dim) {
            let lo = grain.period_of(as_of.saturating_sub(PRIVATE_MONTHS));
            let hi = grain.period_of(as_of);
            return Axis {
                dim,
                offset: lo,
                size: hi - lo + 1,
            };
        }
        let (offset, size) = match dim {
            Dimension::Period { grain, .. } => match facts.month_range() {
                None => (0, 1),
                Some((lo, hi)) => {
                    let (lo, hi) = (grain.period_of(lo), grain.period_of(hi));
                    (lo, hi - lo + 1)
                }
            },
            plain => (0, plain.domain_size()),
        };
        Axis { dim, offset, size }
    }
}

/// One dataset's view as the engine reads it: rows (live or dead), the subject
/// each row is about (a person, a provider, a family: what distinct counts and
/// record keys are of), codes per dimension, and which counts a row adds to.
pub(crate) trait Facts {
    /// Rows, live or dead.
    fn rows(&self) -> usize;
    /// Whether row `r` holds a live record.
    fn live(&self, r: usize) -> bool;
    /// The dense id of what row `r` is about.
    fn subject(&self, r: usize) -> u32;
    /// An upper bound on every subject id.
    fn subject_bound(&self) -> u32;
    /// The record key of subject `s`.
    fn subject_key(&self, s: u32) -> u8;
    /// The code of `dim` for row `r` counted as `count`; `None` when the record
    /// has no such value (a period of a stage it has not reached).
    fn code(&self, r: usize, dim: Dimension, count: Count) -> Option<u32>;
    /// How much row `r` adds to `count` at reference month `as_of`: 0 if
    /// nothing, 1 for a record, more for a sum such as places.
    fn weight(&self, r: usize, count: Count, as_of: u32) -> u64;
    /// The value row `r` gives a median of `of`, if it has one.
    fn value(&self, _r: usize, _of: MedianOf) -> Option<u32> {
        None
    }
    /// The earliest and latest month index of any record, for period axes.
    fn month_range(&self) -> Option<(u32, u32)> {
        None
    }
}

/// `employment-participation` with the people it names.
pub(crate) struct EmploymentFacts<'a> {
    pub(crate) view: &'a EmploymentView,
    pub(crate) persons: &'a Persons,
}

impl Facts for EmploymentFacts<'_> {
    fn rows(&self) -> usize {
        self.view.row_count()
    }

    fn live(&self, r: usize) -> bool {
        self.view.live[r]
    }

    fn subject(&self, r: usize) -> u32 {
        self.view.person[r]
    }

    fn subject_bound(&self) -> u32 {
        self.persons.id_bound()
    }

    fn subject_key(&self, s: u32) -> u8 {
        self.persons.key(s)
    }

    fn month_range(&self) -> Option<(u32, u32)> {
        self.view.month_range
    }

    fn code(&self, r: usize, dim: Dimension, count: Count) -> Option<u32> {
        let view = self.view;
        Some(match dim {
            Dimension::ResidentBorough => u32::from(view.resident[r]),
            Dimension::DeliveringBorough => u32::from(view.delivering[r]),
            Dimension::ResidentSubRegion => sub_region_of_borough(u32::from(view.resident[r])),
            Dimension::DeliveringSubRegion => sub_region_of_borough(u32::from(view.delivering[r])),
            Dimension::Programme => u32::from(view.programme[r]),
            Dimension::EligibilityGroup => u32::from(view.eligibility[r]),
            Dimension::AgeBand => u32::from(view.age_band[r]),
            Dimension::Sex => u32::from(view.sex[r]),
            Dimension::ChildcareBarrier => u32::from(view.barrier[r]),
            Dimension::Period { stage, grain } => {
                let stage = stage.unwrap_or(count.own_stage());
                let m = view.months[stage_column(stage)][r];
                if m == 0 {
                    return None;
                }
                grain.period_of(m)
            }
            _ => return None,
        })
    }

    fn weight(&self, r: usize, count: Count, as_of: u32) -> u64 {
        let view = self.view;
        let month = |stage: Stage| view.months[stage_column(stage)][r];
        let mature = |months: u32| {
            let start = month(Stage::Start);
            start != 0 && start + months <= as_of
        };
        let among = |who: Who| match who {
            Who::Everyone => true,
            Who::ChildcareBarrier => view.barrier[r],
            Who::BarrierWithRequest => view.barrier[r] && self.persons.has_request(view.person[r]),
        };
        let counts = match count {
            Count::Events(stage) => month(stage) != 0,
            Count::Participants { who } => among(who),
            Count::CohortStarters { months, who } => among(who) && mature(months),
            Count::CohortOutcomes { months, who } => {
                let outcome = month(Stage::JobOutcome);
                among(who)
                    && mature(months)
                    && outcome != 0
                    && outcome - month(Stage::Start) <= months
            }
            _ => false,
        };
        u64::from(counts)
    }
}

/// How a table is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// For disclosure control: only the cells some record falls in.
    Controlled,
    /// For differential privacy: every cell of a domain no record can change, and
    /// at most one record per person in each count, so that adding or removing a
    /// person changes each count by at most one in one cell and one total.
    Private,
}

/// How far back a private table's periods reach: five years before the
/// reference month.
const PRIVATE_MONTHS: u32 = 60;

/// Evaluates `query` over the view. `as_of` is the month index of the reference
/// month: cohorts are mature once their whole window lies before it.
pub(crate) fn evaluate(
    query: &Query,
    facts: &dyn Facts,
    as_of: u32,
    mode: Mode,
) -> Result<RawTable, Error> {
    query.check()?;
    let axes: Vec<Axis> = query
        .group_by
        .iter()
        .map(|&d| Axis::new(d, facts, mode, as_of))
        .collect();
    let first = axes.first().map_or(1, |a| a.size) as u64;
    let rest_axes = axes.get(1..).unwrap_or_default();
    let rest: u64 = rest_axes.iter().map(|a| u64::from(a.size)).product();
    let has_totals = !axes.is_empty();
    let cells = (first * rest + if has_totals { rest } else { 0 }) as usize;
    if cells > MAX_CELLS {
        return Err(Error::TooManyCells {
            cells,
            max: MAX_CELLS,
        });
    }
    let counts: Vec<Count> = query.measures.iter().flat_map(|m| m.counts()).collect();
    let people = u64::from(facts.subject_bound().max(1));

    let mut columns = Vec::with_capacity(counts.len());
    for &count in &counts {
        // Sort keys and the weight each carries (1 for a record).
        let mut keys: Vec<(u64, u32)> = Vec::new();
        let mut counted = match mode {
            Mode::Controlled => Vec::new(),
            Mode::Private => vec![false; people as usize],
        };
        'rows: for r in 0..facts.rows() {
            if !facts.live(r) {
                continue;
            }
            // What the row carries into its cell: a weight to add, or for a
            // median the value itself (which may be 0).
            let weight = match count {
                Count::Median { of } => match facts.value(r, of) {
                    Some(v) => u64::from(v),
                    None => continue,
                },
                _ => facts.weight(r, count, as_of),
            };
            if weight == 0 && !matches!(count, Count::Median { .. }) {
                continue;
            }
            for filter in &query.filters {
                match facts.code(r, filter.dimension, count) {
                    Some(c) if filter.codes.contains(&c) => {}
                    _ => continue 'rows,
                }
            }
            let mut rest_index = 0u64;
            for axis in rest_axes {
                let Some(i) = facts.code(r, axis.dim, count).and_then(|c| axis.index(c)) else {
                    continue 'rows;
                };
                rest_index = rest_index * u64::from(axis.size) + i;
            }
            let first_index = match axes.first() {
                None => 0,
                Some(axis) => match facts.code(r, axis.dim, count).and_then(|c| axis.index(c)) {
                    Some(i) => i,
                    None => continue 'rows,
                },
            };
            let person = u64::from(facts.subject(r));
            if mode == Mode::Private {
                // One record per person per count: the person's first that counts.
                let seen = &mut counted[person as usize];
                if *seen {
                    continue;
                }
                *seen = true;
            }
            let key = (rest_index * people + person) * first + first_index;
            keys.push((key, weight.min(u64::from(u32::MAX)) as u32));
        }
        keys.sort_unstable_by_key(|&(key, _)| key);
        columns.push(match count {
            Count::Median { .. } => medians(&keys, first, rest, people),
            _ => tally(&keys, count, facts, first, rest, people),
        });
    }

    let mut rows = Vec::new();
    let mut index_of_cell = Vec::new();
    for f in 0..first {
        for r in 0..rest {
            let cell = (r * first + f) as usize;
            if mode == Mode::Private || columns.iter().any(|c| !c.parts[cell].is_empty()) {
                index_of_cell.push(cell);
                rows.push(RawRow {
                    codes: row_codes(&axes, Some(f), r),
                });
            }
        }
    }
    let mut equations = Vec::new();
    let mut totals_index = Vec::new();
    if has_totals {
        // Cell `r * first + f` is a part of total `r`.
        let mut parts_of: Vec<Vec<usize>> = vec![Vec::new(); rest as usize];
        for (row, &cell) in index_of_cell.iter().enumerate() {
            parts_of[cell / first as usize].push(row);
        }
        for (r, parts) in parts_of.into_iter().enumerate() {
            let r = r as u64;
            if parts.is_empty() {
                continue;
            }
            equations.push(Equation {
                total: rows.len(),
                parts,
            });
            totals_index.push(r as usize);
            rows.push(RawRow {
                codes: row_codes(&axes, None, r),
            });
        }
    }
    let cells = columns
        .iter()
        .map(|column| {
            index_of_cell
                .iter()
                .map(|&cell| column.parts[cell].finish())
                .chain(totals_index.iter().map(|&r| column.totals[r].finish()))
                .collect()
        })
        .collect();
    Ok(RawTable {
        dims: query.group_by.clone(),
        rows,
        counts,
        cells,
        equations,
    })
}

/// The codes of a row: `f` in the first dimension (`None` for a total), and the
/// other dimensions decoded from the mixed-radix `rest` index.
fn row_codes(axes: &[Axis], f: Option<u64>, mut rest: u64) -> Vec<Option<u32>> {
    let mut codes = vec![None; axes.len()];
    for (i, axis) in axes.iter().enumerate().skip(1).rev() {
        let size = u64::from(axis.size);
        codes[i] = Some((rest % size) as u32 + axis.offset);
        rest /= size;
    }
    if let (Some(axis), Some(f)) = (axes.first(), f) {
        codes[0] = Some(f as u32 + axis.offset);
    }
    codes
}

/// A cell being counted.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    value: u64,
    persons: u64,
    key_sum: u64,
}

impl Tally {
    fn is_empty(&self) -> bool {
        self.value == 0 && self.persons == 0
    }

    fn finish(&self) -> RawCell {
        RawCell {
            value: self.value,
            persons: self.persons,
            key: (self.key_sum % 256) as u8,
        }
    }

    /// Counts one more entry: a record adding `weight`, and whether it is a new
    /// subject here. A distinct count adds one per new subject, whatever the weight.
    fn add(&mut self, distinct: bool, new_subject: bool, key: u8, weight: u32) {
        match (distinct, new_subject) {
            (true, false) => {}
            (true, true) => {
                self.value += 1;
                self.persons += 1;
                self.key_sum += u64::from(key);
            }
            (false, new) => {
                self.value += u64::from(weight);
                self.persons += u64::from(new);
                self.key_sum += u64::from(key);
            }
        }
    }
}

/// One column's parts (`rest * first + f`) and totals (`rest`).
struct Column {
    parts: Vec<Tally>,
    totals: Vec<Tally>,
}

/// Counts sorted keys `(rest * people + person) * first + f`: equal keys are one
/// person in one part; a run of one `(rest, person)` is one person in the total.
fn tally(
    keys: &[(u64, u32)],
    count: Count,
    facts: &dyn Facts,
    first: u64,
    rest: u64,
    people: u64,
) -> Column {
    let mut parts = vec![Tally::default(); (first * rest) as usize];
    let mut totals = vec![Tally::default(); rest as usize];
    let distinct = count.is_distinct();
    let mut previous: Option<u64> = None;
    for &(k, weight) in keys {
        let f = k % first;
        let rest_person = k / first;
        let (r, person) = (rest_person / people, rest_person % people);
        let key = facts.subject_key(person as u32);
        let new_in_part = previous != Some(k);
        let new_in_total = previous.is_none_or(|p| p / first != rest_person);
        parts[(r * first + f) as usize].add(distinct, new_in_part, key, weight);
        totals[r as usize].add(distinct, new_in_total, key, weight);
        previous = Some(k);
    }
    Column { parts, totals }
}

/// The medians of sorted keys' values per part and total, with the distinct
/// subjects behind each (as [`tally`] counts them). The cells carry no key: a
/// median is never perturbed.
fn medians(keys: &[(u64, u32)], first: u64, rest: u64, people: u64) -> Column {
    let mut parts = vec![Tally::default(); (first * rest) as usize];
    let mut totals = vec![Tally::default(); rest as usize];
    let mut part_values: Vec<Vec<u32>> = vec![Vec::new(); parts.len()];
    let mut total_values: Vec<Vec<u32>> = vec![Vec::new(); totals.len()];
    let mut previous: Option<u64> = None;
    for &(k, value) in keys {
        let rest_person = k / first;
        let r = (rest_person / people) as usize;
        let part = r * first as usize + (k % first) as usize;
        parts[part].persons += u64::from(previous != Some(k));
        totals[r].persons += u64::from(previous.is_none_or(|p| p / first != rest_person));
        part_values[part].push(value);
        total_values[r].push(value);
        previous = Some(k);
    }
    for (cell, values) in parts.iter_mut().zip(&mut part_values) {
        cell.value = median(values);
    }
    for (cell, values) in totals.iter_mut().zip(&mut total_values) {
        cell.value = median(values);
    }
    Column { parts, totals }
}

/// The median of `values` (0 for none); of an even number, the mean of the
/// middle two, rounded down.
pub(crate) fn median(values: &mut [u32]) -> u64 {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => 0,
        _ if n % 2 == 1 => u64::from(values[n / 2]),
        _ => (u64::from(values[n / 2 - 1]) + u64::from(values[n / 2])) / 2,
    }
}

//! Disclosure control: the only way a figure leaves the engine. Every count goes
//! through cell-key perturbation, primary suppression of cells of fewer people
//! than the threshold, rounding, and secondary suppression so that no suppressed
//! cell can be narrowed from the released cells and totals; rates are computed
//! from released counts. `Released` can be built nowhere else. The method is
//! written for an information-governance officer in docs/DISCLOSURE.md.

use crate::dimension::{Dimension, Stage};
use crate::engine::{RawCell, RawTable};
use crate::privacy::{discrete_laplace, Scale};
use crate::query::{Count, Measure};
use crate::Error;

/// The smallest suppression threshold a node may be configured with: counts of
/// fewer persons than this are never released.
pub const MIN_THRESHOLD: u64 = 10;

/// The smallest rounding base a node may be configured with.
pub const MIN_ROUNDING_BASE: u64 = 5;

/// The largest adjustment the perturbation table makes, either way.
pub const MAX_PERTURBATION: u64 = 2;

/// The largest lifetime privacy budget a researcher may be given, in millionths
/// of ε (ε = 1).
pub const MAX_BUDGET_MICROS: u64 = 1_000_000;

/// The most one differentially private answer may spend, in millionths of ε
/// (ε = 0.5).
pub const MAX_QUERY_EPSILON_MICROS: u64 = 500_000;

/// The perturbation table: cell key → adjustment. Keys are uniform over 0..=255,
/// so the adjustment is -2 with probability 26/256, -1 with 51/256, 0 with
/// 102/256, +1 with 51/256 and +2 with 26/256: mean zero, variance 1.21. The
/// adjustments are spread over the keys so no run of keys shares one.
fn perturbation(cell_key: u8) -> i64 {
    // A fixed permutation of the keys (multiplying by an odd number mod 256 is a
    // bijection) placed against the cumulative counts 26, 77, 179, 230, 256.
    let position = cell_key.wrapping_mul(167).wrapping_add(91);
    match position {
        0..=25 => -2,
        26..=76 => -1,
        77..=178 => 0,
        179..=229 => 1,
        _ => 2,
    }
}

/// How figures are protected: the threshold and rounding base in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisclosureControl {
    threshold: u64,
    rounding_base: u64,
}

impl Default for DisclosureControl {
    fn default() -> Self {
        DisclosureControl {
            threshold: MIN_THRESHOLD,
            rounding_base: MIN_ROUNDING_BASE,
        }
    }
}

/// A released figure: a count, a rate (percent), or a symbol in DfE's convention.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Figure {
    /// A perturbed, rounded count.
    Count(u64),
    /// A percentage computed from released counts.
    Rate(f64),
    /// Withheld to protect people (DfE symbol `c`).
    Suppressed,
    /// Not applicable: a cohort whose window has not yet passed (DfE symbol `z`).
    NotApplicable,
}

impl Figure {
    /// The figure as text: the number, or DfE's symbol.
    pub fn text(&self) -> String {
        match self {
            Figure::Count(n) => n.to_string(),
            Figure::Rate(r) => format!("{r:.1}"),
            Figure::Suppressed => "c".into(),
            Figure::NotApplicable => "z".into(),
        }
    }
}

/// A table that has been through disclosure control, and the only form in which
/// figures leave the engine.
#[derive(Debug, Clone)]
pub struct Released {
    dims: Vec<Dimension>,
    measures: Vec<Measure>,
    rows: Vec<ReleasedRow>,
    control: DisclosureControl,
    suppressed: u64,
    released: u64,
}

/// One released row.
#[derive(Debug, Clone)]
pub struct ReleasedRow {
    /// Per grouping dimension, the value's code; `None` in the first dimension
    /// for a total row.
    pub codes: Vec<Option<u32>>,
    /// One figure per measure.
    pub figures: Vec<Figure>,
}

impl ReleasedRow {
    /// Whether this is a total row.
    pub fn is_total(&self) -> bool {
        self.codes.first().is_some_and(Option::is_none)
    }
}

impl Released {
    /// The grouping dimensions.
    pub fn dims(&self) -> &[Dimension] {
        &self.dims
    }
    /// The measures, one figure each per row.
    pub fn measures(&self) -> &[Measure] {
        &self.measures
    }
    /// The rows: parts, then totals.
    pub fn rows(&self) -> &[ReleasedRow] {
        &self.rows
    }
    /// The settings the figures were protected with.
    pub fn control(&self) -> DisclosureControl {
        self.control
    }
    /// Figures released as numbers.
    pub fn cells_released(&self) -> u64 {
        self.released
    }
    /// Figures withheld (`c`).
    pub fn cells_suppressed(&self) -> u64 {
        self.suppressed
    }
}

/// What became of one count cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protected {
    Released(u64),
    Suppressed,
}

impl DisclosureControl {
    /// Settings at least as strict as the minimums; a looser one is refused,
    /// naming the setting.
    pub fn new(threshold: u64, rounding_base: u64) -> Result<DisclosureControl, Error> {
        if threshold < MIN_THRESHOLD {
            return Err(Error::LooserThanMinimum {
                setting: "threshold",
                given: threshold,
                minimum: MIN_THRESHOLD,
            });
        }
        if rounding_base < MIN_ROUNDING_BASE {
            return Err(Error::LooserThanMinimum {
                setting: "rounding_base",
                given: rounding_base,
                minimum: MIN_ROUNDING_BASE,
            });
        }
        Ok(DisclosureControl {
            threshold,
            rounding_base,
        })
    }

    /// Cells of fewer people than this are suppressed.
    pub fn threshold(&self) -> u64 {
        self.threshold
    }

    /// Released counts are multiples of this.
    pub fn rounding_base(&self) -> u64 {
        self.rounding_base
    }

    /// The released value of a cell of at least `threshold` people: perturbed by
    /// its cell key, then rounded half up to the base. The same cell over the same
    /// records always gets the same value, whichever query or node asks.
    fn perturb_and_round(&self, cell: RawCell) -> u64 {
        let perturbed = (cell.value as i64 + perturbation(cell.key)).max(0) as u64;
        let base = self.rounding_base;
        (perturbed + base / 2) / base * base
    }

    /// The bounds a published released value `r` puts on the true value: the
    /// rounding interval widened by the largest perturbation, and at least the
    /// threshold, since smaller cells are never released.
    pub fn true_bounds(&self, r: u64) -> (u64, u64) {
        let base = self.rounding_base;
        let below = base / 2 + MAX_PERTURBATION;
        let above = base - 1 - base / 2 + MAX_PERTURBATION;
        (r.saturating_sub(below).max(self.threshold), r + above)
    }

    /// Protects one count column: primary suppression, perturbation and rounding,
    /// then secondary suppression along every equation until each suppressed cell
    /// is safe.
    fn protect_column(&self, cells: &[RawCell], raw: &RawTable) -> Vec<Protected> {
        let mut out: Vec<Protected> = cells
            .iter()
            .map(|&c| match c.persons < self.threshold {
                true => Protected::Suppressed,
                false => Protected::Released(self.perturb_and_round(c)),
            })
            .collect();
        for eq in &raw.equations {
            // Each round suppresses one more part, so this ends within the parts.
            while let Some(unsafe_part) = eq.parts.iter().copied().find(|&p| {
                out[p] == Protected::Suppressed && !self.is_safe(&out, eq.total, &eq.parts, p)
            }) {
                let victim = eq
                    .parts
                    .iter()
                    .copied()
                    .filter(|&p| p != unsafe_part)
                    .filter_map(|p| match out[p] {
                        Protected::Released(v) => Some((v, p)),
                        Protected::Suppressed => None,
                    })
                    .min();
                match victim {
                    Some((_, p)) => out[p] = Protected::Suppressed,
                    // Every other part is suppressed already, yet the cell is not
                    // safe: only the total is left to withhold.
                    None => {
                        out[eq.total] = Protected::Suppressed;
                        break;
                    }
                }
            }
        }
        out
    }

    /// Whether suppressed part `p` of the equation `total = Σ parts` still spans
    /// `0..threshold` given everything released ([`attacker_interval`]).
    fn is_safe(&self, out: &[Protected], total: usize, parts: &[usize], p: usize) -> bool {
        match self.attacker_interval(out, total, parts, p) {
            None => true,
            Some((lo, hi)) => lo <= 0 && hi >= self.threshold as i64 - 1,
        }
    }

    /// The narrowest interval for suppressed part `p` that the equation
    /// `total = Σ parts`, the released figures and the published bounds allow,
    /// taking the equation as exact (for counts of distinct people it is an upper
    /// bound, so an attacker can do no better). `None` when the total is
    /// suppressed and so bounds nothing. Other suppressed parts are known only to
    /// be at least 0.
    fn attacker_interval(
        &self,
        out: &[Protected],
        total: usize,
        parts: &[usize],
        p: usize,
    ) -> Option<(i64, i64)> {
        let Protected::Released(t) = out[total] else {
            return None;
        };
        let (t_lo, t_hi) = self.true_bounds(t);
        let (mut lo, mut hi) = (t_lo as i64, t_hi as i64);
        let mut other_suppressed = false;
        for &q in parts.iter().filter(|&&q| q != p) {
            match out[q] {
                Protected::Released(v) => {
                    let (q_lo, q_hi) = self.true_bounds(v);
                    lo -= q_hi as i64;
                    hi -= q_lo as i64;
                }
                Protected::Suppressed => other_suppressed = true,
            }
        }
        if other_suppressed {
            lo = i64::MIN;
        }
        Some((lo.max(0), hi))
    }

    /// Releases `raw`, computed for `measures` at reference month `as_of`.
    pub(crate) fn release(&self, raw: &RawTable, measures: &[Measure], as_of: u32) -> Released {
        let protected: Vec<Vec<Protected>> = raw
            .cells
            .iter()
            .zip(&raw.counts)
            .map(|(column, count)| match count {
                // A median is not a count: it is released as it is, but only
                // where its base count is (below), and never over fewer
                // subjects than the threshold.
                Count::Median { .. } => column
                    .iter()
                    .map(|c| match c.persons < self.threshold {
                        true => Protected::Suppressed,
                        false => Protected::Released(c.value),
                    })
                    .collect(),
                _ => self.protect_column(column, raw),
            })
            .collect();
        let column_of = |count: Count| raw.counts.iter().position(|&c| c == count);
        let mut released = 0;
        let mut suppressed = 0;
        let rows = raw
            .rows
            .iter()
            .enumerate()
            .map(|(row, raw_row)| {
                let figures = measures
                    .iter()
                    .map(|&measure| {
                        let cells: Vec<Protected> = measure
                            .counts()
                            .into_iter()
                            .filter_map(|c| column_of(c).map(|i| protected[i][row]))
                            .collect();
                        let figure = match (measure, cells.as_slice()) {
                            (Measure::JobOutcomeRate { months, .. }, _)
                                if !cohort_can_be_mature(raw, &raw_row.codes, months, as_of) =>
                            {
                                Figure::NotApplicable
                            }
                            (
                                Measure::Median { of },
                                [Protected::Released(_), Protected::Released(m)],
                            ) => {
                                let base = of.rounding();
                                Figure::Count((m + base / 2) / base * base)
                            }
                            (Measure::Median { .. }, _) => Figure::Suppressed,
                            (_, [Protected::Released(n)]) => Figure::Count(*n),
                            (_, [Protected::Released(num), Protected::Released(den)])
                                if *den > 0 =>
                            {
                                Figure::Rate((*num as f64 * 1000.0 / *den as f64).round() / 10.0)
                            }
                            _ => Figure::Suppressed,
                        };
                        match figure {
                            Figure::Suppressed => suppressed += 1,
                            Figure::Count(_) | Figure::Rate(_) => released += 1,
                            Figure::NotApplicable => {}
                        }
                        figure
                    })
                    .collect();
                ReleasedRow {
                    codes: raw_row.codes.clone(),
                    figures,
                }
            })
            .collect();
        Released {
            dims: raw.dims.clone(),
            measures: measures.to_vec(),
            rows,
            control: *self,
            suppressed,
            released,
        }
    }
}

/// The noise a differentially private table gets: discrete Laplace with scale
/// `sensitivity / ε` on every count, where `sensitivity` is how many released
/// counts one person can change (by one each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivateNoise {
    /// Released counts one person can change, each by at most one.
    pub sensitivity: u64,
    /// ε in millionths.
    pub epsilon_micros: u64,
}

impl PrivateNoise {
    /// The noise for `raw` at `epsilon_micros`: each count column changes by at
    /// most one in one part and one total per person (the engine keeps one
    /// record per person per count in private mode).
    pub(crate) fn for_table(raw: &RawTable, epsilon_micros: u64) -> PrivateNoise {
        let per_column = if raw.dims.is_empty() { 1 } else { 2 };
        PrivateNoise {
            sensitivity: raw.counts.len() as u64 * per_column,
            epsilon_micros,
        }
    }

    /// The Laplace scale as a number, for people.
    pub fn scale(&self) -> f64 {
        self.sensitivity as f64 * 1e6 / self.epsilon_micros.max(1) as f64
    }
}

/// Releases `raw` (built in private mode) with discrete Laplace noise drawn
/// exactly from `rng`: no suppression or rounding, since the noise is the
/// protection; negative noisy counts are released as 0 and rates are computed
/// from the noisy counts, both of which are post-processing and cost no privacy.
pub(crate) fn release_private<R: rand::RngCore + ?Sized>(
    raw: &RawTable,
    measures: &[Measure],
    as_of: u32,
    noise: PrivateNoise,
    rng: &mut R,
) -> Result<Released, Error> {
    let scale = Scale::new(noise.sensitivity * 1_000_000, noise.epsilon_micros)
        .ok_or(Error::NoPrivacyBudget)?;
    let noisy: Vec<Vec<u64>> = raw
        .cells
        .iter()
        .map(|column| {
            column
                .iter()
                .map(|c| {
                    (c.value as i64)
                        .saturating_add(discrete_laplace(rng, scale))
                        .max(0) as u64
                })
                .collect()
        })
        .collect();
    let column_of = |count: Count| raw.counts.iter().position(|&c| c == count);
    let mut released = 0;
    let rows = raw
        .rows
        .iter()
        .enumerate()
        .map(|(row, raw_row)| {
            let figures = measures
                .iter()
                .map(|&measure| {
                    let values: Vec<u64> = measure
                        .counts()
                        .into_iter()
                        .filter_map(|c| column_of(c).map(|i| noisy[i][row]))
                        .collect();
                    let figure = match (measure, values.as_slice()) {
                        (Measure::JobOutcomeRate { months, .. }, _)
                            if !cohort_can_be_mature(raw, &raw_row.codes, months, as_of) =>
                        {
                            Figure::NotApplicable
                        }
                        (_, [n]) => Figure::Count(*n),
                        (_, [num, den]) if *den > 0 => {
                            let rate = (*num).min(*den) as f64 * 100.0 / *den as f64;
                            Figure::Rate((rate * 10.0).round() / 10.0)
                        }
                        _ => Figure::NotApplicable,
                    };
                    if matches!(figure, Figure::Count(_) | Figure::Rate(_)) {
                        released += 1;
                    }
                    figure
                })
                .collect();
            ReleasedRow {
                codes: raw_row.codes.clone(),
                figures,
            }
        })
        .collect();
    Ok(Released {
        dims: raw.dims.clone(),
        measures: measures.to_vec(),
        rows,
        control: DisclosureControl::default(),
        suppressed: 0,
        released,
    })
}

/// Whether any start month in this row's period could be `months` before the
/// reference month; a cohort wholly younger than its window has no rate (`z`).
/// The answer depends only on the row's label, never on the data.
fn cohort_can_be_mature(raw: &RawTable, codes: &[Option<u32>], months: u32, as_of: u32) -> bool {
    raw.dims
        .iter()
        .zip(codes)
        .all(|(dim, code)| match (dim, code) {
            (
                Dimension::Period {
                    stage: None | Some(Stage::Start),
                    grain,
                },
                Some(period),
            ) => grain.first_month(*period) + months <= as_of,
            _ => true,
        })
}

#[cfg(test)]
mod tests;

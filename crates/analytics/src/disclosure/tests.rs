use super::*;

#[test]
fn the_perturbation_table_is_balanced_and_bounded() {
    let mut tally = std::collections::BTreeMap::new();
    for key in 0..=255u8 {
        *tally.entry(perturbation(key)).or_insert(0) += 1;
    }
    let expected: std::collections::BTreeMap<i64, i32> =
        [(-2, 26), (-1, 51), (0, 102), (1, 51), (2, 26)]
            .into_iter()
            .collect();
    assert_eq!(tally, expected);
}

#[test]
fn looser_settings_are_refused_naming_the_setting() {
    let err = DisclosureControl::new(7, 5).unwrap_err().to_string();
    assert!(
        err.contains("threshold 7") && err.contains("minimum 10"),
        "{err}"
    );
    let err = DisclosureControl::new(10, 3).unwrap_err().to_string();
    assert!(err.contains("rounding_base 3"), "{err}");
    assert!(DisclosureControl::new(20, 10).is_ok());
}

#[test]
fn released_values_are_multiples_of_the_base_within_the_published_bounds() {
    for control in [
        DisclosureControl::default(),
        DisclosureControl::new(12, 10).unwrap(),
    ] {
        for value in control.threshold()..400 {
            for key in 0..=255u8 {
                let cell = RawCell {
                    value,
                    persons: value,
                    key,
                };
                let r = control.perturb_and_round(cell);
                assert_eq!(r % control.rounding_base(), 0);
                let (lo, hi) = control.true_bounds(r);
                assert!(
                    (lo..=hi).contains(&value),
                    "{value} released as {r}: {lo}..={hi}"
                );
            }
        }
    }
}

use crate::engine::{Equation, RawRow};
use microlp::{ComparisonOp, Error as LpError, OptimizationDirection, Problem, SolveOutcome};
use proptest::prelude::*;

/// A table of `groups` equations, each a total over its parts, with one count
/// column of the given kind.
fn table(groups: &[Vec<(u64, u8)>], count: Count) -> RawTable {
    let mut rows = Vec::new();
    let mut cells = Vec::new();
    let mut equations = Vec::new();
    let mut parts_of = Vec::new();
    for (g, parts) in groups.iter().enumerate() {
        let mut idx = Vec::new();
        for (f, &(value, key)) in parts.iter().enumerate() {
            idx.push(rows.len());
            rows.push(RawRow {
                codes: vec![Some(f as u32), Some(g as u32)],
            });
            cells.push(RawCell {
                value,
                persons: value,
                key,
            });
        }
        parts_of.push(idx);
    }
    for (g, parts) in groups.iter().enumerate() {
        let value: u64 = parts.iter().map(|p| p.0).sum();
        let key = parts.iter().map(|p| u64::from(p.1)).sum::<u64>() % 256;
        equations.push(Equation {
            total: rows.len(),
            parts: parts_of[g].clone(),
        });
        rows.push(RawRow {
            codes: vec![None, Some(g as u32)],
        });
        cells.push(RawCell {
            value,
            persons: value,
            key: key as u8,
        });
    }
    RawTable {
        dims: vec![Dimension::ResidentBorough, Dimension::Programme],
        rows,
        counts: vec![count],
        cells: vec![cells],
        equations,
    }
}

/// What an attacker knows of a released count `r`, worked out from the
/// published method alone: rounding half up to 5 hides ±2, perturbation ±2, and a
/// released cell has at least 10 people.
fn published_bounds(r: u64) -> (f64, f64) {
    ((r as f64 - 4.0).max(10.0), r as f64 + 4.0)
}

/// The narrowest interval a linear-programming attacker finds for cell `target`
/// of one equation, from the released figures (`None` = suppressed). Counts of
/// records add up exactly; counts of people make the total at most the sum of
/// the parts and at least each part.
fn attacker_interval(
    figures: &[Option<u64>],
    eq: &Equation,
    target: usize,
    exact: bool,
) -> (f64, f64) {
    let solve = |direction| {
        let mut lp = Problem::new(direction);
        let mut vars = std::collections::BTreeMap::new();
        for &cell in eq.parts.iter().chain([&eq.total]) {
            let bounds = figures[cell].map_or((0.0, f64::INFINITY), published_bounds);
            let objective = if cell == target { 1.0 } else { 0.0 };
            vars.insert(cell, lp.add_var(objective, bounds));
        }
        let total = vars[&eq.total];
        let mut sum: Vec<(microlp::Variable, f64)> =
            eq.parts.iter().map(|p| (vars[p], 1.0)).collect();
        sum.push((total, -1.0));
        if exact {
            lp.add_constraint(sum, ComparisonOp::Eq, 0.0);
        } else {
            lp.add_constraint(sum, ComparisonOp::Ge, 0.0);
            for p in &eq.parts {
                lp.add_constraint([(total, 1.0), (vars[p], -1.0)], ComparisonOp::Ge, 0.0);
            }
        }
        match lp.solve() {
            Ok(SolveOutcome::Solution(s)) => s.objective(),
            Err(LpError::Unbounded) => f64::INFINITY,
            other => panic!("the attacker's problem did not solve: {other:?}"),
        }
    };
    (
        solve(OptimizationDirection::Minimize),
        solve(OptimizationDirection::Maximize),
    )
}

fn groups() -> impl Strategy<Value = Vec<Vec<(u64, u8)>>> {
    let part = prop_oneof![
        3 => (0u64..10, any::<u8>()),
        2 => (10u64..30, any::<u8>()),
        1 => (30u64..400, any::<u8>()),
    ];
    proptest::collection::vec(proptest::collection::vec(part, 1..7), 1..8)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn no_suppressed_cell_can_be_narrowed_below_the_threshold_from_the_totals(
        groups in groups(),
        distinct in any::<bool>(),
    ) {
        let count = if distinct { Count::Participants { who: crate::query::Who::Everyone } } else { Count::Events(Stage::Start) };
        let raw = table(&groups, count);
        let control = DisclosureControl::default();
        let released = control.release(&raw, &[if distinct { Measure::Participants { who: crate::query::Who::Everyone } } else { Measure::Starts }], 0);
        let figures: Vec<Option<u64>> = released
            .rows()
            .iter()
            .map(|row| match row.figures[0] {
                Figure::Count(n) => Some(n),
                _ => None,
            })
            .collect();
        for eq in &raw.equations {
            for &cell in eq.parts.iter().chain([&eq.total]) {
                if figures[cell].is_none() {
                    let (lo, hi) = attacker_interval(&figures, eq, cell, !distinct);
                    prop_assert!(lo <= 0.0 && hi >= 9.0, "cell {cell} narrowed to {lo}..={hi} in {figures:?}");
                }
            }
        }
    }
}

#[test]
fn a_small_cell_pinned_by_its_total_takes_a_second_cell_down_with_it() {
    // 9 people beside 200: when the total is released as 210, the total minus the
    // large part would show the small cell is at least 2. Every cell key is tried.
    let control = DisclosureControl::default();
    let mut pinned = 0;
    for key in 0..=255u8 {
        let raw = table(&[vec![(9, key), (200, 0)]], Count::Events(Stage::Start));
        let released = control.release(&raw, &[Measure::Starts], 0);
        let figures: Vec<Figure> = released.rows().iter().map(|r| r.figures[0]).collect();
        assert_eq!(figures[0], Figure::Suppressed, "primary");
        if figures[2] == Figure::Count(210) {
            pinned += 1;
            assert_eq!(figures[1], Figure::Suppressed, "secondary, key {key}");
        }
    }
    assert!(pinned > 0, "no key pinned the small cell");
}

#[test]
fn the_same_cell_gets_the_same_value_whichever_table_it_is_in() {
    let a = table(&[vec![(57, 9), (140, 3)]], Count::Events(Stage::Start));
    let b = table(
        &[vec![(57, 9), (31, 200), (12, 7)]],
        Count::Events(Stage::Start),
    );
    let control = DisclosureControl::default();
    let first = control.release(&a, &[Measure::Starts], 0).rows()[0].figures[0];
    let second = control.release(&b, &[Measure::Starts], 0).rows()[0].figures[0];
    assert_eq!(first, second);
}

#[test]
fn a_median_is_withheld_where_its_count_is_suppressed_to_protect_another_cell() {
    // The 200 providers beside 9 are suppressed whenever the total would pin the
    // 9; their median fee, over far more than the threshold, goes with them.
    let control = DisclosureControl::default();
    let of = crate::MedianOf::FeePerHour;
    let measure = Measure::Median { of };
    let mut pinned = 0;
    for key in 0..=255u8 {
        let mut raw = table(&[vec![(9, key), (200, 0)]], Count::Providers);
        let medians = raw.cells[0]
            .iter()
            .map(|c| RawCell {
                value: 905,
                persons: c.persons,
                key: 0,
            })
            .collect();
        raw.cells.push(medians);
        raw.counts.push(Count::Median { of });
        let released = control.release(&raw, &[measure], 0);
        let figures: Vec<Figure> = released.rows().iter().map(|r| r.figures[0]).collect();
        let counts = control.protect_column(&raw.cells[0], &raw);
        assert_eq!(figures[0], Figure::Suppressed, "too few providers");
        for (figure, count) in figures.iter().zip(&counts) {
            match count {
                Protected::Suppressed => assert_eq!(*figure, Figure::Suppressed, "key {key}"),
                Protected::Released(_) => assert_eq!(*figure, Figure::Count(910), "key {key}"),
            }
        }
        pinned += usize::from(counts[1] == Protected::Suppressed);
    }
    assert!(pinned > 0, "no key pinned the small cell");
}

//! `borough query --plot FILE.svg`: one measure over time, a line per value of
//! the other dimension (usually a borough), drawn with `plotters`. A figure that
//! was not released (`c`, `z`) is a gap in its line, never a zero, so a chart
//! shows no more than the table it came from. Totals are left out: a total
//! line would flatten the boroughs against it.

use std::collections::BTreeMap;
use std::str::FromStr;

use borough_analytics::Dimension;
use borough_proto::v1;
use plotters::prelude::*;
use v1::figure::Value;

use super::check_shape;
use crate::Error;

/// Chart size in pixels: wide enough for three years of months.
const SIZE: (u32, u32) = (960, 540);

/// Line colours, one per series in turn (the Okabe–Ito palette, readable by
/// people with the common colour-vision deficiencies).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

/// A chart ready to draw: periods along the x axis, and per series one value
/// (or a gap) per period.
struct Chart {
    measure: String,
    period: String,
    series_by: Option<String>,
    periods: Vec<String>,
    series: BTreeMap<String, Vec<Option<f64>>>,
}

/// The first measure of `reply` over its period dimension, as an SVG document.
pub fn render_plot(reply: &v1::QueryReply) -> Result<String, Error> {
    let chart = Chart::from_reply(reply)?;
    let mut svg = String::new();
    chart
        .draw(&mut svg)
        .map_err(|e| Error::Render(format!("drawing the chart: {e}")))?;
    Ok(svg)
}

/// Checks, before anything is asked, that an answer grouped by `group_by` can
/// be drawn; returns the position of its period dimension.
pub fn check_plottable(group_by: &[String]) -> Result<usize, Error> {
    let is_period = |d: &String| Dimension::from_str(d).is_ok_and(Dimension::is_period);
    let Some(t) = group_by.iter().position(is_period) else {
        return Err(unplottable(
            "a chart is drawn over time: group by a period too (--by …,start-month)",
        ));
    };
    if group_by.len() > 2 {
        return Err(unplottable(
            "a chart draws one line per value of one dimension: group by a period and at \
             most one other dimension",
        ));
    }
    Ok(t)
}

fn unplottable(problem: &str) -> Error {
    Error::Argument {
        flag: "--plot",
        problem: problem.to_string(),
    }
}

impl Chart {
    fn from_reply(reply: &v1::QueryReply) -> Result<Chart, Error> {
        check_shape(reply)?;
        let t = check_plottable(&reply.dimensions)?;
        let s = (0..reply.dimensions.len()).find(|&i| i != t);
        let measure = reply
            .measures
            .first()
            .ok_or_else(|| unplottable("the answer has no measure to draw"))?;
        let rows: Vec<&v1::QueryRow> = reply
            .rows
            .iter()
            .filter(|r| r.codes.iter().all(|c| !c.is_empty()))
            .collect();
        // Periods become their codes (months, quarters or years counted from
        // zero), so a period with no row is a gap, not a squeezed axis.
        let period: Dimension = reply.dimensions[t]
            .parse()
            .map_err(|_| unplottable("the period dimension is not one this build knows"))?;
        let mut points = Vec::new();
        for row in rows {
            let code = period
                .code_of(&row.codes[t])
                .map_err(|e| Error::Render(format!("the node's answer is malformed: {e}")))?;
            let name = s.map_or_else(|| "All".to_string(), |s| row.labels[s].clone());
            let value = match row.figures[0].value {
                Some(Value::Count(n)) => Some(n as f64),
                Some(Value::Rate(r)) => Some(r),
                _ => None,
            };
            points.push((name, code, value));
        }
        let first = points.iter().map(|p| p.1).min().unwrap_or(0);
        let last = points.iter().map(|p| p.1).max().unwrap_or(0);
        let periods: Vec<String> = (first..=last).map(|c| period.label(c)).collect();
        let mut series: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
        for (name, code, value) in points {
            let line = series
                .entry(name)
                .or_insert_with(|| vec![None; periods.len()]);
            line[(code - first) as usize] = value;
        }
        Ok(Chart {
            measure: measure.clone(),
            period: reply.dimensions[t].clone(),
            series_by: s.map(|s| reply.dimensions[s].clone()),
            periods,
            series,
        })
    }

    fn draw(&self, svg: &mut String) -> Result<(), Box<dyn std::error::Error + '_>> {
        let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let top = self
            .series
            .values()
            .flatten()
            .flatten()
            .fold(0.0_f64, |a, &b| a.max(b));
        let title = match &self.series_by {
            Some(by) => format!("{} by {} and {}", self.measure, self.period, by),
            None => format!("{} by {}", self.measure, self.period),
        };
        let last = self.periods.len().saturating_sub(1).max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(0..last, 0.0..(top * 1.1).max(1.0))?;
        let periods = &self.periods;
        chart
            .configure_mesh()
            .x_desc(self.period.as_str())
            .y_desc(self.measure.as_str())
            .x_labels(periods.len().min(12))
            .x_label_formatter(&|x| periods.get(*x).cloned().unwrap_or_default())
            .draw()?;
        for (i, (name, values)) in self.series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let points: Vec<(usize, f64)> = values
                .iter()
                .enumerate()
                .filter_map(|(x, v)| v.map(|v| (x, v)))
                .collect();
            // One line per run of released figures: a gap stays a gap.
            for run in points.chunk_by(|a, b| b.0 == a.0 + 1) {
                chart.draw_series(LineSeries::new(run.iter().copied(), colour.stroke_width(2)))?;
            }
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 4), (x + 16, y + 4)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        root.present()?;
        Ok(())
    }
}

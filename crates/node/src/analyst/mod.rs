//! `borough query`: asks a running node a question as its analyst (or, with
//! `--epsilon`, as its researcher), and renders the answer as an aligned table,
//! as CSV in DfE's open-data column convention, as JSON, as Parquet (`parquet`)
//! or as a line chart (`plot`). Suppressed figures stay suppressed in every form.

pub mod parquet;
pub mod plot;
mod private;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use borough_proto::v1;

use crate::client::connect_as;
use crate::status::{local_address, Table};
use crate::{Error, NodeConfig};

pub use private::{epsilon_text, fetch_private, parse_epsilon, privacy_text};

/// How long a query may take.
const QUERY_DEADLINE: Duration = Duration::from_secs(60);

/// Runs `request` at the node `config` describes, as its analyst.
pub async fn fetch(
    config: &NodeConfig,
    request: v1::QueryRequest,
) -> Result<v1::QueryReply, Error> {
    let channel = connect_as(
        config,
        &config.tools.analyst_cert,
        &config.tools.analyst_key,
    )
    .await?;
    let mut request = tonic::Request::new(request);
    request.set_timeout(QUERY_DEADLINE);
    let reply = v1::query_client::QueryClient::new(channel)
        .run(request)
        .await
        .map_err(|s| refused(config, &s))?;
    Ok(reply.into_inner())
}

/// A node's refusal of a query, naming the node.
fn refused(config: &NodeConfig, status: &tonic::Status) -> Error {
    Error::Unreachable(format!(
        "{} refused the query: {}",
        local_address(config.listen),
        status.message()
    ))
}

/// Checks that every row has a code and a label per dimension and a figure per
/// measure: the renderers index rows by column, and a malformed reply must be
/// an error, not a panic.
pub fn check_shape(reply: &v1::QueryReply) -> Result<(), Error> {
    let (dims, measures) = (reply.dimensions.len(), reply.measures.len());
    for (i, row) in reply.rows.iter().enumerate() {
        if row.codes.len() != dims || row.labels.len() != dims || row.figures.len() != measures {
            return Err(Error::Render(format!(
                "the node's answer is malformed: row {} has {} codes, {} labels and {} figures \
                 for {dims} dimensions and {measures} measures",
                i + 1,
                row.codes.len(),
                row.labels.len(),
                row.figures.len()
            )));
        }
    }
    Ok(())
}

/// A figure as text: the number, or DfE's symbol.
pub fn figure_text(f: &v1::Figure) -> String {
    match &f.value {
        Some(v1::figure::Value::Count(n)) => n.to_string(),
        Some(v1::figure::Value::Rate(r)) => format!("{r:.1}"),
        Some(v1::figure::Value::Symbol(s)) => s.clone(),
        None => "x".into(),
    }
}

/// The answer as aligned tables: the figures, then freshness and disclosure.
pub fn render_table(reply: &v1::QueryReply) -> String {
    let header: Vec<&str> = reply
        .dimensions
        .iter()
        .chain(&reply.measures)
        .map(String::as_str)
        .collect();
    let mut figures = Table::new(&header);
    for row in &reply.rows {
        figures.row(
            row.labels
                .iter()
                .cloned()
                .chain(row.figures.iter().map(figure_text))
                .collect(),
        );
    }
    let mut out = figures.render();
    out.push_str("\nc: suppressed to protect people; z: not applicable (the cohort's window has not passed)\n");
    if let Some(p) = &reply.privacy {
        out.push_str(&privacy_text(p));
        out.push('\n');
    }
    if let Some(d) = &reply.disclosure {
        out.push_str(&format!(
            "disclosure control: cells of fewer than {} people suppressed, counts perturbed by up to ±{} and rounded to {} (medians rounded to 10p or 100 m, released only where their count is); {} figures released, {} suppressed\n",
            d.threshold, d.max_perturbation, d.rounding_base, d.cells_released, d.cells_suppressed
        ));
    }
    out.push_str(&format!(
        "cohorts rated against {}; audit {}\n\n",
        reply.reference_month, reply.query_id
    ));
    out.push_str(&render_freshness(&reply.freshness, SystemTime::now()));
    out
}

/// Freshness per origin: "Southwark as of seq N, 4 s ago".
pub fn render_freshness(freshness: &[v1::Freshness], now: SystemTime) -> String {
    let now_ms = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let mut t = Table::new(&["data from", "state", "as of seq", "as of", "records", "why"]);
    for f in freshness {
        let age = if f.as_of_unix_ms == 0 {
            "never".to_string()
        } else {
            format!(
                "{:.0} s ago",
                (now_ms - f.as_of_unix_ms).max(0) as f64 / 1000.0
            )
        };
        t.row(vec![
            format!("{} ({})", f.borough_name, f.borough),
            f.state.clone(),
            f.seq.to_string(),
            age,
            f.records.to_string(),
            f.reason.clone(),
        ]);
    }
    t.render()
}

/// The answer as CSV in DfE's open-data convention: `time_period`,
/// `time_identifier`, `geographic_level`, `country_code`, `country_name`,
/// `region_code`, `region_name`, `new_la_code`, `la_name`, then the other
/// dimensions as filter columns and the measures, with `c` and `z` for figures
/// not released.
pub fn render_csv(reply: &v1::QueryReply) -> String {
    let time = reply.dimensions.iter().position(|d| {
        d.ends_with("month") || d.ends_with("quarter") || d.ends_with("financial-year")
    });
    let borough = reply
        .dimensions
        .iter()
        .position(|d| d.ends_with("-borough"));
    let mut header: Vec<String> = [
        "time_period",
        "time_identifier",
        "geographic_level",
        "country_code",
        "country_name",
        "region_code",
        "region_name",
        "new_la_code",
        "la_name",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let filters: Vec<usize> = (0..reply.dimensions.len())
        .filter(|&i| Some(i) != time && Some(i) != borough)
        .collect();
    header.extend(filters.iter().map(|&i| column_name(&reply.dimensions[i])));
    header.extend(reply.measures.iter().map(|m| column_name(m)));
    let mut out = csv_line(&header);
    for row in &reply.rows {
        let (time_period, time_identifier) = match time {
            Some(i) => dfe_time(&reply.dimensions[i], &row.labels[i]),
            None => (
                reply.reference_month.replace('-', ""),
                "Up to reference month".to_string(),
            ),
        };
        let (level, la_code, la_name) = match borough.map(|i| (&row.codes[i], &row.labels[i])) {
            Some((code, name)) if !code.is_empty() => {
                ("Local authority", code.clone(), name.clone())
            }
            _ => ("Regional", String::new(), String::new()),
        };
        let mut cells = vec![
            time_period,
            time_identifier,
            level.to_string(),
            "E92000001".into(),
            "England".into(),
            "E12000007".into(),
            "London".into(),
            la_code,
            la_name,
        ];
        cells.extend(filters.iter().map(|&i| row.labels[i].clone()));
        cells.extend(row.figures.iter().map(figure_text));
        out.push_str(&csv_line(&cells));
    }
    out
}

/// DfE's `time_period` and `time_identifier` for a period label.
fn dfe_time(dimension: &str, label: &str) -> (String, String) {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let (year, rest) = label.split_once('-').unwrap_or((label, ""));
    if label == "Total" {
        return ("Total".into(), "Total".into());
    }
    if dimension.ends_with("financial-year") {
        (format!("{year}{rest}"), "Financial year".into())
    } else if dimension.ends_with("quarter") {
        (year.to_string(), format!("Calendar year {}", rest))
    } else {
        let month = rest
            .parse::<usize>()
            .ok()
            .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
            .copied()
            .unwrap_or("");
        (year.to_string(), month.to_string())
    }
}

/// A dimension or measure name as a snake-case column name.
pub(crate) fn column_name(name: &str) -> String {
    name.replace('-', "_")
}

/// One CSV line, quoting cells that need it.
fn csv_line(cells: &[String]) -> String {
    let quoted: Vec<String> = cells
        .iter()
        .map(|c| {
            if c.contains([',', '"', '\n']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect();
    format!("{}\n", quoted.join(","))
}

/// The answer as JSON: dimensions, measures, rows (labels, codes, figures as
/// numbers or DfE symbols), disclosure, privacy spend (private answers) and
/// freshness.
pub fn render_json(reply: &v1::QueryReply) -> String {
    use serde_json::{json, Value};
    let figure = |f: &v1::Figure| match &f.value {
        Some(v1::figure::Value::Count(n)) => json!(n),
        Some(v1::figure::Value::Rate(r)) => json!(r),
        Some(v1::figure::Value::Symbol(s)) => json!(s),
        None => Value::Null,
    };
    let rows: Vec<Value> = reply
        .rows
        .iter()
        .map(|r| {
            json!({
                "labels": r.labels,
                "codes": r.codes,
                "total": r.total,
                "figures": r.figures.iter().map(figure).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "query_id": reply.query_id,
        "reference_month": reply.reference_month,
        "dimensions": reply.dimensions,
        "measures": reply.measures,
        "rows": rows,
        "disclosure": reply.disclosure.as_ref().map(disclosure_json),
        "privacy": reply.privacy.as_ref().map(privacy_json),
        "freshness": freshness_json(&reply.freshness),
    });
    format!("{doc:#}\n")
}

/// The disclosure settings and counts an answer went through, as JSON.
pub(crate) fn disclosure_json(d: &v1::DisclosureSummary) -> serde_json::Value {
    serde_json::json!({
        "threshold": d.threshold,
        "rounding_base": d.rounding_base,
        "max_perturbation": d.max_perturbation,
        "cells_released": d.cells_released,
        "cells_suppressed": d.cells_suppressed,
    })
}

/// What a private answer spent, as JSON.
pub(crate) fn privacy_json(p: &v1::PrivacySpend) -> serde_json::Value {
    serde_json::json!({
        "epsilon_micros": p.epsilon_micros,
        "spent_micros": p.spent_micros,
        "remaining_micros": p.remaining_micros,
        "noise_scale": p.noise_scale,
    })
}

/// Freshness per origin, as JSON.
pub(crate) fn freshness_json(freshness: &[v1::Freshness]) -> serde_json::Value {
    freshness
        .iter()
        .map(|f| {
            serde_json::json!({
                "borough": f.borough,
                "borough_name": f.borough_name,
                "state": f.state,
                "seq": f.seq,
                "as_of_unix_ms": f.as_of_unix_ms,
                "records": f.records,
                "reason": f.reason,
            })
        })
        .collect()
}

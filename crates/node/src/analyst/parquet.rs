//! `borough query --format parquet`: the answer as one Parquet file, for
//! analysts who load figures into pandas, R or DuckDB. Per dimension a code
//! column (`<dimension>_code`, null in a total) and a label column
//! (`<dimension>`); per measure a nullable number column (`<measure>`: Int64 for
//! counts, Float64 for rates) and `<measure>_symbol` with DfE's `c` or `z` where
//! no number is released. A suppressed figure is null, never 0, so no tool can
//! add it up by mistake. Freshness and disclosure travel as key-value metadata.

use std::str::FromStr;
use std::sync::Arc;

use ::parquet::arrow::ArrowWriter;
use ::parquet::basic::Compression;
use ::parquet::file::metadata::KeyValue;
use ::parquet::file::properties::WriterProperties;
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use borough_analytics::Measure;
use borough_proto::v1;
use v1::figure::Value;

use super::{check_shape, column_name, disclosure_json, freshness_json, privacy_json};
use crate::Error;

/// Metadata keys, prefixed so they cannot clash with a tool's own (`pandas`,
/// `ARROW:schema`).
pub const META_QUERY_ID: &str = "borough.query_id";
/// The month cohorts are rated against.
pub const META_REFERENCE_MONTH: &str = "borough.reference_month";
/// Disclosure settings and counts, as JSON (absent for a private answer).
pub const META_DISCLOSURE: &str = "borough.disclosure";
/// What a private answer spent, as JSON (absent for a controlled answer).
pub const META_PRIVACY: &str = "borough.privacy";
/// Freshness per origin borough, as JSON.
pub const META_FRESHNESS: &str = "borough.freshness";
/// What the symbols mean.
pub const META_SYMBOLS: &str = "borough.symbols";

/// Whether a measure's column holds counts or rates.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Count,
    Rate,
}

/// The answer as the bytes of a Parquet file.
pub fn render_parquet(reply: &v1::QueryReply) -> Result<Vec<u8>, Error> {
    check_shape(reply)?;
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (i, dim) in reply.dimensions.iter().enumerate() {
        let name = column_name(dim);
        let codes: StringArray = reply
            .rows
            .iter()
            .map(|r| Some(r.codes[i].as_str()).filter(|c| !c.is_empty()))
            .collect();
        let labels: StringArray = reply
            .rows
            .iter()
            .map(|r| Some(r.labels[i].as_str()))
            .collect();
        fields.push(Field::new(format!("{name}_code"), DataType::Utf8, true));
        fields.push(Field::new(name, DataType::Utf8, false));
        columns.push(Arc::new(codes));
        columns.push(Arc::new(labels));
    }
    for (i, measure) in reply.measures.iter().enumerate() {
        let name = column_name(measure);
        let figures: Vec<&v1::Figure> = reply.rows.iter().map(|r| &r.figures[i]).collect();
        let values: ArrayRef = match kind(measure, &figures)? {
            Kind::Count => Arc::new(
                figures
                    .iter()
                    .map(|f| count(measure, f))
                    .collect::<Result<Int64Array, Error>>()?,
            ),
            Kind::Rate => Arc::new(figures.iter().map(|f| rate(f)).collect::<Float64Array>()),
        };
        let data_type = values.data_type().clone();
        let symbols: StringArray = figures.iter().map(|f| symbol(f)).collect();
        fields.push(Field::new(&name, data_type, true));
        fields.push(Field::new(format!("{name}_symbol"), DataType::Utf8, true));
        columns.push(values);
        columns.push(Arc::new(symbols));
    }
    let schema = Arc::new(Schema::new(fields));
    let failed = |e: &dyn std::fmt::Display| Error::Render(format!("writing Parquet: {e}"));
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| failed(&e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(Some(metadata(reply)))
        .build();
    let mut bytes = Vec::new();
    let mut writer =
        ArrowWriter::try_new(&mut bytes, schema, Some(props)).map_err(|e| failed(&e))?;
    writer.write(&batch).map_err(|e| failed(&e))?;
    writer.close().map_err(|e| failed(&e))?;
    Ok(bytes)
}

/// The column type of `measure`. The measure's own definition decides, since a
/// column that is all `c` carries no number to tell by; a measure this build
/// does not know (a newer node) is typed by the figures it carries.
fn kind(measure: &str, figures: &[&v1::Figure]) -> Result<Kind, Error> {
    let seen =
        |want: fn(&Value) -> bool| figures.iter().any(|f| f.value.as_ref().is_some_and(want));
    let has_rate = seen(|v| matches!(v, Value::Rate(_)));
    let kind = match Measure::from_str(measure) {
        Ok(m) if m.is_rate() => Kind::Rate,
        Ok(_) => Kind::Count,
        Err(_) if has_rate => Kind::Rate,
        Err(_) => Kind::Count,
    };
    if kind == Kind::Count && has_rate {
        return Err(Error::Render(format!(
            "the node's answer is malformed: the count {measure} carries a rate"
        )));
    }
    Ok(kind)
}

/// A count as Int64: null when not released.
fn count(measure: &str, f: &v1::Figure) -> Result<Option<i64>, Error> {
    match f.value {
        Some(Value::Count(n)) => i64::try_from(n)
            .map(Some)
            .map_err(|_| Error::Render(format!("{measure}: {n} is too large for a Parquet Int64"))),
        _ => Ok(None),
    }
}

/// A rate (or a count in a rate column) as Float64: null when not released.
fn rate(f: &v1::Figure) -> Option<f64> {
    match f.value {
        Some(Value::Rate(r)) => Some(r),
        Some(Value::Count(n)) => Some(n as f64),
        _ => None,
    }
}

/// DfE's symbol for a figure not released, null for a released one; `x` (not
/// available) for a figure the node sent empty, as the table shows it.
fn symbol(f: &v1::Figure) -> Option<&str> {
    match &f.value {
        Some(Value::Symbol(s)) => Some(s),
        None => Some("x"),
        Some(_) => None,
    }
}

/// Freshness, disclosure and (for a private answer) the privacy spend, so a
/// file copied away from its query still says how far it can be trusted.
fn metadata(reply: &v1::QueryReply) -> Vec<KeyValue> {
    let mut kv = vec![
        KeyValue::new(META_QUERY_ID.into(), reply.query_id.clone()),
        KeyValue::new(META_REFERENCE_MONTH.into(), reply.reference_month.clone()),
        KeyValue::new(
            META_FRESHNESS.into(),
            freshness_json(&reply.freshness).to_string(),
        ),
        KeyValue::new(
            META_SYMBOLS.into(),
            "c: suppressed to protect people; z: not applicable (the cohort's window has not \
             passed); x: not available"
                .to_string(),
        ),
    ];
    if let Some(d) = &reply.disclosure {
        kv.push(KeyValue::new(
            META_DISCLOSURE.into(),
            disclosure_json(d).to_string(),
        ));
    }
    if let Some(p) = &reply.privacy {
        kv.push(KeyValue::new(
            META_PRIVACY.into(),
            privacy_json(p).to_string(),
        ));
    }
    kv
}

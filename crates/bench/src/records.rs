//! The records the benchmarks write: Lambeth provider inputs as its Family
//! Information Service would send them (`borough_node::demo::sample_providers`,
//! a small set of templates, each under a distinct local reference), the shareable
//! records the node derives from them, and the sizes the report needs.

use borough_model::{Dataset, DeriveContext, GssCode, LinkageKey, RecordId};
use borough_node::demo::sample_providers;
use borough_proto::{input_any, v1, Input};
use prost::Message;

/// How many distinct provider templates the records cycle through.
pub const TEMPLATES: usize = 64;

/// Lambeth's GSS code: the borough whose records are written.
pub const LAMBETH: &str = "E09000022";
/// Southwark's GSS code: the borough that pulls them.
pub const SOUTHWARK: &str = "E09000028";
/// Lewisham's GSS code: the third founding borough.
pub const LEWISHAM: &str = "E09000023";

/// Parses one of the constant GSS codes above.
pub fn gss(code: &str) -> anyhow::Result<GssCode> {
    GssCode::parse(code).map_err(|e| anyhow::anyhow!("GSS code {code}: {e}"))
}

/// SplitMix64: cheap, deterministic and well spread.
/// Where bench record ids start counting: a nanosecond clock reading, as a node's
/// first id would be.
const ID_BASE: u64 = 0x1880_0000_0000_0000;

pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A cycle of valid provider inputs for one borough, with the derived records'
/// encodings computed once.
#[derive(Debug, Clone)]
pub struct RecordSet {
    templates: Vec<Template>,
}

#[derive(Debug, Clone)]
struct Template {
    input: v1::ProviderInput,
    any: prost_types::Any,
    /// The derived shareable record's encoding (what the store holds and
    /// replication carries).
    derived: Vec<u8>,
}

impl RecordSet {
    /// [`TEMPLATES`] sample providers of `borough` as `sample_providers` makes them,
    /// each also offering every age band on the other session pattern (term-time
    /// 09:00–15:00 beside all-year 08:00–18:00, or the reverse), so nurseries carry
    /// six offers and home-based settings four: larger, still realistic records.
    pub fn new(borough: GssCode) -> anyhow::Result<RecordSet> {
        // Provider records carry no pseudonyms, so the key does not affect them.
        let key = LinkageKey::from_bytes([0x42; 32]);
        let ctx = DeriveContext {
            own_borough: borough,
            key: &key,
            today: time::OffsetDateTime::now_utc().date(),
        };
        let templates = sample_providers(borough, TEMPLATES)
            .into_iter()
            .map(|(_, mut input)| {
                let extra: Vec<_> = input
                    .offers
                    .iter()
                    .map(|offer| {
                        let mut other = offer.clone();
                        let term_time = offer.term_time_only != "yes";
                        other.term_time_only = if term_time { "yes" } else { "no" }.into();
                        other.opens = if term_time { "09:00" } else { "08:00" }.into();
                        other.closes = if term_time { "15:00" } else { "18:00" }.into();
                        let capacity: u32 = offer.capacity.parse().unwrap_or(2);
                        let vacancies: u32 = offer.vacancies.parse().unwrap_or(0);
                        let capacity = capacity.div_ceil(2).max(1);
                        other.capacity = capacity.to_string();
                        other.vacancies = vacancies.min(capacity).to_string();
                        other
                    })
                    .collect();
                input.offers.extend(extra);
                let any = input_any(Dataset::ChildcarePlaces, &input);
                let derived = Input::from_any(Dataset::ChildcarePlaces, &any)
                    .map_err(|e| anyhow::anyhow!("a sample provider does not decode: {e}"))?
                    .derive(&ctx)
                    .map_err(|e| anyhow::anyhow!("a sample provider does not derive: {e}"))?
                    .encode();
                Ok(Template {
                    input,
                    any,
                    derived,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(RecordSet { templates })
    }

    /// The local reference of record `i` (distinct for every `i`).
    pub fn local_ref(i: u64) -> String {
        format!("bench-{i:08}")
    }

    /// A record id for record `i` shaped like the ones nodes assign (16 hex digits
    /// that rise with `i`, then 8 random-looking ones), for measurements that
    /// bypass the Ingest RPC.
    pub fn record_id(i: u64) -> anyhow::Result<RecordId> {
        let text = format!(
            "{:016x}{:08x}",
            ID_BASE.wrapping_add(i),
            mix(i ^ 0x5A5A) as u32
        );
        RecordId::parse(&text).map_err(|e| anyhow::anyhow!("record id {text}: {e}"))
    }

    fn template(&self, i: u64) -> &Template {
        &self.templates[(i % self.templates.len() as u64) as usize]
    }

    /// The derived record's encoding for record `i`.
    pub fn payload(&self, i: u64) -> &[u8] {
        &self.template(i).derived
    }

    /// Record `i` as the Ingest RPC takes it.
    pub fn ingest_op(&self, i: u64) -> v1::IngestOp {
        v1::IngestOp {
            local_ref: RecordSet::local_ref(i),
            op: Some(v1::ingest_op::Op::Upsert(self.template(i).any.clone())),
        }
    }

    /// An update of record `i` for the `round`-th time (1, 2, …): the first offer's
    /// hourly fee becomes £10.00 + `round` pence (mod £40), which differs from every
    /// template fee (£7.80–£9.29) and from the previous round, so the node writes it.
    pub fn update_op(&self, i: u64, round: u64) -> v1::IngestOp {
        let mut input = self.template(i).input.clone();
        if let Some(offer) = input.offers.first_mut() {
            let pence = 1_000 + round % 4_000;
            offer.fee_per_hour = format!("{}.{:02}", pence / 100, pence % 100);
        }
        v1::IngestOp {
            local_ref: RecordSet::local_ref(i),
            op: Some(v1::ingest_op::Op::Upsert(input_any(
                Dataset::ChildcarePlaces,
                &input,
            ))),
        }
    }

    /// Total derived payload bytes of records `0..records`.
    pub fn payload_bytes(&self, records: u64) -> u64 {
        let t = self.templates.len() as u64;
        let (full, rest) = (records / t, records % t);
        self.templates
            .iter()
            .enumerate()
            .map(|(k, tpl)| {
                let uses = full + u64::from((k as u64) < rest);
                uses * tpl.derived.len() as u64
            })
            .sum()
    }

    /// Mean derived payload size of records `0..records`, in bytes.
    pub fn mean_payload_bytes(&self, records: u64) -> f64 {
        if records == 0 {
            return 0.0;
        }
        self.payload_bytes(records) as f64 / records as f64
    }

    /// Mean size of one record as replication puts it on the wire: a `Change`
    /// (seq, 24-digit record id, version, payload) inside a `ChangesBatch`, with its
    /// field tag and length prefix. gRPC, HTTP/2 and TLS framing are per message
    /// (1,000 changes) and left out.
    pub fn wire_record_bytes(&self, records: u64) -> f64 {
        let i = records / 2;
        let total: usize = self
            .templates
            .iter()
            .map(|tpl| {
                let change = v1::Change {
                    seq: i + 1,
                    id: "0".repeat(24),
                    version: 1,
                    payload: tpl.derived.clone(),
                    ..Default::default()
                };
                let len = change.encoded_len();
                1 + prost::length_delimiter_len(len) + len
            })
            .sum();
        total as f64 / self.templates.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_valid_and_sizes_add_up() {
        let set = RecordSet::new(gss(LAMBETH).expect("lambeth")).expect("templates derive");
        let key = LinkageKey::from_bytes([0x42; 32]);
        let ctx = DeriveContext {
            own_borough: gss(LAMBETH).expect("lambeth"),
            key: &key,
            today: time::OffsetDateTime::now_utc().date(),
        };
        for i in 0..TEMPLATES as u64 {
            let Some(v1::ingest_op::Op::Upsert(any)) = set.update_op(i, 1).op else {
                panic!("an update is an upsert");
            };
            let updated = Input::from_any(Dataset::ChildcarePlaces, &any)
                .expect("update decodes")
                .derive(&ctx)
                .expect("update derives")
                .encode();
            assert_ne!(updated, set.payload(i), "the update changes the record");
            RecordSet::record_id(i).expect("record id");
        }
        let by_hand: u64 = (0..100).map(|i| set.payload(i).len() as u64).sum();
        assert_eq!(set.payload_bytes(100), by_hand);
        assert!(set.wire_record_bytes(100) > set.mean_payload_bytes(100));
    }
}

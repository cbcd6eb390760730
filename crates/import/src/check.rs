//! Checking one record as the node will check it, so that a problem can be named
//! by its line before anything is sent: the row's columns become the dataset's
//! input message (the message the Ingest RPC carries), which is read and derived
//! by the same `Input::from_any` and `Input::derive` the node runs, in this
//! node's borough, today, under a throwaway key (no check depends on the key).
//! A terminated postcode is not a problem: the record is imported and flagged.

use borough_model::{
    Dataset, DeriveContext, FieldError, Geography, GssCode, Invalid, LinkageKey, Lsoa, Postcode,
    LOCAL_REF, PROVIDER_COLUMNS,
};
use borough_proto::{input_any, v1, DecodeError, Input};
use borough_store::LocalRef;
use time::Date;

use crate::batch::Group;
use crate::source::{Fields, Format};
use crate::RowProblem;

/// What checking one record found.
#[derive(Debug)]
pub enum Checked {
    /// The record passes: its Ingest operation, and warnings to report.
    Good {
        /// The upsert to send.
        op: v1::IngestOp,
        /// Warnings (a terminated postcode), one per flagged row.
        flags: Vec<RowProblem>,
    },
    /// An earlier checking pass found the record good, with nothing to report, and
    /// it repeats no reference: it was not checked again.
    Passed,
    /// The record fails: every problem, by line and column.
    Bad {
        /// The problems, in line order.
        problems: Vec<RowProblem>,
        /// For each other row of the record (a CSV provider's rows without a problem
        /// of their own), a note that it was left out too.
        left_out: Vec<RowProblem>,
    },
}

/// Checks records of one dataset for one borough.
pub struct Checker {
    dataset: Dataset,
    format: Format,
    borough: GssCode,
    key: LinkageKey,
    today: Date,
    /// Whether to read and derive each message as the node will. Off for the
    /// sending pass over a file a checking pass has just found good: the node
    /// derives every record again anyway, and deriving twice here costs a third of
    /// an import's time.
    derive: bool,
}

impl Checker {
    /// A checker for `dataset` rows read from a `format` file, derived as
    /// `borough`'s node would derive them today.
    pub fn new(dataset: Dataset, format: Format, borough: GssCode) -> Checker {
        Checker {
            dataset,
            format,
            borough,
            // Only pseudonyms depend on the key, and no check does: a random key
            // keeps the real one where it belongs, on the node.
            key: LinkageKey::from_bytes(rand::random()),
            today: time::OffsetDateTime::now_utc().date(),
            derive: true,
        }
    }

    /// This checker without the read-and-derive step, for a second pass over a
    /// file that a checking pass found good throughout (the pass still notices a
    /// file that changed since). Warnings are then the first pass's to report.
    pub fn without_derivation(self) -> Checker {
        Checker {
            derive: false,
            ..self
        }
    }

    fn csv_provider(&self) -> bool {
        self.dataset == Dataset::ChildcarePlaces && self.format == Format::Csv
    }

    /// Checks one record.
    pub fn check(&self, group: &Group) -> Checked {
        if group.passed {
            return Checked::Passed;
        }
        let first = &group.rows[0];
        let mut problems: Vec<RowProblem> = Vec::new();
        for row in &group.rows {
            problems.extend(row.problems.iter().map(|p| at(row.line, p)));
        }
        if group.rows.iter().any(|r| r.unreadable) {
            return self.bad(group, problems);
        }
        let read_problems = problems.len();

        let local_ref = first.local_ref().unwrap_or_default();
        if let Err(Invalid(errors)) = LocalRef::parse(local_ref) {
            problems.extend(errors.iter().map(|e| at(first.line, e)));
        }
        if let Some(earlier) = group.repeats {
            let consecutive = if self.csv_provider() {
                " (the rows of one provider must be consecutive)"
            } else {
                ""
            };
            problems.push(RowProblem {
                line: first.line,
                field: LOCAL_REF.into(),
                problem: format!(
                    "repeats the reference of the record at line {earlier}: each record may \
                     appear once in a file{consecutive}"
                ),
            });
        }
        if self.csv_provider() {
            for row in &group.rows[1..] {
                // A provider's own columns, which each of its CSV rows repeats.
                for column in PROVIDER_COLUMNS {
                    if row.fields.get(column) != first.fields.get(column) {
                        problems.push(RowProblem {
                            line: row.line,
                            field: column.to_string(),
                            problem: format!(
                                "differs from the provider's first row (line {}): every row of \
                                 a provider repeats its provider columns",
                                first.line
                            ),
                        });
                    }
                }
            }
        }

        let any = self.message(group);
        let ctx = DeriveContext {
            own_borough: self.borough,
            key: &self.key,
            today: self.today,
        };
        let mut model_problems = Vec::new();
        let input = match self.derive.then(|| Input::from_any(self.dataset, &any)) {
            None => None,
            Some(Ok(input)) => {
                if let Err(invalid) = input.derive(&ctx) {
                    model_problems.extend(invalid.0);
                }
                Some(input)
            }
            Some(Err(DecodeError::Invalid(invalid))) => {
                model_problems.extend(invalid.0);
                None
            }
            Some(Err(other)) => {
                model_problems.push(FieldError {
                    field: String::new(),
                    problem: other.to_string(),
                });
                None
            }
        };
        for error in model_problems {
            let problem = self.locate(group, error);
            // A cell already reported as unreadable is not reported again as missing.
            let repeated = problems[..read_problems]
                .iter()
                .any(|p| p.line == problem.line && p.field == problem.field);
            if !repeated {
                problems.push(problem);
            }
        }
        if !problems.is_empty() {
            return self.bad(group, problems);
        }
        let flags = input
            .filter(terminated)
            .map(|_| RowProblem {
                line: first.line,
                field: "postcode".into(),
                problem: "warning: a terminated postcode (no longer live); the record was \
                          placed by it and imported; please update it in the case system"
                    .into(),
            })
            .into_iter()
            .collect();
        Checked::Good {
            op: v1::IngestOp {
                local_ref: local_ref.to_string(),
                op: Some(v1::ingest_op::Op::Upsert(any)),
            },
            flags,
        }
    }

    /// The record's input message, as the Ingest RPC carries it.
    fn message(&self, group: &Group) -> prost_types::Any {
        let first = &group.rows[0];
        match self.dataset {
            Dataset::ChildcarePlaces => {
                let offers: Vec<&Fields> = match self.format {
                    Format::Csv => group.rows.iter().map(|r| &r.fields).collect(),
                    Format::Jsonl => first.offers.iter().collect(),
                };
                let mut provider = v1::ProviderInput::from_columns(&first.fields);
                provider.offers = offers
                    .into_iter()
                    .map(|f| v1::OfferInput::from_columns(f))
                    .collect();
                input_any(self.dataset, &provider)
            }
            Dataset::ChildcareRequests => {
                input_any(self.dataset, &v1::RequestInput::from_columns(&first.fields))
            }
            Dataset::EmploymentParticipation => input_any(
                self.dataset,
                &v1::ParticipantInput::from_columns(&first.fields),
            ),
        }
    }

    /// Where a model error belongs: in a CSV provider, `offers[i].column` is the
    /// column of the provider's i-th row; everything else is the first row's.
    fn locate(&self, group: &Group, error: FieldError) -> RowProblem {
        let first = group.rows[0].line;
        if self.csv_provider() {
            if let Some((index, column)) = offer_field(&error.field) {
                if let Some(row) = group.rows.get(index) {
                    return RowProblem {
                        line: row.line,
                        field: column.to_string(),
                        problem: error.problem,
                    };
                }
            }
        }
        at(first, &error)
    }

    /// A failed record: its problems, and a note for each of its rows that has
    /// none of its own, so that every row left out is accounted for.
    fn bad(&self, group: &Group, mut problems: Vec<RowProblem>) -> Checked {
        problems.sort_by_key(|p| p.line);
        let culprit = problems.first().map(|p| p.line).unwrap_or(0);
        let left_out = group
            .rows
            .iter()
            .filter(|row| !problems.iter().any(|p| p.line == row.line))
            .map(|row| RowProblem {
                line: row.line,
                field: String::new(),
                problem: format!(
                    "not imported: another row of this provider (line {culprit}) has problems"
                ),
            })
            .collect();
        Checked::Bad { problems, left_out }
    }
}

/// `offers[3].capacity` → `(3, "capacity")`.
fn offer_field(field: &str) -> Option<(usize, &str)> {
    let rest = field.strip_prefix("offers[")?;
    let (index, column) = rest.split_once("].")?;
    Some((index.parse().ok()?, column))
}

fn at(line: u64, error: &FieldError) -> RowProblem {
    RowProblem {
        line,
        field: error.field.clone(),
        problem: error.problem.clone(),
    }
}

/// Whether the home's (or provider's) postcode is a terminated one.
fn terminated(input: &Input) -> bool {
    let (postcode, lsoa) = match input {
        Input::Provider(p) => (&p.postcode, &p.lsoa),
        Input::Request(r) => (&r.postcode, &r.lsoa),
        Input::Participant(p) => (&p.postcode, &p.lsoa),
    };
    let Ok(postcode) = Postcode::parse(postcode) else {
        return false;
    };
    let lsoa = lsoa.as_deref().and_then(|l| Lsoa::parse(l).ok());
    Geography::bundled()
        .place_home(&postcode, lsoa)
        .is_ok_and(|place| place.terminated)
}

#[cfg(test)]
mod tests;

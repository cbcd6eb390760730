//! What each node should hold once replication has converged, worked out from the
//! agreements alone: per (dataset, node, origin), its own records, every record of
//! an origin whose agreement with it is in force, or nothing where no agreement
//! lets that origin send it. The nodes' status replies are checked against it,
//! and it lays out the demo's table per dataset.

use std::collections::BTreeMap;

use borough_model::{Dataset, GssCode};
use borough_node::status::Table;
use borough_proto::v1;
use borough_security::agreements::{AgreementBook, AgreementState};
use time::Date;

/// What one node should hold of one dataset from one origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// The node's own records: as many as it took in.
    Own(u64),
    /// An agreement in force lets the origin send them: all of the origin's records.
    Agreed(u64),
    /// An agreement covers the flow but is not in force today: nothing.
    NotInForce(AgreementState),
    /// No agreement lets the origin send them to this node: no flow at all.
    NotAgreed,
}

/// The expectation for every (dataset, node, origin).
#[derive(Debug, Clone)]
pub(crate) struct Expectations {
    boroughs: Vec<GssCode>,
    cells: BTreeMap<(Dataset, GssCode, GssCode), Expect>,
}

impl Expectations {
    /// Works out what every node of `boroughs` should hold, given the records each
    /// took in (`own`; missing means none) and the agreements on `today`.
    pub(crate) fn new(
        boroughs: &[GssCode],
        own: &BTreeMap<(GssCode, Dataset), u64>,
        book: &AgreementBook,
        today: Date,
    ) -> Expectations {
        let mut cells = BTreeMap::new();
        for dataset in Dataset::ALL {
            for &holder in boroughs {
                for &origin in boroughs {
                    let records = own.get(&(origin, dataset)).copied().unwrap_or(0);
                    let expect = if holder == origin {
                        Expect::Own(records)
                    } else {
                        match book.covering(origin, holder, dataset) {
                            None => Expect::NotAgreed,
                            Some((agreement, _)) => match agreement.state(today) {
                                AgreementState::Active => Expect::Agreed(records),
                                state => Expect::NotInForce(state),
                            },
                        }
                    };
                    cells.insert((dataset, holder, origin), expect);
                }
            }
        }
        Expectations {
            boroughs: boroughs.to_vec(),
            cells,
        }
    }

    /// The expectation for `holder`'s records of `dataset` from `origin`.
    pub(crate) fn get(&self, dataset: Dataset, holder: GssCode, origin: GssCode) -> Expect {
        self.cells
            .get(&(dataset, holder, origin))
            .copied()
            .unwrap_or(Expect::NotAgreed)
    }

    /// Every way the nodes' status replies differ from the expectations; empty
    /// once every node holds exactly what the agreements allow it, with every
    /// agreed flow connected and not behind its origin's log.
    pub(crate) fn mismatches(&self, replies: &[(GssCode, v1::StatusReply)]) -> Vec<String> {
        let mut out = Vec::new();
        for (&(dataset, holder, origin), &expect) in &self.cells {
            let Some((_, reply)) = replies.iter().find(|(b, _)| *b == holder) else {
                out.push(format!("{} did not answer", holder.name()));
                continue;
            };
            let problem = match (expect, held(reply, dataset, holder, origin)) {
                (Expect::Own(n), Held::Own(got)) => {
                    (got != n).then(|| format!("{got} records, expected {n}"))
                }
                (Expect::Own(_), _) => Some("no count of its own records".into()),
                (Expect::Agreed(n), Held::Flow(f)) => {
                    let caught_up =
                        f.records == n && f.connection == "connected" && f.lag_records == 0;
                    (!caught_up).then(|| {
                        format!(
                            "{} records, expected {n} ({}, lag {}{})",
                            f.records,
                            f.connection,
                            f.lag_records,
                            if f.last_error.is_empty() {
                                String::new()
                            } else {
                                format!(", last error: {}", f.last_error)
                            }
                        )
                    })
                }
                (Expect::Agreed(_), _) => {
                    Some("no flow, though an agreement in force covers it".into())
                }
                (Expect::NotInForce(_), Held::Flow(f)) => (f.records > 0)
                    .then(|| format!("{} records under an agreement not in force", f.records)),
                (Expect::NotInForce(_), _) => None,
                (Expect::NotAgreed, Held::NoFlow) => None,
                (Expect::NotAgreed, _) => {
                    Some("a flow exists, though no agreement allows it".into())
                }
            };
            if let Some(problem) = problem {
                out.push(format!(
                    "{} holding {}'s {dataset}: {problem}",
                    holder.name(),
                    origin.name()
                ));
            }
        }
        out
    }

    /// One table for `dataset`: a row per node, a column per origin, each cell
    /// what the node holds (`own`, a count, `not agreed`, or why not in force).
    pub(crate) fn table(&self, dataset: Dataset, replies: &[(GssCode, v1::StatusReply)]) -> String {
        let header: Vec<String> = std::iter::once("held by".to_string())
            .chain(self.boroughs.iter().map(|b| format!("from {}", b.name())))
            .collect();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let mut table = Table::new(&header);
        for &holder in &self.boroughs {
            let Some((_, reply)) = replies.iter().find(|(b, _)| *b == holder) else {
                continue;
            };
            let mut cells = vec![holder.name().to_string()];
            for &origin in &self.boroughs {
                cells.push(
                    match (
                        self.get(dataset, holder, origin),
                        held(reply, dataset, holder, origin),
                    ) {
                        (_, Held::Own(n)) => format!("{n} (own)"),
                        (Expect::NotInForce(state), Held::Flow(f)) => {
                            format!("{} ({})", f.records, not_in_force(state))
                        }
                        (Expect::NotInForce(state), Held::NoFlow) => {
                            format!("0 ({})", not_in_force(state))
                        }
                        (_, Held::Flow(f)) => f.records.to_string(),
                        (_, Held::NoFlow) => "not agreed".into(),
                    },
                );
            }
            table.row(cells);
        }
        table.render()
    }
}

/// Why an agreement is not in force, in a few words.
fn not_in_force(state: AgreementState) -> String {
    match state {
        AgreementState::NotYetValid { from } => format!("agreement starts {from}"),
        AgreementState::Expired { until } => format!("agreement ended {until}"),
        AgreementState::Active => "agreement in force".into(),
    }
}

/// What a status reply says a node holds of one origin's dataset.
enum Held<'a> {
    /// Its own records.
    Own(u64),
    /// The inbound flow from that origin.
    Flow(&'a v1::PeerFlow),
    /// No inbound flow from that origin for that dataset.
    NoFlow,
}

fn held<'a>(
    reply: &'a v1::StatusReply,
    dataset: Dataset,
    holder: GssCode,
    origin: GssCode,
) -> Held<'a> {
    if holder == origin {
        return Held::Own(
            reply
                .own
                .iter()
                .find(|d| d.dataset == dataset.as_str())
                .map_or(0, |d| d.records),
        );
    }
    reply
        .inbound
        .iter()
        .find(|f| f.peer == origin.to_string() && f.dataset == dataset.as_str())
        .map_or(Held::NoFlow, Held::Flow)
}

#[cfg(test)]
mod tests;

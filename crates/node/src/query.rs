//! The Query service: an analyst's question answered on this node, over its own
//! records and the replicas its agreements let it hold, with every figure through
//! disclosure control, a freshness line per origin, and an audit entry.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use borough_analytics::disclosure::MAX_PERTURBATION;
use borough_analytics::{Analytics, Figure, Filter, Query, Released};
use borough_model::{Dataset, GssCode, Month, PeerIdentity};
use borough_proto::v1;
use borough_store::{AuditAction, AuditEntry, AuditOutcome, Store};
use borough_sync::{Connection, Direction, FlowBoard};
use tonic::{Request, Response, Status};

use crate::DisclosureSettings;

/// How long a caught-up link may go without contact before its data counts as
/// stale rather than current: the change feed sends keep-alives well within it.
const CURRENT_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

/// Serves `borough.v1.Query`.
#[derive(Clone)]
pub(crate) struct QueryService {
    analytics: Arc<Analytics>,
    store: Store,
    flows: FlowBoard,
    /// The peers this node is configured to pull from.
    peers: Vec<GssCode>,
    /// Each researcher's budget and the most one answer may spend (millionths of ε).
    budget_micros: u64,
    max_query_micros: u64,
}

impl QueryService {
    pub(crate) fn new(
        analytics: Arc<Analytics>,
        store: Store,
        flows: FlowBoard,
        peers: Vec<GssCode>,
        settings: DisclosureSettings,
    ) -> Self {
        QueryService {
            analytics,
            store,
            flows,
            peers,
            budget_micros: settings.privacy_budget_micros,
            max_query_micros: settings.max_query_epsilon_micros,
        }
    }
}

fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The query a request asks, naming the field that is wrong.
fn parse_query(request: &v1::QueryRequest) -> Result<Query, Status> {
    let bad =
        |field: &str, e: &dyn std::fmt::Display| Status::invalid_argument(format!("{field}: {e}"));
    let dataset: Dataset = request.dataset.parse().map_err(|e| bad("dataset", &e))?;
    let measures = request
        .measures
        .iter()
        .map(|m| m.parse())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("measures", &e))?;
    let group_by = request
        .group_by
        .iter()
        .map(|d| d.parse())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("group_by", &e))?;
    let filters = request
        .filters
        .iter()
        .map(|f| Filter::parse(&f.dimension, &f.values))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("filters", &e))?;
    let query = Query {
        dataset,
        measures,
        group_by,
        filters,
    };
    query
        .check()
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
    Ok(query)
}

/// The reply for a released table.
fn reply_rows(released: &Released) -> Vec<v1::QueryRow> {
    released
        .rows()
        .iter()
        .map(|row| {
            let (codes, labels) = released
                .dims()
                .iter()
                .zip(&row.codes)
                .map(|(dim, code)| match code {
                    None => (String::new(), "Total".to_string()),
                    Some(code) => (dim.code_text(*code), dim.label(*code)),
                })
                .unzip();
            v1::QueryRow {
                codes,
                labels,
                figures: row.figures.iter().map(figure).collect(),
                total: row.is_total(),
            }
        })
        .collect()
}

fn figure(f: &Figure) -> v1::Figure {
    use v1::figure::Value;
    let value = match f {
        Figure::Count(n) => Value::Count(*n),
        Figure::Rate(r) => Value::Rate(*r),
        Figure::Suppressed | Figure::NotApplicable => Value::Symbol(f.text()),
    };
    v1::Figure { value: Some(value) }
}

/// Per origin: this node's own data is current; each peer it pulls the dataset
/// from is current while its link is connected, caught up and recently heard
/// from, and stale otherwise; a configured peer it has no flow from is missing.
pub(crate) fn freshness(
    store: &Store,
    flows: &FlowBoard,
    peers: &[GssCode],
    dataset: Dataset,
    now: SystemTime,
) -> Result<Vec<v1::Freshness>, borough_store::Error> {
    let me = store.own_borough();
    let mut out = vec![v1::Freshness {
        borough: me.to_string(),
        borough_name: me.name().to_string(),
        state: "current".into(),
        seq: store.head(dataset)?.0,
        as_of_unix_ms: unix_ms(now),
        records: store.count(dataset, me)?,
        reason: "this node's own records".into(),
    }];
    for &peer in peers {
        let Some(flow) = flows.get(Direction::Inbound, peer, dataset) else {
            out.push(v1::Freshness {
                borough: peer.to_string(),
                borough_name: peer.name().to_string(),
                state: "missing".into(),
                seq: 0,
                as_of_unix_ms: 0,
                records: 0,
                reason: format!("no agreement lets {} send {dataset} here", peer.name()),
            });
            continue;
        };
        let heard = flow
            .last_contact
            .is_some_and(|t| now.duration_since(t).unwrap_or_default() <= CURRENT_WITHIN);
        let lag = flow.lag_records();
        let (state, reason) = match (flow.connection, lag, heard) {
            (Connection::Connected, 0, true) => ("current", "link connected and caught up".into()),
            (Connection::Connected, 0, false) => (
                "stale",
                format!("nothing heard for over {} s", CURRENT_WITHIN.as_secs()),
            ),
            (Connection::Connected, lag, _) => ("stale", format!("{lag} changes behind")),
            (connection, _, _) => (
                "stale",
                format!(
                    "link {}{}",
                    connection.as_str(),
                    flow.last_error
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                ),
            ),
        };
        // Current data is as of now; stale data as of when it last was in step.
        let as_of = match state {
            "current" => Some(now),
            _ => flow.behind_since.or(flow.last_contact),
        };
        out.push(v1::Freshness {
            borough: peer.to_string(),
            borough_name: peer.name().to_string(),
            state: state.into(),
            seq: store.checkpoint(peer, dataset)?.0,
            as_of_unix_ms: as_of.map(unix_ms).unwrap_or(0),
            records: store.count(dataset, peer)?,
            reason,
        });
    }
    Ok(out)
}

/// The month of `now` in UTC, the reference month cohorts are rated against.
fn reference_month(now: SystemTime) -> Month {
    let date = time::OffsetDateTime::from(now).date();
    Month::of(date)
}

/// What the audit log says of a query: its shape, never a figure.
fn describe(query: &Query) -> String {
    let list = |items: Vec<String>| items.join(",");
    let filters: Vec<String> = query
        .filters
        .iter()
        .map(|f| {
            let values: Vec<String> = f.codes.iter().map(|c| f.dimension.code_text(*c)).collect();
            format!("{}={}", f.dimension, values.join("|"))
        })
        .collect();
    format!(
        "dataset={} measures={} group_by={} filters={}",
        query.dataset,
        list(query.measures.iter().map(|m| m.name()).collect()),
        list(query.group_by.iter().map(|d| d.name()).collect()),
        list(filters)
    )
}

#[tonic::async_trait]
impl v1::query_server::Query for QueryService {
    async fn run(
        &self,
        request: Request<v1::QueryRequest>,
    ) -> Result<Response<v1::QueryReply>, Status> {
        let caller = request
            .extensions()
            .get::<PeerIdentity>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated("no verified client certificate"))?;
        let query = parse_query(request.get_ref())?;
        let service = self.clone();
        tokio::task::spawn_blocking(move || service.answer(&caller, &query))
            .await
            .map_err(|e| Status::internal(format!("query task failed: {e}")))?
            .map(Response::new)
    }

    async fn run_private(
        &self,
        request: Request<v1::PrivateQueryRequest>,
    ) -> Result<Response<v1::QueryReply>, Status> {
        let caller = request
            .extensions()
            .get::<PeerIdentity>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated("no verified client certificate"))?;
        let request = request.into_inner();
        let query = parse_query(&request.query.unwrap_or_default())?;
        let epsilon = request.epsilon_micros;
        let service = self.clone();
        tokio::task::spawn_blocking(move || service.answer_private(&caller, &query, epsilon))
            .await
            .map_err(|e| Status::internal(format!("query task failed: {e}")))?
            .map(Response::new)
    }
}

impl QueryService {
    /// Spends the researcher's budget (audited, durable) and only then answers
    /// with noise: a crash between the two loses an answer, never a spend.
    fn answer_private(
        &self,
        caller: &PeerIdentity,
        query: &Query,
        epsilon_micros: u64,
    ) -> Result<v1::QueryReply, Status> {
        if epsilon_micros == 0 || epsilon_micros > self.max_query_micros {
            return Err(Status::invalid_argument(format!(
                "epsilon_micros: {epsilon_micros} must be above 0 and at most {}",
                self.max_query_micros
            )));
        }
        // A query with no private form is refused before anything is spent.
        self.analytics
            .private_sensitivity(query)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let now = SystemTime::now();
        let as_of = reference_month(now);
        let who = caller.to_string();
        let spent = self
            .store
            .spend_privacy_budget(&who, epsilon_micros, self.budget_micros, |spent| {
                AuditEntry {
                    at_unix_ms: unix_ms(now) as u64,
                    actor: who.clone(),
                    action: AuditAction::BudgetSpent,
                    dataset: Some(query.dataset),
                    peer: None,
                    records: 0,
                    outcome: AuditOutcome::Allowed,
                    detail: format!(
                        "{} epsilon_micros={epsilon_micros} spent_micros={} remaining_micros={}",
                        describe(query),
                        spent.spent,
                        spent.remaining
                    ),
                }
            })
            .map_err(|e| match e {
                borough_store::Error::BudgetExhausted { .. } => {
                    Status::resource_exhausted(e.to_string())
                }
                e => {
                    tracing::error!(error = %e, "privacy budget spend failed");
                    Status::internal("the budget could not be spent, so nothing was answered")
                }
            })?;
        // rand's thread generator is a CSPRNG seeded from the operating system:
        // noise no one can predict or replay.
        let mut rng = rand::rng();
        let (released, noise) = self
            .analytics
            .answer_private(query, as_of, epsilon_micros, &mut rng)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let freshness = freshness(&self.store, &self.flows, &self.peers, query.dataset, now)
            .map_err(|e| {
                tracing::error!(error = %e, "freshness read failed");
                Status::internal("the node could not read its store; see its log")
            })?;
        tracing::info!(researcher = %caller, dataset = %query.dataset, epsilon_micros, "private query answered");
        Ok(v1::QueryReply {
            query_id: String::new(),
            dimensions: released.dims().iter().map(|d| d.name()).collect(),
            measures: released.measures().iter().map(|m| m.name()).collect(),
            rows: reply_rows(&released),
            disclosure: None,
            freshness,
            reference_month: as_of.to_string(),
            privacy: Some(v1::PrivacySpend {
                epsilon_micros,
                spent_micros: spent.spent,
                remaining_micros: spent.remaining,
                noise_scale: noise.scale(),
            }),
        })
    }

    fn answer(&self, caller: &PeerIdentity, query: &Query) -> Result<v1::QueryReply, Status> {
        let now = SystemTime::now();
        let as_of = reference_month(now);
        let released = self
            .analytics
            .answer(query, as_of)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let freshness = freshness(&self.store, &self.flows, &self.peers, query.dataset, now)
            .map_err(|e| {
                tracing::error!(error = %e, "freshness read failed");
                Status::internal("the node could not read its store; see its log")
            })?;
        let control = released.control();
        let entry = AuditEntry {
            at_unix_ms: unix_ms(now) as u64,
            actor: caller.to_string(),
            action: AuditAction::Queried,
            dataset: Some(query.dataset),
            peer: None,
            records: released.cells_released(),
            outcome: AuditOutcome::Allowed,
            detail: format!(
                "{} released={} suppressed={}",
                describe(query),
                released.cells_released(),
                released.cells_suppressed()
            ),
        };
        let audited = self.store.audit().append(entry).and_then(|record| {
            self.store.flush()?;
            Ok(record)
        });
        let record = audited.map_err(|e| {
            tracing::error!(error = %e, "query audit failed");
            Status::internal("the query could not be audited, so it was not answered")
        })?;
        tracing::info!(
            analyst = %caller,
            dataset = %query.dataset,
            audit_index = record.index,
            released = released.cells_released(),
            suppressed = released.cells_suppressed(),
            "query answered"
        );
        Ok(v1::QueryReply {
            query_id: format!("audit-{}", record.index),
            dimensions: released.dims().iter().map(|d| d.name()).collect(),
            measures: released.measures().iter().map(|m| m.name()).collect(),
            rows: reply_rows(&released),
            disclosure: Some(v1::DisclosureSummary {
                threshold: control.threshold(),
                rounding_base: control.rounding_base(),
                max_perturbation: MAX_PERTURBATION,
                cells_released: released.cells_released(),
                cells_suppressed: released.cells_suppressed(),
            }),
            freshness,
            reference_month: as_of.to_string(),
            privacy: None,
        })
    }
}

//! Analytics: combined regional figures over this node's own records and the
//! replicas it holds, released only through disclosure control.
//!
//! Owns: the analytical view of each dataset (columns of small codes with people
//! as dense ids, kept in step with the store as its `Observer`), the query model
//! (measures, dimensions, filters), the engine that evaluates a query over the
//! view, and disclosure control.
//! Must not: reach another node, read request metadata or decide who may query;
//! hold a pseudonym of a person no live record names; release a figure except as
//! `Released`, which only `disclosure` can build.

mod dimension;
pub mod disclosure;
mod engine;
mod error;
mod privacy;
mod query;
mod view;

use std::sync::{PoisonError, RwLock};

use borough_model::{Dataset, GssCode, Month, PerturbationKey};
use borough_proto::{decode_payload, Payload};
use borough_store::{Observer, RecordChange};

pub use dimension::{Dimension, Grain, Stage};
pub use disclosure::{DisclosureControl, Figure, PrivateNoise, Released, ReleasedRow};
pub use engine::MAX_CELLS;
pub use error::Error;
pub use query::{Filter, Measure, MedianOf, Query, Who, MAX_GROUP_BY};

use engine::EmploymentFacts;
use view::{EmploymentView, Persons, PlacesView, RequestsView};

/// The node's analytics: the views, kept in step with the store, and the
/// disclosure control every answer goes through.
pub struct Analytics {
    key: PerturbationKey,
    control: DisclosureControl,
    state: RwLock<State>,
}

#[derive(Default)]
struct State {
    persons: Persons,
    employment: EmploymentView,
    places: PlacesView,
    requests: RequestsView,
    /// Stored payloads that did not decode: the store only holds checked
    /// records, so this stays 0 unless the directory is damaged.
    undecodable: u64,
}

impl State {
    /// Evaluates `query` over the view of its dataset.
    fn evaluate(
        &self,
        query: &Query,
        as_of: u32,
        mode: engine::Mode,
    ) -> Result<engine::RawTable, Error> {
        match query.dataset {
            Dataset::EmploymentParticipation => {
                let facts = EmploymentFacts {
                    view: &self.employment,
                    persons: &self.persons,
                };
                engine::evaluate(query, &facts, as_of, mode)
            }
            Dataset::ChildcarePlaces => engine::evaluate(query, &self.places, as_of, mode),
            Dataset::ChildcareRequests => engine::evaluate(query, &self.requests, as_of, mode),
        }
    }
}

/// How big the views are, for the benchmark and for operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewSize {
    /// Live employment records.
    pub employment_records: usize,
    /// Live childcare provider records.
    pub childcare_providers: usize,
    /// Live childcare requests.
    pub childcare_requests: usize,
    /// Distinct people named by live records.
    pub persons: usize,
    /// Stored records that did not decode and are left out.
    pub undecodable: u64,
}

impl Analytics {
    /// Empty views protected by `control`, with record keys from `key`. Attach it
    /// to the store with `Store::observe` to fill it.
    pub fn new(key: PerturbationKey, control: DisclosureControl) -> Analytics {
        Analytics {
            key,
            control,
            state: RwLock::new(State::default()),
        }
    }

    /// Answers `query` with figures as of reference month `as_of` (cohorts are
    /// rated only once their window has passed it).
    pub fn answer(&self, query: &Query, as_of: Month) -> Result<Released, Error> {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        let as_of = dimension::month_index(as_of);
        let raw = state.evaluate(query, as_of, engine::Mode::Controlled)?;
        Ok(self.control.release(&raw, &query.measures, as_of))
    }

    /// Answers `query` with differential privacy at `epsilon_micros` (millionths
    /// of ε), with noise drawn from `rng` (the operating system's CSPRNG in a
    /// node). The caller spends the budget first.
    pub fn answer_private<R: rand::RngCore + ?Sized>(
        &self,
        query: &Query,
        as_of: Month,
        epsilon_micros: u64,
        rng: &mut R,
    ) -> Result<(Released, PrivateNoise), Error> {
        if epsilon_micros == 0 {
            return Err(Error::NoPrivacyBudget);
        }
        self.private_sensitivity(query)?;
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        let as_of = dimension::month_index(as_of);
        let raw = state.evaluate(query, as_of, engine::Mode::Private)?;
        drop(state);
        let noise = PrivateNoise::for_table(&raw, epsilon_micros);
        let released = disclosure::release_private(&raw, &query.measures, as_of, noise, rng)?;
        Ok((released, noise))
    }

    /// The sensitivity a private answer to `query` would have, without answering
    /// it, so the budget can be checked and spent first.
    pub fn private_sensitivity(&self, query: &Query) -> Result<u64, Error> {
        query.check()?;
        if let Some(m) = query
            .measures
            .iter()
            .find(|m| m.counts().iter().any(|c| !c.has_private_form()))
        {
            return Err(Error::NotPrivate { measure: m.name() });
        }
        let columns: u64 = query.measures.iter().map(|m| m.counts().len() as u64).sum();
        Ok(columns * if query.group_by.is_empty() { 1 } else { 2 })
    }

    /// The disclosure control in force.
    pub fn control(&self) -> DisclosureControl {
        self.control
    }

    /// How big the views are now.
    pub fn size(&self) -> ViewSize {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        ViewSize {
            employment_records: state.employment.live_count(),
            childcare_providers: state.places.live_count(),
            childcare_requests: state.requests.live_count(),
            persons: state.persons.len(),
            undecodable: state.undecodable,
        }
    }
}

impl Observer for Analytics {
    fn records_changed(&self, dataset: Dataset, origin: GssCode, changes: &[RecordChange<'_>]) {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let State {
            persons,
            employment,
            places,
            requests,
            undecodable,
        } = &mut *state;
        for change in changes {
            let decoded = match change.payload.map(|bytes| decode_payload(dataset, bytes)) {
                None => None,
                Some(Ok(payload)) => Some(payload),
                Some(Err(_)) => {
                    *undecodable += 1;
                    tracing::warn!(dataset = %dataset, origin = %origin, id = %change.id, "stored record does not decode; left out of the analytical view");
                    None
                }
            };
            match (dataset, decoded) {
                (_, Some(Payload::EmploymentParticipation(record))) => {
                    employment.upsert(origin, change.id, &record, persons, &self.key);
                }
                (_, Some(Payload::ChildcarePlace(place))) => {
                    places.upsert(origin, change.id, &place, &self.key);
                }
                (_, Some(Payload::ChildcareRequest(request))) => {
                    requests.upsert(origin, change.id, &request, persons, &self.key);
                }
                (Dataset::EmploymentParticipation, None) => {
                    employment.remove(origin, change.id, persons)
                }
                (Dataset::ChildcarePlaces, None) => places.remove(origin, change.id),
                (Dataset::ChildcareRequests, None) => requests.remove(origin, change.id, persons),
            }
        }
    }
}

#[cfg(test)]
mod tests;

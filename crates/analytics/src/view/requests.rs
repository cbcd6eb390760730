//! `childcare-requests` as columns: one row per request, naming its family (for
//! distinct families) and its parent (for the joined figure with employment).

use std::collections::HashMap;

use borough_model::{
    AgeBand, ChildcareRequest, FundedEntitlement, GssCode, PerturbationKey, Pseudonym, RecordId,
    SendNeed,
};

use super::subjects::Subjects;
use super::Persons;
use crate::dimension::{borough_code, enum_index, session_code, sub_region_of_borough, Dimension};
use crate::engine::Facts;
use crate::query::{Count, MedianOf};

/// Who a family is: its link within a round, else the parent's pseudonym, else
/// (a request linked to no one) the request itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Family {
    Linked(Pseudonym),
    Alone(GssCode, RecordId),
}

/// Every live request.
#[derive(Debug, Default)]
pub(crate) struct RequestsView {
    /// Per request record, its row.
    rows: HashMap<(GssCode, RecordId), u32>,
    families: Subjects<Family>,
    free: Vec<u32>,
    live: Vec<bool>,
    family: Vec<u32>,
    /// The parent as a person (the joined figure), if the request names one.
    parent: Vec<Option<u32>>,
    home: Vec<u8>,
    age_band: Vec<u8>,
    term_time_only: Vec<bool>,
    session: Vec<u8>,
    send_need: Vec<u8>,
    entitlement: Vec<u8>,
    max_fee_pence: Vec<Option<u32>>,
    max_distance_m: Vec<Option<u32>>,
}

/// The age band of a child `months` old.
fn age_band(months: u16) -> AgeBand {
    match months {
        0..=23 => AgeBand::Under2,
        24..=35 => AgeBand::Two,
        36..=59 => AgeBand::ThreeToFour,
        _ => AgeBand::SchoolAge,
    }
}

impl RequestsView {
    /// Live requests.
    pub(crate) fn live_count(&self) -> usize {
        self.rows.len()
    }

    /// Puts `request` in the view as (origin, id), replacing what was there.
    pub(crate) fn upsert(
        &mut self,
        origin: GssCode,
        id: &RecordId,
        request: &ChildcareRequest,
        persons: &mut Persons,
        key: &PerturbationKey,
    ) {
        // New references first, so a re-sent request never drops its people's
        // last reference in between.
        let family = match request.family_link.or(request.parent_pseudonym) {
            Some(link) => Family::Linked(link),
            None => Family::Alone(origin, id.clone()),
        };
        let family_key = || match &family {
            Family::Linked(p) => key.record_key(p.as_bytes()),
            Family::Alone(o, i) => key.record_key(format!("request|{o}|{}", i.as_str()).as_bytes()),
        };
        let family_id = self.families.acquire(&family, family_key);
        let parent = request
            .parent_pseudonym
            .as_ref()
            .map(|p| persons.acquire_request(p, key));
        self.remove(origin, id, persons);
        let r = self.new_row();
        let i = r as usize;
        self.live[i] = true;
        self.family[i] = family_id;
        self.parent[i] = parent;
        self.home[i] = borough_code(request.home_borough) as u8;
        self.age_band[i] = enum_index(age_band(request.child_age_months), AgeBand::ALL) as u8;
        self.term_time_only[i] = request.pattern.term_time_only;
        self.session[i] = session_code(&request.pattern) as u8;
        self.send_need[i] = enum_index(request.send_need, SendNeed::ALL) as u8;
        self.entitlement[i] = request
            .entitlement
            .map_or(FundedEntitlement::ALL.len() as u32, |e| {
                enum_index(e, FundedEntitlement::ALL)
            }) as u8;
        self.max_fee_pence[i] = request.max_fee_pence;
        self.max_distance_m[i] = request.max_distance_m;
        self.rows.insert((origin, id.clone()), r);
    }

    /// Takes (origin, id) out of the view, if it is there.
    pub(crate) fn remove(&mut self, origin: GssCode, id: &RecordId, persons: &mut Persons) {
        let Some(r) = self.rows.remove(&(origin, id.clone())) else {
            return;
        };
        let i = r as usize;
        self.live[i] = false;
        self.families.release(self.family[i]);
        if let Some(parent) = self.parent[i].take() {
            persons.release_request(parent);
        }
        self.free.push(r);
    }

    fn new_row(&mut self) -> u32 {
        if let Some(r) = self.free.pop() {
            return r;
        }
        self.live.push(false);
        self.family.push(0);
        self.parent.push(None);
        self.home.push(0);
        self.age_band.push(0);
        self.term_time_only.push(false);
        self.session.push(0);
        self.send_need.push(0);
        self.entitlement.push(0);
        self.max_fee_pence.push(None);
        self.max_distance_m.push(None);
        (self.live.len() - 1) as u32
    }
}

impl Facts for RequestsView {
    fn rows(&self) -> usize {
        self.live.len()
    }

    fn live(&self, r: usize) -> bool {
        self.live[r]
    }

    fn subject(&self, r: usize) -> u32 {
        self.family[r]
    }

    fn subject_bound(&self) -> u32 {
        self.families.id_bound()
    }

    fn subject_key(&self, s: u32) -> u8 {
        self.families.key(s)
    }

    fn code(&self, r: usize, dim: Dimension, _count: Count) -> Option<u32> {
        Some(match dim {
            Dimension::HomeBorough => u32::from(self.home[r]),
            Dimension::HomeSubRegion => sub_region_of_borough(u32::from(self.home[r])),
            Dimension::ChildAgeBand => u32::from(self.age_band[r]),
            Dimension::TermTimeOnly => u32::from(self.term_time_only[r]),
            Dimension::Session => u32::from(self.session[r]),
            Dimension::SendNeed => u32::from(self.send_need[r]),
            Dimension::Entitlement => u32::from(self.entitlement[r]),
            _ => return None,
        })
    }

    fn value(&self, r: usize, of: MedianOf) -> Option<u32> {
        match of {
            MedianOf::MaxFeePerHour => self.max_fee_pence[r],
            MedianOf::MaxDistance => self.max_distance_m[r],
            MedianOf::FeePerHour => None,
        }
    }

    fn weight(&self, _r: usize, count: Count, _as_of: u32) -> u64 {
        u64::from(matches!(count, Count::Requests | Count::Families))
    }
}

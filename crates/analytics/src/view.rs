//! The analytical view: each dataset's live records as columns of small codes,
//! with people (and providers, and families) as dense ids, kept in step with the
//! store through its `Observer`.

use std::collections::HashMap;

use borough_model::{
    AdultAgeBand, EligibilityGroup, EmploymentParticipation, GssCode, PerturbationKey, Programme,
    Pseudonym, RecordId, Sex,
};

use crate::dimension::{borough_code, enum_index, month_index, Stage};

mod places;
mod requests;
mod subjects;

pub(crate) use places::PlacesView;
pub(crate) use requests::RequestsView;

/// People seen in any dataset, as dense ids, each with the record key cell-key
/// perturbation sums. A person no live record names any more is forgotten, so an
/// erased person's pseudonym does not linger in memory.
#[derive(Debug, Default)]
pub(crate) struct Persons {
    ids: HashMap<Pseudonym, u32>,
    /// Per id: the record key (0..=255), how many live records name the person,
    /// and how many of those are childcare requests (as the parent).
    keys: Vec<u8>,
    refs: Vec<u32>,
    requests: Vec<u32>,
    pseudonyms: Vec<Option<Pseudonym>>,
    free: Vec<u32>,
}

impl Persons {
    /// The person's id, taking one more reference to it.
    fn acquire(&mut self, who: &Pseudonym, key: &PerturbationKey) -> u32 {
        if let Some(&id) = self.ids.get(who) {
            self.refs[id as usize] += 1;
            return id;
        }
        let record_key = key.record_key(who.as_bytes());
        let id = match self.free.pop() {
            Some(id) => {
                self.keys[id as usize] = record_key;
                self.refs[id as usize] = 1;
                self.requests[id as usize] = 0;
                self.pseudonyms[id as usize] = Some(*who);
                id
            }
            None => {
                self.keys.push(record_key);
                self.refs.push(1);
                self.requests.push(0);
                self.pseudonyms.push(Some(*who));
                (self.keys.len() - 1) as u32
            }
        };
        self.ids.insert(*who, id);
        id
    }

    /// Drops one reference to `id`; the last one forgets the person.
    fn release(&mut self, id: u32) {
        let i = id as usize;
        let Some(refs) = self.refs.get_mut(i) else {
            return;
        };
        *refs = refs.saturating_sub(1);
        if *refs == 0 {
            if let Some(who) = self.pseudonyms[i].take() {
                self.ids.remove(&who);
            }
            self.free.push(id);
        }
    }

    /// The person's id for a childcare request naming them as the parent.
    pub(crate) fn acquire_request(&mut self, who: &Pseudonym, key: &PerturbationKey) -> u32 {
        let id = self.acquire(who, key);
        self.requests[id as usize] += 1;
        id
    }

    /// Drops a childcare request's reference to `id`.
    pub(crate) fn release_request(&mut self, id: u32) {
        if let Some(n) = self.requests.get_mut(id as usize) {
            *n = n.saturating_sub(1);
        }
        self.release(id);
    }

    /// Whether a live childcare request names person `id` as the parent.
    pub(crate) fn has_request(&self, id: u32) -> bool {
        self.requests.get(id as usize).is_some_and(|&n| n > 0)
    }

    /// The record key of person `id`.
    pub(crate) fn key(&self, id: u32) -> u8 {
        self.keys.get(id as usize).copied().unwrap_or_default()
    }

    /// How many ids exist (live or free): an upper bound on every person id.
    pub(crate) fn id_bound(&self) -> u32 {
        self.keys.len() as u32
    }

    /// People currently named by a live record.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }
}

/// `employment-participation` as columns. Row `i` of every column is one record;
/// a removed record's row is marked dead and reused by the next new record.
#[derive(Debug, Default)]
pub(crate) struct EmploymentView {
    rows: HashMap<(GssCode, RecordId), u32>,
    free: Vec<u32>,
    pub(crate) live: Vec<bool>,
    pub(crate) person: Vec<u32>,
    pub(crate) programme: Vec<u8>,
    pub(crate) delivering: Vec<u8>,
    pub(crate) resident: Vec<u8>,
    pub(crate) eligibility: Vec<u8>,
    pub(crate) age_band: Vec<u8>,
    pub(crate) sex: Vec<u8>,
    pub(crate) barrier: Vec<bool>,
    /// Month indexes per stage (0: not reached), in `Stage` order.
    pub(crate) months: [Vec<u32>; 5],
    /// The earliest and latest month index of any stage of any record ever held,
    /// so period codes have a bounded range.
    pub(crate) month_range: Option<(u32, u32)>,
}

/// The position of a stage's column in [`EmploymentView::months`].
pub(crate) fn stage_column(stage: Stage) -> usize {
    match stage {
        Stage::Referral => 0,
        Stage::Start => 1,
        Stage::FirstEarnings => 2,
        Stage::JobOutcome => 3,
        Stage::Sustained => 4,
    }
}

impl EmploymentView {
    /// The number of rows, live or dead.
    pub(crate) fn row_count(&self) -> usize {
        self.live.len()
    }

    /// Live records.
    pub(crate) fn live_count(&self) -> usize {
        self.rows.len()
    }

    /// Puts `record` in the view as (origin, id), replacing what was there.
    pub(crate) fn upsert(
        &mut self,
        origin: GssCode,
        id: &RecordId,
        record: &EmploymentParticipation,
        persons: &mut Persons,
        key: &PerturbationKey,
    ) {
        // The new person first, so a record re-sent unchanged never drops its
        // person's last reference in between.
        let person = persons.acquire(&record.participant, key);
        let row = match self.rows.get(&(origin, id.clone())) {
            Some(&row) => {
                persons.release(self.person[row as usize]);
                row
            }
            None => {
                let row = self.new_row();
                self.rows.insert((origin, id.clone()), row);
                row
            }
        };
        let r = row as usize;
        self.live[r] = true;
        self.person[r] = person;
        self.programme[r] = enum_index(record.programme, Programme::ALL) as u8;
        self.delivering[r] = borough_code(record.delivering_borough) as u8;
        self.resident[r] = borough_code(record.resident_borough) as u8;
        self.eligibility[r] = enum_index(record.eligibility, EligibilityGroup::ALL) as u8;
        self.age_band[r] = enum_index(record.age_band, AdultAgeBand::ALL) as u8;
        self.sex[r] = enum_index(record.sex, Sex::ALL) as u8;
        self.barrier[r] = record.childcare_barrier;
        let stages = [
            Some(record.referral),
            record.start,
            record.first_earnings,
            record.job_outcome,
            record.sustained,
        ];
        for (column, month) in self.months.iter_mut().zip(stages) {
            let m = month.map_or(0, month_index);
            column[r] = m;
            if m != 0 {
                self.month_range = Some(match self.month_range {
                    None => (m, m),
                    Some((lo, hi)) => (lo.min(m), hi.max(m)),
                });
            }
        }
    }

    /// Takes (origin, id) out of the view, if it is there.
    pub(crate) fn remove(&mut self, origin: GssCode, id: &RecordId, persons: &mut Persons) {
        let Some(row) = self.rows.remove(&(origin, id.clone())) else {
            return;
        };
        let r = row as usize;
        self.live[r] = false;
        persons.release(self.person[r]);
        self.free.push(row);
    }

    fn new_row(&mut self) -> u32 {
        if let Some(row) = self.free.pop() {
            return row;
        }
        self.live.push(false);
        self.person.push(0);
        self.programme.push(0);
        self.delivering.push(0);
        self.resident.push(0);
        self.eligibility.push(0);
        self.age_band.push(0);
        self.sex.push(0);
        self.barrier.push(false);
        for column in &mut self.months {
            column.push(0);
        }
        (self.live.len() - 1) as u32
    }
}

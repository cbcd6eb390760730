//! `childcare-places` as columns: one row per offer (an age band on a session
//! pattern), each naming its provider, so places add up and providers count once.

use std::collections::HashMap;

use borough_model::{
    AgeBand, ChildcarePlace, FundedEntitlement, GssCode, OfstedGrade, PerturbationKey,
    ProviderType, RecordId,
};

use super::subjects::Subjects;
use crate::dimension::{borough_code, enum_index, session_code, sub_region_of_borough, Dimension};
use crate::engine::Facts;
use crate::query::{Count, MedianOf};

/// The offers of every live provider record.
#[derive(Debug, Default)]
pub(crate) struct PlacesView {
    /// Per provider record, its subject id and the rows of its offers.
    records: HashMap<(GssCode, RecordId), (u32, Vec<u32>)>,
    providers: Subjects<(GssCode, RecordId)>,
    free: Vec<u32>,
    live: Vec<bool>,
    provider: Vec<u32>,
    borough: Vec<u8>,
    provider_type: Vec<u8>,
    ofsted: Vec<u8>,
    send_support: Vec<bool>,
    age_band: Vec<u8>,
    term_time_only: Vec<bool>,
    session: Vec<u8>,
    capacity: Vec<u32>,
    vacancies: Vec<u32>,
    /// Per offer, a bit per entitlement it delivers (`FundedEntitlement::ALL` order).
    funded: Vec<u8>,
    fee_pence: Vec<u32>,
}

impl PlacesView {
    /// Live provider records.
    pub(crate) fn live_count(&self) -> usize {
        self.records.len()
    }

    /// Puts `place` in the view as (origin, id), replacing what was there.
    pub(crate) fn upsert(
        &mut self,
        origin: GssCode,
        id: &RecordId,
        place: &ChildcarePlace,
        key: &PerturbationKey,
    ) {
        let record = (origin, id.clone());
        // A provider is keyed by its record: childminders have no URN to key by.
        let provider = self.providers.acquire(&record, || {
            key.record_key(format!("provider|{origin}|{}", id.as_str()).as_bytes())
        });
        self.remove(origin, id);
        let mut rows = Vec::with_capacity(place.offers.len());
        for offer in &place.offers {
            let r = self.new_row();
            let i = r as usize;
            self.live[i] = true;
            self.provider[i] = provider;
            self.borough[i] = borough_code(place.borough) as u8;
            self.provider_type[i] = enum_index(place.provider_type, ProviderType::ALL) as u8;
            self.ofsted[i] = enum_index(place.ofsted_grade, OfstedGrade::ALL) as u8;
            self.send_support[i] = place.send_support;
            self.age_band[i] = enum_index(offer.age_band, AgeBand::ALL) as u8;
            self.term_time_only[i] = offer.pattern.term_time_only;
            self.session[i] = session_code(&offer.pattern) as u8;
            self.capacity[i] = offer.capacity;
            self.vacancies[i] = offer.vacancies;
            self.funded[i] = offer
                .funded
                .iter()
                .fold(0, |bits, &e| bits | entitlement_bit(e));
            self.fee_pence[i] = offer.fee_per_hour_pence;
            rows.push(r);
        }
        // The provider's reference from `acquire` stands for this record.
        self.records.insert(record, (provider, rows));
    }

    /// Takes (origin, id) out of the view, if it is there.
    pub(crate) fn remove(&mut self, origin: GssCode, id: &RecordId) {
        let Some((provider, rows)) = self.records.remove(&(origin, id.clone())) else {
            return;
        };
        for r in rows {
            self.live[r as usize] = false;
            self.free.push(r);
        }
        self.providers.release(provider);
    }

    fn new_row(&mut self) -> u32 {
        if let Some(r) = self.free.pop() {
            return r;
        }
        self.live.push(false);
        self.provider.push(0);
        self.borough.push(0);
        self.provider_type.push(0);
        self.ofsted.push(0);
        self.send_support.push(false);
        self.age_band.push(0);
        self.term_time_only.push(false);
        self.session.push(0);
        self.capacity.push(0);
        self.vacancies.push(0);
        self.funded.push(0);
        self.fee_pence.push(0);
        (self.live.len() - 1) as u32
    }
}

impl Facts for PlacesView {
    fn rows(&self) -> usize {
        self.live.len()
    }

    fn live(&self, r: usize) -> bool {
        self.live[r]
    }

    fn subject(&self, r: usize) -> u32 {
        self.provider[r]
    }

    fn subject_bound(&self) -> u32 {
        self.providers.id_bound()
    }

    fn subject_key(&self, s: u32) -> u8 {
        self.providers.key(s)
    }

    fn code(&self, r: usize, dim: Dimension, _count: Count) -> Option<u32> {
        Some(match dim {
            Dimension::ProviderBorough => u32::from(self.borough[r]),
            Dimension::ProviderSubRegion => sub_region_of_borough(u32::from(self.borough[r])),
            Dimension::ProviderType => u32::from(self.provider_type[r]),
            Dimension::OfstedGrade => u32::from(self.ofsted[r]),
            Dimension::SendSupport => u32::from(self.send_support[r]),
            Dimension::ChildAgeBand => u32::from(self.age_band[r]),
            Dimension::TermTimeOnly => u32::from(self.term_time_only[r]),
            Dimension::Session => u32::from(self.session[r]),
            _ => return None,
        })
    }

    fn value(&self, r: usize, of: MedianOf) -> Option<u32> {
        (of == MedianOf::FeePerHour).then(|| self.fee_pence[r])
    }

    fn weight(&self, r: usize, count: Count, _as_of: u32) -> u64 {
        u64::from(match count {
            Count::Providers => 1,
            Count::Places => self.capacity[r],
            Count::Vacancies => self.vacancies[r],
            Count::FundedPlaces { entitlement } => {
                let wanted = entitlement.map_or(u8::MAX, entitlement_bit);
                if self.funded[r] & wanted != 0 {
                    self.capacity[r]
                } else {
                    0
                }
            }
            _ => 0,
        })
    }
}

/// The bit standing for `e` in an offer's entitlements.
fn entitlement_bit(e: FundedEntitlement) -> u8 {
    1 << enum_index(e, FundedEntitlement::ALL)
}

//! `childcare-places` rows: providers with their offers, one row per offer, a
//! provider's rows consecutive and sharing its `local_ref`. Distributions are in
//! the crate docs.

use std::io::Write;

use borough_model::{AgeBand, FundedEntitlement, OfstedGrade, ProviderType};

use crate::draw::{Draw, Purpose};
use crate::geo::{BoroughGeo, Site};
use crate::people::borough_slot;
use crate::plan::{money, time_of_day, yes_no, RowWriter};
use crate::{names, Error};

/// The first providers of each borough have `EY` URNs, as they always had:
/// `EY` and 100000 + 25,000 × the borough's slot + the provider's index.
pub(crate) const EY_PER_BOROUGH: usize = 25_000;

/// The seven-digit URNs from 1000000 to 9999999, split evenly between the 33
/// boroughs: 272,727 each.
pub(crate) const SEVEN_DIGIT_PER_BOROUGH: usize = 9_000_000 / 33;

/// The most providers with a URN a borough can have: 297,727.
pub(crate) const MAX_NAMED_PROVIDERS: usize = EY_PER_BOROUGH + SEVEN_DIGIT_PER_BOROUGH;

/// Hands out a borough's provider URNs, so no two providers in any plan share one.
///
/// The first 25,000 providers (index 0 to 24,999) have `EY` and six digits:
/// 100000 + 25,000 × slot + index. The `EY` space holds 33 such blocks and little
/// more, and a million places rows need about 412,000 providers (2.43 offers
/// each) in a borough: for 33 boroughs, more than the 13 million URNs the model
/// accepts (6 or 7 digits, or `EY`/`SC` and 6). But only the two thirds that are not
/// childminders need one: a childminder's URN is optional input, dropped by
/// derivation and never named in a request's preferences. So from index 25,000
/// on, childminders are written without a URN, and every other provider takes
/// the next seven-digit URN of the borough's block: 1000000 + 272,727 × slot + n
/// for its n-th such provider. A million rows use about 259,000 of the block's
/// 272,727; should a borough need more, generation stops with
/// [`Error::TooManyProviders`] rather than reuse a URN.
pub(crate) struct Urns {
    slot: usize,
    /// Seven-digit URNs handed out so far.
    seven_digit: usize,
}

impl Urns {
    pub(crate) fn new(geo: &BoroughGeo) -> Urns {
        Urns {
            slot: borough_slot(geo.gss),
            seven_digit: 0,
        }
    }

    /// A borough's URNs with `seven_digit` seven-digit URNs already handed out.
    #[cfg(test)]
    pub(crate) fn after(geo: &BoroughGeo, seven_digit: usize) -> Urns {
        Urns {
            seven_digit,
            ..Urns::new(geo)
        }
    }

    /// The URN of provider `index` (providers are numbered in order), if it has one.
    pub(crate) fn next(
        &mut self,
        geo: &BoroughGeo,
        index: usize,
        provider_type: ProviderType,
    ) -> Result<Option<String>, Error> {
        if index < EY_PER_BOROUGH {
            let urn = 100_000 + EY_PER_BOROUGH * self.slot + index;
            return Ok(Some(format!("EY{urn:06}")));
        }
        if provider_type == ProviderType::Childminder {
            return Ok(None);
        }
        if self.seven_digit >= SEVEN_DIGIT_PER_BOROUGH {
            return Err(Error::TooManyProviders {
                borough: geo.gss,
                max: MAX_NAMED_PROVIDERS,
            });
        }
        let urn = 1_000_000 + SEVEN_DIGIT_PER_BOROUGH * self.slot + self.seven_digit;
        self.seven_digit += 1;
        Ok(Some(urn.to_string()))
    }
}

/// One generated provider.
pub(crate) struct Provider {
    local_ref: String,
    /// The provider's Ofsted URN, if it has one (see [`Urns`]).
    pub(crate) urn: Option<String>,
    name: String,
    /// Kind of provider.
    pub(crate) provider_type: ProviderType,
    grade: OfstedGrade,
    site: Site,
    send_support: bool,
    accepts_out_of_borough: bool,
    admission_priorities: String,
    offers: Vec<Offer>,
}

struct Offer {
    band: AgeBand,
    days: &'static str,
    opens: u16,
    closes: u16,
    term_time_only: bool,
    capacity: i64,
    vacancies: i64,
    funded: Vec<FundedEntitlement>,
    fee_pence: i64,
}

/// The bands children under five are cared for in, youngest first.
const UNDER_FIVE: [AgeBand; 3] = [AgeBand::Under2, AgeBand::Two, AgeBand::ThreeToFour];
const ALL_BANDS: [AgeBand; 4] = [
    AgeBand::Under2,
    AgeBand::Two,
    AgeBand::ThreeToFour,
    AgeBand::SchoolAge,
];

/// Providers for a borough, in order, until their offers fill `records` rows:
/// each is given to `each` as it is made.
pub(crate) fn each_provider(
    seed: u64,
    geo: &BoroughGeo,
    records: usize,
    mut each: impl FnMut(Provider) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut urns = Urns::new(geo);
    let mut rows = 0;
    let mut index = 0;
    while rows < records {
        let p = provider(seed, geo, index, &mut urns)?;
        rows += p.offers.len();
        index += 1;
        each(p)?;
    }
    Ok(())
}

/// Writes a borough's `childcare-places` rows, returning the URNs of its providers
/// other than childminders (the ones a request may prefer), in order.
pub(crate) fn write<W: Write>(
    seed: u64,
    geo: &BoroughGeo,
    records: usize,
    out: &mut RowWriter<W>,
) -> Result<Vec<String>, Error> {
    let mut named = Vec::new();
    each_provider(seed, geo, records, |p| {
        p.write(out)?;
        if p.provider_type != ProviderType::Childminder {
            named.extend(p.urn);
        }
        Ok(())
    })?;
    Ok(named)
}

fn provider(seed: u64, geo: &BoroughGeo, index: usize, urns: &mut Urns) -> Result<Provider, Error> {
    let mut d = Draw::new(seed, geo.gss, Purpose::Provider, index as u64);
    let provider_type = d.weighted(&[
        (50, ProviderType::NonDomesticPremises),
        (33, ProviderType::Childminder),
        (9, ProviderType::DomesticPremises),
        (8, ProviderType::HomeChildcarer),
    ]);
    let grade = d.weighted(&[
        (72, OfstedGrade::Good),
        (16, OfstedGrade::Outstanding),
        (7, OfstedGrade::RequiresImprovement),
        (5, OfstedGrade::NotYetInspected),
    ]);
    let name = match provider_type {
        ProviderType::NonDomesticPremises => names::nursery(&mut d),
        ProviderType::DomesticPremises => names::home_nursery(&mut d),
        ProviderType::Childminder | ProviderType::HomeChildcarer => {
            format!("{} {}", d.pick(names::FEMALE), d.pick(names::SURNAMES))
        }
    };
    let site = geo.premises(&mut d)?;
    let nursery = provider_type == ProviderType::NonDomesticPremises;
    let send_support = d.chance(if nursery { 600 } else { 300 });
    let accepts_out_of_borough = d.chance(800);
    let admission_priorities = priorities(&mut d, provider_type);
    let offers = offers(&mut d, provider_type);
    let urn = urns.next(geo, index, provider_type)?;
    Ok(Provider {
        local_ref: format!("{}-FIS-{:05}", geo.gss.borough().short_code, index + 1),
        urn,
        name,
        provider_type,
        grade,
        site,
        send_support,
        accepts_out_of_borough,
        admission_priorities,
        offers,
    })
}

/// Published admission priorities: looked-after children first, as the statutory
/// guidance expects, then some of the others in their usual order.
fn priorities(d: &mut Draw, provider_type: ProviderType) -> String {
    let none = if provider_type.is_home_based() {
        700
    } else {
        400
    };
    if d.chance(none) {
        return String::new();
    }
    let mut list = vec!["looked-after"];
    for (per_mille, priority) in [
        (500, "ehc-plan"),
        (400, "disadvantage"),
        (600, "sibling"),
        (500, "distance"),
    ] {
        if d.chance(per_mille) {
            list.push(priority);
        }
    }
    list.join(";")
}

fn offers(d: &mut Draw, provider_type: ProviderType) -> Vec<Offer> {
    // (bands offered, fewest and most places a band)
    let (bands, places): (Vec<AgeBand>, (i64, i64)) = match provider_type {
        ProviderType::NonDomesticPremises => {
            let mut bands = Vec::new();
            for (per_mille, band) in [
                (800, AgeBand::Under2),
                (900, AgeBand::Two),
                (1000, AgeBand::ThreeToFour),
                (150, AgeBand::SchoolAge),
            ] {
                if d.chance(per_mille) {
                    bands.push(band);
                }
            }
            (bands, (8, 60))
        }
        ProviderType::DomesticPremises => (neighbouring(d, &UNDER_FIVE, 2, 3), (4, 12)),
        ProviderType::Childminder => (neighbouring(d, &ALL_BANDS, 1, 3), (1, 3)),
        ProviderType::HomeChildcarer => (neighbouring(d, &UNDER_FIVE, 1, 2), (1, 3)),
    };
    let term_time = d.chance(250);
    let (days, opens, closes) = if term_time {
        ("Mon-Fri", 9 * 60, 15 * 60)
    } else if provider_type == ProviderType::NonDomesticPremises && d.chance(300) {
        ("Mon-Fri", 7 * 60 + 30, 18 * 60 + 30)
    } else if provider_type == ProviderType::Childminder && d.chance(200) {
        ("Mon-Thu", 8 * 60, 18 * 60)
    } else {
        ("Mon-Fri", 8 * 60, 18 * 60)
    };
    let base_fee = 780 + 5 * d.between(0, 32);
    bands
        .into_iter()
        .map(|band| {
            let capacity = match (band, places) {
                // Nurseries size each room to its age group, within 8–60.
                (AgeBand::Under2, (8, _)) => d.between(8, 24),
                (AgeBand::Two, (8, _)) => d.between(10, 30),
                (AgeBand::SchoolAge, (8, _)) => d.between(10, 40),
                (_, (lo, hi)) => d.between(lo, hi),
            };
            let vacancies = if d.chance(200) {
                0
            } else {
                d.between(0, (capacity * 20 + 99) / 100)
            };
            let (days, opens, closes, term_time_only) = if band == AgeBand::SchoolAge {
                // Wraparound care after school, in term time.
                ("Mon-Fri", 15 * 60, 18 * 60, true)
            } else {
                (days, opens, closes, term_time)
            };
            Offer {
                band,
                days,
                opens,
                closes,
                term_time_only,
                capacity,
                vacancies,
                funded: funded(d, band),
                fee_pence: base_fee + if band == AgeBand::Under2 { 20 } else { 0 },
            }
        })
        .collect()
}

/// `fewest..=most` neighbouring bands of `bands`.
fn neighbouring(d: &mut Draw, bands: &[AgeBand], fewest: i64, most: i64) -> Vec<AgeBand> {
    let count = d.between(fewest, most) as usize;
    let first = d.between(0, (bands.len() - count) as i64) as usize;
    bands[first..first + count].to_vec()
}

/// The funded entitlements delivered on a band's places: only ones the band allows.
fn funded(d: &mut Draw, band: AgeBand) -> Vec<FundedEntitlement> {
    let table: &[(u64, FundedEntitlement)] = match band {
        AgeBand::Under2 => &[(700, FundedEntitlement::WorkingParent)],
        AgeBand::Two => &[
            (850, FundedEntitlement::Disadvantaged2YearOlds),
            (750, FundedEntitlement::WorkingParent),
        ],
        AgeBand::ThreeToFour => &[
            (1000, FundedEntitlement::Universal15Hours),
            (800, FundedEntitlement::WorkingParent),
        ],
        AgeBand::SchoolAge => &[],
    };
    table
        .iter()
        .filter(|(per_mille, _)| d.chance(*per_mille))
        .map(|(_, e)| *e)
        .collect()
}

impl Provider {
    /// Writes the provider's rows, one per offer.
    pub(crate) fn write<W: Write>(&self, out: &mut RowWriter<W>) -> Result<(), Error> {
        for offer in &self.offers {
            let funded: Vec<&str> = offer.funded.iter().map(|f| f.as_str()).collect();
            out.row(&[
                self.local_ref.clone(),
                self.urn.clone().unwrap_or_default(),
                self.name.clone(),
                self.provider_type.as_str().to_string(),
                self.grade.as_str().to_string(),
                self.site.address.clone(),
                self.site.postcode.clone(),
                self.site.lsoa.clone().unwrap_or_default(),
                format!("{:.5}", self.site.lat),
                format!("{:.5}", self.site.long),
                yes_no(self.send_support),
                yes_no(self.accepts_out_of_borough),
                self.admission_priorities.clone(),
                offer.band.as_str().to_string(),
                offer.days.to_string(),
                time_of_day(offer.opens),
                time_of_day(offer.closes),
                yes_no(offer.term_time_only),
                offer.capacity.to_string(),
                offer.vacancies.to_string(),
                funded.join(";"),
                money(offer.fee_pence),
            ])?;
        }
        Ok(())
    }
}

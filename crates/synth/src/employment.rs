//! `employment-participation` rows: the borough's own participants, and a few of
//! the previous borough's participants whom this borough serves too. Each journey
//! runs referral → start → first earnings → job outcome → sustained, as far as it
//! got, with every date in order and none after today. Distributions are in the
//! crate docs.

use std::io::Write;

use borough_model::{EligibilityGroup, Programme};
use time::{Date, Duration};

use crate::draw::{shuffled, Draw, Purpose};
use crate::geo::BoroughGeo;
use crate::people::{self, Person, Typing};
use crate::plan::{date, yes_no, RowWriter};
use crate::Error;

/// How a borough's `records` employment rows divide between its own participants
/// and visitors from the previous borough in the plan.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Split {
    /// The borough's own participants.
    pub(crate) own: usize,
    /// Participants of the previous borough served here too.
    pub(crate) visitors: usize,
}

impl Split {
    /// About one row in twelve is a visitor, when there is a neighbour to visit
    /// from and enough rows to spare one.
    pub(crate) fn of(records: usize, boroughs: usize) -> Split {
        let visitors = if boroughs >= 2 && records >= 2 {
            records.div_ceil(12)
        } else {
            0
        };
        Split {
            own: records - visitors,
            visitors,
        }
    }

    /// Which of the previous borough's participants visitor `j` is: spread evenly
    /// over its own participants (every borough has the same split).
    fn visitor(self, j: usize) -> usize {
        j * self.own / self.visitors + self.own / (2 * self.visitors)
    }
}

/// The borough's participants who are also parents in its childcare requests
/// (see [`people::is_linked_parent`]), in order.
pub(crate) fn linked_parents(
    seed: u64,
    today: Date,
    geo: &BoroughGeo,
    split: Split,
) -> Result<Vec<Person>, Error> {
    (0..split.own)
        .filter(|k| people::is_linked_parent(*k))
        .map(|k| people::participant(seed, today, geo, k))
        .collect()
}

/// Writes a borough's employment rows: its own participants, then (with a
/// previous borough) the visitors from it, in a shuffled order, numbered in that
/// order. `linked` is [`linked_parents`] of the same borough.
pub(crate) fn write<W: Write>(
    seed: u64,
    today: Date,
    geo: &BoroughGeo,
    previous: Option<&BoroughGeo>,
    split: Split,
    linked: &[Person],
    out: &mut RowWriter<W>,
) -> Result<(), Error> {
    let visitors = previous.map_or(0, |_| split.visitors);
    let order = shuffled(seed, geo.gss, Purpose::Journey, split.own + visitors);
    let short = geo.gss.borough().short_code;
    for (n, i) in order.into_iter().enumerate() {
        let local_ref = format!("{short}-EMP-{:05}", n + 1);
        let other;
        let row = match (i.checked_sub(split.own), previous) {
            (None, _) => {
                let k = i;
                let person = match people::linked_position(k).and_then(|p| linked.get(p)) {
                    Some(person) => person,
                    None => {
                        other = people::participant(seed, today, geo, k)?;
                        &other
                    }
                };
                let mut d = Draw::new(seed, geo.gss, Purpose::Journey, k as u64);
                let barrier = people::is_linked_parent(k) || d.chance(90);
                journey(&mut d, local_ref, today, person, barrier)
            }
            (Some(j), Some(previous)) => {
                let person = people::participant(seed, today, previous, split.visitor(j))?;
                let mut d = Draw::new(seed, geo.gss, Purpose::Visit, j as u64);
                let barrier = d.chance(200);
                journey(&mut d, local_ref, today, &person, barrier)
            }
            // Without a previous borough there are no visitors' rows to order.
            (Some(_), None) => continue,
        };
        out.row(&row)?;
    }
    Ok(())
}

/// One participant's row.
fn journey(
    d: &mut Draw,
    local_ref: String,
    today: Date,
    person: &Person,
    barrier: bool,
) -> Vec<String> {
    let typing = d.weighted(&[
        (85, Typing::Normal),
        (10, Typing::Spaced),
        (5, Typing::Lower),
    ]);
    let programme = d.weighted(&[
        (35, Programme::ConnectToWork),
        (30, Programme::Restart),
        (20, Programme::WorkAndHealth),
        (15, Programme::LocalSupport),
    ]);
    let eligibility = d.weighted(&[
        (40, EligibilityGroup::Disability),
        (35, EligibilityGroup::LongTermUnemployed),
        (25, EligibilityGroup::EarlyAccess),
    ]);
    // The gap before each stage reached, in days; the funnel stops at the first
    // stage not reached.
    let mut gaps = Vec::with_capacity(4);
    for (per_mille, shortest, longest) in [
        (700, 7, 60),    // start, after referral
        (300, 21, 150),  // first earnings, after start
        (420, 0, 60),    // job outcome, after first earnings
        (600, 182, 200), // sustained (26 weeks), after job outcome
    ] {
        if !d.chance(per_mille) {
            break;
        }
        gaps.push(d.between(shortest, longest));
    }
    // Lay the journey back from today so the last stage reached is not after it.
    let span: i64 = gaps.iter().sum::<i64>() + d.between(0, 240);
    let referral = today.saturating_sub(Duration::days(span));
    let mut stages = [String::new(), String::new(), String::new(), String::new()];
    let mut at = referral;
    for (stage, gap) in stages.iter_mut().zip(&gaps) {
        at = at.saturating_add(Duration::days(*gap));
        *stage = date(at);
    }
    let [start, first_earnings, job_outcome, sustained] = stages;
    vec![
        local_ref,
        people::typed(&person.ni, typing),
        person.name(),
        date(person.date_of_birth),
        person.sex.as_str().to_string(),
        person.home.postcode.clone(),
        person.home.lsoa.clone().unwrap_or_default(),
        programme.as_str().to_string(),
        eligibility.as_str().to_string(),
        date(referral),
        start,
        first_earnings,
        job_outcome,
        sustained,
        yes_no(barrier),
    ]
}

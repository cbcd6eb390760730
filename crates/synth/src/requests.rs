//! `childcare-requests` rows: families asking for a place in one of the next three
//! terms. Some parents are the borough's own employment participants (linkage);
//! the rest are parents met only here. Distributions are in the crate docs.

use std::io::Write;

use borough_model::{FundedEntitlement, SendNeed, Term};
use time::{Date, Duration};

use crate::draw::{shuffled, Draw, Purpose};
use crate::geo::BoroughGeo;
use crate::people::{self, Person, Typing};
use crate::plan::{date, first_of_month, money, next_terms, time_of_day, yes_no, RowWriter};
use crate::{names, Error};

/// Part-week patterns families ask for.
const PART_WEEK: &[&str] = &["Mon;Wed;Fri", "Tue-Thu", "Mon-Wed", "Thu;Fri"];

/// Writes a borough's request rows: request `i` is for linked parent `i` while
/// there are any (up to `records`), then for parents met only here; the rows are
/// written in a shuffled order, numbered in that order.
pub(crate) fn write<W: Write>(
    seed: u64,
    today: Date,
    geo: &BoroughGeo,
    linked: &[Person],
    urns: &[String],
    records: usize,
    out: &mut RowWriter<W>,
) -> Result<(), Error> {
    let terms = next_terms(today)?;
    let order = shuffled(seed, geo.gss, Purpose::Request, records);
    let short = geo.gss.borough().short_code;
    for (n, i) in order.into_iter().enumerate() {
        let mut d = Draw::new(seed, geo.gss, Purpose::Request, i as u64);
        let met_here;
        let (parent, ni_given) = match linked.get(i) {
            Some(person) => (person, true),
            // Some case systems record a request before they have the NI number.
            None => {
                met_here = people::parent(seed, today, geo, i - linked.len())?;
                (&met_here, !d.chance(80))
            }
        };
        let local_ref = format!("{short}-REQ-{:05}", n + 1);
        out.row(&request(
            &mut d, local_ref, today, &terms, parent, ni_given, urns,
        )?)?;
    }
    Ok(())
}

/// One request's row.
fn request(
    d: &mut Draw,
    local_ref: String,
    today: Date,
    terms: &[Term; 3],
    parent: &Person,
    ni_given: bool,
    urns: &[String],
) -> Result<Vec<String>, Error> {
    let typing = d.weighted(&[
        (60, Typing::Normal),
        (20, Typing::Lower),
        (20, Typing::Spaced),
    ]);
    let ni = if ni_given {
        people::typed(&parent.ni, typing)
    } else {
        String::new()
    };
    let term = terms[d.weighted(&[(30, 0), (45, 1), (25, 2)])];
    let start = term.starts_on();
    // A child must be born by today; a term a year away needs an older child.
    let months_ahead = months_from(today, start);
    let youngest = months_ahead.max(6);
    let age = d.between(youngest, youngest.max(50));
    let born = first_of_month(start, -age)?.saturating_sub(Duration::days(d.between(0, 27)));
    let (days, opens, closes, term_time_only) = match d.below(10) {
        0..=5 => ("Mon-Fri", 8 * 60, 18 * 60, false),
        6..=7 => ("Mon-Fri", 9 * 60, 15 * 60, true),
        _ => (*d.pick(PART_WEEK), 8 * 60, 18 * 60, false),
    };
    let entitlement = entitlement(d, age);
    let hmrc_code = if entitlement == Some(FundedEntitlement::WorkingParent) && d.chance(850) {
        let digits: String = (0..10).map(|_| d.between(0, 9).to_string()).collect();
        format!("5{digits}")
    } else {
        String::new()
    };
    let send_need = d.weighted(&[
        (870, SendNeed::None),
        (100, SendNeed::Support),
        (30, SendNeed::EhcPlan),
    ]);
    let disadvantaged = entitlement == Some(FundedEntitlement::Disadvantaged2YearOlds);
    // In the order the model's PriorityFlags prints them.
    let priorities: Vec<&str> = [
        (d.chance(20), "looked-after"),
        (send_need == SendNeed::EhcPlan && d.chance(500), "ehc-plan"),
        (
            d.chance(if disadvantaged { 600 } else { 50 }),
            "disadvantage",
        ),
        (d.chance(80), "sibling"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, p)| p)
    .collect();
    let wanted = d
        .weighted(&[(25, 0), (30, 1), (25, 2), (20, 3)])
        .min(urns.len());
    let mut preferences: Vec<&str> = Vec::with_capacity(wanted);
    while preferences.len() < wanted {
        let urn = d.pick(urns).as_str();
        if !preferences.contains(&urn) {
            preferences.push(urn);
        }
    }
    let max_distance = if d.chance(400) {
        let half_km = d.between(2, 10);
        format!("{}.{}", half_km / 2, if half_km % 2 == 1 { 5 } else { 0 })
    } else {
        String::new()
    };
    let max_fee = if d.chance(350) {
        money(800 + 25 * d.between(0, 8))
    } else {
        String::new()
    };
    let geocoded = d.chance(600);
    let home = &parent.home;
    let coordinate = |v: f64| {
        if geocoded {
            format!("{v:.5}")
        } else {
            String::new()
        }
    };
    // Up to 120 days ago, but not before the child was born.
    let since_birth = (today - born).whole_days();
    let request_date = today.saturating_sub(Duration::days(d.between(0, since_birth.min(120))));
    Ok(vec![
        local_ref,
        ni,
        parent.name(),
        format!("{} {}", d.pick(names::ANY), parent.surname),
        date(born),
        home.address.clone(),
        home.postcode.clone(),
        home.lsoa.clone().unwrap_or_default(),
        coordinate(home.lat),
        coordinate(home.long),
        date(request_date),
        term.to_string(),
        days.to_string(),
        time_of_day(opens),
        time_of_day(closes),
        yes_no(term_time_only),
        entitlement
            .map(|e| e.as_str().to_string())
            .unwrap_or_default(),
        hmrc_code,
        send_need.as_str().to_string(),
        priorities.join(";"),
        preferences.join(";"),
        max_distance,
        max_fee,
    ])
}

/// Whole calendar months from `today`'s month to `start`'s month.
fn months_from(today: Date, start: Date) -> i64 {
    let index = |d: Date| i64::from(d.year()) * 12 + i64::from(u8::from(d.month()));
    index(start) - index(today)
}

/// The entitlement claimed, if any: half of the children old enough claim one
/// their age allows (ages in months at the start of the term).
fn entitlement(d: &mut Draw, age: i64) -> Option<FundedEntitlement> {
    if age < 9 || !d.chance(500) {
        return None;
    }
    Some(match age {
        36.. if d.chance(500) => FundedEntitlement::Universal15Hours,
        24..=35 if d.chance(350) => FundedEntitlement::Disadvantaged2YearOlds,
        _ => FundedEntitlement::WorkingParent,
    })
}

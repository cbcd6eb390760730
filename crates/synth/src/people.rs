//! Synthetic people: an NI number that is well-formed but conspicuously invented,
//! a name, a date of birth and a home. A person is a pure function of (seed,
//! borough, kind, index), so the borough next door can regenerate the very same
//! person to serve them too.

use borough_model::{Borough, GssCode, Sex};
use time::{Date, Duration};

use crate::draw::{Draw, Purpose};
use crate::geo::{BoroughGeo, Site};
use crate::names;
use crate::Error;

/// NI prefix of employment participants: valid, and not one a real person is
/// likely to hold.
const PARTICIPANT_PREFIX: &str = "ZX";
/// NI prefix of parents who appear only in a childcare request.
const PARENT_PREFIX: &str = "ZY";

/// One generated person.
#[derive(Clone)]
pub(crate) struct Person {
    /// NI number in normal form, `ZX090003A`.
    pub(crate) ni: String,
    pub(crate) given: &'static str,
    pub(crate) surname: &'static str,
    pub(crate) sex: Sex,
    pub(crate) date_of_birth: Date,
    pub(crate) home: Site,
}

impl Person {
    /// The person's full name, as a case system holds it.
    pub(crate) fn name(&self) -> String {
        format!("{} {}", self.given, self.surname)
    }
}

/// Whether participant `k` of a borough is also a parent in one of its childcare
/// requests: every eighth, so even a handful of records has one.
pub(crate) fn is_linked_parent(k: usize) -> bool {
    k % 8 == 3
}

/// The borough's position in the reference list: two digits of its NI numbers.
pub(crate) fn borough_slot(gss: GssCode) -> usize {
    Borough::all()
        .iter()
        .position(|b| b.gss == gss)
        .unwrap_or_default()
}

/// Employment participant `k` of the borough `geo` describes.
pub(crate) fn participant(
    seed: u64,
    today: Date,
    geo: &BoroughGeo,
    k: usize,
) -> Result<Person, Error> {
    let mut d = Draw::new(seed, geo.gss, Purpose::Participant, k as u64);
    let sex = d.weighted(&[(480, Sex::Female), (460, Sex::Male), (60, Sex::NotKnown)]);
    let years = if is_linked_parent(k) {
        d.between(20, 44)
    } else {
        let (lo, hi) = d.weighted(&[
            (30, (20, 24)),
            (30, (25, 34)),
            (27, (35, 49)),
            (13, (50, 64)),
        ]);
        d.between(lo, hi)
    };
    person(&mut d, PARTICIPANT_PREFIX, geo, k, sex, today, years)
}

/// Parent `j` of the borough's requests who is not an employment participant.
pub(crate) fn parent(seed: u64, today: Date, geo: &BoroughGeo, j: usize) -> Result<Person, Error> {
    let mut d = Draw::new(seed, geo.gss, Purpose::Parent, j as u64);
    let sex = d.weighted(&[(700, Sex::Female), (260, Sex::Male), (40, Sex::NotKnown)]);
    let years = d.between(19, 46);
    person(&mut d, PARENT_PREFIX, geo, j, sex, today, years)
}

fn person(
    d: &mut Draw,
    prefix: &str,
    geo: &BoroughGeo,
    number: usize,
    sex: Sex,
    today: Date,
    years: i64,
) -> Result<Person, Error> {
    let suffix = *d.pick(&['A', 'B', 'C', 'D']);
    let ni = format!("{prefix}{:02}{:04}{suffix}", borough_slot(geo.gss), number);
    let given = *d.pick(match sex {
        Sex::Female => names::FEMALE,
        Sex::Male => names::MALE,
        Sex::NotKnown => names::ANY,
    });
    let surname = *d.pick(names::SURNAMES);
    let days = years * 365 + years / 4 + d.between(0, 364);
    let date_of_birth = today.saturating_sub(Duration::days(days));
    let home = geo.home(d)?;
    Ok(Person {
        ni,
        given,
        surname,
        sex,
        date_of_birth,
        home,
    })
}

/// How a case system happened to type an NI number.
#[derive(Clone, Copy)]
pub(crate) enum Typing {
    /// `ZX090003A`.
    Normal,
    /// `ZX 09 00 03 A`.
    Spaced,
    /// `zx090003a`.
    Lower,
}

/// `ni` (in normal form) as typed.
pub(crate) fn typed(ni: &str, typing: Typing) -> String {
    match typing {
        Typing::Normal => ni.to_string(),
        Typing::Lower => ni.to_ascii_lowercase(),
        Typing::Spaced => {
            let (letters, rest) = ni.split_at(2);
            let (digits, suffix) = rest.split_at(6);
            format!(
                "{letters} {} {} {} {suffix}",
                &digits[..2],
                &digits[2..4],
                &digits[4..]
            )
        }
    }
}

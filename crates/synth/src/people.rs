//! Synthetic people: an NI number that is well-formed but invented,
//! a name, a date of birth and a home. A person is a pure function of (seed,
//! borough, kind, index), so the borough next door can regenerate the very same
//! person to serve them too.

use borough_model::{Borough, GssCode, Sex};
use time::{Date, Duration};

use crate::draw::{Draw, Purpose};
use crate::geo::{BoroughGeo, Site};
use crate::names;
use crate::Error;

/// People one NI prefix numbers within a borough: the last four digits.
const PER_PREFIX: usize = 10_000;

/// NI prefixes of employment participants: participant `k` of a borough has
/// prefix `k / 10,000`, so the first 10,000 have `ZX`, as they always had. With
/// [`PARENT_PREFIXES`], these are the first 200 prefixes `NiNumber::parse` accepts
/// counted down from `ZZ` (first letters Z, Y, X, W, T …, then second letters Z,
/// Y, X, W, T …), parents taking the 1st, 3rd, 5th … and participants the 2nd,
/// 4th, 6th …: well-formed, from the unusual end of the alphabet, and never shared
/// between the two lists.
pub(crate) const PARTICIPANT_PREFIXES: [&str; 100] = [
    "ZX", "ZT", "ZR", "ZN", "ZL", "ZJ", "ZG", "ZC", "ZA", "YY", "YW", "YS", "YP", "YM", "YK", "YH",
    "YE", "YB", "XZ", "XX", "XT", "XR", "XN", "XL", "XJ", "XG", "XC", "XA", "WY", "WW", "WS", "WP",
    "WM", "WK", "WH", "WE", "WB", "TZ", "TX", "TT", "TR", "TM", "TK", "TH", "TE", "TB", "SZ", "SX",
    "ST", "SR", "SN", "SL", "SJ", "SG", "SC", "SA", "RY", "RW", "RS", "RP", "RM", "RK", "RH", "RE",
    "RB", "PZ", "PX", "PT", "PR", "PN", "PL", "PJ", "PG", "PC", "PA", "OY", "OW", "OS", "OP", "OM",
    "OK", "OH", "OE", "OB", "NZ", "NX", "NS", "NP", "NM", "NJ", "NG", "NC", "NA", "MY", "MW", "MS",
    "MP", "MM", "MK", "MH",
];

/// NI prefixes of parents who appear only in a childcare request, numbered as
/// [`PARTICIPANT_PREFIXES`]: the first 10,000 have `ZY`.
pub(crate) const PARENT_PREFIXES: [&str; 100] = [
    "ZY", "ZW", "ZS", "ZP", "ZM", "ZK", "ZH", "ZE", "ZB", "YZ", "YX", "YT", "YR", "YN", "YL", "YJ",
    "YG", "YC", "YA", "XY", "XW", "XS", "XP", "XM", "XK", "XH", "XE", "XB", "WZ", "WX", "WT", "WR",
    "WN", "WL", "WJ", "WG", "WC", "WA", "TY", "TW", "TS", "TP", "TL", "TJ", "TG", "TC", "TA", "SY",
    "SW", "SS", "SP", "SM", "SK", "SH", "SE", "SB", "RZ", "RX", "RT", "RR", "RN", "RL", "RJ", "RG",
    "RC", "RA", "PY", "PW", "PS", "PP", "PM", "PK", "PH", "PE", "PB", "OZ", "OX", "OT", "OR", "ON",
    "OL", "OJ", "OG", "OC", "OA", "NY", "NW", "NR", "NN", "NL", "NH", "NE", "NB", "MZ", "MX", "MT",
    "MR", "MN", "ML", "MJ",
];

// Every person a plan can ask for has a prefix.
const _: () = assert!(PARTICIPANT_PREFIXES.len() * PER_PREFIX >= crate::MAX_RECORDS);
const _: () = assert!(PARENT_PREFIXES.len() * PER_PREFIX >= crate::MAX_RECORDS);

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

/// Where participant `k`, if a linked parent, comes among the borough's linked
/// parents in order.
pub(crate) fn linked_position(k: usize) -> Option<usize> {
    is_linked_parent(k).then_some(k / 8)
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
    person(&mut d, &PARTICIPANT_PREFIXES, geo, k, sex, today, years)
}

/// Parent `j` of the borough's requests who is not an employment participant.
pub(crate) fn parent(seed: u64, today: Date, geo: &BoroughGeo, j: usize) -> Result<Person, Error> {
    let mut d = Draw::new(seed, geo.gss, Purpose::Parent, j as u64);
    let sex = d.weighted(&[(700, Sex::Female), (260, Sex::Male), (40, Sex::NotKnown)]);
    let years = d.between(19, 46);
    person(&mut d, &PARENT_PREFIXES, geo, j, sex, today, years)
}

/// Person `number` of a borough, with an NI number from `prefixes`: the prefix of
/// the number's block of 10,000, the borough's two-digit slot, the number's last
/// four digits and a suffix. `number` is below [`MAX_RECORDS`](crate::MAX_RECORDS),
/// which the plan's check ensures, so it always has a prefix.
fn person(
    d: &mut Draw,
    prefixes: &[&str; 100],
    geo: &BoroughGeo,
    number: usize,
    sex: Sex,
    today: Date,
    years: i64,
) -> Result<Person, Error> {
    let suffix = *d.pick(&['A', 'B', 'C', 'D']);
    let prefix = prefixes[number / PER_PREFIX];
    let ni = format!(
        "{prefix}{:02}{:04}{suffix}",
        borough_slot(geo.gss),
        number % PER_PREFIX
    );
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

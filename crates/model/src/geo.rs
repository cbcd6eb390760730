//! Reference geography: postcodes, postcode sectors and districts, 2011 LSOAs, and
//! the one rule for deciding which borough a home or a provider is in — from the
//! full postcode or the LSOA, never from the postcode district, because districts
//! cross borough lines (SE26 is in Lewisham, Southwark and Bromley).
//!
//! The lookups are built once from CSVs compiled into the crate:
//! `data/london_lsoa_borough.csv` (mySociety, CC BY 4.0) and
//! `data/lewisham_postcodes.csv` (Lewisham Council, OGL v3).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use crate::columns::{LSOA, POSTCODE};
use crate::invalid::Checks;
use crate::text::given;
use crate::{GssCode, Invalid};

const LSOA_CSV: &str = include_str!("../data/london_lsoa_borough.csv");
const POSTCODE_CSV: &str = include_str!("../data/lewisham_postcodes.csv");

/// A full UK postcode in its normal form: upper case, one space before the
/// three-character inward part (`SE26 9EY`). A postcode can narrow a home down to
/// a handful of addresses, so it is never shared or printed: `Debug` shows only
/// its sector and there is no `Display`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Postcode(String);

impl Postcode {
    /// Normalises and checks a postcode: whitespace anywhere is dropped and letters
    /// upper-cased (`se269ey`, ` SE26  9EY ` → `SE26 9EY`), then the outward part
    /// must be one or two letters, a digit and an optional digit or letter, and the
    /// inward part a digit and two letters. Errors say what is wrong, never the value.
    pub fn parse(s: &str) -> Result<Postcode, Invalid> {
        let compact: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let problem = if compact.is_empty() {
            "is empty".to_string()
        } else if !compact.bytes().all(|b| b.is_ascii_alphanumeric()) {
            "may hold only letters, digits and spaces".to_string()
        } else if !(5..=7).contains(&compact.len()) {
            format!(
                "has {} letters and digits; a UK postcode has 5 to 7",
                compact.len()
            )
        } else {
            let (outward, inward) = compact.split_at(compact.len() - 3);
            if !is_outward(outward) {
                "the outward part (before the space) must be one or two letters, a digit, \
                 then an optional digit or letter, as in SE6, SE26 or N1C"
                    .to_string()
            } else if !is_inward(inward) {
                "the inward part (the last three characters) must be a digit then two \
                 letters, as in 9EY"
                    .to_string()
            } else {
                return Ok(Postcode(format!("{outward} {inward}")));
            }
        };
        Err(Invalid::field("", problem))
    }

    /// The normal form, `SE26 9EY`. Identifiable: never log or share it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn outward(&self) -> &str {
        &self.0[..self.0.len() - 4]
    }

    /// The postcode sector, `SE26 9`: the finest postcode geography ever shared.
    pub fn sector(&self) -> PostcodeSector {
        PostcodeSector(self.0[..self.0.len() - 2].to_string())
    }

    /// The postcode district, `SE26`. Districts cross borough lines, so a district
    /// never decides a borough.
    pub fn district(&self) -> PostcodeDistrict {
        PostcodeDistrict(self.outward().to_string())
    }
}

impl fmt::Debug for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Postcode({} <redacted>)", self.sector())
    }
}

impl FromStr for Postcode {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Postcode::parse(s)
    }
}

fn is_outward(b: &str) -> bool {
    let b = b.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    if !(1..=2).contains(&letters) {
        return false;
    }
    match &b[letters..] {
        [d] => d.is_ascii_digit(),
        [d, x] => d.is_ascii_digit() && (x.is_ascii_digit() || x.is_ascii_uppercase()),
        _ => false,
    }
}

fn is_inward(b: &str) -> bool {
    matches!(b.as_bytes(), [d, x, y] if d.is_ascii_digit() && x.is_ascii_uppercase() && y.is_ascii_uppercase())
}

/// A postcode sector, `SE26 9`: the outward part and the inward digit. It covers
/// a few thousand addresses, so it may be shared.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PostcodeSector(String);

impl PostcodeSector {
    /// Parses a sector written as `SE26 9`: the outward part, whitespace and the
    /// sector digit, in any case. The space is required: `SE269` could be
    /// `SE26 9` or a typo for a district.
    pub fn parse(s: &str) -> Result<PostcodeSector, Invalid> {
        let upper = s.to_ascii_uppercase();
        let parts: Vec<&str> = upper.split_whitespace().collect();
        match parts[..] {
            [outward, digit]
                if is_outward(outward)
                    && digit.len() == 1
                    && digit.as_bytes()[0].is_ascii_digit() =>
            {
                Ok(PostcodeSector(format!("{outward} {digit}")))
            }
            _ => Err(Invalid::field(
                "",
                "must be a postcode sector: the outward part, a space and one digit, as in SE26 9",
            )),
        }
    }

    /// The sector as text, `SE26 9`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PostcodeSector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PostcodeSector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostcodeSector({})", self.0)
    }
}

impl FromStr for PostcodeSector {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        PostcodeSector::parse(s)
    }
}

/// A postcode district, `SE26`: the outward part of a postcode.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PostcodeDistrict(String);

impl PostcodeDistrict {
    /// The district as text, `SE26`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PostcodeDistrict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PostcodeDistrict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostcodeDistrict({})", self.0)
    }
}

/// A 2011 Lower-layer Super Output Area in England (`E01` and six digits): about
/// 1,500 residents.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lsoa(u32);

impl Lsoa {
    /// Parses `E01003313` (surrounding spaces and a lower-case `e` accepted).
    pub fn parse(s: &str) -> Result<Lsoa, Invalid> {
        let s = s.trim();
        s.get(..3)
            .filter(|p| p.eq_ignore_ascii_case("E01"))
            .and_then(|_| s.get(3..))
            .filter(|d| d.len() == 6 && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse().ok())
            .map(Lsoa)
            .ok_or_else(|| {
                Invalid::field(
                    "",
                    "must be a 2011 LSOA code: E01 and six digits, as in E01003313",
                )
            })
    }
}

impl fmt::Display for Lsoa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E01{:06}", self.0)
    }
}

impl fmt::Debug for Lsoa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Lsoa({self})")
    }
}

impl FromStr for Lsoa {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Lsoa::parse(s)
    }
}

/// What the postcode lookup knows about one postcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostcodePlace {
    /// The 2011 LSOA the postcode lies in.
    pub lsoa: Lsoa,
    /// The borough the postcode lies in.
    pub borough: GssCode,
    /// The postcode is no longer live (Royal Mail has retired it). Flagged, not
    /// refused: people keep using old postcodes for years.
    pub terminated: bool,
}

/// Where a home or a provider is, as decided by [`Geography::place_home`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomePlace {
    /// The borough, decided from the full postcode or the LSOA.
    pub borough: GssCode,
    /// The LSOA: the one given if any, else the postcode's.
    pub lsoa: Lsoa,
    /// The postcode sector (shareable).
    pub sector: PostcodeSector,
    /// The postcode is no longer live; worth telling whoever sent it.
    pub terminated: bool,
}

/// The bundled reference geography: every London LSOA's borough and every
/// Lewisham postcode's LSOA and borough.
#[derive(Debug)]
pub struct Geography {
    postcodes: BTreeMap<Postcode, PostcodePlace>,
    lsoas: BTreeMap<Lsoa, GssCode>,
}

impl Geography {
    /// The geography built from the CSVs compiled into this crate (once).
    pub fn bundled() -> &'static Geography {
        static BUNDLED: OnceLock<Geography> = OnceLock::new();
        BUNDLED.get_or_init(|| Geography {
            postcodes: parse_postcodes(),
            lsoas: parse_lsoas(),
        })
    }

    /// What the lookup knows about a full postcode, if it lists it. Only Lewisham
    /// publishes an open postcode lookup, so other boroughs' postcodes are absent.
    pub fn postcode_lookup(&self, postcode: &Postcode) -> Option<PostcodePlace> {
        self.postcodes.get(postcode).copied()
    }

    /// The borough an LSOA lies in, if it is a London LSOA.
    pub fn lsoa_borough(&self, lsoa: &Lsoa) -> Option<GssCode> {
        self.lsoas.get(lsoa).copied()
    }

    /// Every LSOA of one borough, in code order (for generating synthetic records).
    pub fn lsoas_in(&self, borough: GssCode) -> Vec<Lsoa> {
        self.lsoas
            .iter()
            .filter(|(_, b)| **b == borough)
            .map(|(l, _)| *l)
            .collect()
    }

    /// Every listed postcode with what the lookup knows, in postcode order.
    pub fn postcodes(&self) -> impl Iterator<Item = (&Postcode, PostcodePlace)> + '_ {
        self.postcodes.iter().map(|(p, place)| (p, *place))
    }

    /// Decides where a home (or provider) is: from the full postcode if the lookup
    /// lists it, else from the LSOA — never from the postcode district. Fails,
    /// naming `postcode`, when neither decides; naming `lsoa` when the LSOA is not
    /// a London LSOA or lies in another borough than the postcode.
    pub fn place_home(
        &self,
        postcode: &Postcode,
        lsoa: Option<Lsoa>,
    ) -> Result<HomePlace, Invalid> {
        let given = match lsoa {
            None => None,
            Some(l) => Some((
                l,
                self.lsoa_borough(&l).ok_or_else(|| {
                    Invalid::field(LSOA, "is not a London LSOA in the bundled 2011 LSOA list")
                })?,
            )),
        };
        let (borough, lsoa, terminated) = match (self.postcode_lookup(postcode), given) {
            (Some(found), Some((lsoa, lsoa_borough))) => {
                if lsoa_borough != found.borough {
                    return Err(Invalid::field(
                        LSOA,
                        format!(
                            "lies in {} but the postcode lies in {}",
                            lsoa_borough.name(),
                            found.borough.name()
                        ),
                    ));
                }
                // The borough system's LSOA usually comes from the address, finer
                // than a postcode's best-fit LSOA, so it is kept when they agree.
                (found.borough, lsoa, found.terminated)
            }
            (Some(found), None) => (found.borough, found.lsoa, found.terminated),
            (None, Some((lsoa, borough))) => (borough, lsoa, false),
            (None, None) => {
                return Err(Invalid::field(
                    POSTCODE,
                    format!(
                        "is not in the bundled postcode lookup and no lsoa was given; the \
                         borough cannot be decided from the district {} alone, because \
                         districts cross borough lines",
                        postcode.district()
                    ),
                ))
            }
        };
        Ok(HomePlace {
            borough,
            lsoa,
            sector: postcode.sector(),
            terminated,
        })
    }
}

/// Parses an input's `postcode` and `lsoa` columns and places the home, recording
/// every failure under its column; `None` if it could not be placed.
pub(crate) fn place_columns(
    c: &mut Checks,
    postcode: &str,
    lsoa: &Option<String>,
) -> Option<HomePlace> {
    let postcode = c.take(Postcode::parse(postcode), POSTCODE);
    let lsoa = match given(lsoa) {
        Some(s) => c.take(Lsoa::parse(s), LSOA).map(Some),
        None => Some(None),
    };
    let (postcode, lsoa) = (postcode?, lsoa?);
    c.take(Geography::bundled().place_home(&postcode, lsoa), "")
}

/// The bundled files are part of the source tree and checked by unit tests, so a
/// malformed row is a build defect rather than input.
fn rows(csv: &'static str, columns: usize) -> impl Iterator<Item = Vec<&'static str>> {
    csv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(move |line| {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), columns, "malformed bundled geography row: {line}");
            f
        })
}

fn bundled<T>(result: Result<T, Invalid>, line: &[&str]) -> T {
    result.unwrap_or_else(|e| panic!("malformed bundled geography row {line:?}: {e}"))
}

fn parse_lsoas() -> BTreeMap<Lsoa, GssCode> {
    rows(LSOA_CSV, 2)
        .map(|f| {
            (
                bundled(Lsoa::parse(f[0]), &f),
                bundled(GssCode::parse(f[1]), &f),
            )
        })
        .collect()
}

fn parse_postcodes() -> BTreeMap<Postcode, PostcodePlace> {
    rows(POSTCODE_CSV, 4)
        .map(|f| {
            let place = PostcodePlace {
                lsoa: bundled(Lsoa::parse(f[2]), &f),
                borough: bundled(GssCode::parse(f[3]), &f),
                terminated: !f[1].trim().is_empty(),
            };
            (bundled(Postcode::parse(f[0]), &f), place)
        })
        .collect()
}

#[cfg(test)]
mod tests;

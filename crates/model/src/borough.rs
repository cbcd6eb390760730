//! London boroughs and their GSS codes, from the bundled reference list
//! (`data/london_boroughs.csv`, mySociety, CC BY 4.0).

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use crate::Invalid;

const BOROUGHS_CSV: &str = include_str!("../data/london_boroughs.csv");

/// The sub-regional partnership a borough belongs to: the usual circles of sharing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubRegion {
    /// Central London Forward (12 boroughs).
    CentralLondonForward,
    /// Local London (9 boroughs).
    LocalLondon,
    /// South London Partnership (5 boroughs).
    SouthLondonPartnership,
    /// West London (7 boroughs).
    WestLondon,
}

impl SubRegion {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "central-london-forward" => SubRegion::CentralLondonForward,
            "local-london" => SubRegion::LocalLondon,
            "south-london-partnership" => SubRegion::SouthLondonPartnership,
            "west-london" => SubRegion::WestLondon,
            _ => return None,
        })
    }
}

/// One London borough as the reference list describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Borough {
    /// The ONS GSS code (`E09…`).
    pub gss: GssCode,
    /// Three-letter code used by mySociety (`LBH`).
    pub short_code: &'static str,
    /// The borough's name as people write it.
    pub name: &'static str,
    /// DfE three-digit local-authority code, used in DfE open-data output.
    pub dfe_la_code: u16,
    /// Mid-2020 population estimate.
    pub population: u32,
    /// Centroid latitude.
    pub lat: f64,
    /// Centroid longitude.
    pub long: f64,
    /// Sub-regional partnership.
    pub sub_region: SubRegion,
}

impl Borough {
    /// All 33 London boroughs, in the order of the reference list.
    pub fn all() -> &'static [Borough] {
        static ALL: OnceLock<Vec<Borough>> = OnceLock::new();
        ALL.get_or_init(parse_reference_list)
    }

    /// The borough with this GSS code.
    pub fn by_gss(gss: GssCode) -> &'static Borough {
        Borough::all()
            .iter()
            .find(|b| b.gss == gss)
            // A GssCode can only be built for a code in this list.
            .expect("GssCode is always a listed borough")
    }
}

/// The bundled list is part of the source tree and checked by a unit test, so a
/// malformed row is a build defect rather than input.
fn parse_reference_list() -> Vec<Borough> {
    BOROUGHS_CSV
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&'static str> = line.split(',').collect();
            let bad = || -> ! { panic!("malformed bundled borough row: {line}") };
            if f.len() != 8 {
                bad();
            }
            Borough {
                gss: GssCode(gss_digits(f[2]).unwrap_or_else(|| bad())),
                short_code: f[0],
                name: f[1],
                dfe_la_code: f[3].parse().unwrap_or_else(|_| bad()),
                population: f[4].parse().unwrap_or_else(|_| bad()),
                lat: f[5].parse().unwrap_or_else(|_| bad()),
                long: f[6].parse().unwrap_or_else(|_| bad()),
                sub_region: SubRegion::parse(f[7]).unwrap_or_else(|| bad()),
            }
        })
        .collect()
}

fn gss_digits(s: &str) -> Option<u32> {
    let digits = s.strip_prefix("E09")?;
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The GSS code of a London borough (`E09000022` is Lambeth). Only the 33 listed
/// codes can be represented, so holding one means the borough exists.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GssCode(u32);

impl GssCode {
    /// Parses and checks a code against the London borough list.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        let code = gss_digits(s).map(GssCode).ok_or_else(|| {
            Invalid::field("", format!("`{s}` is not a GSS code of the form E09NNNNNN"))
        })?;
        if Borough::all().iter().any(|b| b.gss == code) {
            Ok(code)
        } else {
            Err(Invalid::field(
                "",
                format!("`{s}` is not the GSS code of a London borough"),
            ))
        }
    }

    /// The borough this code names.
    pub fn borough(self) -> &'static Borough {
        Borough::by_gss(self)
    }

    /// The borough's name.
    pub fn name(self) -> &'static str {
        self.borough().name
    }
}

impl fmt::Display for GssCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E09{:06}", self.0)
    }
}

impl fmt::Debug for GssCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl FromStr for GssCode {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GssCode::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_list_has_the_33_london_boroughs() {
        assert_eq!(Borough::all().len(), 33);
        let lambeth = GssCode::parse("E09000022").unwrap();
        assert_eq!(lambeth.name(), "Lambeth");
        assert_eq!(lambeth.borough().dfe_la_code, 208);
    }

    #[test]
    fn gss_code_round_trips_through_text() {
        for b in Borough::all() {
            assert_eq!(GssCode::parse(&b.gss.to_string()).unwrap(), b.gss);
        }
    }

    #[test]
    fn codes_outside_london_or_malformed_are_refused() {
        for bad in [
            "E09000034",
            "E08000001",
            "E0900002",
            "lambeth",
            "",
            "E09000022x",
        ] {
            let err = GssCode::parse(bad).unwrap_err();
            assert!(err.to_string().contains(bad), "{err}");
        }
    }
}

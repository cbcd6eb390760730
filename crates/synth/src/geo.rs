//! Where generated homes and providers are: a postcode (and, outside the postcode
//! lookup, an LSOA) that the model's geography rule places in the intended
//! borough, and coordinates near the borough's centroid.

use std::collections::BTreeSet;

use borough_model::{Geography, GssCode, Lsoa, Postcode, PostcodePlace};

use crate::draw::Draw;
use crate::Error;

/// Each borough's main postcode districts, for synthesising postcodes where there
/// is no open postcode lookup. Districts cross borough lines, which is the point:
/// the LSOA given with each synthetic postcode is what places it.
const DISTRICTS: &[(&str, &[&str])] = &[
    ("E09000001", &["EC1A", "EC2M", "EC2V", "EC3V", "EC4M"]),
    ("E09000002", &["IG11", "RM8", "RM9", "RM10"]),
    ("E09000003", &["N3", "N12", "N20", "NW4", "NW7", "EN5"]),
    ("E09000004", &["DA5", "DA6", "DA7", "DA14", "DA15"]),
    ("E09000005", &["NW2", "NW6", "NW10", "HA0", "HA9"]),
    (
        "E09000006",
        &["BR1", "BR2", "BR3", "BR5", "BR6", "SE20", "SE26"],
    ),
    ("E09000007", &["NW1", "NW3", "NW5", "WC1N"]),
    ("E09000008", &["CR0", "CR2", "CR7", "SE25"]),
    ("E09000009", &["W3", "W5", "W13", "UB1", "UB6"]),
    ("E09000010", &["EN1", "EN2", "EN3", "N9", "N13"]),
    ("E09000011", &["SE3", "SE7", "SE9", "SE10", "SE18", "SE28"]),
    ("E09000012", &["E5", "E8", "E9", "N16"]),
    ("E09000013", &["W6", "W12", "W14", "SW6"]),
    ("E09000014", &["N4", "N8", "N15", "N17", "N22"]),
    ("E09000015", &["HA1", "HA2", "HA3", "HA5"]),
    ("E09000016", &["RM1", "RM3", "RM7", "RM11", "RM12"]),
    ("E09000017", &["UB3", "UB4", "UB8", "UB10", "HA4"]),
    ("E09000018", &["TW3", "TW4", "TW5", "TW7", "W4"]),
    ("E09000019", &["N1", "N5", "N7", "N19", "EC1V"]),
    ("E09000020", &["SW3", "SW5", "SW7", "W8", "W10", "W11"]),
    ("E09000021", &["KT1", "KT2", "KT3", "KT6"]),
    (
        "E09000022",
        &["SE11", "SE24", "SE27", "SW2", "SW4", "SW8", "SW9", "SW16"],
    ),
    (
        "E09000023",
        &["SE4", "SE6", "SE8", "SE12", "SE13", "SE14", "SE23", "SE26"],
    ),
    ("E09000024", &["SW19", "SW20", "CR4", "SM4"]),
    ("E09000025", &["E6", "E7", "E12", "E13", "E15", "E16"]),
    ("E09000026", &["IG1", "IG2", "IG3", "IG4", "IG6"]),
    ("E09000027", &["TW1", "TW2", "TW9", "TW10", "SW14"]),
    (
        "E09000028",
        &["SE1", "SE5", "SE15", "SE16", "SE17", "SE22", "SE26"],
    ),
    ("E09000029", &["SM1", "SM2", "SM3", "SM5"]),
    ("E09000030", &["E1", "E2", "E3", "E14"]),
    ("E09000031", &["E4", "E10", "E17"]),
    ("E09000032", &["SW11", "SW12", "SW15", "SW17", "SW18"]),
    ("E09000033", &["W2", "W9", "NW8", "SW1P", "SW1V"]),
];

/// Letters Royal Mail uses in the inward part of a postcode (never C, I, K, M, O, V).
const INWARD_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";

/// Half the width of the box around a centroid that points are drawn from, in
/// degrees: about 1.3 km north–south and 1.2 km east–west.
const LAT_SPREAD: f64 = 0.012;
const LONG_SPREAD: f64 = 0.018;

/// A postcode from the bundled lookup.
type Listed = (&'static Postcode, PostcodePlace);

/// How a borough's postcodes are drawn.
enum Source {
    /// From the bundled lookup (Lewisham): real postcodes.
    Listed {
        live: Vec<Listed>,
        /// Live postcodes in districts that other boroughs share.
        shared: Vec<Listed>,
        terminated: Vec<Listed>,
    },
    /// Synthesised in the borough's real districts, placed by one of its LSOAs.
    Synthetic {
        districts: &'static [&'static str],
        lsoas: Vec<Lsoa>,
    },
}

/// One borough's geography, as generation needs it.
pub(crate) struct BoroughGeo {
    /// The borough.
    pub(crate) gss: GssCode,
    centroid: (f64, f64),
    source: Source,
}

/// A generated home or premises: the identifiable location columns.
#[derive(Clone)]
pub(crate) struct Site {
    pub(crate) address: String,
    pub(crate) postcode: String,
    pub(crate) lsoa: Option<String>,
    pub(crate) lat: f64,
    pub(crate) long: f64,
}

/// The districts listed for `gss` in the synthetic-postcode table.
fn districts_of(gss: GssCode) -> Option<&'static [&'static str]> {
    let code = gss.to_string();
    DISTRICTS
        .iter()
        .find(|(g, _)| *g == code)
        .map(|(_, districts)| *districts)
}

impl BoroughGeo {
    /// Builds a borough's geography from the bundled lookups.
    pub(crate) fn new(gss: GssCode) -> Result<BoroughGeo, Error> {
        let geography = Geography::bundled();
        let listed: Vec<Listed> = geography
            .postcodes()
            .filter(|(_, place)| place.borough == gss)
            .collect();
        let borough = gss.borough();
        let source = if listed.is_empty() {
            let lsoas = geography.lsoas_in(gss);
            if lsoas.is_empty() {
                return Err(Error::NoLsoas { borough: gss });
            }
            Source::Synthetic {
                districts: districts_of(gss).ok_or(Error::NoPostcodes { borough: gss })?,
                lsoas,
            }
        } else {
            // A district is shared if another borough's table lists it too.
            let elsewhere: BTreeSet<&str> = DISTRICTS
                .iter()
                .filter(|(g, _)| *g != gss.to_string())
                .flat_map(|(_, d)| d.iter().copied())
                .collect();
            let (terminated, live): (Vec<Listed>, Vec<Listed>) =
                listed.into_iter().partition(|(_, place)| place.terminated);
            let shared = live
                .iter()
                .filter(|(p, _)| elsewhere.contains(p.district().as_str()))
                .copied()
                .collect();
            Source::Listed {
                live,
                shared,
                terminated,
            }
        };
        Ok(BoroughGeo {
            gss,
            centroid: (borough.lat, borough.long),
            source,
        })
    }

    /// A point near the borough's centroid, rounded to five decimals (about a
    /// metre), as case systems hold coordinates.
    pub(crate) fn point(&self, d: &mut Draw) -> (f64, f64) {
        let round = |v: f64| (v * 100_000.0).round() / 100_000.0;
        (
            round(self.centroid.0 + d.offset(LAT_SPREAD)),
            round(self.centroid.1 + d.offset(LONG_SPREAD)),
        )
    }

    /// Where a provider's premises are: a live postcode placing it in this borough.
    pub(crate) fn premises(&self, d: &mut Draw) -> Result<Site, Error> {
        let address = crate::names::address(d, false);
        let (postcode, lsoa) = match &self.source {
            Source::Listed { live, shared, .. } => {
                let pool = if !shared.is_empty() && d.chance(250) {
                    shared
                } else {
                    live
                };
                let (p, _) = d.pick(pool);
                (p.as_str().to_string(), None)
            }
            Source::Synthetic { districts, lsoas } => self.synthetic(d, districts, lsoas)?,
        };
        let (lat, long) = self.point(d);
        Ok(Site {
            address,
            postcode,
            lsoa,
            lat,
            long,
        })
    }

    /// Where a person lives: like premises, but sometimes a terminated postcode, an
    /// agreeing LSOA alongside a listed postcode, or a postcode typed compactly in
    /// lower case.
    pub(crate) fn home(&self, d: &mut Draw) -> Result<Site, Error> {
        let address = crate::names::address(d, true);
        let (postcode, lsoa) = match &self.source {
            Source::Listed {
                live,
                shared,
                terminated,
            } => {
                let roll = d.below(1000);
                let (p, place) = if roll < 40 && !terminated.is_empty() {
                    d.pick(terminated)
                } else if roll < 250 && !shared.is_empty() {
                    d.pick(shared)
                } else {
                    d.pick(live)
                };
                // A terminated postcode always comes with its LSOA, as a case
                // system that geocoded the address would send it.
                let lsoa = (place.terminated || d.chance(150)).then(|| place.lsoa.to_string());
                (p.as_str().to_string(), lsoa)
            }
            Source::Synthetic { districts, lsoas } => self.synthetic(d, districts, lsoas)?,
        };
        let postcode = if d.chance(80) {
            postcode.replace(' ', "").to_ascii_lowercase()
        } else {
            postcode
        };
        let (lat, long) = self.point(d);
        Ok(Site {
            address,
            postcode,
            lsoa,
            lat,
            long,
        })
    }

    /// A postcode in one of the borough's districts that the lookup does not list
    /// (a listed one would be placed by the lookup, perhaps in another borough),
    /// with one of the borough's LSOAs.
    fn synthetic(
        &self,
        d: &mut Draw,
        districts: &[&str],
        lsoas: &[Lsoa],
    ) -> Result<(String, Option<String>), Error> {
        let geography = Geography::bundled();
        // Almost every candidate is unlisted; the bound only guarantees an end.
        for _ in 0..64 {
            let text = format!(
                "{} {}{}{}",
                d.pick(districts),
                d.between(1, 9),
                char::from(*d.pick(INWARD_LETTERS)),
                char::from(*d.pick(INWARD_LETTERS)),
            );
            let listed = Postcode::parse(&text)
                .map(|p| geography.postcode_lookup(&p).is_some())
                .unwrap_or(true);
            if !listed {
                return Ok((text, Some(d.pick(lsoas).to_string())));
            }
        }
        Err(Error::NoPostcodes { borough: self.gss })
    }
}

#[cfg(test)]
mod tests {
    //! The synthetic-postcode table itself.

    use borough_model::{Borough, Postcode};

    use super::*;

    #[test]
    fn every_london_borough_has_postcode_districts() {
        let missing: Vec<&str> = Borough::all()
            .iter()
            .filter(|b| districts_of(b.gss).is_none())
            .map(|b| b.name)
            .collect();
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn every_listed_district_is_a_well_formed_outward_code() {
        for (gss, districts) in DISTRICTS {
            for district in *districts {
                let postcode = format!("{district} 1AA");
                assert!(Postcode::parse(&postcode).is_ok(), "{gss}: {district}");
            }
        }
    }
}

//! Tests of postcodes, LSOAs and placing a home in a borough.

use super::*;

const LEWISHAM: &str = "E09000023";
const SOUTHWARK: &str = "E09000028";
/// An LSOA in Southwark (Dulwich area).
const SOUTHWARK_LSOA: &str = "E01003911";
/// An SE26 postcode outside Lewisham's lookup (SE26 also covers Southwark and
/// Bromley).
const SE26_NOT_IN_LEWISHAM: &str = "SE26 6DZ";

fn gss(s: &str) -> GssCode {
    GssCode::parse(s).unwrap()
}

fn postcode(s: &str) -> Postcode {
    Postcode::parse(s).unwrap()
}

fn lsoa(s: &str) -> Lsoa {
    Lsoa::parse(s).unwrap()
}

#[test]
fn postcodes_are_normalised_to_upper_case_with_one_space() {
    let cases = [
        ("se269ey", "SE26 9EY"),
        (" SE26  9EY ", "SE26 9EY"),
        ("se6 1aa", "SE6 1AA"),
        ("n1c4ag", "N1C 4AG"),
        ("W1A 1AA", "W1A 1AA"),
        ("br1\t4by", "BR1 4BY"),
        ("E1 6AN", "E1 6AN"),
    ];
    for (typed, normal) in cases {
        assert_eq!(postcode(typed).as_str(), normal, "{typed:?}");
    }
}

#[test]
fn malformed_postcodes_are_refused_naming_the_problem() {
    let cases = [
        ("", "is empty"),
        ("SE26-9EY", "only letters, digits and spaces"),
        ("SE2", "has 3 letters and digits"),
        ("SE26 9EYXX", "has 9 letters and digits"),
        ("1SE 9EY", "outward part"),
        ("SEE6 9EY", "outward part"),
        ("S 9EY", "has 4 letters and digits"),
        ("SE26 EEY", "inward part"),
        ("SE26 99Y", "inward part"),
    ];
    for (typed, problem) in cases {
        let err = Postcode::parse(typed).unwrap_err().to_string();
        assert!(err.contains(problem), "{typed:?}: {err}");
    }
}

#[test]
fn a_postcode_error_never_repeats_the_postcode() {
    let err = Postcode::parse("SE26 EEY").unwrap_err().to_string();
    assert!(!err.contains("EEY"), "{err}");
}

#[test]
fn sector_and_district_are_cut_from_the_normal_form() {
    let cases = [
        ("se269ey", "SE26 9", "SE26"),
        ("SE6 1AA", "SE6 1", "SE6"),
        ("N1C 4AG", "N1C 4", "N1C"),
    ];
    for (typed, sector, district) in cases {
        let p = postcode(typed);
        assert_eq!(p.sector().to_string(), sector);
        assert_eq!(p.district().to_string(), district);
        assert_eq!(PostcodeSector::parse(sector).unwrap(), p.sector());
    }
    assert_eq!(
        PostcodeSector::parse(" se26  9 ").unwrap().as_str(),
        "SE26 9"
    );
    for bad in ["SE26 9EY", "SE26", "SE269", "SE26 99", ""] {
        assert!(PostcodeSector::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn a_postcodes_debug_form_shows_only_its_sector() {
    let shown = format!("{:?}", postcode("SE26 9EY"));
    assert_eq!(shown, "Postcode(SE26 9 <redacted>)");
}

#[test]
fn lsoa_codes_are_e01_and_six_digits() {
    assert_eq!(lsoa(" e01003313 ").to_string(), "E01003313");
    for bad in [
        "E0100331",
        "E010033130",
        "W01000001",
        "E02000679",
        "E01OO3313",
        "",
    ] {
        assert!(Lsoa::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn lewisham_postcodes_in_districts_shared_with_other_boroughs_are_placed_in_lewisham() {
    // SE26 is shared with Southwark and Bromley, SE15 and SE16 are mostly
    // Southwark, BR1 is mostly Bromley: only the full postcode decides.
    for typed in ["SE26 4AA", "SE15 1EP", "SE16 2AT", "BR1 4BY", "SE26 9EY"] {
        let home = Geography::bundled()
            .place_home(&postcode(typed), None)
            .unwrap();
        assert_eq!(home.borough, gss(LEWISHAM), "{typed}");
        assert_eq!(home.sector, postcode(typed).sector());
        assert!(!home.terminated);
    }
}

#[test]
fn a_postcode_outside_the_lookup_with_no_lsoa_cannot_be_placed_from_its_district() {
    let geo = Geography::bundled();
    let p = postcode(SE26_NOT_IN_LEWISHAM);
    assert_eq!(geo.postcode_lookup(&p), None);
    let err = geo.place_home(&p, None).unwrap_err();
    assert_eq!(err.0.len(), 1);
    assert_eq!(err.0[0].field, "postcode");
    assert!(err.0[0].problem.contains("district SE26 alone"), "{err}");
}

#[test]
fn a_postcode_outside_the_lookup_is_placed_by_its_lsoa() {
    let home = Geography::bundled()
        .place_home(&postcode(SE26_NOT_IN_LEWISHAM), Some(lsoa(SOUTHWARK_LSOA)))
        .unwrap();
    assert_eq!(home.borough, gss(SOUTHWARK));
    assert_eq!(home.lsoa, lsoa(SOUTHWARK_LSOA));
    assert_eq!(home.sector.as_str(), "SE26 6");
}

#[test]
fn an_lsoa_in_another_borough_than_the_postcode_is_refused() {
    let err = Geography::bundled()
        .place_home(&postcode("SE26 4AA"), Some(lsoa(SOUTHWARK_LSOA)))
        .unwrap_err();
    assert_eq!(err.0[0].field, "lsoa");
    assert_eq!(
        err.0[0].problem,
        "lies in Southwark but the postcode lies in Lewisham"
    );
}

#[test]
fn an_lsoa_outside_london_is_refused() {
    let err = Geography::bundled()
        .place_home(&postcode("SE26 4AA"), Some(lsoa("E01099999")))
        .unwrap_err();
    assert_eq!(err.0[0].field, "lsoa");
}

#[test]
fn the_given_lsoa_is_kept_when_it_agrees_with_the_postcode() {
    let geo = Geography::bundled();
    // SE26 4AA's best-fit LSOA is E01003313; E01003312 is also in Lewisham.
    let home = geo
        .place_home(&postcode("SE26 4AA"), Some(lsoa("E01003312")))
        .unwrap();
    assert_eq!(home.lsoa, lsoa("E01003312"));
    let home = geo.place_home(&postcode("SE26 4AA"), None).unwrap();
    assert_eq!(home.lsoa, lsoa("E01003313"));
}

#[test]
fn terminated_postcodes_are_flagged_not_refused() {
    let home = Geography::bundled()
        .place_home(&postcode("BR1 4PN"), None)
        .unwrap();
    assert!(home.terminated);
    assert_eq!(home.borough, gss(LEWISHAM));
}

#[test]
fn the_33_boroughs_cover_every_bundled_lsoa() {
    let geo = Geography::bundled();
    assert_eq!(geo.lsoas.len(), 4_835);
    for b in crate::Borough::all() {
        assert!(!geo.lsoas_in(b.gss).is_empty(), "{} has no LSOA", b.name);
    }
    let total: usize = crate::Borough::all()
        .iter()
        .map(|b| geo.lsoas_in(b.gss).len())
        .sum();
    assert_eq!(total, geo.lsoas.len());
}

#[test]
fn every_bundled_postcode_lies_in_the_borough_of_its_lsoa() {
    let geo = Geography::bundled();
    assert_eq!(geo.postcodes().count(), 8_419);
    let terminated = geo.postcodes().filter(|(_, p)| p.terminated).count();
    assert_eq!(terminated, 3_450);
    for (p, place) in geo.postcodes() {
        assert_eq!(
            geo.lsoa_borough(&place.lsoa),
            Some(place.borough),
            "{}",
            p.as_str()
        );
    }
}

//! Fixtures for local federations: the example agreements as shipped in
//! `config/agreements`, and deterministic sample childcare providers. `borough
//! demo` (crate `borough-demo`), the end-to-end tests and the benchmarks use them;
//! the demo itself lives in its own crate, which feeds nodes through `borough
//! import`.

use borough_model::{Geography, GssCode, ProviderType};
use borough_proto::v1;

/// The example agreements shipped in `config/agreements`, used as they are.
pub const EXAMPLE_AGREEMENTS: [(&str, &str); 3] = [
    (
        "lambeth-southwark.toml",
        include_str!("../../../config/agreements/lambeth-southwark.toml"),
    ),
    (
        "lambeth-lewisham.toml",
        include_str!("../../../config/agreements/lambeth-lewisham.toml"),
    ),
    (
        "southwark-lewisham.toml",
        include_str!("../../../config/agreements/southwark-lewisham.toml"),
    ),
];

/// Deterministic sample providers for a borough, as its Family Information Service
/// would send them (identifiable input, keyed by the service's own reference): a mix
/// of nurseries and home-based settings, each placed in the borough by a real
/// postcode (Lewisham) or by one of the borough's LSOAs.
pub fn sample_providers(borough: GssCode, count: usize) -> Vec<(String, v1::ProviderInput)> {
    let b = borough.borough();
    let geography = Geography::bundled();
    let lsoas = geography.lsoas_in(borough);
    let postcodes: Vec<String> = geography
        .postcodes()
        .filter(|(_, place)| place.borough == borough && !place.terminated)
        .map(|(p, _)| p.as_str().to_string())
        .collect();
    let mut rng = SplitMix(u64::from(b.dfe_la_code) * 7919);
    (0..count)
        .map(|i| {
            let lat = b.lat + rng.between(-0.012, 0.012);
            let long = b.long + rng.between(-0.015, 0.015);
            let provider_type = match rng.below(20) {
                0..=9 => ProviderType::NonDomesticPremises,
                10..=16 => ProviderType::Childminder,
                17..=18 => ProviderType::DomesticPremises,
                _ => ProviderType::HomeChildcarer,
            };
            let (postcode, lsoa) = if postcodes.is_empty() {
                let lsoa = lsoas[rng.below(lsoas.len() as u64) as usize];
                // No open postcode lookup exists for this borough: the LSOA places it.
                (
                    format!(
                        "{}{} {}AA",
                        b.short_code.chars().next().unwrap_or('W'),
                        1 + rng.below(9),
                        1 + rng.below(9)
                    ),
                    lsoa.to_string(),
                )
            } else {
                (
                    postcodes[rng.below(postcodes.len() as u64) as usize].clone(),
                    String::new(),
                )
            };
            let bands: &[&str] = match provider_type {
                ProviderType::NonDomesticPremises => &["under-2", "2", "3-4"],
                _ => &["2", "3-4"],
            };
            let offers = bands
                .iter()
                .map(|&band| {
                    let capacity = match provider_type {
                        ProviderType::NonDomesticPremises => 8 + rng.below(30),
                        _ => 1 + rng.below(3),
                    };
                    let term_time = rng.below(3) == 0;
                    v1::OfferInput {
                        age_band: band.into(),
                        days: "Mon-Fri".into(),
                        opens: if term_time { "09:00" } else { "08:00" }.into(),
                        closes: if term_time { "15:00" } else { "18:00" }.into(),
                        term_time_only: if term_time { "yes" } else { "no" }.into(),
                        capacity: capacity.to_string(),
                        vacancies: rng.below(capacity / 3 + 1).to_string(),
                        funded: match band {
                            "2" => "disadvantaged-2;working-parent",
                            "3-4" => "universal-15;working-parent",
                            _ => "working-parent",
                        }
                        .into(),
                        fee_per_hour: format!("{:.2}", 7.80 + rng.below(150) as f64 / 100.0),
                    }
                })
                .collect();
            let grades = [
                "outstanding",
                "good",
                "good",
                "good",
                "requires-improvement",
                "not-yet-inspected",
            ];
            let input = v1::ProviderInput {
                provider_urn: match provider_type {
                    ProviderType::Childminder => String::new(),
                    // `SC` URNs: `borough gen` issues only `EY` and 7-digit ones,
                    // so a sample provider never shares a generated provider's URN.
                    _ => format!("SC{:06}", 400_000 + rng.below(99_999)),
                },
                provider_name: format!("Sample Provider {}", i + 1),
                provider_type: provider_type.as_str().into(),
                ofsted_grade: grades[rng.below(grades.len() as u64) as usize].into(),
                address: format!("{} Example Street", 1 + rng.below(200)),
                postcode,
                lsoa,
                lat: format!("{lat:.5}"),
                long: format!("{long:.5}"),
                send_support: if rng.below(3) > 0 { "yes" } else { "no" }.into(),
                accepts_out_of_borough: if rng.below(5) > 0 { "yes" } else { "no" }.into(),
                admission_priorities: "looked-after;ehc-plan;sibling;distance".into(),
                offers,
            };
            (
                format!("fis-{}-{:05}", b.short_code.to_lowercase(), i + 1),
                input,
            )
        })
        .collect()
}

/// A small deterministic generator, so the sample is the same on every run.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

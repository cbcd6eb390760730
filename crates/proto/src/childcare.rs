//! Conversions between `borough.v1.ChildcarePlace` and `model::ChildcarePlace`.
//! Wire to domain validates; unspecified enum values are named as missing fields.

use borough_model::{
    AdmissionPriority, AgeBand, ChildcarePlace, FundedEntitlement, GridCell, GssCode, Invalid,
    Location, Offer, OfstedGrade, ProviderType, SessionPattern,
};

use crate::v1;

/// Collects conversion failures with their field paths.
#[derive(Default)]
pub(crate) struct Problems(pub(crate) Vec<borough_model::FieldError>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.0.push(borough_model::FieldError {
            field: field.into(),
            problem: problem.into(),
        });
    }
}

fn provider_type(v: i32) -> Option<ProviderType> {
    Some(match v1::ProviderType::try_from(v).ok()? {
        v1::ProviderType::Childminder => ProviderType::Childminder,
        v1::ProviderType::HomeChildcarer => ProviderType::HomeChildcarer,
        v1::ProviderType::DomesticPremises => ProviderType::DomesticPremises,
        v1::ProviderType::NonDomesticPremises => ProviderType::NonDomesticPremises,
        v1::ProviderType::Unspecified => return None,
    })
}

fn ofsted_grade(v: i32) -> Option<OfstedGrade> {
    Some(match v1::OfstedGrade::try_from(v).ok()? {
        v1::OfstedGrade::Outstanding => OfstedGrade::Outstanding,
        v1::OfstedGrade::Good => OfstedGrade::Good,
        v1::OfstedGrade::RequiresImprovement => OfstedGrade::RequiresImprovement,
        v1::OfstedGrade::Inadequate => OfstedGrade::Inadequate,
        v1::OfstedGrade::NotYetInspected => OfstedGrade::NotYetInspected,
        v1::OfstedGrade::Unspecified => return None,
    })
}

fn age_band(v: i32) -> Option<AgeBand> {
    Some(match v1::AgeBand::try_from(v).ok()? {
        v1::AgeBand::Under2 => AgeBand::Under2,
        v1::AgeBand::Two => AgeBand::Two,
        v1::AgeBand::ThreeToFour => AgeBand::ThreeToFour,
        v1::AgeBand::SchoolAge => AgeBand::SchoolAge,
        v1::AgeBand::Unspecified => return None,
    })
}

fn funded(v: i32) -> Option<FundedEntitlement> {
    Some(match v1::FundedEntitlement::try_from(v).ok()? {
        v1::FundedEntitlement::Universal15Hours => FundedEntitlement::Universal15Hours,
        v1::FundedEntitlement::Disadvantaged2YearOlds => FundedEntitlement::Disadvantaged2YearOlds,
        v1::FundedEntitlement::WorkingParent => FundedEntitlement::WorkingParent,
        v1::FundedEntitlement::Unspecified => return None,
    })
}

fn priority(v: i32) -> Option<AdmissionPriority> {
    Some(match v1::AdmissionPriority::try_from(v).ok()? {
        v1::AdmissionPriority::LookedAfter => AdmissionPriority::LookedAfter,
        v1::AdmissionPriority::EhcPlanNamingSetting => AdmissionPriority::EhcPlanNamingSetting,
        v1::AdmissionPriority::Disadvantage => AdmissionPriority::Disadvantage,
        v1::AdmissionPriority::Sibling => AdmissionPriority::Sibling,
        v1::AdmissionPriority::Distance => AdmissionPriority::Distance,
        v1::AdmissionPriority::Unspecified => return None,
    })
}

fn days_mask(days: &[i32], field: &str, problems: &mut Problems) -> u8 {
    let mut mask = 0u8;
    for (i, &d) in days.iter().enumerate() {
        match v1::Weekday::try_from(d) {
            Ok(v1::Weekday::Unspecified) | Err(_) => {
                problems.add(format!("{field}[{i}]"), format!("{d} is not a weekday"))
            }
            Ok(day) => mask |= 1 << (day as i32 - 1),
        }
    }
    mask
}

/// Reads a session pattern, naming bad parts under `at`.
pub(crate) fn pattern_from_wire(
    p: v1::SessionPattern,
    at: &str,
    problems: &mut Problems,
) -> Option<SessionPattern> {
    let days = days_mask(&p.days, &format!("{at}.days"), problems);
    let mut minute = |m: u32, name: &str| {
        u16::try_from(m).unwrap_or_else(|_| {
            problems.add(
                format!("{at}.{name}"),
                format!("{m} is not a minute of the day"),
            );
            0
        })
    };
    Some(SessionPattern {
        days,
        start_minute: minute(p.start_minute, "start_minute"),
        end_minute: minute(p.end_minute, "end_minute"),
        term_time_only: p.term_time_only,
    })
}

fn offer(wire: v1::Offer, at: &str, problems: &mut Problems) -> Option<Offer> {
    let band = age_band(wire.age_band);
    if band.is_none() {
        problems.add(format!("{at}.age_band"), "is missing or unknown");
    }
    let pattern = match wire.pattern {
        Some(p) => pattern_from_wire(p, &format!("{at}.pattern"), problems),
        None => {
            problems.add(format!("{at}.pattern"), "is missing");
            None
        }
    };
    let mut entitlements = Vec::with_capacity(wire.funded.len());
    for (i, &f) in wire.funded.iter().enumerate() {
        match funded(f) {
            Some(f) => entitlements.push(f),
            None => problems.add(
                format!("{at}.funded[{i}]"),
                format!("{f} is not an entitlement"),
            ),
        }
    }
    Some(Offer {
        age_band: band?,
        pattern: pattern?,
        capacity: wire.capacity,
        vacancies: wire.vacancies,
        funded: entitlements,
        fee_per_hour_pence: wire.fee_per_hour_pence,
    })
}

impl TryFrom<v1::ChildcarePlace> for ChildcarePlace {
    type Error = Invalid;

    fn try_from(wire: v1::ChildcarePlace) -> Result<Self, Invalid> {
        let mut problems = Problems::default();
        let provider_type = provider_type(wire.provider_type);
        if provider_type.is_none() {
            problems.add("provider_type", "is missing or unknown");
        }
        let ofsted_grade = ofsted_grade(wire.ofsted_grade);
        if ofsted_grade.is_none() {
            problems.add("ofsted_grade", "is missing or unknown");
        }
        let borough = match GssCode::parse(&wire.borough) {
            Ok(b) => Some(b),
            Err(e) => {
                problems.0.extend(e.within("borough").0);
                None
            }
        };
        let location = match wire.location.and_then(|l| l.kind) {
            Some(v1::location::Kind::Exact(p)) => Some(Location::Exact {
                lat: p.lat,
                long: p.long,
            }),
            Some(v1::location::Kind::GridCell(c)) => Some(Location::Cell(GridCell {
                row: c.row,
                col: c.col,
            })),
            None => {
                problems.add("location", "is missing");
                None
            }
        };
        let offers: Vec<Offer> = wire
            .offers
            .into_iter()
            .enumerate()
            .filter_map(|(i, o)| offer(o, &format!("offers[{i}]"), &mut problems))
            .collect();
        let mut priorities = Vec::with_capacity(wire.admission_priorities.len());
        for (i, &p) in wire.admission_priorities.iter().enumerate() {
            match priority(p) {
                Some(p) => priorities.push(p),
                None => problems.add(
                    format!("admission_priorities[{i}]"),
                    format!("{p} is not a priority"),
                ),
            }
        }
        let urn = Some(wire.provider_urn).filter(|u| !u.is_empty());
        match (provider_type, ofsted_grade, borough, location) {
            (Some(provider_type), Some(ofsted_grade), Some(borough), Some(location))
                if problems.0.is_empty() =>
            {
                let place = ChildcarePlace {
                    provider_urn: urn,
                    provider_type,
                    ofsted_grade,
                    borough,
                    location,
                    offers,
                    send_support: wire.send_support,
                    accepts_out_of_borough: wire.accepts_out_of_borough,
                    admission_priorities: priorities,
                };
                place.validate()?;
                Ok(place)
            }
            _ => Err(Invalid(problems.0)),
        }
    }
}

impl From<&ChildcarePlace> for v1::ChildcarePlace {
    fn from(p: &ChildcarePlace) -> Self {
        v1::ChildcarePlace {
            provider_urn: p.provider_urn.clone().unwrap_or_default(),
            provider_type: match p.provider_type {
                ProviderType::Childminder => v1::ProviderType::Childminder,
                ProviderType::HomeChildcarer => v1::ProviderType::HomeChildcarer,
                ProviderType::DomesticPremises => v1::ProviderType::DomesticPremises,
                ProviderType::NonDomesticPremises => v1::ProviderType::NonDomesticPremises,
            } as i32,
            ofsted_grade: match p.ofsted_grade {
                OfstedGrade::Outstanding => v1::OfstedGrade::Outstanding,
                OfstedGrade::Good => v1::OfstedGrade::Good,
                OfstedGrade::RequiresImprovement => v1::OfstedGrade::RequiresImprovement,
                OfstedGrade::Inadequate => v1::OfstedGrade::Inadequate,
                OfstedGrade::NotYetInspected => v1::OfstedGrade::NotYetInspected,
            } as i32,
            borough: p.borough.to_string(),
            location: Some(v1::Location {
                kind: Some(match p.location {
                    Location::Exact { lat, long } => {
                        v1::location::Kind::Exact(v1::LatLong { lat, long })
                    }
                    Location::Cell(c) => v1::location::Kind::GridCell(v1::GridCell {
                        row: c.row,
                        col: c.col,
                    }),
                }),
            }),
            offers: p.offers.iter().map(offer_to_wire).collect(),
            send_support: p.send_support,
            accepts_out_of_borough: p.accepts_out_of_borough,
            admission_priorities: p
                .admission_priorities
                .iter()
                .map(|a| {
                    (match a {
                        AdmissionPriority::LookedAfter => v1::AdmissionPriority::LookedAfter,
                        AdmissionPriority::EhcPlanNamingSetting => {
                            v1::AdmissionPriority::EhcPlanNamingSetting
                        }
                        AdmissionPriority::Disadvantage => v1::AdmissionPriority::Disadvantage,
                        AdmissionPriority::Sibling => v1::AdmissionPriority::Sibling,
                        AdmissionPriority::Distance => v1::AdmissionPriority::Distance,
                    }) as i32
                })
                .collect(),
        }
    }
}

fn offer_to_wire(o: &Offer) -> v1::Offer {
    v1::Offer {
        age_band: match o.age_band {
            AgeBand::Under2 => v1::AgeBand::Under2,
            AgeBand::Two => v1::AgeBand::Two,
            AgeBand::ThreeToFour => v1::AgeBand::ThreeToFour,
            AgeBand::SchoolAge => v1::AgeBand::SchoolAge,
        } as i32,
        pattern: Some(v1::SessionPattern {
            days: (0..7)
                .filter(|bit| o.pattern.days & (1 << bit) != 0)
                .map(|bit| bit + 1)
                .collect(),
            start_minute: o.pattern.start_minute.into(),
            end_minute: o.pattern.end_minute.into(),
            term_time_only: o.pattern.term_time_only,
        }),
        capacity: o.capacity,
        vacancies: o.vacancies,
        funded: o
            .funded
            .iter()
            .map(|f| {
                (match f {
                    FundedEntitlement::Universal15Hours => v1::FundedEntitlement::Universal15Hours,
                    FundedEntitlement::Disadvantaged2YearOlds => {
                        v1::FundedEntitlement::Disadvantaged2YearOlds
                    }
                    FundedEntitlement::WorkingParent => v1::FundedEntitlement::WorkingParent,
                }) as i32
            })
            .collect(),
        fee_per_hour_pence: o.fee_per_hour_pence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode_payload, Payload};
    use borough_model::Dataset;
    use prost::Message;

    fn childminder_wire() -> v1::ChildcarePlace {
        v1::ChildcarePlace {
            provider_urn: String::new(),
            provider_type: v1::ProviderType::Childminder as i32,
            ofsted_grade: v1::OfstedGrade::Outstanding as i32,
            borough: "E09000023".into(),
            location: Some(v1::Location {
                kind: Some(v1::location::Kind::GridCell(v1::GridCell {
                    row: 11421,
                    col: -3,
                })),
            }),
            offers: vec![v1::Offer {
                age_band: v1::AgeBand::Two as i32,
                pattern: Some(v1::SessionPattern {
                    days: vec![1, 3, 5],
                    start_minute: 480,
                    end_minute: 1080,
                    term_time_only: true,
                }),
                capacity: 3,
                vacancies: 1,
                funded: vec![v1::FundedEntitlement::Disadvantaged2YearOlds as i32],
                fee_per_hour_pence: 900,
            }],
            send_support: false,
            accepts_out_of_borough: true,
            admission_priorities: vec![],
        }
    }

    #[test]
    fn a_valid_record_round_trips_through_the_wire_form() {
        let wire = childminder_wire();
        let place = ChildcarePlace::try_from(wire.clone()).unwrap();
        assert_eq!(v1::ChildcarePlace::from(&place), wire);
        let bytes = wire.encode_to_vec();
        let decoded = decode_payload(Dataset::ChildcarePlaces, &bytes).unwrap();
        assert_eq!(decoded, Payload::ChildcarePlace(place));
    }

    #[test]
    fn missing_enums_and_bad_borough_are_named() {
        let mut wire = childminder_wire();
        wire.provider_type = 0;
        wire.borough = "E09999999".into();
        wire.offers[0].pattern.as_mut().unwrap().days = vec![9];
        let err = ChildcarePlace::try_from(wire).unwrap_err();
        let mut fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            ["borough", "offers[0].pattern.days[0]", "provider_type"]
        );
    }

    #[test]
    fn garbage_bytes_are_reported_as_not_the_message_type() {
        let err = decode_payload(Dataset::ChildcarePlaces, b"\xff\xff\xff garbage").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("not a valid borough.v1.ChildcarePlace"),
            "{err}"
        );
    }

    #[test]
    fn any_of_another_type_is_refused() {
        let any = prost_types::Any {
            type_url: "type.googleapis.com/borough.v1.Offer".into(),
            value: vec![],
        };
        let err = Payload::from_any(Dataset::ChildcarePlaces, &any).unwrap_err();
        assert!(
            err.to_string()
                .contains("does not belong to dataset childcare-places"),
            "{err}"
        );
    }
}

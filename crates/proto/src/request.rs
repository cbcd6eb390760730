//! Conversions between `borough.v1.ChildcareRequest` and `model::ChildcareRequest`.

use borough_model::{
    ChildcareRequest, FundedEntitlement, GridCell, GssCode, Invalid, PostcodeSector, PriorityFlags,
    Pseudonym, SendNeed, SessionPattern, Term,
};

use crate::employment::read;
use crate::v1;
use crate::wire_enum::{from_wire, to_wire};

fn entitlement_to_wire(e: Option<FundedEntitlement>) -> i32 {
    e.map_or(0, |e| to_wire(FundedEntitlement::ALL, e))
}

pub(crate) fn pattern_to_wire(p: &SessionPattern) -> v1::SessionPattern {
    v1::SessionPattern {
        days: (0..7)
            .filter(|bit| p.days & (1 << bit) != 0)
            .map(|bit| bit + 1)
            .collect(),
        start_minute: p.start_minute.into(),
        end_minute: p.end_minute.into(),
        term_time_only: p.term_time_only,
    }
}

impl From<&ChildcareRequest> for v1::ChildcareRequest {
    fn from(r: &ChildcareRequest) -> Self {
        v1::ChildcareRequest {
            home_borough: r.home_borough.to_string(),
            postcode_sector: r.postcode_sector.as_str().to_string(),
            grid_cell: r.grid_cell.map(|c| v1::GridCell {
                row: c.row,
                col: c.col,
            }),
            child_age_months: r.child_age_months.into(),
            start_term: r.start_term.to_string(),
            pattern: Some(pattern_to_wire(&r.pattern)),
            entitlement: entitlement_to_wire(r.entitlement),
            entitlement_validated: r.entitlement_validated,
            send_need: to_wire(SendNeed::ALL, r.send_need),
            priorities: Some(v1::PriorityFlags {
                looked_after: r.priorities.looked_after,
                ehc_plan_names_setting: r.priorities.ehc_plan_names_setting,
                disadvantage: r.priorities.disadvantage,
                sibling: r.priorities.sibling,
            }),
            preferences: r.preferences.clone(),
            max_distance_m: r.max_distance_m.unwrap_or(0),
            max_fee_pence: r.max_fee_pence,
            family_link: r.family_link.map(|p| p.to_string()).unwrap_or_default(),
            parent_pseudonym: r
                .parent_pseudonym
                .map(|p| p.to_string())
                .unwrap_or_default(),
        }
    }
}

fn optional_pseudonym(text: &str, field: &str, problems: &mut Vec<Invalid>) -> Option<Pseudonym> {
    if text.is_empty() {
        return None;
    }
    Pseudonym::from_hex(text)
        .map_err(|e| problems.push(e.within(field)))
        .ok()
}

impl TryFrom<v1::ChildcareRequest> for ChildcareRequest {
    type Error = Invalid;

    fn try_from(w: v1::ChildcareRequest) -> Result<Self, Invalid> {
        let mut problems = Vec::new();
        let home_borough = read(
            &mut problems,
            GssCode::parse(&w.home_borough),
            "home_borough",
        );
        let sector = read(
            &mut problems,
            PostcodeSector::parse(&w.postcode_sector),
            "postcode_sector",
        );
        let start_term = read(&mut problems, Term::parse(&w.start_term), "start_term");
        let pattern = match w.pattern {
            Some(p) => {
                let mut found = crate::childcare::Problems::default();
                let pattern = crate::childcare::pattern_from_wire(p, "pattern", &mut found);
                if !found.0.is_empty() {
                    problems.push(Invalid(found.0));
                }
                pattern
            }
            None => {
                problems.push(Invalid::field("pattern", "is missing"));
                None
            }
        };
        let entitlement = match w.entitlement {
            0 => Some(None),
            v => match from_wire(FundedEntitlement::ALL, v) {
                Some(e) => Some(Some(e)),
                None => {
                    problems.push(Invalid::field(
                        "entitlement",
                        format!("{v} is not an entitlement"),
                    ));
                    None
                }
            },
        };
        let send_need = from_wire(SendNeed::ALL, w.send_need);
        if send_need.is_none() {
            problems.push(Invalid::field("send_need", "is missing or unknown"));
        }
        let family_link = optional_pseudonym(&w.family_link, "family_link", &mut problems);
        let parent_pseudonym =
            optional_pseudonym(&w.parent_pseudonym, "parent_pseudonym", &mut problems);
        let child_age_months = u16::try_from(w.child_age_months).map_err(|_| {
            problems.push(Invalid::field("child_age_months", "is out of range"));
        });
        let flags = w.priorities.unwrap_or_default();
        match (
            home_borough,
            sector,
            start_term,
            pattern,
            entitlement,
            send_need,
            child_age_months,
        ) {
            (
                Some(home_borough),
                Some(postcode_sector),
                Some(start_term),
                Some(pattern),
                Some(entitlement),
                Some(send_need),
                Ok(child_age_months),
            ) if problems.is_empty() => {
                let request = ChildcareRequest {
                    home_borough,
                    postcode_sector,
                    grid_cell: w.grid_cell.map(|c| GridCell {
                        row: c.row,
                        col: c.col,
                    }),
                    child_age_months,
                    start_term,
                    pattern,
                    entitlement,
                    entitlement_validated: w.entitlement_validated,
                    send_need,
                    priorities: PriorityFlags {
                        looked_after: flags.looked_after,
                        ehc_plan_names_setting: flags.ehc_plan_names_setting,
                        disadvantage: flags.disadvantage,
                        sibling: flags.sibling,
                    },
                    preferences: w.preferences,
                    max_distance_m: Some(w.max_distance_m).filter(|m| *m > 0),
                    max_fee_pence: w.max_fee_pence,
                    family_link,
                    parent_pseudonym,
                };
                request.validate()?;
                Ok(request)
            }
            _ => Err(Invalid(problems.into_iter().flat_map(|i| i.0).collect())),
        }
    }
}

#[cfg(test)]
mod tests {
    use borough_model::{
        ChildcareRequest, Dataset, GssCode, PostcodeSector, SendNeed, SessionPattern, Term,
    };

    use crate::{decode_payload, Payload};

    fn request(max_fee_pence: Option<u32>) -> ChildcareRequest {
        ChildcareRequest {
            home_borough: GssCode::parse("E09000022").expect("Lambeth"),
            postcode_sector: PostcodeSector::parse("SE11 5").expect("a sector"),
            grid_cell: None,
            child_age_months: 30,
            start_term: Term::parse("2026-autumn").expect("a term"),
            pattern: SessionPattern {
                days: 0b11111,
                start_minute: 8 * 60,
                end_minute: 18 * 60,
                term_time_only: false,
            },
            entitlement: None,
            entitlement_validated: false,
            send_need: SendNeed::None,
            priorities: Default::default(),
            preferences: vec![],
            max_distance_m: None,
            max_fee_pence,
            family_link: None,
            parent_pseudonym: None,
        }
    }

    /// A parent who can pay nothing for unfunded hours is not a parent with
    /// no limit.
    #[test]
    fn a_maximum_fee_of_nothing_stays_apart_from_no_maximum() {
        for fee in [Some(0), None, Some(850)] {
            let bytes = Payload::ChildcareRequest(request(fee)).encode();
            match decode_payload(Dataset::ChildcareRequests, &bytes) {
                Ok(Payload::ChildcareRequest(r)) => assert_eq!(r.max_fee_pence, fee),
                other => panic!("{fee:?}: {other:?}"),
            }
        }
    }
}

//! Conversions between `borough.v1.EmploymentParticipation` and
//! `model::EmploymentParticipation`.

use borough_model::{
    AdultAgeBand, EligibilityGroup, EmploymentParticipation, GssCode, Invalid, Month, Programme,
    Pseudonym, Sex,
};

use crate::v1;
use crate::wire_enum::{from_wire, to_wire};

fn month_text(m: Option<Month>) -> String {
    m.map(|m| m.to_string()).unwrap_or_default()
}

impl From<&EmploymentParticipation> for v1::EmploymentParticipation {
    fn from(p: &EmploymentParticipation) -> Self {
        v1::EmploymentParticipation {
            participant: p.participant.to_string(),
            programme: to_wire(Programme::ALL, p.programme),
            delivering_borough: p.delivering_borough.to_string(),
            resident_borough: p.resident_borough.to_string(),
            eligibility: to_wire(EligibilityGroup::ALL, p.eligibility),
            age_band: to_wire(AdultAgeBand::ALL, p.age_band),
            sex: to_wire(Sex::ALL, p.sex),
            referral_month: p.referral.to_string(),
            start_month: month_text(p.start),
            first_earnings_month: month_text(p.first_earnings),
            job_outcome_month: month_text(p.job_outcome),
            sustained_month: month_text(p.sustained),
            childcare_barrier: p.childcare_barrier,
        }
    }
}

/// The value, or `None` with the failure recorded under `field`.
pub(crate) fn read<T>(
    problems: &mut Vec<Invalid>,
    r: Result<T, Invalid>,
    field: &str,
) -> Option<T> {
    r.map_err(|e| problems.push(e.within(field))).ok()
}

/// An optional month: empty text is absent.
fn month(problems: &mut Vec<Invalid>, text: &str, field: &str) -> Option<Option<Month>> {
    if text.is_empty() {
        Some(None)
    } else {
        read(problems, Month::parse(text), field).map(Some)
    }
}

impl TryFrom<v1::EmploymentParticipation> for EmploymentParticipation {
    type Error = Invalid;

    fn try_from(w: v1::EmploymentParticipation) -> Result<Self, Invalid> {
        let mut problems: Vec<Invalid> = Vec::new();
        let mut need = |name: &str, v: Option<()>| {
            if v.is_none() {
                problems.push(Invalid::field(name, "is missing or unknown"));
            }
        };
        let programme = from_wire(Programme::ALL, w.programme);
        need("programme", programme.map(|_| ()));
        let eligibility = from_wire(EligibilityGroup::ALL, w.eligibility);
        need("eligibility", eligibility.map(|_| ()));
        let age_band = from_wire(AdultAgeBand::ALL, w.age_band);
        need("age_band", age_band.map(|_| ()));
        let sex = from_wire(Sex::ALL, w.sex);
        need("sex", sex.map(|_| ()));
        let p = &mut problems;
        let participant = read(p, Pseudonym::from_hex(&w.participant), "participant");
        let delivering = read(
            p,
            GssCode::parse(&w.delivering_borough),
            "delivering_borough",
        );
        let resident = read(p, GssCode::parse(&w.resident_borough), "resident_borough");
        let referral = read(p, Month::parse(&w.referral_month), "referral_month");
        let start = month(p, &w.start_month, "start_month");
        let first_earnings = month(p, &w.first_earnings_month, "first_earnings_month");
        let job_outcome = month(p, &w.job_outcome_month, "job_outcome_month");
        let sustained = month(p, &w.sustained_month, "sustained_month");
        let record = (|| {
            Some(EmploymentParticipation {
                participant: participant?,
                programme: programme?,
                delivering_borough: delivering?,
                resident_borough: resident?,
                eligibility: eligibility?,
                age_band: age_band?,
                sex: sex?,
                referral: referral?,
                start: start?,
                first_earnings: first_earnings?,
                job_outcome: job_outcome?,
                sustained: sustained?,
                childcare_barrier: w.childcare_barrier,
            })
        })();
        match record {
            Some(record) if problems.is_empty() => {
                record.validate()?;
                Ok(record)
            }
            _ => Err(Invalid(problems.into_iter().flat_map(|i| i.0).collect())),
        }
    }
}

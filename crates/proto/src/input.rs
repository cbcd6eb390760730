//! Identifiable input as it arrives at a node's door: the `*Input` messages carry
//! each column as text, under the model's column names (`PROVIDER_COLUMNS` …, as
//! `docs/DATA.md` names them), so a CSV row and an RPC message are read by the same
//! `model::Columns` reader and derived by the same rules. Nothing here is ever
//! stored.

use borough_model::{
    ChildcarePlace, ChildcareRequest, Columns, Dataset, DeriveContext, EmploymentParticipation,
    Invalid, OfferInput, ParticipantInput, ProviderInput, RequestInput, OFFER_COLUMNS,
    PARTICIPANT_COLUMNS, PROVIDER_COLUMNS, REQUEST_COLUMNS,
};
use prost::Message;

use crate::payload::DecodeError;
use crate::{v1, Payload};

/// The fully-qualified message name of a dataset's identifiable input.
pub fn input_message_name(dataset: Dataset) -> &'static str {
    match dataset {
        Dataset::ChildcarePlaces => "borough.v1.ProviderInput",
        Dataset::ChildcareRequests => "borough.v1.RequestInput",
        Dataset::EmploymentParticipation => "borough.v1.ParticipantInput",
    }
}

/// The `Any` type URL of a dataset's identifiable input.
pub fn input_type_url(dataset: Dataset) -> String {
    format!("type.googleapis.com/{}", input_message_name(dataset))
}

/// Wraps an input message of `dataset` as the `Any` the Ingest RPC takes.
pub fn input_any(dataset: Dataset, message: &impl Message) -> prost_types::Any {
    prost_types::Any {
        type_url: input_type_url(dataset),
        value: message.encode_to_vec(),
    }
}

/// One record's identifiable input, read and typed but not yet derived.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A childcare provider with its offers.
    Provider(ProviderInput),
    /// A family's childcare request.
    Request(RequestInput),
    /// An employment programme participant.
    Participant(ParticipantInput),
}

impl Input {
    /// Decodes and reads an input sent as `google.protobuf.Any`, naming every bad
    /// column (offers as `offers[i].<column>`).
    pub fn from_any(dataset: Dataset, any: &prost_types::Any) -> Result<Input, DecodeError> {
        let expected = input_type_url(dataset);
        if any.type_url != expected {
            return Err(DecodeError::WrongType {
                dataset,
                expected,
                found: any.type_url.clone(),
            });
        }
        let garbage = |e: prost::DecodeError| DecodeError::Garbage {
            message: input_message_name(dataset),
            problem: e.to_string(),
        };
        Ok(match dataset {
            Dataset::ChildcarePlaces => {
                let wire = v1::ProviderInput::decode(&any.value[..]).map_err(garbage)?;
                let mut problems = Vec::new();
                let mut offers = Vec::with_capacity(wire.offers.len());
                for (i, offer) in wire.offers.iter().enumerate() {
                    match OfferInput::from_columns(offer) {
                        Ok(o) => offers.push(o),
                        Err(e) => problems.extend(e.within(&format!("offers[{i}]")).0),
                    }
                }
                match ProviderInput::from_columns(&wire, offers) {
                    Ok(p) if problems.is_empty() => Input::Provider(p),
                    Ok(_) => return Err(Invalid(problems).into()),
                    Err(e) => {
                        problems.extend(e.0);
                        return Err(Invalid(problems).into());
                    }
                }
            }
            Dataset::ChildcareRequests => {
                let wire = v1::RequestInput::decode(&any.value[..]).map_err(garbage)?;
                Input::Request(RequestInput::from_columns(&wire)?)
            }
            Dataset::EmploymentParticipation => {
                let wire = v1::ParticipantInput::decode(&any.value[..]).map_err(garbage)?;
                Input::Participant(ParticipantInput::from_columns(&wire)?)
            }
        })
    }

    /// Derives the shareable record: the only form that is stored or sent.
    pub fn derive(&self, ctx: &DeriveContext<'_>) -> Result<Payload, Invalid> {
        Ok(match self {
            Input::Provider(p) => Payload::ChildcarePlace(ChildcarePlace::derive(p, ctx)?),
            Input::Request(r) => Payload::ChildcareRequest(ChildcareRequest::derive(r, ctx)?),
            Input::Participant(p) => {
                Payload::EmploymentParticipation(EmploymentParticipation::derive(p, ctx)?)
            }
        })
    }
}

/// Whether two lists hold the same names in the same order (usable in a constant).
const fn same_names(a: &[&str], b: &[&str]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        let (x, y) = (a[i].as_bytes(), b[i].as_bytes());
        if x.len() != y.len() {
            return false;
        }
        let mut j = 0;
        while j < x.len() {
            if x[j] != y[j] {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

/// Implements `Columns` for an input message whose text fields are, in order, the
/// model's column list `$list`. Every name comes from that list; the field names
/// only say where each value lives, and a check when this crate compiles keeps
/// them the same as the list (the `.proto` field names are the column names).
macro_rules! columns {
    ($ty:ty = $list:path { $($field:ident),+ $(,)? }) => {
        const _: () = assert!(
            same_names(&[$(stringify!($field)),+], &$list),
            concat!(
                "the text fields of ",
                stringify!($ty),
                " must be ",
                stringify!($list),
                ", in order"
            )
        );

        impl Columns for $ty {
            fn column(&self, name: &str) -> Option<&str> {
                let values = [$(self.$field.as_str()),+];
                $list.iter().position(|n| *n == name).map(|i| values[i])
            }
        }

        impl $ty {
            /// Builds the message from named text columns (a CSV row, a JSON object).
            pub fn from_columns(row: &dyn Columns) -> Self {
                let [$($field),+] =
                    $list.map(|name| row.column(name).unwrap_or("").trim().to_string());
                // A provider's `offers` are left empty: they are read one by one.
                let mut message = Self::default();
                $(message.$field = $field;)+
                message
            }
        }
    };
}

columns!(
    v1::OfferInput = OFFER_COLUMNS {
        age_band,
        days,
        opens,
        closes,
        term_time_only,
        capacity,
        vacancies,
        funded,
        fee_per_hour
    }
);

columns!(
    v1::RequestInput = REQUEST_COLUMNS {
        parent_ni_number,
        parent_name,
        child_name,
        child_date_of_birth,
        address,
        postcode,
        lsoa,
        lat,
        long,
        request_date,
        start_term,
        days,
        opens,
        closes,
        term_time_only,
        entitlement,
        hmrc_eligibility_code,
        send_need,
        priorities,
        preferences,
        max_distance_km,
        max_fee_per_hour
    }
);

columns!(
    v1::ParticipantInput = PARTICIPANT_COLUMNS {
        ni_number,
        name,
        date_of_birth,
        sex,
        postcode,
        lsoa,
        programme,
        eligibility_group,
        referral_date,
        start_date,
        first_earnings_date,
        job_outcome_date,
        sustained_date,
        childcare_barrier
    }
);

// A provider's offers arrive as repeated `OfferInput`s, read one by one.
columns!(
    v1::ProviderInput = PROVIDER_COLUMNS {
        provider_urn,
        provider_name,
        provider_type,
        ofsted_grade,
        address,
        postcode,
        lsoa,
        lat,
        long,
        send_support,
        accepts_out_of_borough,
        admission_priorities
    }
);

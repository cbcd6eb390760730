//! A dataset's record payload: decoding from wire bytes or `Any`, validating, and
//! encoding back, so every path into the store checks records the same way.

use borough_model::{ChildcarePlace, ChildcareRequest, Dataset, EmploymentParticipation, Invalid};
use prost::Message;

use crate::v1;

/// Why a payload could not become a domain record.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not a protobuf encoding of the dataset's message type.
    #[error("not a valid {message}: {problem}")]
    Garbage {
        /// The message type expected.
        message: &'static str,
        /// What the protobuf decoder reported.
        problem: String,
    },
    /// An `Any` carried another message type than the dataset's.
    #[error("type `{found}` does not belong to dataset {dataset}; expected {expected}")]
    WrongType {
        /// The dataset the record was sent for.
        dataset: Dataset,
        /// The type URL the dataset expects.
        expected: String,
        /// The type URL that was sent.
        found: String,
    },
    /// The record decoded but broke the dataset's rules.
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

/// A validated record of one dataset.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A `childcare-places` record.
    ChildcarePlace(ChildcarePlace),
    /// A `childcare-requests` record.
    ChildcareRequest(ChildcareRequest),
    /// An `employment-participation` record.
    EmploymentParticipation(EmploymentParticipation),
}

/// The fully-qualified protobuf message name of a dataset's record type.
pub fn message_name(dataset: Dataset) -> &'static str {
    match dataset {
        Dataset::ChildcarePlaces => "borough.v1.ChildcarePlace",
        Dataset::ChildcareRequests => "borough.v1.ChildcareRequest",
        Dataset::EmploymentParticipation => "borough.v1.EmploymentParticipation",
    }
}

fn type_url(dataset: Dataset) -> String {
    format!("type.googleapis.com/{}", message_name(dataset))
}

/// Decodes and validates stored or replicated payload bytes of `dataset`.
pub fn decode_payload(dataset: Dataset, bytes: &[u8]) -> Result<Payload, DecodeError> {
    let garbage = |e: prost::DecodeError| DecodeError::Garbage {
        message: message_name(dataset),
        problem: e.to_string(),
    };
    match dataset {
        Dataset::ChildcarePlaces => {
            let wire = v1::ChildcarePlace::decode(bytes).map_err(garbage)?;
            Ok(Payload::ChildcarePlace(ChildcarePlace::try_from(wire)?))
        }
        Dataset::ChildcareRequests => {
            let wire = v1::ChildcareRequest::decode(bytes).map_err(garbage)?;
            Ok(Payload::ChildcareRequest(ChildcareRequest::try_from(wire)?))
        }
        Dataset::EmploymentParticipation => {
            let wire = v1::EmploymentParticipation::decode(bytes).map_err(garbage)?;
            Ok(Payload::EmploymentParticipation(
                EmploymentParticipation::try_from(wire)?,
            ))
        }
    }
}

/// Checks that bytes are a well-formed encoding of the dataset's record type,
/// without requiring every field: a replicated record may lack fields its
/// agreement withholds.
pub fn check_shape(dataset: Dataset, bytes: &[u8]) -> Result<(), DecodeError> {
    let garbage = |e: prost::DecodeError| DecodeError::Garbage {
        message: message_name(dataset),
        problem: e.to_string(),
    };
    match dataset {
        Dataset::ChildcarePlaces => v1::ChildcarePlace::decode(bytes).map(drop),
        Dataset::ChildcareRequests => v1::ChildcareRequest::decode(bytes).map(drop),
        Dataset::EmploymentParticipation => v1::EmploymentParticipation::decode(bytes).map(drop),
    }
    .map_err(garbage)
}

impl Payload {
    /// Decodes and validates a record sent as `google.protobuf.Any`.
    pub fn from_any(dataset: Dataset, any: &prost_types::Any) -> Result<Payload, DecodeError> {
        let expected = type_url(dataset);
        if any.type_url != expected {
            return Err(DecodeError::WrongType {
                dataset,
                expected,
                found: any.type_url.clone(),
            });
        }
        decode_payload(dataset, &any.value)
    }

    /// The dataset this record belongs to.
    pub fn dataset(&self) -> Dataset {
        match self {
            Payload::ChildcarePlace(_) => Dataset::ChildcarePlaces,
            Payload::ChildcareRequest(_) => Dataset::ChildcareRequests,
            Payload::EmploymentParticipation(_) => Dataset::EmploymentParticipation,
        }
    }

    /// The canonical protobuf encoding stored and replicated for this record.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Payload::ChildcarePlace(p) => v1::ChildcarePlace::from(p).encode_to_vec(),
            Payload::ChildcareRequest(r) => v1::ChildcareRequest::from(r).encode_to_vec(),
            Payload::EmploymentParticipation(e) => {
                v1::EmploymentParticipation::from(e).encode_to_vec()
            }
        }
    }

    /// Wraps the record as `google.protobuf.Any`, as the Ingest RPC takes it.
    pub fn to_any(&self) -> prost_types::Any {
        prost_types::Any {
            type_url: type_url(self.dataset()),
            value: self.encode(),
        }
    }
}

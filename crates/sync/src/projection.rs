//! Projection of a record onto the fields an agreement allows, done on the
//! message's descriptor so it works the same for every dataset.

use borough_model::Dataset;
use borough_proto::{descriptor_pool, message_name};
use prost::Message;
use prost_reflect::{DynamicMessage, FieldDescriptor, MessageDescriptor};

/// An agreement named a field its dataset's record does not have.
#[derive(Debug, Clone, thiserror::Error)]
#[error("`{field}` is not a field of {message} (its fields: {known})")]
pub struct UnknownField {
    /// The name given.
    pub field: String,
    /// The record type.
    pub message: &'static str,
    /// The fields it does have, comma-separated.
    pub known: String,
}

/// Keeps only the agreed top-level fields of a dataset's record.
#[derive(Debug, Clone)]
pub struct Projection {
    descriptor: MessageDescriptor,
    /// `None` when every field is allowed, so the record is passed through as is.
    keep: Option<Vec<FieldDescriptor>>,
}

impl Projection {
    /// A projection of `dataset` records onto `fields`; every name must be a field.
    pub fn new(dataset: Dataset, fields: &[String]) -> Result<Projection, UnknownField> {
        let name = message_name(dataset);
        let descriptor = descriptor_pool()
            .get_message_by_name(name)
            // Every dataset's message is compiled into the pool by the proto crate.
            .expect("dataset message is in the descriptor pool");
        let mut keep = Vec::with_capacity(fields.len());
        for field in fields {
            match descriptor.get_field_by_name(field) {
                Some(f) => keep.push(f),
                None => {
                    return Err(UnknownField {
                        field: field.clone(),
                        message: name,
                        known: descriptor
                            .fields()
                            .map(|f| f.name().to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
                }
            }
        }
        let all = descriptor
            .fields()
            .all(|f| keep.iter().any(|k| k.number() == f.number()));
        Ok(Projection {
            descriptor,
            keep: (!all).then_some(keep),
        })
    }

    /// The record with every field outside the agreement removed. Unknown fields are
    /// dropped too, so nothing unlisted can ride along.
    pub fn apply(&self, payload: &[u8]) -> Result<Vec<u8>, prost::DecodeError> {
        let Some(keep) = &self.keep else {
            return Ok(payload.to_vec());
        };
        let full = DynamicMessage::decode(self.descriptor.clone(), payload)?;
        let mut kept = DynamicMessage::new(self.descriptor.clone());
        for field in keep {
            if full.has_field(field) {
                kept.set_field(field, full.get_field(field).into_owned());
            }
        }
        Ok(kept.encode_to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use borough_proto::v1;

    fn place() -> v1::ChildcarePlace {
        v1::ChildcarePlace {
            provider_urn: "EY123456".into(),
            provider_type: v1::ProviderType::NonDomesticPremises as i32,
            borough: "E09000022".into(),
            send_support: true,
            ..Default::default()
        }
    }

    #[test]
    fn fields_outside_the_agreement_are_removed() {
        let p = Projection::new(
            Dataset::ChildcarePlaces,
            &["provider_type".into(), "borough".into()],
        )
        .unwrap();
        let out =
            v1::ChildcarePlace::decode(&p.apply(&place().encode_to_vec()).unwrap()[..]).unwrap();
        assert_eq!(out.provider_urn, "");
        assert!(!out.send_support);
        assert_eq!(out.borough, "E09000022");
    }

    #[test]
    fn unknown_fields_in_the_payload_do_not_ride_along() {
        let p = Projection::new(Dataset::ChildcarePlaces, &["borough".into()]).unwrap();
        let mut bytes = place().encode_to_vec();
        // Field 99, a string: not in the schema at all.
        bytes.extend_from_slice(&[0x9a, 0x06, 0x03, b'a', b'b', b'c']);
        let out = p.apply(&bytes).unwrap();
        assert!(!out.windows(3).any(|w| w == b"abc"));
    }

    #[test]
    fn an_agreement_naming_a_missing_field_is_refused() {
        let err = Projection::new(Dataset::ChildcarePlaces, &["provider_name".into()]).unwrap_err();
        assert!(err
            .to_string()
            .contains("`provider_name` is not a field of borough.v1.ChildcarePlace"));
    }
}

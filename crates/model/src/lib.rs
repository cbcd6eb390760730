//! Model: the domain vocabulary of borough-net — boroughs, roles, datasets, record
//! identities and the shareable record types with their validation.
//!
//! Owns: `GssCode` and the London borough reference list, `Role`, `PeerIdentity`,
//! `Dataset`, `RecordId`, `Seq`, `Version`, and each dataset's shareable record type
//! (`ChildcarePlace`) with the rules a record must meet before it is stored.
//! Must not: do IO of any kind (no tokio, sled, tonic or filesystem); know about the
//! wire format or the store layout. Every function depends only on its inputs.
//! Invariants: a `GssCode` always names one of the 33 London boroughs; a `RecordId`
//! is always a short printable token that is safe to log.

mod borough;
mod childcare;
mod dataset;
mod identity;
mod invalid;

pub use borough::{Borough, GssCode, SubRegion};
pub use childcare::{
    AdmissionPriority, AgeBand, ChildcarePlace, FundedEntitlement, GridCell, Location, Offer,
    OfstedGrade, ProviderType, SessionPattern,
};
pub use dataset::{Dataset, RecordId, Seq, Version};
pub use identity::{PeerIdentity, Role};
pub use invalid::{FieldError, Invalid};

//! Model: the domain vocabulary of borough-net — boroughs, roles, datasets, record
//! identities, the shareable record types with their validation, and the
//! anonymisation at the door that derives shareable records from the identifiable
//! input borough systems send.
//!
//! Owns: `GssCode` and the London borough reference list, `Role`, `PeerIdentity`,
//! `Dataset`, `RecordId`, `Seq`, `Version`; each dataset's shareable record type
//! (`ChildcarePlace`, `ChildcareRequest`, `EmploymentParticipation`) with the rules
//! a record must meet before it is stored; each dataset's identifiable input type
//! and its `derive`; the reference geography (`Postcode`, `Lsoa`, `Geography`);
//! pseudonyms (`LinkageKey`, `NiNumber`, `Pseudonym`); record keys for cell-key
//! perturbation (`PerturbationKey`); generalisation (`Month`,
//! `AdultAgeBand`, `Term`); the input column names (`PROVIDER_COLUMNS` …,
//! `csv_columns`) and the CSV text forms (`parse_days`, `parse_time` …).
//! Must not: do IO of any kind (no tokio, sled, tonic or filesystem); know about the
//! wire format or the store layout. Every function depends only on its inputs;
//! reference data is compiled in.
//! Invariants: a `GssCode` always names one of the 33 London boroughs; a `RecordId`
//! is always a short printable token that is safe to log; no shareable record holds
//! a name, NI number, date of birth, address, full postcode or HMRC code, and no
//! identifiable value is printed by `Debug`, `Display` or an error.

mod borough;
mod childcare;
mod columns;
mod dataset;
mod derive;
mod employment;
mod generalise;
mod geo;
mod identity;
mod invalid;
mod perturbation;
mod pseudonym;
mod text;

pub use borough::{Borough, GssCode, SubRegion};
pub use childcare::{
    AdmissionPriority, AgeBand, ChildcarePlace, ChildcareRequest, FundedEntitlement, GridCell,
    Location, Offer, OfferInput, OfstedGrade, PriorityFlags, ProviderInput, ProviderType,
    RequestInput, SendNeed, SessionPattern,
};
pub use columns::{
    csv_columns, ColumnMap, Columns, LOCAL_REF, OFFER_COLUMNS, PARTICIPANT_COLUMNS,
    PROVIDER_COLUMNS, REQUEST_COLUMNS,
};
pub use dataset::{Dataset, RecordId, Seq, Version};
pub use derive::DeriveContext;
pub use employment::{EligibilityGroup, EmploymentParticipation, ParticipantInput, Programme, Sex};
pub use generalise::{age_in_years, child_age_months, AdultAgeBand, Month, Season, Term};
pub use geo::{
    Geography, HomePlace, Lsoa, Postcode, PostcodeDistrict, PostcodePlace, PostcodeSector,
};
pub use identity::{PeerIdentity, Role};
pub use invalid::{FieldError, Invalid};
pub use perturbation::PerturbationKey;
pub use pseudonym::{LinkageKey, NiNumber, Pseudonym};
pub use text::{
    parse_date, parse_days, parse_list, parse_pence, parse_time, parse_yes_no, split_list,
};

//! What every derivation of a shareable record from identifiable input needs: the
//! borough doing it, the linkage key and today's date. Passing them in keeps each
//! derivation a pure function that tests can run on any day.

use time::Date;

use crate::{GssCode, LinkageKey};

/// The context of one derivation.
#[derive(Debug, Clone, Copy)]
pub struct DeriveContext<'a> {
    /// The borough whose node is deriving, and so the record's origin.
    pub own_borough: GssCode,
    /// The key pseudonyms are computed under.
    pub key: &'a LinkageKey,
    /// Today, in the borough's local time: no input date may be after it.
    pub today: Date,
}

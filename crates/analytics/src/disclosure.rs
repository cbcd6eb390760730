//! Disclosure control: what every released figure goes through.

/// The smallest suppression threshold a node may be configured with: counts of
/// fewer persons than this are never released.
pub const MIN_THRESHOLD: u64 = 10;

/// The smallest rounding base a node may be configured with.
pub const MIN_ROUNDING_BASE: u64 = 5;

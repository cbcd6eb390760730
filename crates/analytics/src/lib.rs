//! Analytics: combined regional figures over this node's own records and the
//! replicas it holds, released only through disclosure control.
//!
//! Owns: the analytical view of each dataset (columnar, kept in step with the
//! store), the query model (measures, dimensions, filters), the engine that
//! evaluates a query over the view, and disclosure control.
//! Must not: reach another node, read request metadata or decide who may query;
//! release a figure except through `disclosure` (its `Released` type can be built
//! nowhere else).

pub mod disclosure;

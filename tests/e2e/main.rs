//! End-to-end tests: real nodes with real TLS, real sled directories and real gRPC
//! on 127.0.0.1. One test binary; each module is one capability.

mod support;

mod agreements;
mod analytics;
mod analytics_changes;
mod canary;
mod cli;
mod crash;
mod datasets;
mod import;
mod ingest;
mod query_output;
mod replication;
mod tidy;
mod tls;

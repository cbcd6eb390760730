//! Compiles `proto/borough/v1/*.proto` with protox (pure Rust, so no system `protoc`)
//! and keeps the encoded descriptor set for gRPC reflection and field projection.

use std::path::PathBuf;

use prost::Message;

const PROTOS: &[&str] = &[
    "borough/v1/childcare.proto",
    "borough/v1/employment.proto",
    "borough/v1/ingest.proto",
    "borough/v1/replication.proto",
    "borough/v1/admin.proto",
    "borough/v1/query.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    println!("cargo:rerun-if-changed={}", root.display());
    let fds = protox::compile(PROTOS, [&root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("borough_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}

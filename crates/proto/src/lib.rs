//! Proto: the wire contract (`proto/borough/v1`) as generated Rust, the encoded
//! descriptor set, and the checked conversions between wire and domain types.
//!
//! Owns: generated messages and service stubs, `FILE_DESCRIPTOR_SET` (for gRPC
//! reflection and agreement field projection), and `TryFrom` conversions that
//! validate a wire record into a `model` record.
//! Must not: do IO, hold state, or decide who may see what. Depends on `model` only
//! so that wire records convert into validated domain records in one place.
//! Invariants: a dataset's stored payload is the protobuf encoding of its message
//! type here, so field numbers never change meaning.

mod childcare;
mod employment;
mod input;
mod payload;
mod request;
mod wire_enum;

pub use input::{input_any, input_message_name, input_type_url, Input};
pub use payload::{check_shape, decode_payload, message_name, DecodeError, Payload};

/// Generated types for package `borough.v1`.
#[allow(missing_docs, clippy::all)]
pub mod v1 {
    tonic::include_proto!("borough.v1");
}

/// The encoded `FileDescriptorSet` of every borough-net proto file and its imports.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/borough_descriptor.bin"));

/// The descriptor pool built from `FILE_DESCRIPTOR_SET`, shared by every caller.
pub fn descriptor_pool() -> &'static prost_reflect::DescriptorPool {
    static POOL: std::sync::OnceLock<prost_reflect::DescriptorPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        // The bytes are produced by this crate's own build script from the checked-in
        // protos, so decoding them cannot fail at run time.
        prost_reflect::DescriptorPool::decode(FILE_DESCRIPTOR_SET)
            .expect("descriptor set built by build.rs is valid")
    })
}

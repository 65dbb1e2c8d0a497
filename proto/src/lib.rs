//! Slipstream's gRPC API, `slipstream.league.v1` (see `slipstream/league/v1/league.proto`):
//! generated messages, clients and servers, and the file descriptor set for server reflection.

#![allow(missing_docs, clippy::all, clippy::pedantic)]

pub mod league {
    pub mod v1 {
        tonic::include_proto!("slipstream.league.v1");
    }
}

/// The encoded `FileDescriptorSet` of the API (for gRPC server reflection).
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/league_descriptor.bin"));

pub use league::v1;

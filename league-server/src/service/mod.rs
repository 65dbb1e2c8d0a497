//! The gRPC services (one file each) over the shared [`crate::ctx::Ctx`].

pub mod head_to_head;
pub mod models;
pub mod races;
pub mod seasons;
pub mod submissions;
pub mod users;
pub mod worker;

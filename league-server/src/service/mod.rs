//! The gRPC services (one file each) over the shared [`crate::ctx::Ctx`].

pub mod head_to_head;
pub mod models;
pub mod races;
pub mod seasons;
pub mod submissions;
pub mod users;
pub mod worker;

use std::pin::Pin;

use futures::Stream;
use tonic::Status;

/// A file sent as a stream of messages (traces, replays, models).
pub(crate) type Download<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// `data` in messages of at most `chunk_size` bytes, each made by `message`.
pub(crate) fn download<T: Send + 'static>(data: &[u8], chunk_size: usize, message: fn(Vec<u8>) -> T) -> Download<T> {
    let chunks: Vec<Result<T, Status>> = data.chunks(chunk_size).map(|c| Ok(message(c.to_vec()))).collect();
    Box::pin(futures::stream::iter(chunks))
}

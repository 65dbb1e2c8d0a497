//! # slipstream-league-client
//!
//! What a league's clients need and nothing more — no libtorch, no simulator, no database — so
//! that the `league` command line is a small binary a student can be handed:
//!
//! * [`client`]: connecting to a server with a token (the `league` CLI, remote workers, tests).
//! * [`kinds`]: roles, submission statuses, race types, states and timing, a race's settings.
//! * [`convert`]: those kinds ↔ the API's messages, and the names people read for them.
//! * [`time`]: now, and times and durations as people read them.
//!
//! The server (`slipstream-league`) builds on these and re-exports them where its own modules
//! used to define them.

pub mod client;
pub mod convert;
pub mod kinds;
pub mod time;

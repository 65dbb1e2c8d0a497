//! # slipstream-league
//!
//! The league server: admins create races, racers upload models and submit them over gRPC, an
//! evaluation queue races them in the simulator, leaderboards rank them by lap time.
//!
//! * [`server`]: `serve(listener, db, config, shutdown)`: gRPC, gRPC-web and the web site on one port.
//! * [`league`]: the operations every front end shares (access rules, jobs, head-to-head, standings,
//!   tracks) over the state in [`ctx`].
//! * [`web`]: the public web site (races, live leaderboards, submissions, racers, the big screen).
//! * [`service`]: the gRPC services (users, races, models, submissions and leaderboards, workers).
//! * [`ranking`]: the ranking rules as pure functions; [`seasons`]: season points and standings.
//! * [`store`]: sqlx persistence (SQLite or PostgreSQL) and the job queue.
//! * [`worker`]: one worker loop over a job source — this server's queue or a server's over gRPC;
//!   [`evaluation`]: racing a job's models.
//! * [`sandbox`]: students' code in a separate process, confined (bubblewrap, resource limits);
//!   [`reward_check`]: a reward function checked there before any training.
//! * [`auth`], [`boards`], [`races`], [`convert`], [`ctx`]: tokens, cached leaderboards, race settings,
//!   message conversions, shared state.
//! * [`client`]: connecting to a server with a token (from `slipstream-league-client`, where the
//!   `league` CLI lives: it links no libtorch).

pub mod auth;
pub mod boards;
pub mod brackets;
pub mod convert;
pub mod ctx;
pub mod error;
pub mod evaluation;
pub mod league;
pub mod matches;
pub mod races;
pub mod ranking;
pub mod reward_check;
pub mod sandbox;
pub mod seasons;
pub mod server;
pub mod service;
pub mod store;
pub mod util;
pub mod web;
pub mod worker;

pub use ctx::Config;
pub use error::LeagueError;
pub use server::serve;
/// Connecting to a server (the client crate's; the remote worker and tests use it from here).
pub use slipstream_league_client::client;

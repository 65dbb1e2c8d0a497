//! # slipstream-sim
//!
//! A deterministic, headless track simulator for 1/18-scale autonomous race cars, compatible with
//! AWS DeepRacer's tracks, reward parameters, action spaces and traces, and fast enough to step
//! millions of car-steps per second.
//!
//! * [`track`]: DeepRacer `.npy`/CSV tracks, built-in designs, the generator, validation, geometry.
//! * [`car`]: the single-track dynamics model and its parameters.
//! * [`action`]: action spaces and `model_metadata.json`.
//! * [`sensors`]: lidar and privileged state observations.
//! * [`camera`]: DeepRacer's front-facing camera (mono and stereo), a pure-CPU renderer.
//! * [`params`], [`reward`]: DeepRacer's reward parameters and built-in reward presets.
//! * [`episode`], [`objects`]: episode and race rules; obstacles and bot cars.
//! * [`race`]: a race's result, lap summaries and the lap table.
//! * [`world`]: the bevy ECS world and its ordered systems.
//! * [`env`]: [`VecEnv`], N cars in lockstep writing into caller-owned [`StepBuffers`].
//! * [`trace`]: SIM_TRACE_LOG CSV traces: writing, reading, and the rules of playing one back.
//!   [`driver`]: a pure-pursuit baseline driver.
//! * `plot` (the `plot` feature): track maps and charts as PNGs, for the `sim` and `trainer` binaries.
//!
//! ## Determinism
//! The same tracks, configuration, seed and action sequence give bit-identical observations,
//! rewards, trajectories and lap times, on every run and for every thread count: each car's step
//! reads only its own state, all randomness comes from [`rng`] streams derived from (seed, car,
//! episode), and all math avoids platform-dependent functions (see [`math`]).

pub mod action;
pub mod buffers;
pub mod camera;
pub mod car;
pub mod config;
pub mod driver;
pub mod env;
pub mod episode;
pub mod error;
pub mod math;
pub mod objects;
pub mod params;
#[cfg(feature = "plot")]
pub mod plot;
pub mod race;
#[cfg(feature = "cli")]
pub mod race_args;
pub mod reward;
pub mod rng;
pub mod sensors;
pub mod trace;
pub mod track;
pub mod world;

pub use action::{Action, ActionSpace, ModelMetadata};
pub use buffers::{StepBuffers, StepInfo};
pub use car::CarParams;
pub use config::{EnvConfig, GroupConfig, TrackSchedule};
pub use env::VecEnv;
pub use episode::{EpisodeConfig, EpisodeStatus, LapResult, Mode, RaceConfig};
pub use error::{SimError, TrackError};
pub use objects::Scenario;
pub use params::RewardParams;
pub use race::{Lap, Laps, RaceResult, finishing_places};
pub use reward::{RewardFn, RewardPreset};
pub use sensors::ObsConfig;
pub use track::Track;

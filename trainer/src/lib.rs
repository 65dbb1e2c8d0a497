//! # slipstream-trainer
//!
//! Proximal Policy Optimization for Slipstream's simulator, on libtorch (via `tch`): the GPU when
//! there is one, the CPU otherwise.
//!
//! * [`config`]: the TOML training configuration (DeepRacer's hyperparameter names).
//! * [`model`]: the model's spec (and the environment it drives in) and the self-describing
//!   `.safetensors` model file.
//! * [`network`]: the declared networks (MLP; DeepRacer's and Slipstream's camera CNNs).
//! * [`policy`]: the actor-critic network, its action distribution, and network output → actions.
//! * [`train`]: the training loop in named steps; [`rollout`]: collecting experience and GAE;
//!   [`ppo`]: the clipped-surrogate update, readable next to the paper; [`optim`]: Adam with its
//!   state in the open; [`metrics`]: one row per iteration; [`checkpoint`]: what `--resume` reads.
//! * [`evaluate`]: racing a model in the simulator's race mode.
//! * [`distill`]: a camera student imitating a state or lidar teacher (DAgger).
//! * [`reward`]: built-in presets and DeepRacer `reward_function(params)` files (embedded Python,
//!   the default `python` feature).
//! * [`tracks`], [`device`], [`norm`]: training tracks, device choice, observation normalisation.

pub mod checkpoint;
pub mod config;
pub mod deepracer_logs;
pub mod device;
pub mod distill;
pub mod error;
pub mod evaluate;
pub mod head_to_head;
pub mod metrics;
pub mod model;
pub mod model_metadata;
pub mod network;
pub mod norm;
pub mod optim;
pub mod policy;
pub mod ppo;
pub mod reward;
pub mod rollout;
pub mod runner;
pub mod spec;
mod tensors;
pub mod trace_to;
pub mod tracks;
pub mod train;

pub use config::TrainConfig;
pub use device::DeviceChoice;
pub use error::TrainError;
pub use evaluate::{EvalOptions, EvalReport, evaluate};
pub use head_to_head::{MatchReport, MatchRun, race_match};
pub use model::Model;
pub use trace_to::{TraceBuffer, TraceTo};
pub use train::{Budget, TrainOptions, TrainSummary, train};

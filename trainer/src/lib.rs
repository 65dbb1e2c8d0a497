//! # slipstream-trainer
//!
//! Proximal Policy Optimization for Slipstream's simulator, on libtorch (via `tch`): the GPU when
//! there is one, the CPU otherwise.
//!
//! * [`config`]: the TOML training configuration (DeepRacer's hyperparameter names).
//! * [`model`]: the actor-critic network and the self-describing `.safetensors` model file.
//! * [`ppo`]: GAE and the clipped-surrogate update, readable next to the paper.
//! * [`train`]: rollouts from `slipstream_sim::VecEnv`, metrics, evaluation, checkpoints.
//! * [`evaluate`]: racing a model in the simulator's race mode.
//! * [`reward`]: built-in presets and DeepRacer `reward_function(params)` files (embedded Python).
//! * [`tracks`], [`device`], [`norm`]: training tracks, device choice, observation normalisation.

pub mod config;
pub mod device;
pub mod error;
pub mod evaluate;
pub mod model;
pub mod norm;
pub mod ppo;
pub mod reward;
pub mod tracks;
pub mod train;

pub use config::TrainConfig;
pub use device::DeviceChoice;
pub use error::TrainError;
pub use evaluate::{EvalOptions, EvalReport, evaluate};
pub use model::Model;
pub use train::{Budget, TrainOptions, TrainSummary, train};

//! Reward functions: the simulator's built-in presets (fast, in Rust, computed inside the
//! simulator's step) or a student's DeepRacer `reward_function.py`, run unchanged in an embedded
//! Python interpreter ([`python`], behind the trainer's default `python` feature; builds without
//! it — the league's — accept presets only).

pub mod check;
#[cfg(feature = "python")]
pub mod python;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use slipstream_sim::params::RewardParams;
use slipstream_sim::reward::{RewardContext, RewardFn};
use slipstream_sim::{RewardPreset, StepBuffers, Track};

use crate::error::TrainError;
#[cfg(feature = "python")]
pub use python::PythonReward;

/// DeepRacer rejects rewards outside this range.
pub const REWARD_LIMIT: f64 = 1e5;

/// Where rewards come from.
#[derive(Debug)]
pub enum RewardSource {
    /// Computed inside the simulator's step.
    Preset(RewardPreset),
    /// A Python `reward_function(params)`, called from the training loop.
    #[cfg(feature = "python")]
    Python(PythonReward),
}

impl RewardSource {
    /// `--reward`: a preset name, or a path to a `.py` file.
    pub fn parse(spec: &str, tracks: &[Arc<Track>]) -> Result<Self, TrainError> {
        if spec.ends_with(".py") || Path::new(spec).exists() {
            #[cfg(feature = "python")]
            return Ok(RewardSource::Python(PythonReward::load(Path::new(spec), tracks)?));
            #[cfg(not(feature = "python"))]
            {
                let _ = tracks;
                return Err(TrainError::option(
                    "--reward",
                    format!(
                        "{spec}: this build runs reward presets only (Python reward files need the trainer's `python` feature)"
                    ),
                ));
            }
        }
        RewardPreset::from_str(spec)
            .map(RewardSource::Preset)
            .map_err(|m| TrainError::option("--reward", m))
    }

    pub fn name(&self) -> String {
        match self {
            RewardSource::Preset(p) => p.name().to_string(),
            #[cfg(feature = "python")]
            RewardSource::Python(p) => p.path().display().to_string(),
        }
    }

    /// The reward the simulator should compute itself.
    pub fn in_sim(&self) -> Arc<dyn RewardFn> {
        match self {
            RewardSource::Preset(p) => Arc::new(*p),
            #[cfg(feature = "python")]
            RewardSource::Python(_) => Arc::new(RewardPreset::Zero),
        }
    }

    /// Whether the simulator must write DeepRacer's params for every step (a reward computed
    /// outside it).
    pub fn needs_params(&self) -> bool {
        !matches!(self, RewardSource::Preset(_))
    }

    /// Where a reward function's `print()`s go: `log` and/or standard error (`echo`) — never
    /// standard output. Presets print nothing.
    pub fn log_prints(&self, log: Option<&Path>, echo: bool) -> Result<(), TrainError> {
        match self {
            RewardSource::Preset(_) => {
                let _ = (log, echo);
                Ok(())
            }
            #[cfg(feature = "python")]
            RewardSource::Python(p) => p.log_prints(log, echo),
        }
    }

    /// This step's rewards, one per car: the simulator's own (a preset) or the Python function's
    /// over the step's params.
    pub fn score(&self, out: &StepBuffers, rewards: &mut [f32]) -> Result<(), TrainError> {
        match self {
            RewardSource::Preset(_) => {
                rewards.copy_from_slice(&out.reward);
                Ok(())
            }
            #[cfg(feature = "python")]
            RewardSource::Python(p) => p.call_batch(&out.params, rewards),
        }
    }
}

/// Call a reward preset for a batch of params outside the simulator (for benchmarks and tools).
pub fn preset_batch(preset: RewardPreset, ctx: &RewardContext, params: &[RewardParams], out: &mut [f32]) {
    for (p, o) in params.iter().zip(out.iter_mut()) {
        *o = preset.reward(p, ctx);
    }
}

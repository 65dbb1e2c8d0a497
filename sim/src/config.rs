//! Configuration of a vectorized environment.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::action::ActionSpace;
use crate::car::CarParams;
use crate::episode::Mode;
use crate::error::SimError;
use crate::objects::Scenario;
use crate::reward::{RewardFn, RewardPreset};
use crate::sensors::ObsConfig;
use crate::track::Track;

/// How cars are assigned to the environment's tracks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackSchedule {
    /// Car `i`'s `k`-th episode runs on track `(i + k) mod T`.
    #[default]
    RoundRobin,
    /// Car `i` always runs on track `i mod T`.
    PerCar,
}

/// Everything that defines an environment. Construct with [`EnvConfig::new`] and adjust fields.
#[derive(Clone, Debug)]
pub struct EnvConfig {
    /// One or more tracks (several for training generalist models).
    pub tracks: Vec<Arc<Track>>,
    pub track_schedule: TrackSchedule,
    pub car: CarParams,
    pub action_space: ActionSpace,
    pub obs: ObsConfig,
    pub mode: Mode,
    pub scenario: Scenario,
    /// The in-simulator reward. Use [`RewardPreset::Zero`] when rewards are computed elsewhere.
    pub reward: Arc<dyn RewardFn>,
    /// Seconds per agent step (DeepRacer: 1/15).
    pub agent_dt: f64,
    /// Physics sub-steps per agent step.
    pub physics_substeps: u32,
    /// Worker threads stepping the cars (1 = on the caller's thread).
    pub threads: usize,
}

impl EnvConfig {
    /// Defaults on one track: state observations, DeepRacer's default discrete actions, training
    /// episodes, time trial, the progress-and-speed reward, 1/15 s steps with 4 physics sub-steps.
    pub fn new(track: Track) -> Self {
        Self {
            tracks: vec![Arc::new(track)],
            track_schedule: TrackSchedule::default(),
            car: CarParams::default(),
            action_space: ActionSpace::default(),
            obs: ObsConfig::default(),
            mode: Mode::default(),
            scenario: Scenario::default(),
            reward: Arc::new(RewardPreset::ProgressSpeed),
            agent_dt: 1.0 / 15.0,
            physics_substeps: 4,
            threads: 1,
        }
    }

    /// Check every part; errors name the field.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.tracks.is_empty() {
            return Err(SimError::config("tracks", "at least one track is needed"));
        }
        if self.tracks.len() > u16::MAX as usize {
            return Err(SimError::config("tracks", "too many tracks"));
        }
        self.car
            .validate()
            .map_err(|(f, m)| SimError::config(format!("car.{f}"), m))?;
        for (i, t) in self.tracks.iter().enumerate() {
            if t.width_min() < self.car.width {
                return Err(SimError::config(
                    format!("tracks[{i}]"),
                    format!(
                        "track {} is {:.3} m wide at its narrowest, narrower than the car ({:.3} m)",
                        t.name(),
                        t.width_min(),
                        self.car.width
                    ),
                ));
            }
        }
        self.action_space.validate(&self.car)?;
        self.obs.validate()?;
        self.mode.validate()?;
        self.scenario.validate()?;
        if !(self.agent_dt.is_finite() && self.agent_dt > 0.0 && self.agent_dt <= 1.0) {
            return Err(SimError::config(
                "agent_dt",
                format!("expected a step length in (0, 1] s, got {}", self.agent_dt),
            ));
        }
        if !(1..=1000).contains(&self.physics_substeps) {
            return Err(SimError::config(
                "physics_substeps",
                format!("expected 1–1000, got {}", self.physics_substeps),
            ));
        }
        if !(1..=256).contains(&self.threads) {
            return Err(SimError::config(
                "threads",
                format!("expected 1–256, got {}", self.threads),
            ));
        }
        Ok(())
    }
}

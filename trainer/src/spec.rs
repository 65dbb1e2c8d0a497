//! What a model is built for — its sensor, action space, network, car and step settings — apart
//! from its weights: what a training config produces ([`crate::config::TrainConfig::model_spec`]),
//! a model file carries ([`crate::model`]) and the policy is built from ([`crate::policy`]).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use slipstream_sim::action::{DiscreteAction, Range};
use slipstream_sim::{ActionSpace, CarParams, EnvConfig, Mode, ObsConfig, Track};

use crate::network::NetworkSpec;

/// What a model was built for: everything needed to rebuild its network and environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub sensor: ObsConfig,
    pub action_space: ActionSpaceConfig,
    pub network: NetworkSpec,
    pub car: CarParams,
    pub agent_dt: f64,
    pub physics_substeps: u32,
}

impl ModelSpec {
    pub fn action_space(&self) -> ActionSpace {
        self.action_space.to_space()
    }

    pub fn obs_dim(&self) -> usize {
        self.sensor.dim()
    }

    /// `[channels, height, width]` of the sensor's camera images (`None` without a camera).
    pub fn image_shape(&self) -> Option<[i64; 3]> {
        image_shape(&self.sensor)
    }

    /// The environment this model drives in: its car, sensor, action space and step settings, on
    /// `tracks` (at least one) in `mode`. Training and racing both start from this one function,
    /// so a model races in exactly the world it was trained in; callers add the scenario, the
    /// reward and the thread count.
    pub fn env_config(&self, tracks: &[Arc<Track>], mode: Mode) -> EnvConfig {
        let mut cfg = EnvConfig::new((*tracks[0]).clone());
        cfg.tracks = tracks.to_vec();
        cfg.car = self.car.clone();
        cfg.action_space = self.action_space();
        cfg.obs = self.sensor.clone();
        cfg.agent_dt = self.agent_dt;
        cfg.physics_substeps = self.physics_substeps;
        cfg.mode = mode;
        cfg
    }

    /// Check the spec is usable: valid sensor, network, car, and actions inside the car's limits.
    pub fn validate(&self) -> Result<(), String> {
        self.sensor.validate().map_err(|e| e.to_string())?;
        self.car.validate().map_err(|(f, m)| format!("car.{f}: {m}"))?;
        self.action_space().validate(&self.car).map_err(|e| e.to_string())?;
        self.network.validate(self.image_shape())?;
        if !(self.agent_dt.is_finite() && self.agent_dt > 0.0 && self.agent_dt <= 1.0) {
            return Err(format!("agent_dt: expected (0, 1] s, got {}", self.agent_dt));
        }
        if !(1..=1000).contains(&self.physics_substeps) {
            return Err(format!(
                "physics_substeps: expected 1–1000, got {}",
                self.physics_substeps
            ));
        }
        Ok(())
    }
}

/// [`ObsConfig::image_shape`] as tensor dimensions.
pub fn image_shape(sensor: &ObsConfig) -> Option<[i64; 3]> {
    sensor.image_shape().map(|s| s.map(|d| d as i64))
}

/// An action space in the config file (DeepRacer's `model_metadata.json` shapes, tagged by type).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionSpaceConfig {
    Discrete { actions: Vec<DiscreteAction> },
    Continuous { steering_angle: Range, speed: Range },
}

impl ActionSpaceConfig {
    pub fn to_space(&self) -> ActionSpace {
        match self {
            ActionSpaceConfig::Discrete { actions } => ActionSpace::Discrete(actions.clone()),
            ActionSpaceConfig::Continuous { steering_angle, speed } => ActionSpace::Continuous {
                steering_angle: *steering_angle,
                speed: *speed,
            },
        }
    }

    pub fn from_space(s: &ActionSpace) -> Self {
        match s {
            ActionSpace::Discrete(a) => ActionSpaceConfig::Discrete { actions: a.clone() },
            ActionSpace::Continuous { steering_angle, speed } => ActionSpaceConfig::Continuous {
                steering_angle: *steering_angle,
                speed: *speed,
            },
        }
    }
}

impl Default for ActionSpaceConfig {
    fn default() -> Self {
        ActionSpaceConfig::Continuous {
            steering_angle: Range { low: -30.0, high: 30.0 },
            speed: Range { low: 0.5, high: 4.0 },
        }
    }
}

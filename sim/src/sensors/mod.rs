//! Sensors: what a policy observes. Each sensor writes a fixed-length `f32` vector per car.
//!
//! * [`ObsConfig::Lidar`]: N rays over a field of view, hitting track borders, obstacles and bot cars,
//!   as distances divided by the range (1 = nothing within range), followed by the car's speed and
//!   steering angle, normalised.
//! * [`ObsConfig::State`]: privileged features for fast experiments and debugging: centre-line points
//!   ahead in the car's frame, speed, heading error, lateral offset and the car's own motion.
//!
//! A camera sensor will be another variant; everything downstream only needs [`ObsConfig::dim`].

pub mod lidar;
pub mod state;

use serde::{Deserialize, Serialize};

pub use lidar::{Lidar, LidarConfig, LidarScratch};
pub use state::StateConfig;

use crate::error::SimError;

/// Which observation the environment produces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ObsConfig {
    State(StateConfig),
    Lidar(LidarConfig),
}

impl Default for ObsConfig {
    fn default() -> Self {
        ObsConfig::State(StateConfig::default())
    }
}

impl ObsConfig {
    /// Length of one car's observation vector.
    pub fn dim(&self) -> usize {
        match self {
            ObsConfig::State(s) => s.dim(),
            ObsConfig::Lidar(l) => l.dim(),
        }
    }

    /// Short name: `state` or `lidar`.
    pub fn kind(&self) -> &'static str {
        match self {
            ObsConfig::State(_) => "state",
            ObsConfig::Lidar(_) => "lidar",
        }
    }

    /// The DeepRacer-style sensor name written to `model_metadata.json`.
    pub fn sensor_name(&self) -> &'static str {
        match self {
            ObsConfig::State(_) => "STATE",
            ObsConfig::Lidar(_) => "LIDAR",
        }
    }

    /// Names of the observation vector's entries (for debugging and documentation).
    pub fn feature_names(&self) -> Vec<String> {
        match self {
            ObsConfig::State(s) => s.feature_names(),
            ObsConfig::Lidar(l) => l.feature_names(),
        }
    }

    pub fn validate(&self) -> Result<(), SimError> {
        match self {
            ObsConfig::State(s) => s.validate(),
            ObsConfig::Lidar(l) => l.validate(),
        }
    }
}

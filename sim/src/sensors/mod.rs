//! Sensors: what a policy observes. Each sensor writes a fixed-length `f32` vector per car.
//!
//! * [`ObsConfig::Lidar`]: N rays over a field of view, hitting track borders, obstacles and bot cars,
//!   as distances divided by the range (1 = nothing within range), followed by the car's speed and
//!   steering angle, normalised. Slipstream's own lidar (`SLIPSTREAM_LIDAR` in `model_metadata.json`).
//! * [`ObsConfig::DeepracerLidar`] / [`ObsConfig::SectorLidar`]: DeepRacer's `LIDAR` (64 ranges in
//!   metres, clipped to [0.15, 1.0]) and `SECTOR_LIDAR` (8 binary sectors at 0.5 m) exactly as its
//!   simulator scans and filters them ([`deepracer_lidar`]), followed by speed and steering.
//! * [`ObsConfig::State`]: privileged features for fast experiments and debugging: centre-line points
//!   ahead in the car's frame, speed, heading error, lateral offset and the car's own motion.
//!
//! * [`ObsConfig::Camera`] / [`ObsConfig::StereoCamera`]: DeepRacer's front-facing camera or its
//!   stereo pair ([`crate::camera`]). The pixels leave as `u8` in the image buffers
//!   ([`crate::StepBuffers::image`], channels × height × width per car); the `f32` vector then holds
//!   just the car's speed and steering angle, normalised (DeepRacer's camera models see only the
//!   pixels: a learner may ignore them).
//!
//! Everything downstream of the vector needs only [`ObsConfig::dim`]; of the image,
//! [`ObsConfig::image_shape`].

pub mod deepracer_lidar;
pub mod lidar;
pub mod state;

use serde::{Deserialize, Serialize};

pub use deepracer_lidar::DeepRacerLidarConfig;
pub use lidar::{Lidar, LidarConfig, LidarScratch};
pub use state::StateConfig;

use crate::camera::CameraConfig;
use crate::error::SimError;

/// Which observation the environment produces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ObsConfig {
    State(StateConfig),
    /// Slipstream's configurable lidar (sees the track borders as walls).
    Lidar(LidarConfig),
    /// DeepRacer's `LIDAR`: 64 ranges over 300°, clipped to [0.15, 1.0] m.
    DeepracerLidar(DeepRacerLidarConfig),
    /// DeepRacer's `SECTOR_LIDAR`: 8 binary sectors (1.0 = something nearer than 0.5 m).
    SectorLidar(DeepRacerLidarConfig),
    /// One front-facing camera (DeepRacer's `FRONT_FACING_CAMERA`).
    Camera(CameraConfig),
    /// Two cameras side by side (DeepRacer's `STEREO_CAMERAS`): 2 channels, left lens first.
    StereoCamera(CameraConfig),
}

/// The vector part of a camera observation, and what follows every lidar's readings.
const CAMERA_FEATURES: [&str; 2] = ["speed", "steering"];

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
            ObsConfig::DeepracerLidar(_) => deepracer_lidar::SAMPLES + CAMERA_FEATURES.len(),
            ObsConfig::SectorLidar(_) => deepracer_lidar::SECTORS + CAMERA_FEATURES.len(),
            ObsConfig::Camera(_) | ObsConfig::StereoCamera(_) => CAMERA_FEATURES.len(),
        }
    }

    /// The camera's settings and whether it is a stereo pair.
    pub fn camera(&self) -> Option<(&CameraConfig, bool)> {
        match self {
            ObsConfig::Camera(c) => Some((c, false)),
            ObsConfig::StereoCamera(c) => Some((c, true)),
            _ => None,
        }
    }

    /// Shape of one car's image, `[channels, height, width]` (`None` without a camera).
    pub fn image_shape(&self) -> Option<[usize; 3]> {
        self.camera()
            .map(|(c, stereo)| [if stereo { 2 } else { 1 }, c.height as usize, c.width as usize])
    }

    /// Bytes of one car's image (0 without a camera).
    pub fn image_len(&self) -> usize {
        self.image_shape().map_or(0, |[c, h, w]| c * h * w)
    }

    /// Short name: `state`, `lidar`, `deepracer_lidar`, `sector_lidar`, `camera` or `stereo_camera`.
    pub fn kind(&self) -> &'static str {
        match self {
            ObsConfig::State(_) => "state",
            ObsConfig::Lidar(_) => "lidar",
            ObsConfig::DeepracerLidar(_) => "deepracer_lidar",
            ObsConfig::SectorLidar(_) => "sector_lidar",
            ObsConfig::Camera(_) => "camera",
            ObsConfig::StereoCamera(_) => "stereo_camera",
        }
    }

    /// The sensor name written to `model_metadata.json`: DeepRacer's names for DeepRacer's sensors
    /// (`LIDAR`, `SECTOR_LIDAR`, `FRONT_FACING_CAMERA`, `STEREO_CAMERAS`), Slipstream's own otherwise.
    pub fn sensor_name(&self) -> &'static str {
        match self {
            ObsConfig::State(_) => "STATE",
            ObsConfig::Lidar(_) => "SLIPSTREAM_LIDAR",
            ObsConfig::DeepracerLidar(_) => "LIDAR",
            ObsConfig::SectorLidar(_) => "SECTOR_LIDAR",
            ObsConfig::Camera(_) => "FRONT_FACING_CAMERA",
            ObsConfig::StereoCamera(_) => "STEREO_CAMERAS",
        }
    }

    /// Names of the observation vector's entries (for debugging and documentation).
    pub fn feature_names(&self) -> Vec<String> {
        match self {
            ObsConfig::State(s) => s.feature_names(),
            ObsConfig::Lidar(l) => l.feature_names(),
            ObsConfig::DeepracerLidar(_) | ObsConfig::SectorLidar(_) => {
                let (prefix, n) = if matches!(self, ObsConfig::DeepracerLidar(_)) {
                    ("lidar", deepracer_lidar::SAMPLES)
                } else {
                    ("sector", deepracer_lidar::SECTORS)
                };
                (0..n)
                    .map(|i| format!("{prefix}_{i}"))
                    .chain(CAMERA_FEATURES.iter().map(|s| s.to_string()))
                    .collect()
            }
            ObsConfig::Camera(_) | ObsConfig::StereoCamera(_) => {
                CAMERA_FEATURES.iter().map(|s| s.to_string()).collect()
            }
        }
    }

    pub fn validate(&self) -> Result<(), SimError> {
        match self {
            ObsConfig::State(s) => s.validate(),
            ObsConfig::Lidar(l) => l.validate(),
            ObsConfig::DeepracerLidar(_) | ObsConfig::SectorLidar(_) => Ok(()),
            ObsConfig::Camera(c) | ObsConfig::StereoCamera(c) => c.validate(),
        }
    }
}

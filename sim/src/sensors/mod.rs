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
//! * [`ObsConfig::CameraLidar`]: DeepRacer's two-sensor set-ups, a camera (front-facing or stereo)
//!   with `LIDAR` or `SECTOR_LIDAR` beside it: the image as the camera's, the vector as the lidar's
//!   (its readings first, then speed and steering; [`ObsConfig::lidar_readings`] says how many).
//!
//! Everything downstream of the vector needs only [`ObsConfig::dim`]; of the image,
//! [`ObsConfig::image_shape`].

pub mod deepracer_lidar;
pub mod lidar;
pub mod state;

use serde::{Deserialize, Serialize};

pub use deepracer_lidar::{DeepRacerLidarConfig, DeepRacerLidarKind};
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
    /// A camera and one of DeepRacer's lidars together (e.g. `FRONT_FACING_CAMERA` + `LIDAR`).
    CameraLidar(CameraLidarConfig),
}

/// DeepRacer's camera + lidar set-ups: `type = "camera_lidar"`, `lidar = "lidar"` or
/// `"sector_lidar"`, `stereo = true` for the stereo pair; `[sensor.camera]` and
/// `[sensor.lidar_settings]` as for the single sensors.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CameraLidarConfig {
    pub camera: CameraConfig,
    /// DeepRacer's `STEREO_CAMERAS` (else its `FRONT_FACING_CAMERA`).
    pub stereo: bool,
    pub lidar: DeepRacerLidarKind,
    pub lidar_settings: DeepRacerLidarConfig,
}

/// Every sensor's [`ObsConfig::kind`], as races name the sensors they take.
pub const SENSOR_KINDS: [&str; 10] = [
    "state",
    "lidar",
    "deepracer_lidar",
    "sector_lidar",
    "camera",
    "stereo_camera",
    "camera+lidar",
    "camera+sector_lidar",
    "stereo_camera+lidar",
    "stereo_camera+sector_lidar",
];

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
            _ => self.lidar_readings().unwrap_or(0) + CAMERA_FEATURES.len(),
        }
    }

    /// DeepRacer's lidar in this sensor, and its settings.
    pub fn deepracer_lidar(&self) -> Option<(DeepRacerLidarKind, &DeepRacerLidarConfig)> {
        match self {
            ObsConfig::DeepracerLidar(c) => Some((DeepRacerLidarKind::Lidar, c)),
            ObsConfig::SectorLidar(c) => Some((DeepRacerLidarKind::SectorLidar, c)),
            ObsConfig::CameraLidar(c) => Some((c.lidar, &c.lidar_settings)),
            _ => None,
        }
    }

    /// How many of DeepRacer's lidar readings open the vector (`None` without one of its lidars).
    pub fn lidar_readings(&self) -> Option<usize> {
        self.deepracer_lidar().map(|(k, _)| k.readings())
    }

    /// The camera's settings and whether it is a stereo pair.
    pub fn camera(&self) -> Option<(&CameraConfig, bool)> {
        match self {
            ObsConfig::Camera(c) => Some((c, false)),
            ObsConfig::StereoCamera(c) => Some((c, true)),
            ObsConfig::CameraLidar(c) => Some((&c.camera, c.stereo)),
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

    /// Short name: `state`, `lidar`, `deepracer_lidar`, `sector_lidar`, `camera`, `stereo_camera`,
    /// or for a camera with a lidar, the two joined by `+` (`camera+sector_lidar`).
    pub fn kind(&self) -> &'static str {
        match self {
            ObsConfig::State(_) => "state",
            ObsConfig::Lidar(_) => "lidar",
            ObsConfig::DeepracerLidar(_) => "deepracer_lidar",
            ObsConfig::SectorLidar(_) => "sector_lidar",
            ObsConfig::Camera(_) => "camera",
            ObsConfig::StereoCamera(_) => "stereo_camera",
            ObsConfig::CameraLidar(c) => match (c.stereo, c.lidar) {
                (false, DeepRacerLidarKind::Lidar) => "camera+lidar",
                (false, DeepRacerLidarKind::SectorLidar) => "camera+sector_lidar",
                (true, DeepRacerLidarKind::Lidar) => "stereo_camera+lidar",
                (true, DeepRacerLidarKind::SectorLidar) => "stereo_camera+sector_lidar",
            },
        }
    }

    /// The sensor list written to `model_metadata.json`: DeepRacer's names for DeepRacer's sensors
    /// (`FRONT_FACING_CAMERA` or `STEREO_CAMERAS`, then `LIDAR` or `SECTOR_LIDAR`), Slipstream's own
    /// otherwise (`STATE`, `SLIPSTREAM_LIDAR`).
    pub fn sensor_names(&self) -> Vec<&'static str> {
        let camera = self.camera().map(|(_, stereo)| {
            if stereo {
                "STEREO_CAMERAS"
            } else {
                "FRONT_FACING_CAMERA"
            }
        });
        let lidar = self.deepracer_lidar().map(|(k, _)| k.sensor_name());
        match self {
            ObsConfig::State(_) => vec!["STATE"],
            ObsConfig::Lidar(_) => vec!["SLIPSTREAM_LIDAR"],
            _ => camera.into_iter().chain(lidar).collect(),
        }
    }

    /// Names of the observation vector's entries (for debugging and documentation).
    pub fn feature_names(&self) -> Vec<String> {
        match self {
            ObsConfig::State(s) => s.feature_names(),
            ObsConfig::Lidar(l) => l.feature_names(),
            _ => {
                let readings = self.deepracer_lidar().into_iter().flat_map(|(k, _)| k.reading_names());
                readings.chain(CAMERA_FEATURES.iter().map(|s| s.to_string())).collect()
            }
        }
    }

    pub fn validate(&self) -> Result<(), SimError> {
        match self {
            ObsConfig::State(s) => s.validate(),
            ObsConfig::Lidar(l) => l.validate(),
            ObsConfig::DeepracerLidar(_) | ObsConfig::SectorLidar(_) => Ok(()),
            ObsConfig::Camera(c) | ObsConfig::StereoCamera(c) => c.validate(),
            ObsConfig::CameraLidar(c) => c.camera.validate(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`SENSOR_KINDS`] lists every sensor's kind, once: what races are checked against.
    #[test]
    fn every_sensor_kind_is_listed() {
        let mut all = vec![
            ObsConfig::State(Default::default()),
            ObsConfig::Lidar(Default::default()),
            ObsConfig::DeepracerLidar(Default::default()),
            ObsConfig::SectorLidar(Default::default()),
            ObsConfig::Camera(Default::default()),
            ObsConfig::StereoCamera(Default::default()),
        ];
        for stereo in [false, true] {
            for lidar in [DeepRacerLidarKind::Lidar, DeepRacerLidarKind::SectorLidar] {
                all.push(ObsConfig::CameraLidar(CameraLidarConfig {
                    stereo,
                    lidar,
                    ..Default::default()
                }));
            }
        }
        let mut kinds: Vec<&str> = all.iter().map(ObsConfig::kind).collect();
        kinds.sort_unstable();
        let mut listed = SENSOR_KINDS.to_vec();
        listed.sort_unstable();
        assert_eq!(kinds, listed);
    }
}

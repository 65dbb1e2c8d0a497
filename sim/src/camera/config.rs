//! Camera settings: image size, lens, mount and stereo baseline, with DeepRacer's simulator values as
//! the default and the physical car's wide-angle lens as a preset.
//!
//! # DeepRacer's mount, worked out from deepracer-simapp's URDF
//!
//! `bundle/urdf/deepracer/deepracer_*_cam.urdf` chains three fixed joints from `base_link` (on the
//! ground, between the axles; the chassis origin our car's origin stands for, 0.14 m behind the
//! "model point" DeepRacer reports as `x`, `y`):
//!
//! 1. `base_link` → `chassis`: up 0.023249 m.
//! 2. `chassis` → `zed_camera_link`: (0.091711, 0 or ±0.03, 0.080023) m, pitched
//!    `rpy = (0, 0.2618, 0)`: 15° nose-down (a positive rotation about the left-pointing y axis
//!    turns the x axis downwards).
//! 3. `zed_camera_link` → `camera_link` (the sensor): (0.044755, 0, 0.04) m in the pitched frame.
//!
//! With θ = 0.2618 rad the sensor sits, in the car's frame,
//! x = 0.091711 + 0.044755·cos θ + 0.04·sin θ = 0.1453 m ahead of the origin and
//! z = 0.023249 + 0.080023 − 0.044755·sin θ + 0.04·cos θ = 0.1303 m above the ground, looking 15°
//! down. `racecar.gazebo` gives the lens: `horizontal_fov` 1.13 rad (64.74°), 640 × 480 at 15 Hz;
//! DeepRacer's agent resizes that to 160 × 120 grayscale. The stereo URDF puts the two cameras at
//! y = ±0.03 m (a 0.06 m baseline).
//!
//! The physical car (DeepRacer's 4 MP camera with a 120° wide-angle lens) is [`CameraConfig::physical`];
//! this renderer models every lens as an ideal pinhole (rectilinear), so the preset has the real
//! car's field of view but not its barrel distortion.

use serde::{Deserialize, Serialize};

use super::randomize::RandomizeConfig;
use crate::error::SimError;

/// DeepRacer simulator's horizontal field of view, radians (`racecar.gazebo`).
pub const DEEPRACER_FOV_RAD: f64 = 1.13;

/// Largest image side the renderer accepts, pixels.
pub const MAX_SIDE: u32 = 1024;

/// One camera's (or a stereo pair's) settings. SI units: metres and degrees as named.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CameraConfig {
    /// Image width and height, pixels (DeepRacer trains on 160 × 120).
    pub width: u32,
    pub height: u32,
    /// Horizontal field of view, degrees, in (0, 180).
    pub fov_deg: f64,
    /// Lens position ahead of the car's origin, metres.
    pub mount_x: f64,
    /// Lens height above the ground, metres (must be above the ground).
    pub mount_z: f64,
    /// Downward tilt of the optical axis, degrees, in (−90, 90).
    pub pitch_deg: f64,
    /// Distance between the two lenses of a stereo pair, metres (each ±half to the side).
    pub baseline: f64,
    /// Per-episode domain randomisation (off by default).
    pub randomize: RandomizeConfig,
}

impl Default for CameraConfig {
    fn default() -> Self {
        Self::deepracer()
    }
}

impl CameraConfig {
    /// DeepRacer's simulated camera (the default): 160 × 120, 64.74° (1.13 rad) horizontal field of
    /// view, 0.1453 m ahead of the origin, 0.1303 m up, pitched 15° down, stereo baseline 0.06 m.
    pub fn deepracer() -> Self {
        Self {
            width: 160,
            height: 120,
            fov_deg: DEEPRACER_FOV_RAD.to_degrees(),
            mount_x: 0.1453,
            mount_z: 0.1303,
            pitch_deg: 15.0,
            baseline: 0.06,
            randomize: RandomizeConfig::default(),
        }
    }

    /// The physical car: the same mount with its 120° wide-angle lens (modelled as a pinhole).
    pub fn physical() -> Self {
        Self {
            fov_deg: 120.0,
            ..Self::deepracer()
        }
    }

    /// Focal length in pixels.
    pub fn focal_px(&self) -> f64 {
        0.5 * f64::from(self.width) / crate::math::tan(0.5 * self.fov_deg.to_radians())
    }

    /// Check every field; errors name it (`camera.fov_deg: …`).
    pub fn validate(&self) -> Result<(), SimError> {
        for (field, v) in [("camera.width", self.width), ("camera.height", self.height)] {
            if v == 0 || v > MAX_SIDE {
                return Err(SimError::config(
                    field,
                    format!("expected 1–{MAX_SIDE} pixels, got {v}"),
                ));
            }
        }
        if !(self.fov_deg.is_finite() && self.fov_deg > 0.0 && self.fov_deg < 180.0) {
            return Err(SimError::config(
                "camera.fov_deg",
                format!("expected (0, 180) degrees, got {}", self.fov_deg),
            ));
        }
        if !(self.mount_x.is_finite() && self.mount_x.abs() <= 1.0) {
            return Err(SimError::config(
                "camera.mount_x",
                format!(
                    "expected a position within 1 m of the car's origin, got {}",
                    self.mount_x
                ),
            ));
        }
        if !(self.mount_z.is_finite() && self.mount_z > 0.0 && self.mount_z <= 2.0) {
            return Err(SimError::config(
                "camera.mount_z",
                format!(
                    "expected a height above the ground in (0, 2] m, got {} (the lens cannot be at or below the ground)",
                    self.mount_z
                ),
            ));
        }
        if !(self.pitch_deg.is_finite() && self.pitch_deg > -90.0 && self.pitch_deg < 90.0) {
            return Err(SimError::config(
                "camera.pitch_deg",
                format!("expected (-90, 90) degrees, got {}", self.pitch_deg),
            ));
        }
        if !(self.baseline.is_finite() && (0.0..=1.0).contains(&self.baseline)) {
            return Err(SimError::config(
                "camera.baseline",
                format!("expected [0, 1] m, got {}", self.baseline),
            ));
        }
        self.randomize.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_deepracers_and_valid() {
        let c = CameraConfig::default();
        c.validate().unwrap();
        assert_eq!((c.width, c.height), (160, 120));
        assert!((c.fov_deg - 64.74).abs() < 0.01, "{}", c.fov_deg);
        // The URDF chain worked out in the module docs.
        let th = 0.2618_f64;
        let x = 0.091711 + 0.044755 * th.cos() + 0.04 * th.sin();
        let z = 0.023249 + 0.080023 - 0.044755 * th.sin() + 0.04 * th.cos();
        assert!((x - c.mount_x).abs() < 1e-4 && (z - c.mount_z).abs() < 1e-4, "{x} {z}");
        CameraConfig::physical().validate().unwrap();
        assert_eq!(CameraConfig::physical().fov_deg, 120.0);
    }

    #[test]
    fn bad_settings_name_the_field() {
        let cases: [(CameraConfig, &str); 6] = [
            (
                CameraConfig {
                    fov_deg: 180.0,
                    ..Default::default()
                },
                "camera.fov_deg",
            ),
            (
                CameraConfig {
                    fov_deg: 0.0,
                    ..Default::default()
                },
                "camera.fov_deg",
            ),
            (
                CameraConfig {
                    width: 0,
                    ..Default::default()
                },
                "camera.width",
            ),
            (
                CameraConfig {
                    height: 0,
                    ..Default::default()
                },
                "camera.height",
            ),
            (
                CameraConfig {
                    mount_z: -0.01,
                    ..Default::default()
                },
                "camera.mount_z",
            ),
            (
                CameraConfig {
                    pitch_deg: f64::NAN,
                    ..Default::default()
                },
                "camera.pitch_deg",
            ),
        ];
        for (c, field) in cases {
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        }
    }
}

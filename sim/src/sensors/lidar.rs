//! A 2-D lidar: rays fanned over a field of view from the car's origin.

use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::math::{Obb, Vec2};
use crate::track::Track;
use crate::track::raycast::{FanScratch, MAX_FAN};

/// Lidar settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LidarConfig {
    /// Number of rays.
    pub rays: usize,
    /// Field of view, degrees, centred on the car's heading. The outermost rays lie on its edges.
    pub fov_deg: f64,
    /// Maximum range, metres; a ray that hits nothing reads 1.0 (= range).
    pub range: f64,
}

impl Default for LidarConfig {
    fn default() -> Self {
        Self {
            rays: 32,
            fov_deg: 180.0,
            range: 3.0,
        }
    }
}

impl LidarConfig {
    /// Rays, then speed and steering.
    pub fn dim(&self) -> usize {
        self.rays + 2
    }

    pub fn feature_names(&self) -> Vec<String> {
        let mut v: Vec<String> = (0..self.rays).map(|i| format!("ray_{i}")).collect();
        v.push("speed".into());
        v.push("steering".into());
        v
    }

    pub fn validate(&self) -> Result<(), SimError> {
        if !(1..=MAX_FAN).contains(&self.rays) {
            return Err(SimError::config(
                "sensor.rays",
                format!("expected 1–{MAX_FAN} rays, got {}", self.rays),
            ));
        }
        if !(self.fov_deg.is_finite() && self.fov_deg > 0.0 && self.fov_deg <= 360.0) {
            return Err(SimError::config(
                "sensor.fov_deg",
                format!("expected a field of view in (0, 360]°, got {}", self.fov_deg),
            ));
        }
        if !(self.range.is_finite() && self.range > 0.0 && self.range <= 100.0) {
            return Err(SimError::config(
                "sensor.range",
                format!("expected a range in (0, 100] m, got {}", self.range),
            ));
        }
        Ok(())
    }

    /// Ray directions in the car frame (x forward, y left), from the right edge to the left edge.
    pub fn directions(&self) -> Vec<Vec2> {
        let fov = self.fov_deg.to_radians();
        let n = self.rays;
        (0..n)
            .map(|k| {
                let a = if n == 1 {
                    0.0
                } else if self.fov_deg >= 360.0 {
                    -std::f64::consts::PI + fov * k as f64 / n as f64
                } else {
                    -0.5 * fov + fov * k as f64 / (n - 1) as f64
                };
                Vec2::from_angle(a)
            })
            .collect()
    }
}

/// A lidar with precomputed ray directions.
#[derive(Clone, Debug)]
pub struct Lidar {
    pub config: LidarConfig,
    dirs: Vec<Vec2>,
}

impl Lidar {
    pub fn new(config: LidarConfig) -> Self {
        let dirs = config.directions();
        Self { config, dirs }
    }

    /// Cast every ray from `origin` with the car facing `forward` (unit). `quad` is the road quad
    /// containing the origin (`None` if off the road). Writes one normalised distance per ray.
    pub fn scan(
        &self,
        track: &Track,
        origin: Vec2,
        forward: Vec2,
        quad: Option<usize>,
        objects: &[Obb],
        scratch: &mut LidarScratch,
        out: &mut [f32],
    ) {
        let range = self.config.range;
        let inv = 1.0 / range;
        let LidarScratch { dirs, dist, fan } = scratch;
        dirs.clear();
        dirs.extend(self.dirs.iter().map(|d| d.rotate_cs(forward.x, forward.y)));
        dist.resize(dirs.len(), 0.0);
        track.raycast_fan(origin, dirs, range, quad, dist, fan);
        for (k, o) in out.iter_mut().enumerate().take(dirs.len()) {
            let mut t = dist[k];
            for obb in objects {
                if let Some(h) = obb.ray_hit(origin, dirs[k]) {
                    t = t.min(h);
                }
            }
            *o = (t * inv) as f32;
        }
    }
}

/// Reusable working memory for [`Lidar::scan`] (one per thread). Create it with [`LidarScratch::new`]
/// for the lidar's ray count and scanning never allocates.
#[derive(Clone, Debug, Default)]
pub struct LidarScratch {
    dirs: Vec<Vec2>,
    dist: Vec<f64>,
    fan: FanScratch,
}

impl LidarScratch {
    pub fn new(rays: usize) -> Self {
        Self {
            dirs: Vec::with_capacity(rays),
            dist: Vec::with_capacity(rays),
            fan: FanScratch::with_capacity(rays),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::{ValidateOptions, builtin};

    #[test]
    fn rays_see_the_walls_of_a_straight() {
        let t = builtin::load("drag_strip", &ValidateOptions::default()).unwrap();
        let lidar = Lidar::new(LidarConfig {
            rays: 3,
            fov_deg: 180.0,
            range: 3.0,
        });
        let p = Vec2::new(2.0, 0.0);
        let q = t.locate_quad(p, 0);
        assert!(q.is_some());
        let mut out = [0.0f32; 3];
        lidar.scan(
            &t,
            p,
            Vec2::new(1.0, 0.0),
            q,
            &[],
            &mut LidarScratch::default(),
            &mut out,
        );
        // Right and left rays hit the borders 0.4 m away; the forward ray sees nothing within 3 m.
        assert!((out[0] - 0.4 / 3.0).abs() < 1e-6, "{out:?}");
        assert!((out[2] - 0.4 / 3.0).abs() < 1e-6, "{out:?}");
        assert_eq!(out[1], 1.0);
        // An obstacle ahead is seen at its near face.
        let boxes = [Obb::new(Vec2::new(3.5, 0.0), 0.0, 1.0, 0.4)];
        lidar.scan(
            &t,
            p,
            Vec2::new(1.0, 0.0),
            q,
            &boxes,
            &mut LidarScratch::default(),
            &mut out,
        );
        assert!((out[1] - 1.0 / 3.0).abs() < 1e-6, "{out:?}");
    }

    #[test]
    fn config_errors_name_the_field() {
        let e = LidarConfig {
            rays: 0,
            ..Default::default()
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(e.contains("sensor.rays"), "{e}");
        assert_eq!(LidarConfig::default().directions().len(), 32);
    }
}

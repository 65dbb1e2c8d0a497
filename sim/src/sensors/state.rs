//! Privileged state features: what a perfect localisation system would tell the policy.

use serde::{Deserialize, Serialize};

use crate::car::{CarParams, CarState};
use crate::error::SimError;
use crate::track::{Projection, Track};

/// State-observation settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateConfig {
    /// Distances ahead along the centre line (metres) of the look-ahead points.
    pub lookahead: Vec<f64>,
}

impl Default for StateConfig {
    fn default() -> Self {
        Self {
            lookahead: vec![0.3, 0.6, 0.9, 1.2, 1.6, 2.0, 2.5, 3.0, 3.5, 4.0],
        }
    }
}

/// Features after the look-ahead points.
const EXTRA: [&str; 7] = [
    "speed",
    "lateral_velocity",
    "yaw_rate",
    "steering",
    "heading_error_sin",
    "heading_error_cos",
    "lateral_offset",
];

impl StateConfig {
    pub fn dim(&self) -> usize {
        2 * self.lookahead.len() + EXTRA.len()
    }

    pub fn feature_names(&self) -> Vec<String> {
        let mut v = Vec::with_capacity(self.dim());
        for d in &self.lookahead {
            v.push(format!("ahead_{d}m_x"));
            v.push(format!("ahead_{d}m_y"));
        }
        v.extend(EXTRA.iter().map(|s| s.to_string()));
        v
    }

    pub fn validate(&self) -> Result<(), SimError> {
        if self.lookahead.is_empty() || self.lookahead.len() > 64 {
            return Err(SimError::config(
                "sensor.lookahead",
                "expected 1–64 look-ahead distances",
            ));
        }
        for (i, d) in self.lookahead.iter().enumerate() {
            if !(d.is_finite() && *d > 0.0 && *d <= 50.0) {
                return Err(SimError::config(
                    format!("sensor.lookahead[{i}]"),
                    format!("expected a distance in (0, 50] m, got {d}"),
                ));
            }
            if i > 0 && *d <= self.lookahead[i - 1] {
                return Err(SimError::config(
                    format!("sensor.lookahead[{i}]"),
                    "distances must increase",
                ));
            }
        }
        Ok(())
    }

    /// Write the features for a car whose origin projects to `proj`.
    pub fn observe(&self, track: &Track, car: &CarState, proj: &Projection, params: &CarParams, out: &mut [f32]) {
        let scale = 1.0 / self.lookahead.iter().copied().fold(1.0, f64::max);
        let fwd = car.forward();
        let left = fwd.perp();
        track.points_ahead(proj.s, proj.seg, &self.lookahead, |k, p| {
            let rel = p - car.pos;
            out[2 * k] = (rel.dot(fwd) * scale) as f32;
            out[2 * k + 1] = (rel.dot(left) * scale) as f32;
        });
        let base = 2 * self.lookahead.len();
        // Heading error from the unit vectors: sin = track × car, cos = track · car.
        let dir = track.seg_dir(proj.seg);
        let (l, r) = track.half_widths(proj.seg, proj.t);
        let half = if proj.lateral >= 0.0 { l } else { r };
        out[base] = (car.vx / params.max_speed) as f32;
        out[base + 1] = car.vy as f32;
        out[base + 2] = (car.yaw_rate * 0.2) as f32;
        out[base + 3] = (car.steer / params.max_steer) as f32;
        out[base + 4] = dir.cross(fwd) as f32;
        out[base + 5] = dir.dot(fwd) as f32;
        out[base + 6] = (proj.lateral / half.max(1e-6)) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::Vec2;
    use crate::track::{ValidateOptions, builtin};

    #[test]
    fn straight_ahead_points_lie_on_the_x_axis() {
        let t = builtin::load("drag_strip", &ValidateOptions::default()).unwrap();
        let cfg = StateConfig {
            lookahead: vec![1.0, 2.0],
        };
        let car = CarState::at_rest(Vec2::new(3.0, 0.0), 0.0);
        let proj = t.project_global(car.pos);
        let mut out = vec![0.0f32; cfg.dim()];
        cfg.observe(&t, &car, &proj, &CarParams::default(), &mut out);
        assert!((out[0] - 0.5).abs() < 1e-6 && out[1].abs() < 1e-6, "{out:?}");
        assert!((out[2] - 1.0).abs() < 1e-6 && out[3].abs() < 1e-6, "{out:?}");
        assert!((out[4 + 5] - 1.0).abs() < 1e-6, "heading error cos = 1");
        assert_eq!(cfg.feature_names().len(), cfg.dim());
    }
}

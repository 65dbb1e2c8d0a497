//! A scripted pure-pursuit driver: a baseline that laps any valid track without learning.
//!
//! Steering: aim the rear axle at the centre-line point [`PurePursuit::lookahead`] (+ a speed-dependent
//! part) ahead and steer the arc that reaches it, `δ = atan(2 L sin α / d)`.
//! Speed: the highest speed at which the tightest bend within braking distance can be taken with
//! [`PurePursuit::lateral_accel`] of lateral acceleration, `v = √(a / κ)`.

use crate::car::CarParams;
use crate::math::{Vec2, atan, sin, wrap_angle};
use crate::params::RewardParams;
use crate::track::Track;

/// Pure-pursuit settings.
#[derive(Clone, Debug, PartialEq)]
pub struct PurePursuit {
    /// Base look-ahead distance, m.
    pub lookahead: f64,
    /// Extra look-ahead per m/s of speed, s.
    pub lookahead_per_speed: f64,
    /// Lateral acceleration the speed profile plans for, m/s² (below the car's grip).
    pub lateral_accel: f64,
    /// Braking deceleration the speed profile plans for, m/s².
    pub braking: f64,
}

impl Default for PurePursuit {
    fn default() -> Self {
        Self {
            lookahead: 0.5,
            lookahead_per_speed: 0.12,
            lateral_accel: 2.6,
            braking: 3.0,
        }
    }
}

impl PurePursuit {
    /// Steering (degrees, + left) and speed (m/s) from DeepRacer's parameters of the last step.
    /// `measured_speed` drives the look-ahead; the car's limits clamp the result.
    pub fn act(&self, track: &Track, car: &CarParams, p: &RewardParams) -> (f64, f64) {
        let heading = p.heading.to_radians();
        let fwd = Vec2::from_angle(heading);
        let reference = Vec2::new(p.x, p.y);
        // The rear axle sits reference_offset + (wheelbase − cg_to_front) behind the reference point.
        let rear = reference - fwd * (car.reference_offset + car.wheelbase - car.cg_to_front);
        let v = p.measured_speed;
        let ld = self.lookahead + self.lookahead_per_speed * v;
        let hint = p.closest_waypoints[0] as usize;
        let (target, _, _) = track.point_at_s(p.projection_distance + ld, hint.min(track.num_segments() - 1));
        let to = target - rear;
        let alpha = wrap_angle(to.angle() - heading);
        let d = to.length().max(1e-3);
        let steer = atan(2.0 * car.wheelbase * sin(alpha) / d).clamp(-car.max_steer, car.max_steer);
        // Speed: tightest curvature within the stopping distance from max speed, plus a margin.
        let horizon = car.max_speed * car.max_speed / (2.0 * self.braking) + 0.3;
        let mut v_target = car.max_speed;
        let mut s = 0.0;
        let mut seg = hint.min(track.num_segments() - 1);
        let mut dist_to = (track.s_at(seg + 1) - p.projection_distance).max(0.0);
        while s < horizon {
            let k = track.curvature_at_waypoint(seg + 1).abs();
            if k > 1e-6 {
                // Allowed speed at that point, backed off by the braking distance to reach it.
                let v_corner = (self.lateral_accel / k).sqrt();
                let v_here = (v_corner * v_corner + 2.0 * self.braking * dist_to).sqrt();
                v_target = v_target.min(v_here);
            }
            let next = track.next_seg(seg);
            if next == seg {
                break;
            }
            seg = next;
            let l = track.seg_len(seg);
            s += l.max(1e-3);
            dist_to += l;
        }
        (steer.to_degrees(), v_target.clamp(car.min_speed, car.max_speed))
    }
}

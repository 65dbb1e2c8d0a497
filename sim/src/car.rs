//! The car: a 1/18-scale DeepRacer-like vehicle with single-track (bicycle) dynamics.
//!
//! Model, in the car's body frame (x forward, y left), integrated with fixed sub-steps:
//!
//! ```text
//! m (v̇x − vy r) = Fx − Fyf sin δ          slip angles  αf = δ − atan((vy + lf r) / vx)
//! m (v̇y + vx r) = Fyr + Fyf cos δ                      αr =   − atan((vy − lr r) / vx)
//! Iz ṙ          = lf Fyf cos δ − lr Fyr    tyre force   Fy = clamp(C α, ±μ Fz √(1 − (ax / μg)²))
//! ```
//!
//! * Tyre grip saturates at `μ Fz` per axle (μ = [`CarParams::grip`], 0.5 by default, so ~0.5 g of
//!   lateral grip like the DeepRacer simulator); braking or accelerating uses up part of that grip
//!   (friction circle). A car that corners too fast slides wide.
//! * Below [`CarParams::kinematic_speed`] the lateral states blend into the kinematic bicycle model,
//!   which is exact for rolling without slip and avoids the slip-angle singularity at standstill.
//! * The commanded speed is tracked by a proportional controller with finite acceleration and braking
//!   ([`CarParams::max_accel`], [`CarParams::max_brake`]); the front wheel angle moves towards the
//!   commanded angle at most [`CarParams::steer_rate`].
//!
//! All arithmetic is plain `f64` with polynomial approximations where a transcendental function
//! would be called in the inner loop; results are bit-identical on every platform.

use serde::{Deserialize, Serialize};

use crate::math::{Obb, Vec2, wrap_angle};

/// Standard gravity, m/s².
pub const G: f64 = 9.81;

/// Every physical parameter of the car, SI units. Defaults model the 1/18-scale DeepRacer car
/// (wheelbase 0.164 m, wheel track 0.16 m and the 0.32 × 0.20 m collision footprint of DeepRacer's
/// simulator; steering ±30°, speed 0.1–4 m/s).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CarParams {
    /// Distance between the axles, m.
    pub wheelbase: f64,
    /// Distance from the centre of mass (the car's origin) to the front axle, m.
    pub cg_to_front: f64,
    /// Lateral distance between the left and right wheel centres, m.
    pub wheel_track: f64,
    /// Footprint length (collisions), m.
    pub length: f64,
    /// Footprint width (collisions, narrowest track), m.
    pub width: f64,
    /// How far ahead of the origin DeepRacer measures `x`, `y`, `progress` and `distance_from_center`
    /// (its "model point" is 0.14 m ahead of the chassis origin), m.
    pub reference_offset: f64,
    /// Mass, kg.
    pub mass: f64,
    /// Yaw moment of inertia, kg·m².
    pub yaw_inertia: f64,
    /// Tyre–road friction coefficient μ: peak lateral acceleration is about μ·g.
    pub grip: f64,
    /// Slip angle at which a tyre reaches its peak force, rad (sets the cornering stiffness).
    pub peak_slip_angle: f64,
    /// Maximum front wheel angle, rad (DeepRacer: 30°).
    pub max_steer: f64,
    /// Maximum steering rate, rad/s.
    pub steer_rate: f64,
    /// Lowest and highest commanded speed, m/s (DeepRacer: 0.1–4).
    pub min_speed: f64,
    pub max_speed: f64,
    /// Maximum acceleration and braking deceleration, m/s² (also bounded by μ·g).
    pub max_accel: f64,
    pub max_brake: f64,
    /// Time constant of the speed controller, s.
    pub speed_time_constant: f64,
    /// Below this speed the car follows the kinematic model; above twice this, the dynamic one, m/s.
    pub kinematic_speed: f64,
}

impl Default for CarParams {
    fn default() -> Self {
        let (length, width, mass) = (0.32352, 0.1961, 1.5);
        Self {
            wheelbase: 0.164,
            cg_to_front: 0.082,
            wheel_track: 0.16,
            length,
            width,
            reference_offset: 0.14,
            mass,
            yaw_inertia: mass * (length * length + width * width) / 12.0,
            grip: 0.5,
            peak_slip_angle: 0.1,
            max_steer: 30f64.to_radians(),
            steer_rate: 8.0,
            min_speed: 0.1,
            max_speed: 4.0,
            max_accel: 3.0,
            max_brake: 4.0,
            speed_time_constant: 0.15,
            kinematic_speed: 0.5,
        }
    }
}

impl CarParams {
    /// Check every parameter; the error names the field.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let positive = [
            ("wheelbase", self.wheelbase),
            ("wheel_track", self.wheel_track),
            ("length", self.length),
            ("width", self.width),
            ("mass", self.mass),
            ("yaw_inertia", self.yaw_inertia),
            ("grip", self.grip),
            ("peak_slip_angle", self.peak_slip_angle),
            ("max_steer", self.max_steer),
            ("steer_rate", self.steer_rate),
            ("max_speed", self.max_speed),
            ("max_accel", self.max_accel),
            ("max_brake", self.max_brake),
            ("speed_time_constant", self.speed_time_constant),
            ("kinematic_speed", self.kinematic_speed),
        ];
        for (name, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err((name.into(), format!("must be a positive finite number, got {v}")));
            }
        }
        if !(self.cg_to_front > 0.0 && self.cg_to_front < self.wheelbase) {
            return Err((
                "cg_to_front".into(),
                format!(
                    "must be between 0 and the wheelbase ({}), got {}",
                    self.wheelbase, self.cg_to_front
                ),
            ));
        }
        if !(self.min_speed.is_finite() && self.min_speed >= 0.0 && self.min_speed <= self.max_speed) {
            return Err((
                "min_speed".into(),
                format!(
                    "must be between 0 and max_speed ({}), got {}",
                    self.max_speed, self.min_speed
                ),
            ));
        }
        if !(self.reference_offset.is_finite() && self.reference_offset.abs() <= self.length) {
            return Err((
                "reference_offset".into(),
                format!("must be within the car's length, got {}", self.reference_offset),
            ));
        }
        if self.max_steer >= std::f64::consts::FRAC_PI_2 {
            return Err(("max_steer".into(), "must be below 90°".into()));
        }
        Ok(())
    }
}

/// Derived constants used in the inner loop.
#[derive(Clone, Debug, PartialEq)]
pub struct CarModel {
    pub params: CarParams,
    lf: f64,
    lr: f64,
    inv_mass: f64,
    inv_iz: f64,
    /// Peak lateral force per axle, N.
    fy_max_f: f64,
    fy_max_r: f64,
    /// Cornering stiffness per axle, N/rad.
    c_f: f64,
    c_r: f64,
    mu_g: f64,
}

impl CarModel {
    pub fn new(params: CarParams) -> Self {
        let lf = params.cg_to_front;
        let lr = params.wheelbase - lf;
        let fz_f = params.mass * G * lr / params.wheelbase;
        let fz_r = params.mass * G * lf / params.wheelbase;
        let fy_max_f = params.grip * fz_f;
        let fy_max_r = params.grip * fz_r;
        Self {
            lf,
            lr,
            inv_mass: 1.0 / params.mass,
            inv_iz: 1.0 / params.yaw_inertia,
            fy_max_f,
            fy_max_r,
            c_f: fy_max_f / params.peak_slip_angle,
            c_r: fy_max_r / params.peak_slip_angle,
            mu_g: params.grip * G,
            params,
        }
    }

    /// Advance `state` by `dt` seconds in `substeps` equal sub-steps towards the command.
    pub fn step(&self, state: &mut CarState, cmd: Command, dt: f64, substeps: u32) {
        let p = &self.params;
        let h = dt / f64::from(substeps);
        let steer_cmd = cmd.steer.clamp(-p.max_steer, p.max_steer);
        let speed_cmd = cmd.speed.clamp(p.min_speed, p.max_speed);
        let max_dsteer = p.steer_rate * h;
        let accel_limit = p.max_accel.min(self.mu_g);
        let brake_limit = p.max_brake.min(self.mu_g);
        let inv_tau = 1.0 / p.speed_time_constant;
        let inv_mu_g = 1.0 / self.mu_g;
        let v_lo = p.kinematic_speed;
        let inv_blend = 1.0 / p.kinematic_speed; // blend over [v_lo, 2·v_lo]
        let inv_wheelbase = 1.0 / p.wheelbase;
        // Steering trigonometry, recomputed only while the wheel angle is moving.
        let mut delta = f64::NAN;
        let (mut sd, mut cd, mut tan_d) = (0.0, 1.0, 0.0);
        for _ in 0..substeps {
            // Actuators.
            state.steer += (steer_cmd - state.steer).clamp(-max_dsteer, max_dsteer);
            if state.steer != delta {
                delta = state.steer;
                (sd, cd) = sin_cos_small(delta);
                tan_d = sd / cd;
            }
            let ax = ((speed_cmd - state.vx) * inv_tau).clamp(-brake_limit, accel_limit);
            let vx = state.vx.max(0.0);
            let (vy, r) = (state.vy, state.yaw_rate);
            // Dynamic single-track model (only where it is well-defined).
            let (mut vx_new, mut vy_new, mut r_new) = (vx + ax * h, vy, r);
            if vx > v_lo {
                // Friction circle: longitudinal acceleration uses up lateral grip.
                let axn = ax * inv_mu_g;
                let lat_scale = (1.0 - axn * axn).max(0.0).sqrt();
                let inv_vx = 1.0 / vx;
                let alpha_f = delta - fast_atan((vy + self.lf * r) * inv_vx);
                let alpha_r = -fast_atan((vy - self.lr * r) * inv_vx);
                let fmax_f = self.fy_max_f * lat_scale;
                let fmax_r = self.fy_max_r * lat_scale;
                let fyf = (self.c_f * alpha_f).clamp(-fmax_f, fmax_f);
                let fyr = (self.c_r * alpha_r).clamp(-fmax_r, fmax_r);
                vx_new = vx + h * (ax + vy * r - fyf * sd * self.inv_mass);
                vy_new = vy + h * ((fyr + fyf * cd) * self.inv_mass - vx * r);
                r_new = r + h * ((self.lf * fyf * cd - self.lr * fyr) * self.inv_iz);
            }
            let vx_new = vx_new.max(0.0);
            // Kinematic (no-slip) states and the blend between the two models.
            let r_kin = vx_new * tan_d * inv_wheelbase;
            let vy_kin = r_kin * self.lr;
            let w = ((vx_new - v_lo) * inv_blend).clamp(0.0, 1.0);
            state.vx = vx_new;
            state.vy = w * vy_new + (1.0 - w) * vy_kin;
            state.yaw_rate = w * r_new + (1.0 - w) * r_kin;
            // Pose (semi-implicit Euler: new velocities move the car).
            let (c, s) = (state.cos_h, state.sin_h);
            state.pos.x += h * (c * state.vx - s * state.vy);
            state.pos.y += h * (s * state.vx + c * state.vy);
            let dpsi = state.yaw_rate * h;
            state.heading += dpsi;
            let (sp, cp) = sin_cos_small(dpsi);
            state.cos_h = c * cp - s * sp;
            state.sin_h = s * cp + c * sp;
        }
        // Keep the angle wrapped and the direction vector exactly unit length.
        state.heading = wrap_angle(state.heading);
        let norm = (state.cos_h * state.cos_h + state.sin_h * state.sin_h).sqrt();
        state.cos_h /= norm;
        state.sin_h /= norm;
    }

    /// World positions of the four wheel centres: front-left, front-right, rear-left, rear-right.
    pub fn wheels(&self, s: &CarState) -> [Vec2; 4] {
        let f = Vec2::new(s.cos_h, s.sin_h);
        let l = f.perp() * (0.5 * self.params.wheel_track);
        let front = s.pos + f * self.lf;
        let rear = s.pos - f * self.lr;
        [front + l, front - l, rear + l, rear - l]
    }

    /// DeepRacer's reference ("model") point, [`CarParams::reference_offset`] ahead of the origin.
    #[inline]
    pub fn reference_point(&self, s: &CarState) -> Vec2 {
        s.pos + Vec2::new(s.cos_h, s.sin_h) * self.params.reference_offset
    }

    /// The collision footprint, centred on the origin.
    pub fn footprint(&self, s: &CarState) -> Obb {
        Obb {
            center: s.pos,
            axis: Vec2::new(s.cos_h, s.sin_h),
            half_length: 0.5 * self.params.length,
            half_width: 0.5 * self.params.width,
        }
    }

    /// Distance from the origin to the front axle, m.
    pub fn lf(&self) -> f64 {
        self.lf
    }
}

/// A steering and speed command in SI units.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Command {
    /// Front wheel angle, rad, positive to the left.
    pub steer: f64,
    /// Target speed, m/s.
    pub speed: f64,
}

/// The car's dynamic state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CarState {
    /// Origin (centre of mass) in the world frame, m.
    pub pos: Vec2,
    /// Heading, rad in (-π, π], and its cosine and sine (kept in step).
    pub heading: f64,
    pub cos_h: f64,
    pub sin_h: f64,
    /// Body-frame longitudinal and lateral velocity, m/s.
    pub vx: f64,
    pub vy: f64,
    /// Yaw rate, rad/s.
    pub yaw_rate: f64,
    /// Actual front wheel angle, rad.
    pub steer: f64,
}

impl CarState {
    /// At rest at `pos`, facing `heading`.
    pub fn at_rest(pos: Vec2, heading: f64) -> Self {
        let heading = wrap_angle(heading);
        CarState {
            pos,
            heading,
            cos_h: crate::math::cos(heading),
            sin_h: crate::math::sin(heading),
            vx: 0.0,
            vy: 0.0,
            yaw_rate: 0.0,
            steer: 0.0,
        }
    }

    /// Ground speed, m/s.
    #[inline]
    pub fn speed(&self) -> f64 {
        (self.vx * self.vx + self.vy * self.vy).sqrt()
    }

    /// Forward unit vector.
    #[inline]
    pub fn forward(&self) -> Vec2 {
        Vec2::new(self.cos_h, self.sin_h)
    }
}

/// atan with |error| < 0.005 rad: cheap, deterministic; used for slip angles, where the tyre force
/// saturates long before the approximation matters.
#[inline]
pub fn fast_atan(z: f64) -> f64 {
    if z.abs() <= 1.0 {
        z / (1.0 + 0.28 * z * z)
    } else {
        let s = if z > 0.0 {
            std::f64::consts::FRAC_PI_2
        } else {
            -std::f64::consts::FRAC_PI_2
        };
        s - z / (z * z + 0.28)
    }
}

/// sin and cos of a small angle (|x| < ~0.6) by Taylor series (error < 1e-9 at 0.6 rad).
#[inline]
pub fn sin_cos_small(x: f64) -> (f64, f64) {
    let x2 = x * x;
    let s = x * (1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0))));
    let c = 1.0 - x2 / 2.0 * (1.0 - x2 / 12.0 * (1.0 - x2 / 30.0 * (1.0 - x2 / 56.0 * (1.0 - x2 / 90.0))));
    (s, c)
}

/// tan of a small angle (|x| ≤ 0.6) from the series above.
#[inline]
pub fn tan_small(x: f64) -> f64 {
    let (s, c) = sin_cos_small(x);
    s / c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(model: &CarModel, steer: f64, speed: f64, seconds: f64) -> CarState {
        let mut s = CarState::at_rest(Vec2::ZERO, 0.0);
        let n = (seconds * 15.0) as usize;
        for _ in 0..n {
            model.step(&mut s, Command { steer, speed }, 1.0 / 15.0, 8);
        }
        s
    }

    #[test]
    fn small_angle_helpers_are_accurate() {
        for k in -60..=60 {
            let x = k as f64 * 0.01;
            let (s, c) = sin_cos_small(x);
            assert!((s - x.sin()).abs() < 1e-9 && (c - x.cos()).abs() < 1e-9);
            assert!((tan_small(x) - x.tan()).abs() < 1e-8);
        }
        for k in -100..=100 {
            let z = k as f64 * 0.1;
            assert!((fast_atan(z) - z.atan()).abs() < 0.005, "{z}");
        }
    }

    #[test]
    fn reaches_commanded_speed_in_a_straight_line() {
        let m = CarModel::new(CarParams::default());
        let s = run(&m, 0.0, 3.0, 3.0);
        assert!((s.vx - 3.0).abs() < 0.01, "{}", s.vx);
        assert!(s.pos.y.abs() < 1e-12 && s.heading.abs() < 1e-12);
        // Finite acceleration: 3 m/s cannot be reached in the first 0.2 s.
        let s = run(&m, 0.0, 3.0, 0.2);
        assert!(s.vx < 1.0, "{}", s.vx);
    }

    #[test]
    fn slow_turn_matches_kinematic_radius() {
        let m = CarModel::new(CarParams::default());
        let delta = 20f64.to_radians();
        let s = run(&m, delta, 0.3, 6.0);
        let expected = s.vx * delta.tan() / 0.164;
        assert!((s.yaw_rate - expected).abs() < 1e-6, "{} vs {}", s.yaw_rate, expected);
    }

    #[test]
    fn lateral_acceleration_is_limited_by_grip() {
        let m = CarModel::new(CarParams::default());
        // Full lock at 4 m/s would need v²·tanδ/L ≈ 56 m/s² kinematically; grip allows ~0.5 g.
        // In the steady state (after 6 s) the front axle saturates and the car slides wide.
        let s = run(&m, 30f64.to_radians(), 4.0, 6.0);
        let lat = s.vx * s.yaw_rate;
        assert!(
            lat.abs() < 0.5 * G && lat.abs() > 0.35 * G,
            "lateral acceleration {lat}"
        );
        assert!(s.vy < -0.05, "the car slides outwards: vy = {}", s.vy);
        let kinematic_radius = 0.164 / 30f64.to_radians().tan();
        assert!(
            s.vx / s.yaw_rate > 5.0 * kinematic_radius,
            "it runs wide of the kinematic circle"
        );
    }

    #[test]
    fn steering_rate_is_limited() {
        let m = CarModel::new(CarParams::default());
        let mut s = CarState::at_rest(Vec2::ZERO, 0.0);
        m.step(&mut s, Command { steer: 0.5, speed: 1.0 }, 1.0 / 30.0, 4);
        assert!((s.steer - 8.0 / 30.0).abs() < 1e-9, "{}", s.steer);
        m.step(&mut s, Command { steer: 0.5, speed: 1.0 }, 1.0 / 15.0, 8);
        assert!((s.steer - 0.5).abs() < 1e-12, "{}", s.steer);
    }

    #[test]
    fn defaults_validate_and_bad_values_name_the_field() {
        assert!(CarParams::default().validate().is_ok());
        let p = CarParams {
            grip: -1.0,
            ..Default::default()
        };
        assert_eq!(p.validate().unwrap_err().0, "grip");
    }
}

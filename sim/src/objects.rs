//! Race types and the objects on the track: static boxes (object avoidance) and bot cars that follow
//! the track at a set speed and change lanes (head-to-bot). Each car's episode has its own objects;
//! layouts are drawn from the episode's seed, so they are reproducible.
//!
//! Lanes are given as a signed fraction of the half-width: +1 is the left border, −1 the right,
//! 0 the centre line ("left" relative to the driving direction).

use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::math::{Obb, Vec2};
use crate::params::MAX_OBJECTS;
use crate::rng::Rng;
use crate::track::Track;

/// The race type, as DeepRacer names them.
/// (`TimeTrial {}` rather than a unit variant: serde refuses unknown keys only in struct variants, so
/// a `[scenario]` section's misplaced key is an error.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Scenario {
    TimeTrial {},
    ObjectAvoidance(ObstacleConfig),
    HeadToBot(BotConfig),
}

/// Static box obstacles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObstacleConfig {
    /// Number of boxes.
    pub count: usize,
    /// Fixed positions, one per box, as `[fraction of the lap from the start line (0–1), lane]`.
    /// When empty, positions are random (seeded), evenly spread round the lap with jitter.
    pub positions: Vec<[f64; 2]>,
    /// Draw a new random layout every episode (otherwise once per car).
    pub randomize_each_episode: bool,
    /// Lateral position of a randomly placed box's lane (fraction of the half-width); boxes go
    /// left (+) or right (−) of the centre at random.
    pub lane_offset: f64,
    /// Box size along and across the track, metres.
    pub length: f64,
    pub width: f64,
    /// No box within this many metres ahead of a car's start position.
    pub start_clearance: f64,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario::TimeTrial {}
    }
}

impl Default for ObstacleConfig {
    fn default() -> Self {
        Self {
            count: 3,
            positions: vec![],
            randomize_each_episode: true,
            lane_offset: 0.5,
            length: 0.3,
            width: 0.3,
            start_clearance: 1.5,
        }
    }
}

/// Bot cars.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BotConfig {
    /// Number of bot cars, spread evenly round the lap ahead of the car.
    pub count: usize,
    /// Bot speed, m/s.
    pub speed: f64,
    /// Whether bots change lanes.
    pub lane_change: bool,
    /// Seconds between lane changes, drawn uniformly from this range.
    pub lane_change_interval: [f64; 2],
    /// Lane positions (fraction of the half-width) the bots drive in.
    pub lane_offset: f64,
    /// Lateral speed while changing lanes, m/s.
    pub lateral_speed: f64,
    /// No bot within this many metres ahead of a car's start position.
    pub start_clearance: f64,
}

impl Default for BotConfig {
    fn default() -> Self {
        Self {
            count: 3,
            speed: 0.6,
            lane_change: true,
            lane_change_interval: [2.0, 5.0],
            lane_offset: 0.5,
            lateral_speed: 0.3,
            start_clearance: 2.0,
        }
    }
}

impl Scenario {
    pub fn name(&self) -> &'static str {
        match self {
            Scenario::TimeTrial {} => "time_trial",
            Scenario::ObjectAvoidance(_) => "object_avoidance",
            Scenario::HeadToBot(_) => "head_to_bot",
        }
    }

    /// Number of objects each car's episode has.
    pub fn object_count(&self) -> usize {
        match self {
            Scenario::TimeTrial {} => 0,
            Scenario::ObjectAvoidance(o) => o.count,
            Scenario::HeadToBot(b) => b.count,
        }
    }

    pub fn validate(&self) -> Result<(), SimError> {
        let frac = |field: &str, v: f64| {
            if !(v.is_finite() && (-1.0..=1.0).contains(&v)) {
                return Err(SimError::config(
                    field,
                    format!("expected a lane fraction in [-1, 1], got {v}"),
                ));
            }
            Ok(())
        };
        let pos = |field: &str, v: f64| {
            if !(v.is_finite() && v > 0.0) {
                return Err(SimError::config(field, format!("expected a positive number, got {v}")));
            }
            Ok(())
        };
        match self {
            Scenario::TimeTrial {} => {}
            Scenario::ObjectAvoidance(o) => {
                if o.count == 0 || o.count > MAX_OBJECTS {
                    return Err(SimError::config(
                        "scenario.count",
                        format!("expected 1–{MAX_OBJECTS} obstacles, got {}", o.count),
                    ));
                }
                if !o.positions.is_empty() && o.positions.len() != o.count {
                    return Err(SimError::config(
                        "scenario.positions",
                        format!("{} positions given for {} obstacles", o.positions.len(), o.count),
                    ));
                }
                for (i, [f, lane]) in o.positions.iter().enumerate() {
                    if !(f.is_finite() && (0.0..=1.0).contains(f)) {
                        return Err(SimError::config(
                            format!("scenario.positions[{i}][0]"),
                            format!("expected a lap fraction in [0, 1], got {f}"),
                        ));
                    }
                    frac(&format!("scenario.positions[{i}][1]"), *lane)?;
                }
                frac("scenario.lane_offset", o.lane_offset)?;
                pos("scenario.length", o.length)?;
                pos("scenario.width", o.width)?;
                if !(o.start_clearance.is_finite() && o.start_clearance >= 0.0) {
                    return Err(SimError::config(
                        "scenario.start_clearance",
                        "expected a non-negative distance",
                    ));
                }
            }
            Scenario::HeadToBot(b) => {
                if b.count == 0 || b.count > MAX_OBJECTS {
                    return Err(SimError::config(
                        "scenario.count",
                        format!("expected 1–{MAX_OBJECTS} bot cars, got {}", b.count),
                    ));
                }
                pos("scenario.speed", b.speed)?;
                if b.speed > 4.0 {
                    return Err(SimError::config(
                        "scenario.speed",
                        format!("bot speed {} m/s is above the car's 4 m/s", b.speed),
                    ));
                }
                let [lo, hi] = b.lane_change_interval;
                if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && lo <= hi) {
                    return Err(SimError::config(
                        "scenario.lane_change_interval",
                        format!("expected 0 < low ≤ high seconds, got [{lo}, {hi}]"),
                    ));
                }
                frac("scenario.lane_offset", b.lane_offset)?;
                pos("scenario.lateral_speed", b.lateral_speed)?;
                if !(b.start_clearance.is_finite() && b.start_clearance >= 0.0) {
                    return Err(SimError::config(
                        "scenario.start_clearance",
                        "expected a non-negative distance",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The state of one object in a car's episode.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ObjectState {
    /// Arc length of the object's centre along the centre line, m.
    pub s: f64,
    /// Current lane (fraction of the half-width, + left).
    pub lane: f64,
    /// Lane it is moving to (bots).
    pub target_lane: f64,
    /// Speed along the track, m/s (0 for boxes).
    pub speed: f64,
    /// Seconds until the next lane change (bots).
    pub next_change: f64,
    /// The footprint in the world.
    pub obb: Obb,
    /// Heading, rad.
    pub heading: f64,
    /// Centre-line segment the object is on (search hint).
    pub seg: usize,
}

/// Place a scenario's objects for an episode starting at arc length `start_s`. Writes `count`
/// objects into `out` (which must be at least that long).
pub fn layout(
    scenario: &Scenario,
    track: &Track,
    car_length: f64,
    car_width: f64,
    start_s: f64,
    rng: &mut Rng,
    out: &mut [ObjectState],
) {
    match scenario {
        Scenario::TimeTrial {} => {}
        Scenario::ObjectAvoidance(o) => {
            let n = o.count;
            let usable = track.length() - o.start_clearance - o.length;
            for (i, obj) in out.iter_mut().enumerate().take(n) {
                let (s, lane) = if o.positions.is_empty() {
                    // Evenly spread after the clearance, jittered within a third of the spacing.
                    let slot = usable / n as f64;
                    let ds = o.start_clearance + slot * (i as f64 + 0.5 + rng.range(-0.33, 0.33));
                    let side = if rng.next_u64() & 1 == 0 { 1.0 } else { -1.0 };
                    (start_s + ds, side * o.lane_offset)
                } else {
                    let [f, lane] = o.positions[i];
                    (f * track.length(), lane)
                };
                *obj = ObjectState {
                    s: track.wrap_s(s),
                    lane,
                    target_lane: lane,
                    ..Default::default()
                };
                place(track, obj, o.length, o.width);
            }
        }
        Scenario::HeadToBot(b) => {
            let n = b.count;
            let usable = track.length() - b.start_clearance;
            for (i, obj) in out.iter_mut().enumerate().take(n) {
                let ds = b.start_clearance + usable * i as f64 / n as f64;
                let side = if rng.next_u64() & 1 == 0 { 1.0 } else { -1.0 };
                let lane = side * b.lane_offset;
                let next_change = rng.range(b.lane_change_interval[0], b.lane_change_interval[1]);
                *obj = ObjectState {
                    s: track.wrap_s(start_s + ds),
                    lane,
                    target_lane: lane,
                    speed: b.speed,
                    next_change,
                    ..Default::default()
                };
                place(track, obj, car_length, car_width);
            }
        }
    }
}

/// Advance bot cars by `dt` seconds: along the track at their speed, changing lanes on schedule.
pub fn move_bot(
    b: &BotConfig,
    track: &Track,
    obj: &mut ObjectState,
    dt: f64,
    rng: &mut Rng,
    car_length: f64,
    car_width: f64,
) {
    if b.lane_change {
        obj.next_change -= dt;
        if obj.next_change <= 0.0 {
            obj.target_lane = -obj.target_lane;
            obj.next_change = rng.range(b.lane_change_interval[0], b.lane_change_interval[1]);
        }
    }
    let s_new = obj.s + obj.speed * dt;
    // Lateral motion in metres per second converted to lane fraction per second (half-width ~0.4 m).
    let (_, seg, t) = track.point_at_s(obj.s, obj.seg);
    let (hl, hr) = track.half_widths(seg, t);
    let half = 0.5 * (hl + hr);
    let max_step = b.lateral_speed * dt / half.max(1e-6);
    let dl = (obj.target_lane - obj.lane).clamp(-max_step, max_step);
    obj.lane += dl;
    obj.s = if track.is_closed() {
        track.wrap_s(s_new)
    } else {
        s_new.min(track.length())
    };
    place(track, obj, car_length, car_width);
    // Lean into the lane change.
    if dl != 0.0 && obj.speed > 0.0 {
        obj.heading += crate::math::atan2(dl * half, obj.speed * dt);
        obj.obb.axis = Vec2::from_angle(obj.heading);
    }
}

/// Set an object's footprint from its arc length and lane.
fn place(track: &Track, obj: &mut ObjectState, length: f64, width: f64) {
    let (center, heading, seg) = track.lane_point(obj.s, obj.lane, obj.seg);
    obj.heading = heading;
    obj.seg = seg;
    obj.obb = Obb::new(center, heading, length, width);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::{ValidateOptions, builtin};

    #[test]
    fn random_layout_is_seeded_and_clear_of_the_start() {
        let t = builtin::load("oval", &ValidateOptions::default()).unwrap();
        let sc = Scenario::ObjectAvoidance(ObstacleConfig::default());
        let mut a = [ObjectState::default(); 3];
        let mut b = [ObjectState::default(); 3];
        layout(&sc, &t, 0.32, 0.2, 5.0, &mut Rng::new(9), &mut a);
        layout(&sc, &t, 0.32, 0.2, 5.0, &mut Rng::new(9), &mut b);
        assert_eq!(a, b);
        for o in &a {
            let ahead = t.delta_s(5.0, o.s).rem_euclid(t.length());
            assert!(ahead >= 1.5, "object {ahead} m ahead of the start");
            assert!((o.lane.abs() - 0.5).abs() < 1e-12);
        }
    }

    #[test]
    fn bots_move_and_change_lanes() {
        let t = builtin::load("oval", &ValidateOptions::default()).unwrap();
        let cfg = BotConfig {
            count: 1,
            lane_change_interval: [0.5, 0.5],
            ..Default::default()
        };
        let mut objs = [ObjectState::default()];
        let mut rng = Rng::new(1);
        layout(
            &Scenario::HeadToBot(cfg.clone()),
            &t,
            0.32,
            0.2,
            0.0,
            &mut rng,
            &mut objs,
        );
        let lane0 = objs[0].lane;
        let s0 = objs[0].s;
        for _ in 0..30 {
            move_bot(&cfg, &t, &mut objs[0], 1.0 / 15.0, &mut rng, 0.32, 0.2);
        }
        assert!((t.delta_s(s0, objs[0].s) - 0.6 * 2.0).abs() < 1e-9);
        assert!(objs[0].lane != lane0, "the bot changed lane");
    }

    #[test]
    fn validation_names_fields() {
        let e = Scenario::ObjectAvoidance(ObstacleConfig {
            count: 0,
            ..Default::default()
        })
        .validate()
        .unwrap_err()
        .to_string();
        assert!(e.contains("scenario.count"), "{e}");
        let e = Scenario::ObjectAvoidance(ObstacleConfig {
            count: 2,
            positions: vec![[0.5, 0.0]],
            ..Default::default()
        })
        .validate()
        .unwrap_err()
        .to_string();
        assert!(e.contains("scenario.positions"), "{e}");
        let e = Scenario::HeadToBot(BotConfig {
            speed: 9.0,
            ..Default::default()
        })
        .validate()
        .unwrap_err()
        .to_string();
        assert!(e.contains("scenario.speed"), "{e}");
    }
}

//! DeepRacer's reward-function parameters, computed for every car at every step.
//!
//! Names and meanings follow the AWS DeepRacer developer guide and, where the guide and DeepRacer's
//! simulator disagree, what the simulator actually passes (a student's reward function was tuned
//! against the simulator):
//!
//! | parameter | meaning here |
//! |---|---|
//! | `x`, `y` | the car's reference point, 0.14 m ahead of its origin (DeepRacer's "model point"), m |
//! | `heading` | car yaw, degrees in (-180, 180], 0 = +x, counter-clockwise positive |
//! | `steering_angle` | the action's steering angle, degrees, positive = left |
//! | `speed` | the action's commanded speed, m/s (as DeepRacer's simulator passes it) |
//! | `progress` | 0–100 % of a lap since the episode's start position, measured at the reference point |
//! | `steps` | steps in the episode, counting the initial "prepare" step: the first action's call sees 2 |
//! | `distance_from_center`, `is_left_of_center` | of the reference point, relative to the driving direction |
//! | `track_width` | inner-to-outer width at the reference point's projection, m |
//! | `closest_waypoints` | `[behind, ahead]` along the driving direction |
//! | `all_wheels_on_track` / `is_offtrack` | all four wheel centres on / off the road |
//! | `is_crashed` | the footprint touched an obstacle or a bot car (one ahead of us) this step |
//! | `is_reversed` | driving against the track file's waypoint order |
//! | `projection_distance` | metres along the centre line from waypoint 0 to the reference point |
//! | `sim_time` | simulation time, s: the car's clock since the environment's reset (the trace's `tstamp`) |
//! | `objects_*`, `closest_objects`, `object_in_camera` | obstacles and bot cars (see below) |
//!
//! `sim_time` runs on across episodes, like the Gazebo clock DeepRacer's rollout agent passes
//! (`markov/agent_ctrl/rollout_agent_ctrl.py`, `update_tracker`); it starts at the environment's
//! reset rather than at the simulator's launch.
//!
//! Objects, as DeepRacer's simulator passes them (`markov/track_geom/track_data.py`,
//! `get_object_reward_params`): `objects_heading` is 0.0 for static boxes and a bot car's yaw in
//! **radians** (not degrees, whatever the guide says); `objects_speed` is 0.0 for boxes and the bot
//! cars' set speed, m/s; `objects_location` is a list of `[x, y]` lists.
//!
//! Types in a Python reward function (`markov/agent_ctrl/rollout_agent_ctrl.py` counts `steps` in a
//! float): `steps` is a float (`2.0`), `closest_waypoints` and `closest_objects` are lists of two ints.

use crate::math::Vec2;

/// The most objects (obstacles + bot cars) a car's episode can have.
pub const MAX_OBJECTS: usize = 16;

/// One object's parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ObjectParams {
    pub location: Vec2,
    pub left_of_center: bool,
    /// m/s (0 for a static obstacle).
    pub speed: f64,
    /// Radians in (-π, π] for a bot car (its yaw); 0.0 for a static box, as DeepRacer passes it.
    pub heading: f64,
    /// Metres along the centre line from waypoint 0.
    pub distance: f64,
    /// Metres from the centre line.
    pub distance_from_center: f64,
}

/// DeepRacer's reward-function input for one car at one step (plus a few Slipstream extras).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RewardParams {
    pub all_wheels_on_track: bool,
    pub x: f64,
    pub y: f64,
    pub heading: f64,
    pub distance_from_center: f64,
    pub is_left_of_center: bool,
    pub is_offtrack: bool,
    pub is_crashed: bool,
    pub is_reversed: bool,
    pub progress: f64,
    pub speed: f64,
    pub steering_angle: f64,
    pub steps: u32,
    pub track_width: f64,
    pub track_length: f64,
    pub closest_waypoints: [u32; 2],
    pub closest_objects: [u32; 2],
    pub num_objects: u32,
    pub objects: [ObjectParams; MAX_OBJECTS],
    pub object_in_camera: bool,
    pub projection_distance: f64,
    /// Simulation time, seconds (the car's clock since the environment's reset).
    pub sim_time: f64,
    // --- Slipstream extras (not DeepRacer parameters) ---
    /// Index of the car's track in the environment's track list.
    pub track_index: u32,
    /// Measured ground speed, m/s.
    pub measured_speed: f64,
    /// Progress made this step along the centre line, metres (negative when going backwards).
    pub progress_delta_m: f64,
}

impl Default for RewardParams {
    fn default() -> Self {
        Self {
            all_wheels_on_track: true,
            x: 0.0,
            y: 0.0,
            heading: 0.0,
            distance_from_center: 0.0,
            is_left_of_center: false,
            is_offtrack: false,
            is_crashed: false,
            is_reversed: false,
            progress: 0.0,
            speed: 0.0,
            steering_angle: 0.0,
            steps: 0,
            track_width: 0.0,
            track_length: 0.0,
            closest_waypoints: [0, 0],
            closest_objects: [0, 0],
            num_objects: 0,
            objects: [ObjectParams::default(); MAX_OBJECTS],
            object_in_camera: false,
            projection_distance: 0.0,
            sim_time: 0.0,
            track_index: 0,
            measured_speed: 0.0,
            progress_delta_m: 0.0,
        }
    }
}

impl RewardParams {
    /// The objects actually present.
    pub fn objects(&self) -> &[ObjectParams] {
        &self.objects[..self.num_objects as usize]
    }
}

/// Indices of the objects just behind and just ahead of `s` along a track of length `length`
/// (DeepRacer's `closest_objects`): both 0 with fewer than two objects.
pub fn closest_objects(objects: &[ObjectParams], s: f64, length: f64, closed: bool) -> [u32; 2] {
    if objects.len() < 2 {
        return [0, 0];
    }
    let mut ahead = (f64::INFINITY, 0u32);
    let mut behind = (f64::INFINITY, 0u32);
    for (i, o) in objects.iter().enumerate() {
        let mut d = o.distance - s;
        if closed {
            d = d.rem_euclid(length);
        }
        if d >= 0.0 && d < ahead.0 {
            ahead = (d, i as u32);
        }
        let mut b = s - o.distance;
        if closed {
            b = b.rem_euclid(length);
        }
        if b > 0.0 && b < behind.0 {
            behind = (b, i as u32);
        }
    }
    if !ahead.0.is_finite() {
        ahead.1 = behind.1;
    }
    if !behind.0.is_finite() {
        behind.1 = ahead.1;
    }
    [behind.1, ahead.1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_objects_wrap_round_the_loop() {
        let mk = |d: f64| ObjectParams {
            distance: d,
            ..Default::default()
        };
        let objs = [mk(2.0), mk(8.0), mk(15.0)];
        assert_eq!(closest_objects(&objs, 5.0, 20.0, true), [0, 1]);
        assert_eq!(closest_objects(&objs, 16.0, 20.0, true), [2, 0]);
        assert_eq!(closest_objects(&objs, 1.0, 20.0, true), [2, 0]);
        assert_eq!(closest_objects(&objs[..1], 1.0, 20.0, true), [0, 0]);
    }
}

//! What a step reports: DeepRacer's reward parameters ([`fill_params`]) and the step's
//! [`StepInfo`] ([`info_of`]), from a car's state, track pose, episode and nearby objects. Plain
//! functions; [`super::systems::score`] and [`super::systems::write_outputs`] call them.

use super::{Nearby, Race, TrackPose};
use crate::action::Action;
use crate::buffers::StepInfo;
use crate::car::CarState;
use crate::episode::EpisodeState;
use crate::math::{Vec2, wrap_angle};
use crate::params::{ObjectParams, RewardParams, closest_objects};
use crate::track::Track;

/// Horizontal field of view of DeepRacer's camera used for `object_in_camera`, degrees.
pub const CAMERA_FOV_DEG: f64 = 120.0;
/// How far the camera "sees" objects for `object_in_camera`, metres.
pub const CAMERA_RANGE_M: f64 = 3.0;

/// Fill DeepRacer's parameters in place (the object array is only written as far as it is used).
#[allow(clippy::too_many_arguments)]
pub fn fill_params(
    p: &mut RewardParams,
    track: &Track,
    track_index: u16,
    car: &CarState,
    steer_deg: f64,
    speed: f64,
    pose: &TrackPose,
    ep: &EpisodeState,
    near: &Nearby,
) {
    let bots = near.is_bot;
    let r = &pose.reference;
    let (hl, hr) = track.half_widths(r.seg, r.t);
    let [a, b] = track.closest_waypoints(r);
    p.all_wheels_on_track = pose.all_wheels_on();
    p.x = pose.ref_pos.x;
    p.y = pose.ref_pos.y;
    p.heading = car.heading.to_degrees();
    p.distance_from_center = r.distance;
    p.is_left_of_center = r.lateral > 0.0;
    p.is_offtrack = !pose.any_wheel_on();
    p.is_crashed = ep.crashed;
    p.is_reversed = track.is_reversed();
    p.progress = ep.progress;
    p.speed = speed;
    p.steering_angle = steer_deg;
    p.steps = ep.steps;
    p.track_width = hl + hr;
    p.track_length = track.length();
    p.closest_waypoints = [a as u32, b as u32];
    p.projection_distance = r.s;
    p.sim_time = ep.clock;
    p.track_index = u32::from(track_index);
    p.measured_speed = car.speed();
    p.progress_delta_m = ep.progress_delta_m;
    p.num_objects = near.n as u32;
    for k in 0..near.n {
        let o = &near.states[k];
        let (ol, or) = track.half_widths(o.seg, 0.0);
        p.objects[k] = ObjectParams {
            location: o.obb.center,
            left_of_center: o.lane > 0.0,
            speed: o.speed,
            // DeepRacer: a bot car's yaw in radians; 0.0 for every static box.
            heading: if bots { wrap_angle(o.heading) } else { 0.0 },
            distance: o.s,
            distance_from_center: if o.lane >= 0.0 { o.lane * ol } else { -o.lane * or },
        };
    }
    p.closest_objects = closest_objects(&p.objects[..near.n], r.s, track.length(), track.is_closed());
    p.object_in_camera = near.n > 0 && {
        let o = &p.objects[p.closest_objects[1] as usize];
        let rel = o.location - car.pos;
        let dist = rel.length();
        let fwd = Vec2::new(car.cos_h, car.sin_h);
        dist <= CAMERA_RANGE_M && rel.dot(fwd) >= dist * (0.5 * CAMERA_FOV_DEG).to_radians().cos()
    };
}

/// A step's [`StepInfo`] from the car's episode and race.
pub fn info_of(
    ep: &EpisodeState,
    action: Action,
    track: &Track,
    pose: &TrackPose,
    race: Option<&Race>,
    track_index: u16,
) -> StepInfo {
    StepInfo {
        status: ep.status,
        episode: ep.number,
        steps: ep.steps,
        tstamp: ep.clock,
        action,
        closest_waypoint: track.closest_waypoint(pose.ref_pos, &pose.reference) as u32,
        pause_duration: ep.pause,
        episode_return: ep.episode_return,
        laps: race.map_or(0, |r| r.0.laps.iter().filter(|l| l.completed).count() as u32),
        track_index: u32::from(track_index),
        progress: ep.progress,
        race_over: race.is_some_and(|r| r.0.finished),
    }
}

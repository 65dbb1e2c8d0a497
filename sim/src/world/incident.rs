//! Contacts and where a car is put: DeepRacer's wheel-in-rectangle collision test, where a car is
//! held after a race incident, where an episode starts on the centre line. Plain functions over a
//! car's state, its track pose and the objects near it; [`super::systems::judge`] and
//! [`super::systems::begin_episodes`] call them.

use super::{Nearby, TrackPose};
use crate::car::{CarModel, CarState};
use crate::episode::HoldPose;
use crate::math::Vec2;
use crate::objects::ObjectState;
use crate::track::Track;

/// Whether the car has hit an object that counts, as DeepRacer tests it: a wheel (centre) inside
/// the object's rectangle — any box, or a bot car ahead of the car (running into a car from
/// behind is the follower's fault). `s` is where the car is along the track: DeepRacer's reference
/// point against a bot car's centre; head-to-head, the car's origin against its rival's (so of two
/// cars touching exactly one — the one behind — is at fault).
pub fn contact(track: &Track, model: &CarModel, car: &CarState, s: f64, near: &Nearby) -> bool {
    if near.n == 0 {
        return false;
    }
    let wheels = model.wheels(car);
    (0..near.n).any(|k| {
        wheels.iter().any(|&w| near.obbs[k].contains(w)) && (!near.is_bot || track.delta_s(s, near.states[k].s) > 0.0)
    })
}

/// DeepRacer's distances for putting a car back near a box (`CLOSEST_OBJ_GAP`,
/// `DEFAULT_RESET_BEHIND_DIST`), m.
const BOX_GAP_M: f64 = 1.0;
const RESET_BEHIND_BOX_M: f64 = 1.0;

/// Where a car is held after a race incident (see [`crate::episode`]): on a lane line (half-way
/// between the centre line and a border) at arc length `s` of the car's origin — the one nearer
/// `near_pos`, or, when a box is within 1 m along the track, 1 m behind the box in the other lane.
pub fn hold_pose(track: &Track, s: f64, near_pos: Vec2, hint: usize, near: &Nearby) -> HoldPose {
    let boxes = if near.is_bot { 0 } else { near.n };
    let closest_box = (0..boxes)
        .map(|k| &near.states[k])
        .map(|o| (track.delta_s(s, o.s).abs(), o))
        .filter(|(gap, _)| *gap < BOX_GAP_M)
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let (s, lane) = match closest_box {
        Some((_, o)) => (o.s - RESET_BEHIND_BOX_M, if o.lane > 0.0 { -0.5 } else { 0.5 }),
        None => {
            let (left, _, _) = track.lane_point(s, 0.5, hint);
            let (right, _, _) = track.lane_point(s, -0.5, hint);
            (
                s,
                if left.distance(near_pos) < right.distance(near_pos) {
                    0.5
                } else {
                    -0.5
                },
            )
        }
    };
    let s = if track.is_closed() { track.wrap_s(s) } else { s.max(0.0) };
    let (pos, heading, _) = track.lane_point(s, lane, hint);
    HoldPose { pos, heading }
}

/// The length of lap an open track's episode drives from `start_s` (`None`: a closed track's
/// laps are the track's length).
pub fn open_span(track: &Track, start_s: f64) -> Option<f64> {
    if track.is_closed() {
        None
    } else {
        Some((track.length() - start_s).max(1e-6))
    }
}

/// Put a car at rest on the centre line at arc length `s`, facing along the track.
pub fn place_on_centerline(track: &Track, car: &mut CarState, s: f64, hint: usize) -> usize {
    let (p, seg, _) = track.point_at_s(s, hint);
    *car = CarState::at_rest(p, track.heading_at(seg));
    seg
}

/// A rival car described as a bot car: where it is along the track, its lane, speed and footprint.
pub fn rival_state(track: &Track, model: &CarModel, car: &CarState, pose: &TrackPose) -> ObjectState {
    let o = &pose.origin;
    let (hl, hr) = track.half_widths(o.seg, o.t);
    let half = if o.lateral >= 0.0 { hl } else { hr };
    let lane = o.lateral / half.max(1e-9);
    ObjectState {
        s: o.s,
        lane,
        target_lane: lane,
        speed: car.speed(),
        next_change: 0.0,
        obb: model.footprint(car),
        heading: car.heading,
        seg: o.seg,
    }
}

//! Where an episode starts: on which track, where along it (DeepRacer's round-robin start line for
//! training, the race's start line), and a head-to-head race's grid. Plain functions;
//! [`super::systems::begin_episodes`] calls them.

use crate::car::CarState;
use crate::config::TrackSchedule;
use crate::episode::Mode;
use crate::track::Track;

/// The track (index into the environment's tracks) car `g` drives its episode `number` on: by the
/// schedule, training rotating through the tracks episode by episode; a race's trials stay on the
/// race's track.
pub fn episode_track(schedule: TrackSchedule, train: bool, g: u64, number: u64, num_tracks: u64) -> usize {
    let rotation = if train { number } else { 0 };
    (match schedule {
        TrackSchedule::RoundRobin => (g + rotation) % num_tracks,
        TrackSchedule::PerCar => g % num_tracks,
    }) as usize
}

/// The arc length where car `g` of `num_cars` starts its episode `number` on `track`: training
/// moves the start on by [`crate::episode::EpisodeConfig::round_robin_advance`] of a lap per
/// episode (cars spread round the lap), within the first half of an open track; a race starts at
/// its start offset.
pub fn start_s(mode: &Mode, track: &Track, g: u64, number: u64, num_cars: usize) -> f64 {
    let (frac, open_scale) = match mode {
        Mode::Train(e) => {
            let spread = if e.spread_cars { g as f64 / num_cars as f64 } else { 0.0 };
            (
                (e.start_offset + spread + number as f64 * e.round_robin_advance).fract(),
                0.5,
            )
        }
        Mode::Race(r) => (r.start_offset, 1.0),
    };
    if track.is_closed() {
        frac * track.length()
    } else {
        frac * open_scale * track.length()
    }
}

/// Put a head-to-head car at rest on its grid place (see `GroupConfig`): seat `seat` is
/// `stagger_m` × seat behind the start line, even seats in the left lane, odd ones in the right.
/// Returns the car's segment.
pub fn grid_place(track: &Track, car: &mut CarState, start_s: f64, seat: u32, stagger_m: f64) -> usize {
    let lane = if seat.is_multiple_of(2) { 0.5 } else { -0.5 };
    let s = track.wrap_s(start_s - stagger_m * f64::from(seat));
    let (p, heading, seg) = track.lane_point(s, lane, 0);
    *car = CarState::at_rest(p, heading);
    seg
}

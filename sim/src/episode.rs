//! Episode and race rules, as pure functions over one car's bookkeeping.
//!
//! Training episodes end as DeepRacer's do: lap complete (progress reaches 100 %), off-track (all four
//! wheels off the road), crashed (touched an obstacle or a bot car), reversed (progress fell on
//! [`EpisodeConfig::reverse_steps`] consecutive steps), immobilized (the reference point moved at most
//! [`EpisodeConfig::immobilized_distance`] per step for [`EpisodeConfig::immobilized_steps`] steps), or
//! the step limit (truncation, DeepRacer's `time_up`). Start positions rotate round the track by
//! [`EpisodeConfig::round_robin_advance`] of a lap per episode, as in DeepRacer.
//!
//! Race mode drives continuous timed laps. Leaving the track puts the car back on the centre line
//! where it left, at rest, and adds [`RaceConfig::off_track_penalty_s`] to the lap; driving the wrong
//! way or getting stuck is treated the same. Touching an obstacle or bot adds
//! [`RaceConfig::collision_penalty_s`] and stops the car (it may then drive on through the object;
//! only a new contact counts again). Lap times are simulated seconds plus penalties; the moment the
//! line is crossed is interpolated within the step, so times are not rounded to whole steps.

use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::math::Vec2;
use crate::rng::Rng;

/// DeepRacer's episode statuses, as written in traces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpisodeStatus {
    #[default]
    Prepare,
    InProgress,
    OffTrack,
    Crashed,
    Reversed,
    Immobilized,
    LapComplete,
    TimeUp,
    Pause,
}

impl EpisodeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EpisodeStatus::Prepare => "prepare",
            EpisodeStatus::InProgress => "in_progress",
            EpisodeStatus::OffTrack => "off_track",
            EpisodeStatus::Crashed => "crashed",
            EpisodeStatus::Reversed => "reversed",
            EpisodeStatus::Immobilized => "immobilized",
            EpisodeStatus::LapComplete => "lap_complete",
            EpisodeStatus::TimeUp => "time_up",
            EpisodeStatus::Pause => "pause",
        }
    }
}

/// Training-episode rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EpisodeConfig {
    /// Steps after which an episode is truncated.
    pub max_steps: u32,
    /// Fraction of a lap the start position moves on after each episode (DeepRacer: 0.05).
    pub round_robin_advance: f64,
    /// Fraction of a lap from the start line where the first episode starts.
    pub start_offset: f64,
    /// Spread the cars of a batch evenly round the lap (car i of N starts i/N further on).
    pub spread_cars: bool,
    /// Consecutive steps of falling progress that end an episode as `reversed` (DeepRacer: 15).
    pub reverse_steps: u32,
    /// Consecutive steps of (almost) no motion that end an episode as `immobilized` (DeepRacer: 15).
    pub immobilized_steps: u32,
    /// Movement per step at or below which a step counts as not moving, m (DeepRacer: 0.0003).
    pub immobilized_distance: f64,
}

impl Default for EpisodeConfig {
    fn default() -> Self {
        Self {
            max_steps: 3000,
            round_robin_advance: 0.05,
            start_offset: 0.0,
            spread_cars: true,
            reverse_steps: 15,
            immobilized_steps: 15,
            immobilized_distance: 0.0003,
        }
    }
}

/// Race-mode rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RaceConfig {
    /// Laps to drive.
    pub laps: u32,
    /// Seconds added to a lap for each off-track (DeepRacer's evaluation default: 2).
    pub off_track_penalty_s: f64,
    /// Seconds added to a lap for each collision (DeepRacer's evaluation default: 5).
    pub collision_penalty_s: f64,
    /// Simulated seconds (penalties included) after which the race is stopped.
    pub max_time_s: f64,
    /// Fraction of a lap from the start line where the race starts.
    pub start_offset: f64,
    /// Consecutive steps of falling progress that count as driving the wrong way.
    pub reverse_steps: u32,
    /// Consecutive steps without motion that count as stuck.
    pub immobilized_steps: u32,
    pub immobilized_distance: f64,
}

impl Default for RaceConfig {
    fn default() -> Self {
        Self {
            laps: 3,
            off_track_penalty_s: 2.0,
            collision_penalty_s: 5.0,
            max_time_s: 180.0,
            start_offset: 0.0,
            reverse_steps: 15,
            immobilized_steps: 15,
            immobilized_distance: 0.0003,
        }
    }
}

/// Training episodes or a timed race.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Mode {
    Train(EpisodeConfig),
    Race(RaceConfig),
}

impl Default for Mode {
    fn default() -> Self {
        Mode::Train(EpisodeConfig::default())
    }
}

impl Mode {
    pub fn validate(&self) -> Result<(), SimError> {
        let frac = |field: &str, v: f64| {
            if !(v.is_finite() && (0.0..1.0).contains(&v)) {
                return Err(SimError::config(
                    field,
                    format!("expected a lap fraction in [0, 1), got {v}"),
                ));
            }
            Ok(())
        };
        match self {
            Mode::Train(e) => {
                if e.max_steps == 0 {
                    return Err(SimError::config("episode.max_steps", "must be at least 1"));
                }
                frac("episode.round_robin_advance", e.round_robin_advance)?;
                frac("episode.start_offset", e.start_offset)?;
                if e.reverse_steps == 0 || e.immobilized_steps == 0 {
                    return Err(SimError::config(
                        "episode.reverse_steps",
                        "step counts must be at least 1",
                    ));
                }
                if !(e.immobilized_distance.is_finite() && e.immobilized_distance >= 0.0) {
                    return Err(SimError::config(
                        "episode.immobilized_distance",
                        "expected a non-negative distance",
                    ));
                }
            }
            Mode::Race(r) => {
                if r.laps == 0 || r.laps > 1000 {
                    return Err(SimError::config(
                        "race.laps",
                        format!("expected 1–1000 laps, got {}", r.laps),
                    ));
                }
                for (f, v) in [
                    ("race.off_track_penalty_s", r.off_track_penalty_s),
                    ("race.collision_penalty_s", r.collision_penalty_s),
                ] {
                    if !(v.is_finite() && v >= 0.0) {
                        return Err(SimError::config(
                            f,
                            format!("expected a non-negative number of seconds, got {v}"),
                        ));
                    }
                }
                if !(r.max_time_s.is_finite() && r.max_time_s > 0.0) {
                    return Err(SimError::config(
                        "race.max_time_s",
                        format!("expected a positive number of seconds, got {}", r.max_time_s),
                    ));
                }
                frac("race.start_offset", r.start_offset)?;
                if r.reverse_steps == 0 || r.immobilized_steps == 0 {
                    return Err(SimError::config("race.reverse_steps", "step counts must be at least 1"));
                }
            }
        }
        Ok(())
    }
}

/// One lap of a race.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LapResult {
    /// Lap time including penalties, s.
    pub time_s: f64,
    /// Driving time without penalties, s.
    pub raw_time_s: f64,
    pub penalty_s: f64,
    pub off_track: u32,
    pub collisions: u32,
    /// False for a lap cut short by the time limit.
    pub completed: bool,
}

/// One car's episode bookkeeping.
#[derive(Clone, Debug, PartialEq)]
pub struct EpisodeState {
    /// Episodes this car has started since the environment's reset (0-based).
    pub number: u64,
    /// DeepRacer's `steps`: 1 at the prepare step, 2 after the first action.
    pub steps: u32,
    /// Simulated seconds since the environment's reset (DeepRacer's `tstamp`).
    pub clock: f64,
    /// Arc length of the start position (the car's origin) on the centre line.
    pub start_s: f64,
    /// Metres the reference point has moved along the centre line since the start (or lap start).
    pub along: f64,
    /// Last wrapped arc length of the reference point.
    pub ref_s: f64,
    pub last_ref_pos: Vec2,
    pub progress: f64,
    pub prev_progress: f64,
    pub progress_delta_m: f64,
    pub reverse_count: u32,
    pub stuck_count: u32,
    pub status: EpisodeStatus,
    pub done: bool,
    pub truncated: bool,
    /// Penalty seconds charged this step (DeepRacer's `pause_duration`).
    pub pause: f64,
    /// Sum of rewards this episode.
    pub episode_return: f64,
    /// Whether the car was touching an object at the end of the last step.
    pub in_contact: bool,
    /// Collision began this step.
    pub crashed: bool,
    pub rng: Rng,
}

impl EpisodeState {
    pub fn new(seed: u64) -> Self {
        Self {
            number: 0,
            steps: 1,
            clock: 0.0,
            start_s: 0.0,
            along: 0.0,
            ref_s: 0.0,
            last_ref_pos: Vec2::ZERO,
            progress: 0.0,
            prev_progress: 0.0,
            progress_delta_m: 0.0,
            reverse_count: 0,
            stuck_count: 0,
            status: EpisodeStatus::Prepare,
            done: false,
            truncated: false,
            pause: 0.0,
            episode_return: 0.0,
            in_contact: false,
            crashed: false,
            rng: Rng::new(seed),
        }
    }
}

/// Race bookkeeping for one car.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RaceState {
    pub laps: Vec<LapResult>,
    /// Simulated time (without penalties) when the current lap started.
    pub lap_start: f64,
    pub lap_penalty: f64,
    pub lap_off_track: u32,
    pub lap_collisions: u32,
    /// Total elapsed race time including penalties so far.
    pub elapsed: f64,
    pub finished: bool,
}

impl RaceState {
    pub fn with_capacity(laps: u32) -> Self {
        Self {
            laps: Vec::with_capacity(laps as usize + 1),
            ..Default::default()
        }
    }

    /// Start the race over: everything as in a fresh state, keeping the laps' storage (so a
    /// restart does not allocate).
    pub fn restart(&mut self) {
        let mut laps = std::mem::take(&mut self.laps);
        laps.clear();
        *self = Self {
            laps,
            ..Self::default()
        };
    }
}

/// What happened to a car on the track this step (computed by the simulator).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepFacts {
    /// Arc length of the reference point (wrapped).
    pub ref_s: f64,
    pub ref_pos: Vec2,
    pub any_wheel_on_track: bool,
    /// The footprint overlaps an object that counts (a box, or a bot ahead).
    pub contact: bool,
    pub track_length: f64,
    /// Metres from the start to the end of an open track (`None` on a loop).
    pub open_span: Option<f64>,
    pub dt: f64,
}

/// Update a car's progress from this step's facts; returns the signed metres gained.
pub fn advance_progress(ep: &mut EpisodeState, facts: &StepFacts, delta_s: f64) -> f64 {
    ep.along += delta_s;
    ep.ref_s = facts.ref_s;
    ep.prev_progress = ep.progress;
    let span = facts.open_span.unwrap_or(facts.track_length);
    ep.progress = (ep.along / span * 100.0).min(100.0);
    ep.progress_delta_m = delta_s;
    delta_s
}

/// Training rules: set status, done and truncated after a step.
pub fn judge_training(ep: &mut EpisodeState, cfg: &EpisodeConfig, facts: &StepFacts) {
    ep.steps += 1;
    ep.clock += facts.dt;
    ep.crashed = facts.contact && !ep.in_contact;
    ep.in_contact = facts.contact;
    track_motion(ep, facts, cfg.immobilized_distance);
    ep.status = if ep.progress >= 100.0 {
        EpisodeStatus::LapComplete
    } else if ep.crashed {
        EpisodeStatus::Crashed
    } else if !facts.any_wheel_on_track {
        EpisodeStatus::OffTrack
    } else if ep.stuck_count >= cfg.immobilized_steps {
        EpisodeStatus::Immobilized
    } else if ep.reverse_count >= cfg.reverse_steps {
        EpisodeStatus::Reversed
    } else if ep.steps > cfg.max_steps {
        EpisodeStatus::TimeUp
    } else {
        EpisodeStatus::InProgress
    };
    ep.done = !matches!(ep.status, EpisodeStatus::InProgress | EpisodeStatus::TimeUp);
    ep.truncated = ep.status == EpisodeStatus::TimeUp;
}

fn track_motion(ep: &mut EpisodeState, facts: &StepFacts, still: f64) {
    if ep.progress < ep.prev_progress {
        ep.reverse_count += 1;
    } else {
        ep.reverse_count = 0;
    }
    if facts.ref_pos.distance(ep.last_ref_pos) <= still {
        ep.stuck_count += 1;
    } else {
        ep.stuck_count = 0;
    }
    ep.last_ref_pos = facts.ref_pos;
}

/// What the race rules want done to the car after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaceAction {
    Continue,
    /// Put the car back on the centre line at rest (off-track, wrong way, stuck).
    Reset,
    /// Stop the car where it is (collision).
    Stop,
}

/// Race rules: lap timing, penalties and the end of the race.
pub fn judge_race(ep: &mut EpisodeState, race: &mut RaceState, cfg: &RaceConfig, facts: &StepFacts) -> RaceAction {
    ep.steps += 1;
    ep.clock += facts.dt;
    race.elapsed += facts.dt;
    ep.pause = 0.0;
    ep.crashed = facts.contact && !ep.in_contact;
    ep.in_contact = facts.contact;
    track_motion(ep, facts, cfg.immobilized_distance);
    let mut action = RaceAction::Continue;
    ep.status = EpisodeStatus::InProgress;
    if ep.progress >= 100.0 {
        // Lap complete. The line was crossed during this step: interpolate the crossing time from
        // the distance overshot, so lap times are not rounded to whole steps. The overshoot carries
        // into the next lap.
        let span = facts.open_span.unwrap_or(facts.track_length);
        let over = (ep.along - span).max(0.0);
        let frac = if ep.progress_delta_m > 0.0 {
            (over / ep.progress_delta_m).min(1.0)
        } else {
            0.0
        };
        let crossed = ep.clock - frac * facts.dt;
        let raw = crossed - race.lap_start;
        race.laps.push(LapResult {
            time_s: raw + race.lap_penalty,
            raw_time_s: raw,
            penalty_s: race.lap_penalty,
            off_track: race.lap_off_track,
            collisions: race.lap_collisions,
            completed: true,
        });
        ep.along -= span;
        ep.progress = (ep.along / span * 100.0).min(100.0);
        ep.prev_progress = ep.progress;
        race.lap_start = crossed;
        race.lap_penalty = 0.0;
        race.lap_off_track = 0;
        race.lap_collisions = 0;
        ep.status = EpisodeStatus::LapComplete;
        if race.laps.len() as u32 >= cfg.laps {
            race.finished = true;
            ep.done = true;
            return RaceAction::Continue;
        }
        if facts.open_span.is_some() {
            // An open track restarts from its start for the next lap.
            return RaceAction::Reset;
        }
    } else if ep.crashed {
        race.lap_collisions += 1;
        race.lap_penalty += cfg.collision_penalty_s;
        race.elapsed += cfg.collision_penalty_s;
        ep.pause = cfg.collision_penalty_s;
        ep.status = EpisodeStatus::Crashed;
        action = RaceAction::Stop;
    } else if !facts.any_wheel_on_track
        || ep.reverse_count >= cfg.reverse_steps
        || ep.stuck_count >= cfg.immobilized_steps
    {
        ep.status = if !facts.any_wheel_on_track {
            EpisodeStatus::OffTrack
        } else if ep.reverse_count >= cfg.reverse_steps {
            EpisodeStatus::Reversed
        } else {
            EpisodeStatus::Immobilized
        };
        race.lap_off_track += 1;
        race.lap_penalty += cfg.off_track_penalty_s;
        race.elapsed += cfg.off_track_penalty_s;
        ep.pause = cfg.off_track_penalty_s;
        ep.reverse_count = 0;
        ep.stuck_count = 0;
        action = RaceAction::Reset;
    }
    if race.elapsed >= cfg.max_time_s && !race.finished {
        let raw = ep.clock - race.lap_start;
        race.laps.push(LapResult {
            time_s: raw + race.lap_penalty,
            raw_time_s: raw,
            penalty_s: race.lap_penalty,
            off_track: race.lap_off_track,
            collisions: race.lap_collisions,
            completed: false,
        });
        race.finished = true;
        ep.status = EpisodeStatus::TimeUp;
        ep.done = true;
        ep.truncated = true;
    }
    action
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(ref_s: f64, on: bool) -> StepFacts {
        StepFacts {
            ref_s,
            ref_pos: Vec2::new(ref_s, 0.0),
            any_wheel_on_track: on,
            contact: false,
            track_length: 10.0,
            open_span: None,
            dt: 0.1,
        }
    }

    #[test]
    fn training_statuses() {
        let cfg = EpisodeConfig::default();
        let mut ep = EpisodeState::new(1);
        advance_progress(&mut ep, &facts(1.0, true), 1.0);
        judge_training(&mut ep, &cfg, &facts(1.0, true));
        assert_eq!((ep.status, ep.done, ep.steps), (EpisodeStatus::InProgress, false, 2));
        judge_training(&mut ep, &cfg, &facts(1.1, false));
        assert_eq!((ep.status, ep.done), (EpisodeStatus::OffTrack, true));
        let mut ep = EpisodeState::new(1);
        advance_progress(&mut ep, &facts(0.0, true), 10.0);
        judge_training(&mut ep, &cfg, &facts(0.0, true));
        assert_eq!(ep.status, EpisodeStatus::LapComplete);
        // Reversing for 15 steps.
        let mut ep = EpisodeState::new(1);
        ep.along = 5.0;
        ep.progress = 50.0;
        for k in 0..15 {
            let f = facts(5.0 - k as f64 * 0.01, true);
            advance_progress(&mut ep, &f, -0.01);
            judge_training(&mut ep, &cfg, &f);
        }
        assert_eq!(ep.status, EpisodeStatus::Reversed);
        // Truncation.
        let cfg2 = EpisodeConfig { max_steps: 3, ..cfg };
        let mut ep = EpisodeState::new(1);
        for k in 0..3 {
            let f = facts(k as f64, true);
            advance_progress(&mut ep, &f, 1.0);
            judge_training(&mut ep, &cfg2, &f);
        }
        assert!(ep.truncated && !ep.done, "{:?}", ep.status);
    }

    #[test]
    fn race_laps_and_penalties() {
        let cfg = RaceConfig {
            laps: 2,
            ..Default::default()
        };
        let mut ep = EpisodeState::new(1);
        let mut race = RaceState::with_capacity(2);
        // 80 steps of 0.1 s at 0.125 m per step: one 10 m lap in 8 s, with one off-track on the way.
        for k in 1..=80 {
            let on = k != 40;
            let f = facts((k as f64 * 0.125) % 10.0, on);
            advance_progress(&mut ep, &f, 0.125);
            let a = judge_race(&mut ep, &mut race, &cfg, &f);
            if k == 40 {
                assert_eq!(a, RaceAction::Reset);
            }
        }
        assert_eq!(race.laps.len(), 1);
        let lap = race.laps[0];
        assert!((lap.raw_time_s - 8.0).abs() < 1e-9, "{lap:?}");
        assert!((lap.time_s - 10.0).abs() < 1e-9);
        assert_eq!(lap.off_track, 1);
        assert!(!ep.done);
        // Time limit ends the race with an incomplete lap.
        let cfg = RaceConfig {
            laps: 2,
            max_time_s: 12.0,
            ..Default::default()
        };
        for k in 1..=40 {
            let f = facts(k as f64 * 0.1, true);
            advance_progress(&mut ep, &f, 0.1);
            judge_race(&mut ep, &mut race, &cfg, &f);
            if ep.done {
                break;
            }
        }
        assert!(ep.done && race.finished);
        assert_eq!(race.laps.len(), 2);
        assert!(!race.laps[1].completed);
    }

    #[test]
    fn restart_is_a_fresh_race_with_the_same_lap_storage() {
        // Every field set (a literal without `..`: a new field must be added here too).
        let mut race = RaceState {
            laps: Vec::with_capacity(3),
            lap_start: 1.0,
            lap_penalty: 2.0,
            lap_off_track: 3,
            lap_collisions: 4,
            elapsed: 5.0,
            finished: true,
        };
        race.laps.push(LapResult {
            time_s: 1.0,
            raw_time_s: 1.0,
            penalty_s: 0.0,
            off_track: 0,
            collisions: 0,
            completed: true,
        });
        let storage = (race.laps.as_ptr(), race.laps.capacity());
        race.restart();
        assert_eq!(race, RaceState::with_capacity(2));
        assert_eq!((race.laps.as_ptr(), race.laps.capacity()), storage);
    }

    #[test]
    fn lap_time_is_interpolated_within_the_step() {
        // 0.3 m per 0.1 s step on a 10 m lap: the line is crossed 1/3 of the way into step 34.
        let cfg = RaceConfig {
            laps: 1,
            ..Default::default()
        };
        let mut ep = EpisodeState::new(1);
        let mut race = RaceState::with_capacity(1);
        for k in 1..=34 {
            let f = facts((k as f64 * 0.3) % 10.0, true);
            advance_progress(&mut ep, &f, 0.3);
            judge_race(&mut ep, &mut race, &cfg, &f);
        }
        assert!(ep.done);
        let t = race.laps[0].time_s;
        assert!((t - 10.0 / 3.0).abs() < 1e-9, "{t}");
    }
}

//! Episode and race rules, as pure functions over one car's bookkeeping.
//!
//! Training episodes end as DeepRacer's do: lap complete (progress reaches 100 %), off-track (all four
//! wheels off the road), crashed (a wheel inside an obstacle or a bot car), reversed (progress fell on
//! [`EpisodeConfig::reverse_steps`] consecutive steps), immobilized (the reference point moved at most
//! [`EpisodeConfig::immobilized_distance`] per step for [`EpisodeConfig::immobilized_steps`] steps), or
//! the step limit (truncation, DeepRacer's `time_up`). Start positions rotate round the track by
//! [`EpisodeConfig::round_robin_advance`] of a lap per episode, as in DeepRacer.
//!
//! Races follow DeepRacer's evaluation (deepracer-simapp's `RolloutCtrl` and its reset rules), with
//! each rule a [`RaceConfig`] setting at DeepRacer's default:
//!
//! * **Trials or continuous laps.** By default a race is [`RaceConfig::laps`] *trials*: each starts
//!   from standstill at the start line and ends at the line (one lap) or at the first incident the
//!   resets allowance does not cover; every trial is its own episode. With
//!   [`RaceConfig::continuous`] the laps are driven one after the other in a single episode (the
//!   trace still numbers one episode per lap, as DeepRacer's does).
//! * **Incidents** (off-track, crashed, reversed, immobilized). While
//!   [`RaceConfig::number_of_resets`] allows it (DeepRacer's default 0 does not: the trial ends),
//!   the car is *held* for the incident's penalty seconds while the race clock runs — trace rows
//!   with status `pause` and `pause_duration` counting down — then released at rest. The incident's
//!   own row shows where it happened. Where it is held: after an off-track, reversing or being
//!   immobilized, on the lane line (half-way between the centre line and a border) nearer to where
//!   the car was, at the previous step's progress; after hitting a box, 1 m behind the box in the
//!   other lane (also when an off-track reset would land within 1 m of a box); after running into a
//!   bot car, where it is. Penalties: [`RaceConfig::off_track_penalty_s`] (2 s),
//!   [`RaceConfig::collision_penalty_s`] (5 s), reversing as an off-track unless
//!   [`RaceConfig::reverse_penalty_s`] is set, [`RaceConfig::immobilized_penalty_s`] (0 s).
//! * **Lap times** are simulated seconds from the lap's start to the moment the line is crossed,
//!   interpolated within the step (so times are not rounded to whole steps); hold times are inside
//!   them. [`LapResult::penalty_s`] is the sum of the lap's penalties.
//! * **Slipstream's own limit**: [`RaceConfig::max_time_s`] stops a race (DeepRacer's evaluations
//!   have none; a league needs one so a car that never finishes cannot hold a worker).

use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::math::Vec2;
use crate::rng::Rng;

mod race_rules;
mod status;

pub use race_rules::{HoldAt, HoldPose, LapResult, RaceAction, RaceConfig, RaceState, judge_race};
pub use status::EpisodeStatus;

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
                    ("race.reverse_penalty_s", r.reverse_penalty_s.unwrap_or(0.0)),
                    ("race.immobilized_penalty_s", r.immobilized_penalty_s),
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
    /// DeepRacer's `pause_duration`: the penalty seconds at an incident's row, then the seconds of
    /// holding left on each `pause` row.
    pub pause: f64,
    /// Race mode: the car is being held after an incident.
    pub paused: bool,
    /// Race mode: incidents this episode that held the car instead of ending it.
    pub resets: u32,
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
            paused: false,
            resets: 0,
            episode_return: 0.0,
            in_contact: false,
            crashed: false,
            rng: Rng::new(seed),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn facts(ref_s: f64, on: bool) -> StepFacts {
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
}

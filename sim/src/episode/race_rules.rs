//! Race rules (see [`super`]): a race's settings, its per-car bookkeeping and laps, and the rules
//! of one step — lap timing, incidents, holds, the end of a trial and of the race.

use serde::{Deserialize, Serialize};

use super::{EpisodeState, EpisodeStatus, StepFacts, track_motion};
use crate::math::Vec2;

/// Race-mode rules (DeepRacer's evaluation settings, under its names where it has them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RaceConfig {
    /// Laps to drive: trials, or laps of one continuous run (DeepRacer's `number_of_trials`; 3).
    pub laps: u32,
    /// Drive the laps one after another without stopping (DeepRacer's `is_continuous`; false:
    /// separate trials, each from standstill at the start line).
    pub continuous: bool,
    /// Incidents per trial (per race when continuous) after which the car is held and put back
    /// instead of the trial ending (DeepRacer's `number_of_resets`; 0: the first incident ends the
    /// trial). DeepRacer's console uses 10000 for "unlimited".
    pub number_of_resets: u32,
    /// Seconds the car is held after an off-track (DeepRacer's `off_track_penalty`; 2).
    pub off_track_penalty_s: f64,
    /// Seconds the car is held after a collision (DeepRacer's `collision_penalty`; 5).
    pub collision_penalty_s: f64,
    /// Seconds the car is held after reversing (DeepRacer's `reverse_penalty`; unset: the
    /// off-track penalty).
    pub reverse_penalty_s: Option<f64>,
    /// Seconds the car is held after being immobilized (DeepRacer's `immobilized_penalty`; 0).
    pub immobilized_penalty_s: f64,
    /// Simulated seconds after which the race is stopped (Slipstream's limit; DeepRacer has none).
    pub max_time_s: f64,
    /// Fraction of a lap from the start line where the race starts.
    pub start_offset: f64,
    /// Consecutive steps of falling progress that count as reversing.
    pub reverse_steps: u32,
    /// Consecutive steps without motion that count as immobilized.
    pub immobilized_steps: u32,
    pub immobilized_distance: f64,
}

impl Default for RaceConfig {
    fn default() -> Self {
        Self {
            laps: 3,
            continuous: false,
            number_of_resets: 0,
            off_track_penalty_s: 2.0,
            collision_penalty_s: 5.0,
            reverse_penalty_s: None,
            immobilized_penalty_s: 0.0,
            max_time_s: 180.0,
            start_offset: 0.0,
            reverse_steps: 15,
            immobilized_steps: 15,
            immobilized_distance: 0.0003,
        }
    }
}

impl RaceConfig {
    /// Seconds the car is held after an incident that ends with `status`.
    pub fn penalty_s(&self, status: EpisodeStatus) -> f64 {
        match status {
            EpisodeStatus::Crashed => self.collision_penalty_s,
            EpisodeStatus::Reversed => self.reverse_penalty_s.unwrap_or(self.off_track_penalty_s),
            EpisodeStatus::Immobilized => self.immobilized_penalty_s,
            _ => self.off_track_penalty_s,
        }
    }
}

/// One lap of a race.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LapResult {
    /// Lap (or trial) time, s: from its start to the line, the time the car was held included.
    pub time_s: f64,
    /// `time_s` less the penalties, s.
    pub raw_time_s: f64,
    /// The penalties charged in the lap (the seconds the car was held), s.
    pub penalty_s: f64,
    pub off_track: u32,
    pub collisions: u32,
    /// Incidents of driving the wrong way (DeepRacer's `reversed_count`).
    pub reversed: u32,
    /// Incidents of not moving (DeepRacer's `immobilized_count`).
    pub immobilized: u32,
    /// The lap reached the line (`ended` is `lap_complete`).
    pub completed: bool,
    /// How the lap ended: `lap_complete`, the incident that ended the trial (`off_track`,
    /// `crashed`, `reversed`, `immobilized`), or `time_up` (the race's time limit).
    pub ended: EpisodeStatus,
}

impl LapResult {
    /// Incidents of every kind (DeepRacer's `reset_count`).
    pub fn incidents(&self) -> u32 {
        self.off_track + self.collisions + self.reversed + self.immobilized
    }
}

/// Where a held car waits (the world puts it there, at rest, while [`EpisodeState::paused`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HoldPose {
    pub pos: Vec2,
    pub heading: f64,
}

/// Race bookkeeping for one car.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RaceState {
    pub laps: Vec<LapResult>,
    /// Simulated time when the current lap (or trial) started.
    pub lap_start: f64,
    pub lap_penalty: f64,
    pub lap_off_track: u32,
    pub lap_collisions: u32,
    pub lap_reversed: u32,
    pub lap_immobilized: u32,
    /// Simulated race time so far (trials one after another, holds included).
    pub elapsed: f64,
    /// Where the car is held, while it is.
    pub hold: Option<HoldPose>,
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

    /// Record the current lap, ended at simulated time `at` with `ended`, and start the next one.
    fn close_lap(&mut self, at: f64, ended: EpisodeStatus) {
        let time = at - self.lap_start;
        self.laps.push(LapResult {
            time_s: time,
            raw_time_s: time - self.lap_penalty,
            penalty_s: self.lap_penalty,
            off_track: self.lap_off_track,
            collisions: self.lap_collisions,
            reversed: self.lap_reversed,
            immobilized: self.lap_immobilized,
            completed: ended == EpisodeStatus::LapComplete,
            ended,
        });
        self.lap_start = at;
        self.lap_penalty = 0.0;
        self.lap_off_track = 0;
        self.lap_collisions = 0;
        self.lap_reversed = 0;
        self.lap_immobilized = 0;
    }
}

/// Where the world should hold a car after an incident (it computes the pose: it knows the lanes
/// and the objects).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldAt {
    /// On the lane line nearer to the car's previous position, at the previous step's progress, or
    /// 1 m behind a box within 1 m of that point, in the other lane (off-track, reversed,
    /// immobilized).
    PreviousProgress,
    /// After a collision: 1 m behind the box the car hit, in the other lane; where it is if it ran
    /// into a bot car.
    Collision,
}

/// What the race rules want done to the car after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaceAction {
    Continue,
    /// Hold the car (at rest) for the penalty: set [`RaceState::hold`].
    Hold(HoldAt),
    /// An open track's lap is done: put the car back at its start for the next lap.
    Restart,
}

/// Race rules for one step: lap timing, incidents, holds, the end of a trial and of the race.
/// A trial's end sets `done` (the world then starts the next trial as a new episode); the race's
/// end sets [`RaceState::finished`] too.
pub fn judge_race(ep: &mut EpisodeState, race: &mut RaceState, cfg: &RaceConfig, facts: &StepFacts) -> RaceAction {
    if cfg.continuous && ep.status == EpisodeStatus::LapComplete {
        // A continuous race's trace numbers one episode per lap (DeepRacer counts trials).
        ep.number += 1;
    }
    ep.steps += 1;
    ep.clock += facts.dt;
    race.elapsed += facts.dt;
    let action = if ep.paused {
        // Held: the clock runs, nothing else counts until the penalty is served.
        ep.pause -= facts.dt;
        ep.status = EpisodeStatus::Pause;
        ep.crashed = false;
        ep.in_contact = facts.contact;
        ep.last_ref_pos = facts.ref_pos;
        if ep.pause <= 1e-9 {
            ep.paused = false;
            ep.reverse_count = 0;
            ep.stuck_count = 0;
            race.hold = None;
        }
        RaceAction::Continue
    } else {
        judge_running(ep, race, cfg, facts)
    };
    if race.elapsed >= cfg.max_time_s - 1e-9 && !race.finished && !ep.done {
        race.close_lap(ep.clock, EpisodeStatus::TimeUp);
        race.finished = true;
        ep.status = EpisodeStatus::TimeUp;
        ep.done = true;
        ep.truncated = true;
    }
    action
}

fn judge_running(ep: &mut EpisodeState, race: &mut RaceState, cfg: &RaceConfig, facts: &StepFacts) -> RaceAction {
    ep.pause = 0.0;
    ep.crashed = facts.contact && !ep.in_contact;
    ep.in_contact = facts.contact;
    track_motion(ep, facts, cfg.immobilized_distance);
    ep.status = EpisodeStatus::InProgress;
    if ep.progress >= 100.0 {
        // Lap complete. The line was crossed during this step: interpolate the crossing time from
        // the distance overshot. The row shows 100 %; the overshoot carries into a continuous
        // race's next lap.
        let span = facts.open_span.unwrap_or(facts.track_length);
        let over = (ep.along - span).max(0.0);
        let frac = if ep.progress_delta_m > 0.0 {
            (over / ep.progress_delta_m).min(1.0)
        } else {
            0.0
        };
        race.close_lap(ep.clock - frac * facts.dt, EpisodeStatus::LapComplete);
        ep.along -= span;
        ep.progress = 100.0;
        ep.prev_progress = 0.0;
        ep.status = EpisodeStatus::LapComplete;
        if race.laps.len() as u32 >= cfg.laps {
            race.finished = true;
            ep.done = true;
        } else if !cfg.continuous {
            ep.done = true;
        } else if facts.open_span.is_some() {
            return RaceAction::Restart;
        }
        return RaceAction::Continue;
    }
    let (status, hold) = if ep.crashed {
        (EpisodeStatus::Crashed, HoldAt::Collision)
    } else if !facts.any_wheel_on_track {
        (EpisodeStatus::OffTrack, HoldAt::PreviousProgress)
    } else if ep.reverse_count >= cfg.reverse_steps {
        (EpisodeStatus::Reversed, HoldAt::PreviousProgress)
    } else if ep.stuck_count >= cfg.immobilized_steps {
        (EpisodeStatus::Immobilized, HoldAt::PreviousProgress)
    } else {
        return RaceAction::Continue;
    };
    ep.status = status;
    match status {
        EpisodeStatus::Crashed => race.lap_collisions += 1,
        EpisodeStatus::OffTrack => race.lap_off_track += 1,
        EpisodeStatus::Reversed => race.lap_reversed += 1,
        _ => race.lap_immobilized += 1,
    }
    if ep.resets < cfg.number_of_resets {
        let penalty = cfg.penalty_s(status);
        ep.resets += 1;
        ep.paused = true;
        ep.pause = penalty;
        race.lap_penalty += penalty;
        return RaceAction::Hold(hold);
    }
    // No reset left: the trial ends here (a continuous race ends).
    race.close_lap(ep.clock, status);
    ep.done = true;
    if cfg.continuous || race.laps.len() as u32 >= cfg.laps {
        race.finished = true;
    }
    RaceAction::Continue
}

#[cfg(test)]
mod tests {
    use super::super::tests::facts;
    use super::*;
    use crate::episode::advance_progress;

    /// Drive `steps` steps of 0.1 s at `per_step` metres per step (standing still while held),
    /// off the track at the steps in `off`; returns each step's action and status.
    fn drive(
        ep: &mut EpisodeState,
        race: &mut RaceState,
        cfg: &RaceConfig,
        steps: usize,
        per_step: f64,
        off: &[usize],
    ) -> Vec<(RaceAction, EpisodeStatus, f64)> {
        let mut s = ep.ref_s;
        (1..=steps)
            .map(|k| {
                let held = ep.paused;
                let d = if held { 0.0 } else { per_step };
                s = (s + d) % 10.0;
                let f = facts(s, !off.contains(&k));
                advance_progress(ep, &f, d);
                let a = judge_race(ep, race, cfg, &f);
                (a, ep.status, ep.pause)
            })
            .collect()
    }

    #[test]
    fn by_default_the_first_incident_ends_the_trial() {
        let cfg = RaceConfig {
            laps: 2,
            ..Default::default()
        };
        let mut ep = EpisodeState::new(1);
        let mut race = RaceState::with_capacity(2);
        let rows = drive(&mut ep, &mut race, &cfg, 40, 0.125, &[40]);
        assert_eq!(rows[39], (RaceAction::Continue, EpisodeStatus::OffTrack, 0.0));
        assert!(ep.done && !race.finished, "one trial of two is over");
        let lap = race.laps[0];
        assert_eq!(
            (lap.completed, lap.ended, lap.off_track),
            (false, EpisodeStatus::OffTrack, 1)
        );
        assert!((lap.time_s - 4.0).abs() < 1e-9 && lap.penalty_s == 0.0, "{lap:?}");
        // A completed trial ends its episode too, and the last one the race.
        let mut ep = EpisodeState::new(1);
        drive(&mut ep, &mut race, &cfg, 80, 0.125, &[]);
        assert!(ep.done && race.finished);
        assert_eq!(race.laps[1].ended, EpisodeStatus::LapComplete);
        assert_eq!(ep.progress, 100.0, "the lap-complete row shows 100 %");
    }

    #[test]
    fn with_resets_the_car_is_held_for_the_penalty_while_the_clock_runs() {
        let cfg = RaceConfig {
            laps: 2,
            continuous: true,
            number_of_resets: 10,
            ..Default::default()
        };
        let mut ep = EpisodeState::new(1);
        let mut race = RaceState::with_capacity(2);
        // A 10 m lap at 0.125 m per 0.1 s step (8 s of driving), off the track at step 40.
        let rows = drive(&mut ep, &mut race, &cfg, 100, 0.125, &[40]);
        assert_eq!(
            rows[39],
            (RaceAction::Hold(HoldAt::PreviousProgress), EpisodeStatus::OffTrack, 2.0)
        );
        // 2 s at 0.1 s per step: 20 pause rows counting down, then the car drives again.
        for (k, row) in rows[40..60].iter().enumerate() {
            assert_eq!((row.0, row.1), (RaceAction::Continue, EpisodeStatus::Pause), "row {k}");
            assert!((row.2 - (2.0 - 0.1 * (k + 1) as f64)).abs() < 1e-9, "{row:?}");
        }
        assert_eq!(rows[60].1, EpisodeStatus::InProgress);
        assert_eq!(race.laps.len(), 1);
        let lap = race.laps[0];
        assert!((lap.time_s - 10.0).abs() < 1e-9, "8 s driving + 2 s held: {lap:?}");
        assert!((lap.raw_time_s - 8.0).abs() < 1e-9 && lap.penalty_s == 2.0);
        assert_eq!((lap.off_track, lap.completed, ep.resets), (1, true, 1));
        assert!(!ep.done, "a continuous race goes on");
        assert_eq!((ep.number, rows[99].1), (0, EpisodeStatus::LapComplete));
        drive(&mut ep, &mut race, &cfg, 1, 0.125, &[]);
        assert_eq!(ep.number, 1, "the trace numbers one episode per lap");
    }

    #[test]
    fn each_incident_has_its_penalty() {
        let cfg = RaceConfig::default();
        assert_eq!(cfg.penalty_s(EpisodeStatus::OffTrack), 2.0);
        assert_eq!(cfg.penalty_s(EpisodeStatus::Crashed), 5.0);
        assert_eq!(
            cfg.penalty_s(EpisodeStatus::Reversed),
            2.0,
            "as an off-track by default"
        );
        assert_eq!(cfg.penalty_s(EpisodeStatus::Immobilized), 0.0);
        let cfg = RaceConfig {
            off_track_penalty_s: 3.0,
            reverse_penalty_s: Some(1.0),
            number_of_resets: 1,
            ..Default::default()
        };
        assert_eq!(cfg.penalty_s(EpisodeStatus::Reversed), 1.0);
        // Immobilized: held for one row only (no penalty), and it used the one reset.
        let mut ep = EpisodeState::new(1);
        let mut race = RaceState::with_capacity(3);
        let rows = drive(&mut ep, &mut race, &cfg, 16, 0.0, &[]);
        assert_eq!(
            rows[14],
            (
                RaceAction::Hold(HoldAt::PreviousProgress),
                EpisodeStatus::Immobilized,
                0.0
            )
        );
        assert_eq!(rows[15].1, EpisodeStatus::Pause);
        assert!(!ep.paused && ep.resets == 1);
        // The next incident has no reset left: the trial ends.
        drive(&mut ep, &mut race, &cfg, 15, 0.0, &[]);
        assert!(ep.done);
        assert_eq!(
            (race.laps[0].immobilized, race.laps[0].ended),
            (2, EpisodeStatus::Immobilized)
        );
    }

    #[test]
    fn the_time_limit_ends_the_race_with_an_incomplete_lap() {
        let cfg = RaceConfig {
            laps: 2,
            max_time_s: 3.0,
            ..Default::default()
        };
        let mut ep = EpisodeState::new(1);
        let mut race = RaceState::with_capacity(2);
        let rows = drive(&mut ep, &mut race, &cfg, 30, 0.1, &[]);
        assert_eq!(rows[29].1, EpisodeStatus::TimeUp);
        assert!(ep.done && ep.truncated && race.finished);
        assert_eq!((race.laps.len(), race.laps[0].ended), (1, EpisodeStatus::TimeUp));
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
            lap_reversed: 5,
            lap_immobilized: 6,
            elapsed: 5.0,
            hold: Some(HoldPose {
                pos: Vec2::ZERO,
                heading: 1.0,
            }),
            finished: true,
        };
        race.close_lap(2.0, EpisodeStatus::LapComplete);
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

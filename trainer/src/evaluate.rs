//! Racing a model: the simulator's race mode (DeepRacer's evaluation rules, see
//! [`slipstream_sim::episode`]) driven by the model's deterministic policy, with the reward
//! function called on every driving step as DeepRacer's evaluations do (so a trace's reward
//! columns are filled), and the trace in DeepRacer's evaluation layout.

use std::sync::Arc;

use serde::Serialize;
use slipstream_sim::race::LapTable;
use slipstream_sim::{
    Action, EpisodeStatus, LapResult, Laps, Mode, RaceConfig, RaceResult, RewardPreset, Scenario, StepBuffers, Track,
    VecEnv,
};

use crate::error::TrainError;
use crate::model::Model;
use crate::reward::RewardSource;
use crate::runner::PolicyRunner;
use crate::trace_to::{Trace, TraceTo};

/// How to race.
#[derive(Debug)]
pub struct EvalOptions {
    /// The race rules (laps or trials, resets, penalties, time limit).
    pub race: RaceConfig,
    pub seed: u64,
    pub scenario: Scenario,
    /// The reward function to call on each driving step (none: rewards are 0).
    pub reward: Option<RewardSource>,
    /// Write a SIM_TRACE_LOG CSV trace here.
    pub trace: Option<TraceTo>,
    /// Give up (with [`TrainError::Timeout`]) if the race is still running at this wall-clock time.
    pub deadline: Option<std::time::Instant>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            race: RaceConfig::default(),
            seed: 0,
            scenario: Scenario::TimeTrial {},
            reward: None,
            trace: None,
            deadline: None,
        }
    }
}

/// A race's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvalReport {
    pub track: String,
    pub laps: Vec<LapResult>,
    pub completed_laps: usize,
    /// Fastest completed lap (penalties included), seconds.
    pub best_lap_s: Option<f64>,
    /// All laps driven, penalties included, seconds.
    pub total_time_s: f64,
    pub off_track: u32,
    pub collisions: u32,
    /// Longest run of consecutive completed laps.
    pub consecutive_completed: usize,
    /// Longest run of consecutive completed laps without off-track or collision.
    pub consecutive_clean: usize,
    pub steps: u64,
}

impl EvalReport {
    pub(crate) fn new(track: String, race: RaceResult, steps: u64) -> Self {
        let laps = race.laps.as_slice();
        EvalReport {
            track,
            completed_laps: laps.completed_laps(),
            best_lap_s: laps.best_lap(),
            total_time_s: laps.total_time(),
            off_track: laps.off_track(),
            collisions: laps.collisions(),
            consecutive_completed: laps.consecutive_completed(),
            consecutive_clean: laps.consecutive_clean(),
            laps: race.laps,
            steps,
        }
    }

    /// The lap table (`trainer evaluate`'s output, the same as `sim drive`'s).
    pub fn table(&self) -> LapTable<'_> {
        LapTable(&self.laps)
    }
}

/// Race `model` round `track` with its deterministic policy.
pub fn evaluate(
    model: &Model,
    track: Arc<Track>,
    track_name: &str,
    opts: &EvalOptions,
) -> Result<EvalReport, TrainError> {
    let mut race = RaceRun::new(model, track, opts)?;
    while !race.is_over() {
        check_deadline(opts.deadline, race.steps(), "race")?;
        race.step(model, opts.reward.as_ref())?;
    }
    race.finish(track_name)
}

/// A race loop's wall-clock limit (checked every 64 steps): [`TrainError::Timeout`] once past it.
pub(crate) fn check_deadline(deadline: Option<std::time::Instant>, steps: u64, what: &str) -> Result<(), TrainError> {
    match deadline {
        Some(d) if steps.is_multiple_of(64) && std::time::Instant::now() > d => Err(TrainError::Timeout(format!(
            "the {what} was still running after its wall-clock limit ({steps} steps driven)"
        ))),
        _ => Ok(()),
    }
}

/// A race in progress, one step at a time: what [`evaluate`] runs to the end, and what a viewer
/// steps at its own pace (drawing the environment's state between steps).
#[derive(Debug)]
pub struct RaceRun {
    env: VecEnv,
    out: StepBuffers,
    runner: PolicyRunner,
    actions: [Action; 1],
    steps: u64,
    reward_buf: [f32; 1],
    trace: Option<Trace>,
}

impl RaceRun {
    /// Build the race's environment (the model's own, in race mode) and reset it: the car stands at
    /// the start line. `opts.deadline` is the caller's to watch. Parameters (`buffers().params`)
    /// are filled when `with_params` is set, a trace is written or the reward function needs them.
    pub fn new(model: &Model, track: Arc<Track>, opts: &EvalOptions) -> Result<Self, TrainError> {
        Self::with_params(model, track, opts, false)
    }

    /// [`RaceRun::new`], with the step's DeepRacer parameters always filled when `with_params` is
    /// set (a viewer draws the objects from them).
    pub fn with_params(
        model: &Model,
        track: Arc<Track>,
        opts: &EvalOptions,
        with_params: bool,
    ) -> Result<Self, TrainError> {
        if opts.race.laps == 0 {
            return Err(TrainError::option("--laps", "expected at least 1 lap"));
        }
        let mut cfg = model.spec.env_config(&[track], Mode::Race(opts.race.clone()));
        cfg.reward = match &opts.reward {
            Some(r) => r.in_sim(),
            None => Arc::new(RewardPreset::Zero),
        };
        cfg.scenario = opts.scenario.clone();
        let mut env = VecEnv::new(cfg, 1)?;
        let needs_params =
            with_params || opts.trace.is_some() || opts.reward.as_ref().is_some_and(RewardSource::needs_params);
        let mut out = env.buffers(needs_params);
        env.reset(opts.seed, &mut out)?;
        let mut trace = opts.trace.as_ref().map(Trace::open).transpose()?;
        if let Some(t) = &mut trace {
            t.record_reset(&out, 0)?;
        }
        Ok(RaceRun {
            env,
            out,
            runner: PolicyRunner::new(model),
            actions: [Action::Discrete(0)],
            steps: 0,
            reward_buf: [0.0],
            trace,
        })
    }

    /// Whether the race is over (every lap or trial driven, or its time limit reached).
    pub fn is_over(&self) -> bool {
        self.out.info[0].race_over
    }

    /// Steps driven so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The last step's outputs (observation, camera image, info, parameters).
    pub fn buffers(&self) -> &StepBuffers {
        &self.out
    }

    /// The environment (for [`VecEnv::car_states`] and [`VecEnv::race_results`]).
    pub fn env_mut(&mut self) -> &mut VecEnv {
        &mut self.env
    }

    /// One step: the model's greedy action for the current observation, then the simulator's step
    /// (`reward`, the race's [`EvalOptions::reward`], called on it; the trace row written). Does
    /// nothing once the race is over.
    pub fn step(&mut self, model: &Model, reward: Option<&RewardSource>) -> Result<(), TrainError> {
        if self.is_over() {
            return Ok(());
        }
        self.runner
            .act(model, &self.out.obs, &self.out.image, &mut self.actions);
        self.env.step(&self.actions, &mut self.out)?;
        self.steps += 1;
        if let Some(r) = reward
            && r.needs_params()
        {
            // A reward computed outside the simulator (Python): not called while the car is held.
            if self.out.info[0].status == EpisodeStatus::Pause {
                self.out.reward[0] = 0.0;
            } else {
                r.score(&self.out, &mut self.reward_buf)?;
                self.out.reward[0] = self.reward_buf[0];
            }
        }
        if let Some(t) = &mut self.trace {
            t.record_step(&self.out, 0)?;
        }
        Ok(())
    }

    /// The race so far: its laps and totals (the trace flushed).
    pub fn finish(mut self, track_name: &str) -> Result<EvalReport, TrainError> {
        if let Some(t) = &mut self.trace {
            t.flush()?;
        }
        let race = self.env.race_results()?.remove(0);
        Ok(EvalReport::new(track_name.to_string(), race, self.steps))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_counts_runs_of_clean_laps() {
        let lap = |completed, off_track| LapResult {
            time_s: 10.0,
            raw_time_s: 10.0,
            penalty_s: 0.0,
            off_track,
            collisions: 0,
            reversed: 0,
            immobilized: 0,
            completed,
            ended: if completed {
                EpisodeStatus::LapComplete
            } else {
                EpisodeStatus::TimeUp
            },
        };
        let race = RaceResult {
            car: 0,
            laps: vec![lap(true, 0), lap(true, 1), lap(true, 0), lap(true, 0), lap(false, 0)],
            finished: true,
        };
        let r = EvalReport::new("t".into(), race, 5);
        assert_eq!(r.completed_laps, 4);
        assert_eq!(r.consecutive_completed, 4);
        assert_eq!(r.consecutive_clean, 2);
        assert_eq!(r.off_track, 1);
        assert_eq!(r.best_lap_s, Some(10.0));
        assert_eq!(r.table().to_string().lines().count(), 6);
    }
}

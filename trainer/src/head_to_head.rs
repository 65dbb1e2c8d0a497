//! Head-to-head: several models race on one track at the same time (the simulator's head-to-head
//! group, [`slipstream_sim::GroupConfig`]): each car sees the others with its own sensor, the car
//! that runs into the one ahead is penalised, and the result is the order in which they finish.
//!
//! The models drive one world, so they must agree on the world: the same sensor, car and step
//! settings ([`compatible`] says which differs); each car has its own model's action space. A
//! match is deterministic: the same models, track, rules and seed give the same laps, bit for bit.

use std::sync::Arc;

use serde::Serialize;
use slipstream_sim::{Action, GroupConfig, Mode, RewardPreset, Scenario, StepBuffers, Track, VecEnv, finishing_places};

use crate::error::TrainError;
use crate::evaluate::{EvalOptions, EvalReport, check_deadline};
use crate::model::{Model, ModelSpec};
use crate::runner::PolicyRunner;
use crate::trace_to::{Trace, TraceTo};

/// Whether `b` can race in `a`'s world: `Err` names the first setting that differs.
pub fn compatible(a: &ModelSpec, b: &ModelSpec) -> Result<(), String> {
    if a.sensor != b.sensor {
        return Err(format!(
            "sensor: {} against {}",
            serde_json::to_string(&a.sensor).unwrap_or_default(),
            serde_json::to_string(&b.sensor).unwrap_or_default()
        ));
    }
    if a.car != b.car {
        return Err("car: the models were trained with different car settings".into());
    }
    if a.agent_dt != b.agent_dt || a.physics_substeps != b.physics_substeps {
        return Err("agent_dt/physics_substeps: the models step at different rates".into());
    }
    Ok(())
}

/// A head-to-head race's result: each seat's race and its finishing place.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MatchReport {
    /// One per seat, in seat (grid) order.
    pub seats: Vec<EvalReport>,
    /// Finishing places, one per seat ([`finishing_places`]: equal cars share a place).
    pub places: Vec<u32>,
    pub steps: u64,
}

/// A head-to-head race in progress, one step at a time (as [`crate::evaluate::RaceRun`] is for one
/// car). Seat `i` is `models[i]`, on the grid's place `i` (see [`GroupConfig`]).
#[derive(Debug)]
pub struct MatchRun {
    env: VecEnv,
    out: StepBuffers,
    runners: Vec<PolicyRunner>,
    actions: Vec<Action>,
    steps: u64,
    traces: Vec<Trace>,
    /// Per seat: its race is over and its trace has its last row (a car that finished waits,
    /// held, for the others; its trace ends where it finished).
    trace_ended: Vec<bool>,
}

impl MatchRun {
    /// Build the match's world (the first model's, every seat checked against it) in race mode
    /// with `opts.race` made continuous (a head-to-head race cannot restart one car's trial), and
    /// reset it with `opts.seed`. `traces`: where each seat's SIM_TRACE_LOG goes, or none. The
    /// scenario must be a time trial (the rivals are the objects); rewards are not computed.
    pub fn new(
        models: &[&Model],
        track: Arc<Track>,
        opts: &EvalOptions,
        traces: &[TraceTo],
    ) -> Result<Self, TrainError> {
        if !(2..=GroupConfig::MAX_SIZE).contains(&models.len()) {
            return Err(TrainError::option(
                "models",
                format!(
                    "a head-to-head race needs 2–{} models, got {}",
                    GroupConfig::MAX_SIZE,
                    models.len()
                ),
            ));
        }
        if !traces.is_empty() && traces.len() != models.len() {
            return Err(TrainError::option("traces", "expected one trace file per seat"));
        }
        if opts.race.laps == 0 {
            return Err(TrainError::option("--laps", "expected at least 1 lap"));
        }
        if !matches!(opts.scenario, Scenario::TimeTrial {}) {
            return Err(TrainError::option(
                "scenario",
                "head-to-head races have no boxes or bot cars (the rivals are the objects)",
            ));
        }
        for (i, m) in models.iter().enumerate().skip(1) {
            compatible(&models[0].spec, &m.spec)
                .map_err(|e| TrainError::option(format!("models[{i}]"), format!("cannot race models[0]: {e}")))?;
        }
        let mut rules = opts.race.clone();
        rules.continuous = true;
        let mut cfg = models[0].spec.env_config(&[track], Mode::Race(rules));
        cfg.reward = Arc::new(RewardPreset::Zero);
        cfg.group = GroupConfig {
            action_spaces: models.iter().map(|m| m.spec.action_space()).collect(),
            ..GroupConfig::of(models.len())
        };
        let mut env = VecEnv::new(cfg, models.len())?;
        let mut out = env.buffers(!traces.is_empty());
        env.reset(opts.seed, &mut out)?;
        let mut writers = Vec::with_capacity(traces.len());
        for (seat, to) in traces.iter().enumerate() {
            let mut t = Trace::open(to)?;
            t.record_reset(&out, seat)?;
            writers.push(t);
        }
        Ok(Self {
            env,
            out,
            runners: models.iter().map(|m| PolicyRunner::new(m)).collect(),
            actions: vec![Action::Discrete(0); models.len()],
            steps: 0,
            traces: writers,
            trace_ended: vec![false; models.len()],
        })
    }

    /// Whether every car's race is over.
    pub fn is_over(&self) -> bool {
        self.out.info.iter().all(|i| i.race_over)
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The last step's outputs, one row per seat.
    pub fn buffers(&self) -> &StepBuffers {
        &self.out
    }

    /// The environment (for [`VecEnv::car_states`] and [`VecEnv::race_results`]).
    pub fn env_mut(&mut self) -> &mut VecEnv {
        &mut self.env
    }

    /// One step: every seat's greedy action for its own observation, then the simulator's step
    /// (trace rows written for the cars still racing). Does nothing once the race is over.
    pub fn step(&mut self, models: &[&Model]) -> Result<(), TrainError> {
        if self.is_over() {
            return Ok(());
        }
        let (dim, len) = (self.env.obs_dim(), self.env.image_len());
        for (seat, (runner, model)) in self.runners.iter_mut().zip(models).enumerate() {
            runner.act(
                model,
                &self.out.obs[seat * dim..(seat + 1) * dim],
                &self.out.image[seat * len..(seat + 1) * len],
                &mut self.actions[seat..seat + 1],
            );
        }
        self.env.step(&self.actions, &mut self.out)?;
        self.steps += 1;
        for (seat, t) in self.traces.iter_mut().enumerate() {
            if self.trace_ended[seat] {
                continue;
            }
            t.record_step(&self.out, seat)?;
            self.trace_ended[seat] = self.out.info[seat].race_over;
        }
        Ok(())
    }

    /// The match so far: every seat's laps and the finishing places (traces flushed).
    pub fn finish(mut self, track_name: &str) -> Result<MatchReport, TrainError> {
        for t in &mut self.traces {
            t.flush()?;
        }
        let results = self.env.race_results()?;
        let laps: Vec<&[_]> = results.iter().map(|r| r.laps.as_slice()).collect();
        let places = finishing_places(&laps);
        let seats = results
            .into_iter()
            .map(|r| EvalReport::new(track_name.to_string(), r, self.steps))
            .collect();
        Ok(MatchReport {
            seats,
            places,
            steps: self.steps,
        })
    }
}

/// Race `models` against each other round `track` to the end (or `opts.deadline`).
pub fn race_match(
    models: &[&Model],
    track: Arc<Track>,
    track_name: &str,
    opts: &EvalOptions,
    traces: &[TraceTo],
) -> Result<MatchReport, TrainError> {
    let mut run = MatchRun::new(models, track, opts, traces)?;
    while !run.is_over() {
        check_deadline(opts.deadline, run.steps(), "head-to-head race")?;
        run.step(models)?;
    }
    run.finish(track_name)
}

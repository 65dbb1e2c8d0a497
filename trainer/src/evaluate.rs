//! Racing a model: the simulator's race mode (DeepRacer's evaluation rules, see
//! [`slipstream_sim::episode`]) driven by the model's deterministic policy, with the reward
//! function called on every driving step as DeepRacer's evaluations do (so a trace's reward
//! columns are filled), and the trace in DeepRacer's evaluation layout.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use slipstream_sim::race::LapTable;
use slipstream_sim::trace::TraceWriter;
use slipstream_sim::{
    Action, EpisodeStatus, LapResult, Laps, Mode, RaceConfig, RaceResult, RewardPreset, Scenario, Track, VecEnv,
};

use crate::error::TrainError;
use crate::model::Model;
use crate::policy::PolicyRunner;
use crate::reward::RewardSource;

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
    pub trace: Option<PathBuf>,
    /// Give up (with [`TrainError::Timeout`]) if the race is still running at this wall-clock time.
    pub deadline: Option<std::time::Instant>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            race: RaceConfig::default(),
            seed: 0,
            scenario: Scenario::TimeTrial,
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
    fn new(track: String, race: RaceResult, steps: u64) -> Self {
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
    let needs_params = opts.trace.is_some() || opts.reward.as_ref().is_some_and(RewardSource::needs_params);
    let mut out = env.buffers(needs_params);
    env.reset(opts.seed, &mut out)?;
    let mut trace = match &opts.trace {
        Some(p) => Some(TraceWriter::create(p)?),
        None => None,
    };
    let trace_err = |e: std::io::Error| {
        TrainError::file(
            opts.trace.as_deref().unwrap_or(std::path::Path::new("trace")),
            e.to_string(),
        )
    };
    if let Some(t) = &mut trace {
        t.record_reset(&out, 0).map_err(trace_err)?;
    }
    let mut runner = PolicyRunner::new(model);
    let mut actions = [Action::Discrete(0)];
    let mut steps = 0u64;
    let mut reward = [0.0f32];
    while !out.info[0].race_over {
        if let Some(d) = opts.deadline
            && steps.is_multiple_of(64)
            && std::time::Instant::now() > d
        {
            return Err(TrainError::Timeout(format!(
                "the race was still running after its wall-clock limit ({steps} steps driven)"
            )));
        }
        runner.act(model, &out.obs, &out.image, &mut actions);
        env.step(&actions, &mut out)?;
        steps += 1;
        if let Some(r) = &opts.reward
            && r.needs_params()
        {
            // A reward computed outside the simulator (Python): not called while the car is held.
            if out.info[0].status == EpisodeStatus::Pause {
                out.reward[0] = 0.0;
            } else {
                r.score(&out, &mut reward)?;
                out.reward[0] = reward[0];
            }
        }
        if let Some(t) = &mut trace {
            t.record_step(&out, 0).map_err(trace_err)?;
        }
    }
    if let Some(t) = &mut trace {
        t.flush().map_err(trace_err)?;
    }
    let race = env.race_results()?.remove(0);
    Ok(EvalReport::new(track_name.to_string(), race, steps))
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

//! Racing a model: the simulator's race mode driven by the model's deterministic policy.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use slipstream_sim::trace::TraceWriter;
use slipstream_sim::{Action, EnvConfig, LapResult, Mode, RaceConfig, RewardPreset, Scenario, Track, VecEnv};
use tch::{Device, Kind, Tensor};

use crate::error::TrainError;
use crate::model::{Model, scale_continuous};

/// How to race.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    pub laps: u32,
    pub seed: u64,
    pub off_track_penalty_s: f64,
    pub collision_penalty_s: f64,
    /// Stop after this many simulated seconds (penalties included).
    pub max_time_s: f64,
    pub scenario: Scenario,
    /// Write a SIM_TRACE_LOG CSV trace here.
    pub trace: Option<PathBuf>,
    /// Give up (with [`TrainError::Timeout`]) if the race is still running at this wall-clock time.
    pub deadline: Option<std::time::Instant>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            laps: 3,
            seed: 0,
            off_track_penalty_s: 2.0,
            collision_penalty_s: 5.0,
            max_time_s: 180.0,
            scenario: Scenario::TimeTrial,
            trace: None,
            deadline: None,
        }
    }
}

/// One lap, as `trainer evaluate --json` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LapReport {
    pub time_s: f64,
    pub penalty_s: f64,
    pub off_track: u32,
    pub collisions: u32,
    pub completed: bool,
}

impl From<&LapResult> for LapReport {
    fn from(l: &LapResult) -> Self {
        LapReport {
            time_s: l.time_s,
            penalty_s: l.penalty_s,
            off_track: l.off_track,
            collisions: l.collisions,
            completed: l.completed,
        }
    }
}

/// A race's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvalReport {
    pub track: String,
    pub laps: Vec<LapReport>,
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
    fn from_laps(track: String, laps: &[LapResult], steps: u64) -> Self {
        let reports: Vec<LapReport> = laps.iter().map(LapReport::from).collect();
        let run = |ok: &dyn Fn(&LapResult) -> bool| {
            let (mut best, mut cur) = (0, 0);
            for l in laps {
                cur = if ok(l) { cur + 1 } else { 0 };
                best = best.max(cur);
            }
            best
        };
        EvalReport {
            track,
            completed_laps: laps.iter().filter(|l| l.completed).count(),
            best_lap_s: laps
                .iter()
                .filter(|l| l.completed)
                .map(|l| l.time_s)
                .min_by(f64::total_cmp),
            total_time_s: laps.iter().map(|l| l.time_s).sum(),
            off_track: laps.iter().map(|l| l.off_track).sum(),
            collisions: laps.iter().map(|l| l.collisions).sum(),
            consecutive_completed: run(&|l| l.completed),
            consecutive_clean: run(&|l| l.completed && l.off_track == 0 && l.collisions == 0),
            laps: reports,
            steps,
        }
    }
}

/// Reusable buffers for running a model's policy on a batch of observations.
#[derive(Debug, Default)]
pub struct PolicyRunner {
    obs: Vec<f32>,
    inv_std: Vec<f64>,
    raw: Vec<f32>,
}

impl PolicyRunner {
    pub fn new(model: &Model) -> Self {
        Self {
            obs: Vec::new(),
            inv_std: model.obs_norm.as_ref().map(|n| n.inv_std()).unwrap_or_default(),
            raw: Vec::new(),
        }
    }

    /// Deterministic (greedy) actions for `obs` (rows of the model's observation size).
    pub fn act(&mut self, model: &Model, obs: &[f32], actions: &mut [Action]) {
        let d = model.spec.obs_dim();
        let n = obs.len() / d;
        self.obs.clear();
        self.obs.extend_from_slice(obs);
        if let Some(norm) = &model.obs_norm {
            norm.normalize_with(&self.inv_std, &mut self.obs);
        }
        let device = model.policy.device();
        let t = Tensor::from_slice(&self.obs)
            .view([n as i64, d as i64])
            .to_device(device);
        let out = tch::no_grad(|| model.policy.act(&t, true));
        let action = out.action.to_device(Device::Cpu);
        if model.policy.is_discrete() {
            let mut idx = vec![0i64; n];
            action.copy_data(&mut idx, n);
            for (a, i) in actions.iter_mut().zip(idx) {
                *a = Action::Discrete(i as u32);
            }
        } else {
            self.raw.resize(2 * n, 0.0);
            action.to_kind(Kind::Float).copy_data(&mut self.raw, 2 * n);
            let space = model.spec.action_space();
            for (k, a) in actions.iter_mut().enumerate() {
                *a = Action::Continuous(scale_continuous(&self.raw[2 * k..2 * k + 2], &space));
            }
        }
    }
}

/// Race `model` round `track` with its deterministic policy.
pub fn evaluate(
    model: &Model,
    track: Arc<Track>,
    track_name: &str,
    opts: &EvalOptions,
) -> Result<EvalReport, TrainError> {
    if opts.laps == 0 {
        return Err(TrainError::option("--laps", "expected at least 1 lap"));
    }
    let mut cfg = EnvConfig::new((*track).clone());
    cfg.tracks = vec![track];
    cfg.car = model.spec.car.clone();
    cfg.action_space = model.spec.action_space();
    cfg.obs = model.spec.sensor.clone();
    cfg.agent_dt = model.spec.agent_dt;
    cfg.physics_substeps = model.spec.physics_substeps;
    cfg.reward = Arc::new(RewardPreset::Zero);
    cfg.scenario = opts.scenario.clone();
    cfg.mode = Mode::Race(RaceConfig {
        laps: opts.laps,
        off_track_penalty_s: opts.off_track_penalty_s,
        collision_penalty_s: opts.collision_penalty_s,
        max_time_s: opts.max_time_s,
        ..Default::default()
    });
    let mut env = VecEnv::new(cfg, 1)?;
    let mut out = env.buffers(opts.trace.is_some());
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
    while out.done[0] == 0 {
        if let Some(d) = opts.deadline
            && steps.is_multiple_of(64)
            && std::time::Instant::now() > d
        {
            return Err(TrainError::Timeout(format!(
                "the race was still running after its wall-clock limit ({steps} steps driven)"
            )));
        }
        runner.act(model, &out.obs, &mut actions);
        env.step(&actions, &mut out)?;
        steps += 1;
        if let Some(t) = &mut trace {
            t.record_step(&out, 0).map_err(trace_err)?;
        }
    }
    if let Some(t) = &mut trace {
        t.flush().map_err(trace_err)?;
    }
    let result = env.race_results()?.remove(0);
    Ok(EvalReport::from_laps(track_name.to_string(), &result.laps, steps))
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
            completed,
        };
        let r = EvalReport::from_laps(
            "t".into(),
            &[lap(true, 0), lap(true, 1), lap(true, 0), lap(true, 0), lap(false, 0)],
            5,
        );
        assert_eq!(r.completed_laps, 4);
        assert_eq!(r.consecutive_completed, 4);
        assert_eq!(r.consecutive_clean, 2);
        assert_eq!(r.off_track, 1);
        assert_eq!(r.best_lap_s, Some(10.0));
    }
}

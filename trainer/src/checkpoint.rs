//! A training run's checkpoint in its output folder: everything `--resume` needs to continue the
//! same run.
//!
//! * `model_last.safetensors`: the weights and observation statistics (the model file).
//! * `optimizer.safetensors`: Adam's step count and moments ([`crate::optim`]).
//! * `training_state.json`: counters, the best evaluation so far, and the run's seed. The random
//!   streams of an iteration (action sampling, minibatch shuffles) are derived from the seed and
//!   the iteration number, so the counters are their position: a resumed run draws what the
//!   uninterrupted run would have drawn.
//!
//! The environment's episodes in progress are not saved: a resumed run starts fresh episodes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use safetensors::tensor::Dtype;
use serde::{Deserialize, Serialize};
use slipstream_sim::Track;
use slipstream_sim::rng::mix_seed;

use crate::error::TrainError;
use crate::evaluate::{EvalOptions, EvalReport, evaluate};
use crate::model::Model;
use crate::optim::{Adam, AdamState};
use crate::tensors;

/// Where `trainer train` puts its files.
#[derive(Clone, Debug)]
pub struct OutputFiles {
    pub dir: PathBuf,
}

impl OutputFiles {
    pub fn last(&self) -> PathBuf {
        self.dir.join("model_last.safetensors")
    }
    pub fn best(&self) -> PathBuf {
        self.dir.join("model_best.safetensors")
    }
    pub fn optimizer(&self) -> PathBuf {
        self.dir.join("optimizer.safetensors")
    }
    /// A Python reward function's `print()`s, each line with the step and the car.
    pub fn reward_prints(&self) -> PathBuf {
        self.dir.join("reward-prints.log")
    }
    pub fn state(&self) -> PathBuf {
        self.dir.join("training_state.json")
    }

    /// Make the folder ready: a new run needs a folder without a run in it; `--resume` one with.
    pub fn prepare(&self, resume: bool) -> Result<(), TrainError> {
        let dir = &self.dir;
        if resume {
            if !self.last().exists() {
                return Err(TrainError::file(
                    dir,
                    "--resume: no model_last.safetensors here to resume from",
                ));
            }
            return Ok(());
        }
        if self.last().exists() || dir.join("metrics.csv").exists() {
            return Err(TrainError::file(
                dir,
                "already holds a training run; use --resume to continue it or choose another --out",
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| TrainError::file(dir, format!("cannot create: {e}")))
    }
}

/// An evaluation's rank: more consecutive clean laps, then more completed laps, then less time.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalRank(pub usize, pub usize, pub f64);

impl EvalRank {
    pub fn of(r: &EvalReport) -> Self {
        EvalRank(r.consecutive_clean, r.completed_laps, -r.total_time_s)
    }

    /// Strictly better than `other` (or there is no other).
    pub fn beats(self, other: Option<EvalRank>) -> bool {
        other.is_none_or(|b| (self.0, self.1).cmp(&(b.0, b.1)).then(self.2.total_cmp(&b.2)).is_gt())
    }
}

/// Laps of the evaluation race that keeps `model_best` (`metrics.csv`'s `eval_*` columns).
pub const EVAL_LAPS: u32 = 3;

/// The evaluation every `eval_every` iterations: the deterministic policy races [`EVAL_LAPS`] trials
/// on `track` under DeepRacer's evaluation rules (seeded with `seed`); if it beats `best`, `best` is
/// updated and the model saved to `best_path` (`model_best`). Returns the race's report and whether
/// it was the best so far.
pub fn race_and_keep_best(
    model: &Model,
    track: &(Arc<Track>, String),
    seed: u64,
    best: &mut Option<EvalRank>,
    best_path: &Path,
) -> Result<(EvalReport, bool), TrainError> {
    let options = EvalOptions {
        race: slipstream_sim::RaceConfig {
            laps: EVAL_LAPS,
            ..Default::default()
        },
        seed,
        ..Default::default()
    };
    let report = evaluate(model, track.0.clone(), &track.1, &options)?;
    let rank = EvalRank::of(&report);
    let is_best = rank.beats(*best);
    if is_best {
        *best = Some(rank);
        model.save(best_path)?;
    }
    Ok((report, is_best))
}

/// The run's counters, saved as `training_state.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub iteration: u64,
    pub env_steps: u64,
    pub episodes: u64,
    pub wall_s: f64,
    pub seed: u64,
    pub tracks: Vec<String>,
    /// The `--track` arguments the run was started with (what `--resume` uses when given none).
    #[serde(default)]
    pub track_specs: Vec<String>,
    pub reward: String,
    #[serde(rename = "best_key")]
    pub best: Option<EvalRank>,
    pub first_three_clean_laps_s: Option<f64>,
}

impl RunState {
    pub fn new(seed: u64, tracks: Vec<String>, reward: String) -> Self {
        RunState {
            iteration: 0,
            env_steps: 0,
            episodes: 0,
            wall_s: 0.0,
            seed,
            tracks,
            track_specs: Vec::new(),
            reward,
            best: None,
            first_three_clean_laps_s: None,
        }
    }

    /// The seed of one of the iteration's random streams (`stream` names it).
    pub fn iteration_seed(&self, stream: u64) -> u64 {
        mix_seed(&[self.seed, self.iteration, stream])
    }
}

pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| TrainError::file(&tmp, format!("cannot write: {e}")))?;
    std::fs::rename(&tmp, path).map_err(|e| TrainError::file(path, format!("cannot write: {e}")))
}

/// Save the run: model, optimizer state and counters (each file replaced atomically).
pub fn save(files: &OutputFiles, model: &Model, opt: &Adam, state: &RunState) -> Result<(), TrainError> {
    model.save(&files.last())?;
    let path = files.optimizer();
    let entries = opt
        .state_tensors()
        .into_iter()
        .map(|(name, t)| (name, tensors::encode(&t)))
        .collect();
    let bytes = tensors::serialize(entries, None).map_err(|e| TrainError::file(&path, e))?;
    write_atomically(&path, &bytes)?;
    let json = serde_json::to_string_pretty(state).expect("serialisable");
    write_atomically(&files.state(), json.as_bytes())
}

/// Read the counters of the run in `files.dir`.
pub fn load_state(files: &OutputFiles) -> Result<RunState, TrainError> {
    let path = files.state();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| TrainError::file(&path, format!("cannot read (nothing to resume?): {e}")))?;
    serde_json::from_str(&text).map_err(|e| TrainError::file(&path, format!("invalid: {e}")))
}

/// Read the optimizer state saved in `files.dir` (`None` for a run saved before optimizer state
/// was kept).
pub fn load_optimizer(files: &OutputFiles) -> Result<Option<AdamState>, TrainError> {
    let path = files.optimizer();
    let bad = |m: String| TrainError::file(&path, m);
    if !path.exists() {
        return Ok(None);
    }
    let bytes = std::fs::read(&path).map_err(|e| bad(format!("cannot read: {e}")))?;
    let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| bad(format!("not a safetensors file: {e}")))?;
    let step = st
        .tensor("optimizer.step")
        .ok()
        .filter(|v| v.dtype() == Dtype::I64 && v.shape() == [1])
        .map(|v| i64::from_le_bytes(v.data().try_into().expect("8 bytes")))
        .filter(|s| *s >= 0)
        .ok_or_else(|| bad("tensor 'optimizer.step' must be one non-negative I64".into()))?;
    Ok(Some(AdamState {
        step: step as u64,
        exp_avg: tensors::read_f32(&st, "optimizer.exp_avg", None).map_err(bad)?,
        exp_avg_sq: tensors::read_f32(&st, "optimizer.exp_avg_sq", None).map_err(bad)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluations_rank_by_clean_then_completed_then_time() {
        let r = |clean, done, total: f64| Some(EvalRank(clean, done, -total));
        assert!(EvalRank(1, 3, -30.0).beats(None));
        assert!(EvalRank(2, 2, -99.0).beats(r(1, 3, 10.0)));
        assert!(EvalRank(1, 3, -29.0).beats(r(1, 3, 30.0)));
        assert!(!EvalRank(1, 3, -30.0).beats(r(1, 3, 30.0)), "equal is not better");
        assert!(!EvalRank(1, 2, -1.0).beats(r(1, 3, 30.0)));
    }
}

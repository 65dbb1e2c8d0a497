//! DeepRacer's training logs in a run's output folder, laid out as a DeepRacer-for-Cloud model folder
//! so that deepracer-utils' `DeepRacerLog` recognises it as a local training
//! (`LogFolderType.DRFC_MODEL_SINGLE_WORKERS`) and `TrainingMetrics` loads its metrics:
//!
//! * `training-simtrace/N-iteration.csv`: the SIM_TRACE_LOG rows ([`slipstream_sim::trace`]) of the
//!   logged cars (cars `0..simtrace_cars`). `N` counts from 0 as DeepRacer's do: file `N` is
//!   `metrics.csv`'s iteration `N + 1`. An episode is written, whole (its prepare row first), to the
//!   iteration in which it ended, as in DeepRacer where an iteration is a set of whole episodes;
//!   episodes still running when training stops are not written. `episode` numbers them so that
//!   deepracer-utils' arithmetic holds: its `unique_episode` is `episode mod E + iteration × E`, with
//!   `E` one more than iteration 0's largest `episode` — DeepRacer's fixed number of episodes per
//!   iteration. Slipstream's iterations are a number of steps, so how many episodes end in one
//!   varies; with `E` = logged cars × `rollout_steps` (the most that can end in an iteration), the
//!   `n` episodes that ended in iteration `i` are numbered `i × E + E − n … i × E + E − 1` (in the
//!   order they ended): numbers increase over the run, iteration 0's last is `E − 1`, and every
//!   episode has a `unique_episode` of its own (so its time and distance are its own).
//! * `metrics/TrainingMetrics.json`: `{"metrics": [...], "version": 2.0, "best_model_metric":
//!   "progress"}`, one entry per logged episode with simapp's keys (`reward_score`,
//!   `completion_percentage`, `episode_status` labels, times in milliseconds of simulated time,
//!   `phase` "training", `trial` the episode's number within its iteration from 1). Rewards and
//!   progress are kept as floats (simapp rounds them to integers). deepracer-utils derives an
//!   episode's iteration as ⌊(episode − 1) / max(trial)⌋, which assumes every iteration has the same
//!   number of episodes (DeepRacer's `num_episodes_between_training`); Slipstream's iterations are
//!   a number of steps, so `episode` here is `iteration × K + trial` with `K` the most episodes any
//!   iteration had so far. Count episodes by entries, not by the largest `episode`. The file is
//!   rewritten whole (atomically) after every iteration, as simapp rewrites its file after every
//!   episode; with the default of one logged car it stays small.
//! * `ip/hyperparameters.json`: the hyperparameters under DeepRacer's names.
//! * `model/model_metadata.json`: the model's DeepRacer metadata (as beside the model files).
//! * `evaluation-YYYYMMDDHHMMSS/evaluation-simtrace/0-iteration.csv`: a race's trace
//!   (`trainer evaluate --deepracer-log RUN_DIR`), where `DeepRacerLog.load_evaluation_trace`
//!   finds a local evaluation: one episode per trial (per lap of a continuous race), as
//!   DeepRacer's evaluation simtrace numbers them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use slipstream_sim::trace::{HEADER, write_fields};
use slipstream_sim::{EpisodeStatus, StepBuffers};

use crate::config::TrainConfig;
use crate::error::TrainError;
use crate::model::Model;

/// Simapp's label of an episode status in `TrainingMetrics.json` (`EPISODE_STATUS_LABEL_MAP`).
pub fn status_label(s: EpisodeStatus) -> &'static str {
    match s {
        EpisodeStatus::LapComplete => "Lap complete",
        EpisodeStatus::Crashed => "Crashed",
        EpisodeStatus::OffTrack => "Off track",
        EpisodeStatus::Immobilized => "Immobilized",
        EpisodeStatus::InProgress => "In progress",
        EpisodeStatus::Pause => "Pause",
        EpisodeStatus::Reversed => "Reversed",
        EpisodeStatus::TimeUp => "Time Up",
        EpisodeStatus::Prepare => "Prepare",
        EpisodeStatus::Park => "Park",
    }
}

/// One entry of `TrainingMetrics.json`, as simapp's `TrainingMetrics.append_episode_metrics`
/// writes it (`episode` computed when written, see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsEntry {
    pub reward_score: f64,
    pub metric_time: i64,
    pub start_time: i64,
    pub elapsed_time_in_milliseconds: i64,
    pub episode: u64,
    pub trial: u64,
    pub phase: String,
    pub completion_percentage: f64,
    pub episode_status: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct MetricsFile {
    metrics: Vec<MetricsEntry>,
    #[serde(default)]
    version: Option<f64>,
    #[serde(default)]
    best_model_metric: Option<String>,
}

/// A logged episode: its iteration (0-based) and its entry.
#[derive(Clone, Debug, PartialEq)]
struct Logged {
    iteration: u64,
    entry: MetricsEntry,
}

/// The writer of a run's DeepRacer logs; the rollout feeds it every step of the logged cars.
#[derive(Debug)]
pub struct DeepRacerLogs {
    dir: PathBuf,
    cars: usize,
    /// Each logged car's episode so far: its rows without the episode number.
    rows: Vec<String>,
    returns: Vec<f64>,
    start_tstamp: Vec<f64>,
    /// The rows (without episode numbers) of each episode that ended this iteration, in order.
    ended: Vec<String>,
    /// `E` in the module docs: the most episodes of the logged cars that can end in an iteration.
    numbers_per_iteration: u64,
    /// Every logged episode of the run (resumed runs included).
    episodes: Vec<Logged>,
    /// Episodes that ended this iteration.
    this_iteration: u64,
    /// The most episodes an iteration had (K in the module docs).
    most_per_iteration: u64,
}

impl DeepRacerLogs {
    pub fn simtrace_dir(dir: &Path) -> PathBuf {
        dir.join("training-simtrace")
    }
    pub fn metrics_path(dir: &Path) -> PathBuf {
        dir.join("metrics").join("TrainingMetrics.json")
    }
    pub fn hyperparameters_path(dir: &Path) -> PathBuf {
        dir.join("ip").join("hyperparameters.json")
    }
    pub fn model_metadata_path(dir: &Path) -> PathBuf {
        dir.join("model").join("model_metadata.json")
    }

    /// Write `ip/hyperparameters.json` and `model/model_metadata.json` into `dir`, and prepare the
    /// logs of `cfg.simtrace_cars` cars (none: `None`). A resumed run continues the episodes of
    /// `metrics/TrainingMetrics.json`.
    pub fn create(dir: &Path, cfg: &TrainConfig, model: &Model) -> Result<Option<Self>, TrainError> {
        let hp = Self::hyperparameters_path(dir);
        mkdir(hp.parent().expect("a folder"))?;
        let text = serde_json::to_string_pretty(&hyperparameters(cfg)).expect("JSON values serialise");
        std::fs::write(&hp, text + "\n").map_err(|e| TrainError::file(&hp, format!("cannot write: {e}")))?;
        let meta = Self::model_metadata_path(dir);
        mkdir(meta.parent().expect("a folder"))?;
        model
            .model_metadata()
            .write(&meta)
            .map_err(|e| TrainError::file(&meta, e.to_string()))?;
        if cfg.simtrace_cars == 0 {
            return Ok(None);
        }
        mkdir(&Self::simtrace_dir(dir))?;
        mkdir(&dir.join("metrics"))?;
        Ok(Some(Self::new(dir, cfg.simtrace_cars, cfg.rollout_steps)?))
    }

    /// Logs of `cars` cars stepping `rollout_steps` times an iteration in `dir`, continuing the
    /// episodes of its `metrics/TrainingMetrics.json`.
    fn new(dir: &Path, cars: usize, rollout_steps: usize) -> Result<Self, TrainError> {
        let episodes = read_metrics(&Self::metrics_path(dir))?;
        let most = episodes.iter().map(|e| e.entry.trial).max().unwrap_or(0);
        Ok(DeepRacerLogs {
            dir: dir.to_path_buf(),
            cars,
            rows: vec![String::with_capacity(4096); cars],
            returns: vec![0.0; cars],
            start_tstamp: vec![0.0; cars],
            ended: Vec::new(),
            numbers_per_iteration: numbers_per_iteration(dir, cars, rollout_steps)?,
            episodes,
            this_iteration: 0,
            most_per_iteration: most,
        })
    }

    /// The logged cars: `0..cars()`.
    pub fn cars(&self) -> usize {
        self.cars
    }

    /// The logged cars' prepare rows after the environment's reset (`out` carries params).
    pub fn begin(&mut self, out: &StepBuffers) {
        for car in 0..self.cars {
            self.rows[car].clear();
            self.start(car, &out.info[car], &out.params[car]);
        }
    }

    fn start(&mut self, car: usize, info: &slipstream_sim::StepInfo, p: &slipstream_sim::RewardParams) {
        self.returns[car] = 0.0;
        self.start_tstamp[car] = info.tstamp;
        write_fields(&mut self.rows[car], info, p, 0.0, false);
    }

    /// The logged cars' rows of the step just taken (`rewards`: the reward function's values); an
    /// episode that ended is numbered into this iteration's simtrace and metrics, and the next
    /// one's prepare row begins.
    pub fn record_step(&mut self, out: &StepBuffers, rewards: &[f32]) {
        for car in 0..self.cars {
            let info = &out.info[car];
            let ended = out.ended(car);
            let r = rewards[car];
            self.returns[car] += f64::from(r);
            write_fields(&mut self.rows[car], info, &out.params[car], r, ended);
            if ended {
                self.finish(car, info);
                self.start(car, &out.reset_info[car], &out.reset_params[car]);
            }
        }
    }

    fn finish(&mut self, car: usize, info: &slipstream_sim::StepInfo) {
        self.ended.push(std::mem::take(&mut self.rows[car]));
        self.this_iteration += 1;
        let ms = |s: f64| (s * 1000.0).round() as i64;
        let (start, end) = (ms(self.start_tstamp[car]), ms(info.tstamp));
        self.episodes.push(Logged {
            iteration: u64::MAX, // set by end_iteration
            entry: MetricsEntry {
                reward_score: self.returns[car],
                metric_time: end,
                start_time: start,
                elapsed_time_in_milliseconds: end - start,
                episode: 0,
                trial: self.this_iteration,
                phase: "training".into(),
                completion_percentage: info.progress.clamp(0.0, 100.0),
                episode_status: status_label(info.status).into(),
            },
        });
    }

    /// Write iteration `iteration`'s (0-based) simtrace file and the metrics with its episodes.
    pub fn end_iteration(&mut self, iteration: u64) -> Result<(), TrainError> {
        let path = Self::simtrace_dir(&self.dir).join(format!("{iteration}-iteration.csv"));
        let mut text = String::with_capacity(HEADER.len() + 1 + self.ended.iter().map(String::len).sum::<usize>());
        text.push_str(HEADER);
        text.push('\n');
        let e = self.numbers_per_iteration;
        // At most one episode per car and step ends: at most E (a bug otherwise, caught in tests).
        debug_assert!(
            self.ended.len() as u64 <= e,
            "{} episodes ended, at most {e} can",
            self.ended.len()
        );
        let first = (iteration * e + e).saturating_sub(self.ended.len() as u64);
        for (k, rows) in self.ended.drain(..).enumerate() {
            let number = first + k as u64;
            for line in rows.lines() {
                let _ = writeln!(text, "{number},{line}");
            }
        }
        std::fs::write(&path, text).map_err(|e| TrainError::file(&path, format!("cannot write: {e}")))?;
        let n = self.this_iteration as usize;
        let total = self.episodes.len();
        for e in &mut self.episodes[total - n..] {
            e.iteration = iteration;
        }
        self.most_per_iteration = self.most_per_iteration.max(self.this_iteration);
        self.this_iteration = 0;
        self.write_metrics()
    }

    /// The metrics entries as written (episode numbers filled in).
    fn entries(&self) -> Vec<MetricsEntry> {
        let k = self.most_per_iteration;
        self.episodes
            .iter()
            .map(|e| MetricsEntry {
                episode: e.iteration * k + e.entry.trial,
                ..e.entry.clone()
            })
            .collect()
    }

    fn write_metrics(&self) -> Result<(), TrainError> {
        let file = MetricsFile {
            metrics: self.entries(),
            version: Some(2.0),
            best_model_metric: Some("progress".into()),
        };
        let text = serde_json::to_string(&file).expect("metrics serialise");
        crate::checkpoint::write_atomically(&Self::metrics_path(&self.dir), text.as_bytes())
    }
}

/// Where a race's trace goes for deepracer-utils in run folder `dir` (created): the evaluation
/// folder named by `stamp` (14 digits, `YYYYMMDDHHMMSS`, as DeepRacer names them).
pub fn evaluation_simtrace_path(dir: &Path, stamp: &str) -> Result<PathBuf, TrainError> {
    if stamp.len() != 14 || !stamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TrainError::option(
            "--deepracer-log",
            format!("evaluation stamp: expected 14 digits (YYYYMMDDHHMMSS), got {stamp:?}"),
        ));
    }
    let folder = dir.join(format!("evaluation-{stamp}")).join("evaluation-simtrace");
    mkdir(&folder)?;
    Ok(folder.join("0-iteration.csv"))
}

fn mkdir(dir: &Path) -> Result<(), TrainError> {
    std::fs::create_dir_all(dir).map_err(|e| TrainError::file(dir, format!("cannot create: {e}")))
}

/// The logged episodes of an earlier run in the same folder (none if there is no file).
fn read_metrics(path: &Path) -> Result<Vec<Logged>, TrainError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(TrainError::file(path, format!("cannot read: {e}"))),
    };
    let file: MetricsFile = serde_json::from_str(&text).map_err(|e| TrainError::file(path, format!("invalid: {e}")))?;
    let k = file.metrics.iter().map(|e| e.trial).max().unwrap_or(0);
    file.metrics
        .into_iter()
        .map(|entry| {
            if entry.trial == 0 || entry.trial > entry.episode || (entry.episode - entry.trial) % k != 0 {
                return Err(TrainError::file(
                    path,
                    format!(
                        "metrics: episode {} with trial {} is not iteration × {k} + trial",
                        entry.episode, entry.trial
                    ),
                ));
            }
            Ok(Logged {
                iteration: (entry.episode - entry.trial) / k,
                entry,
            })
        })
        .collect()
}

/// The hyperparameters under DeepRacer's names (`ip/hyperparameters.json`); settings Slipstream
/// leaves unset are left out.
pub fn hyperparameters(cfg: &TrainConfig) -> Value {
    let mut m = Map::new();
    m.insert("batch_size".into(), json!(cfg.batch_size));
    m.insert("beta_entropy".into(), json!(cfg.beta_entropy));
    m.insert("discount_factor".into(), json!(cfg.discount_factor));
    m.insert(
        "exploration_type".into(),
        json!(cfg.exploration_type.as_deref().unwrap_or("categorical")),
    );
    m.insert("loss_type".into(), serde_json::to_value(cfg.loss_type).expect("a name"));
    m.insert("lr".into(), json!(cfg.lr));
    if let Some(n) = cfg.num_episodes_between_training {
        m.insert("num_episodes_between_training".into(), json!(n));
    }
    m.insert("num_epochs".into(), json!(cfg.num_epochs));
    m.insert("stack_size".into(), json!(cfg.stack_size.unwrap_or(1)));
    if let Some(s) = cfg.term_cond_avg_score {
        m.insert("term_cond_avg_score".into(), json!(s));
    }
    if let Some(n) = cfg.term_cond_max_episodes {
        m.insert("term_cond_max_episodes".into(), json!(n));
    }
    Value::Object(m)
}

/// DeepRacer's hyperparameter names this trainer uses (its `hyperparameters.json`, the config's
/// TOML keys of the same names).
const HYPERPARAMETERS: [&str; 11] = [
    "batch_size",
    "beta_entropy",
    "discount_factor",
    "exploration_type",
    "loss_type",
    "lr",
    "num_episodes_between_training",
    "num_epochs",
    "stack_size",
    "term_cond_avg_score",
    "term_cond_max_episodes",
];

/// DeepRacer's hyperparameters that PPO here has no use for: epsilon-greedy exploration (DeepRacer
/// PPO explores by sampling its policy, as this one does) and SAC's temperature.
const UNUSED_HYPERPARAMETERS: [&str; 3] = ["e_greedy_value", "epsilon_steps", "sac_alpha"];

/// Set `cfg`'s hyperparameters from DeepRacer's `hyperparameters.json` (the console's or
/// DeepRacer-for-Cloud's, as [`hyperparameters`] writes it). Returns the keys it had no use for;
/// `Err` names a key it does not know or a value out of range.
pub fn apply_hyperparameters(cfg: &mut TrainConfig, text: &str) -> Result<Vec<String>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Object(given) = v else {
        return Err("expected a JSON object of hyperparameters".into());
    };
    let Value::Object(mut merged) = serde_json::to_value(&*cfg).expect("a config serialises") else {
        unreachable!("a config is a JSON object")
    };
    let mut unused = Vec::new();
    for (k, value) in given {
        if HYPERPARAMETERS.contains(&k.as_str()) {
            // Each value on its own first, so that a wrong type is reported with its key.
            let mut one = merged.clone();
            one.insert(k.clone(), value.clone());
            serde_json::from_value::<TrainConfig>(Value::Object(one)).map_err(|e| format!("{k}: {e}"))?;
            merged.insert(k, value);
        } else if UNUSED_HYPERPARAMETERS.contains(&k.as_str()) {
            unused.push(k);
        } else {
            return Err(format!(
                "{k}: not one of DeepRacer's hyperparameters ({})",
                HYPERPARAMETERS
                    .iter()
                    .chain(&UNUSED_HYPERPARAMETERS)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let new: TrainConfig = serde_json::from_value(Value::Object(merged)).map_err(|e| e.to_string())?;
    new.validate()?;
    *cfg = new;
    Ok(unused)
}

/// `E` of the module docs: one more than the largest episode of a resumed run's iteration 0 (what
/// deepracer-utils reads, whatever settings the run resumes with), else logged cars × steps per
/// iteration.
fn numbers_per_iteration(dir: &Path, cars: usize, rollout_steps: usize) -> Result<u64, TrainError> {
    let first = DeepRacerLogs::simtrace_dir(dir).join("0-iteration.csv");
    let text = match std::fs::read_to_string(&first) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((cars * rollout_steps.max(1)) as u64),
        Err(e) => return Err(TrainError::file(&first, format!("cannot read: {e}"))),
    };
    let mut largest = None;
    for (i, line) in text.lines().enumerate().skip(1) {
        let episode = line.split(',').next().unwrap_or_default();
        let n: u64 = episode.parse().map_err(|_| {
            TrainError::file(
                &first,
                format!("line {}: episode: expected a number, got {episode:?}", i + 1),
            )
        })?;
        largest = largest.max(Some(n));
    }
    Ok(largest.map_or((cars * rollout_steps.max(1)) as u64, |n| n + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipstream_sim::{RewardParams, StepInfo};

    /// The logs of `cars` cars stepping twice an iteration.
    fn logs(dir: &Path, cars: usize) -> DeepRacerLogs {
        DeepRacerLogs::new(dir, cars, 2).unwrap()
    }

    /// Buffers of `cars` cars where `ended` cars finish this step at `tstamp`.
    fn step(cars: usize, ended: &[usize], tstamp: f64) -> StepBuffers {
        let mut out = StepBuffers::new(cars, 1, true);
        for i in 0..cars {
            out.info[i] = StepInfo {
                steps: 2,
                tstamp,
                progress: 40.0,
                status: EpisodeStatus::InProgress,
                ..Default::default()
            };
            out.params[i] = RewardParams::default();
        }
        for &i in ended {
            out.done[i] = 1;
            out.info[i].status = EpisodeStatus::OffTrack;
            out.reset_info[i] = StepInfo {
                steps: 1,
                tstamp,
                status: EpisodeStatus::Prepare,
                ..Default::default()
            };
        }
        out
    }

    #[test]
    fn episodes_are_numbered_when_they_end_and_iterations_derive_from_the_metrics() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(DeepRacerLogs::simtrace_dir(dir.path())).unwrap();
        std::fs::create_dir_all(dir.path().join("metrics")).unwrap();
        let mut l = logs(dir.path(), 2);
        l.begin(&step(2, &[], 0.0));
        // Iteration 0: car 1 ends one episode. Iteration 1: both cars end one, car 0 twice.
        l.record_step(&step(2, &[1], 0.5), &[1.0, 2.0]);
        l.end_iteration(0).unwrap();
        l.record_step(&step(2, &[0, 1], 1.0), &[0.5, 0.25]);
        l.record_step(&step(2, &[0], 1.5), &[3.0, 0.0]);
        l.end_iteration(1).unwrap();

        let csv0 = std::fs::read_to_string(dir.path().join("training-simtrace/0-iteration.csv")).unwrap();
        let lines: Vec<&str> = csv0.lines().collect();
        assert_eq!(lines[0], HEADER);
        assert_eq!(lines.len(), 3, "{csv0}");
        // episode, steps, …, reward (8), done (9): car 1's first row, then its step.
        let fields = |l: &str| l.split(',').map(str::to_string).collect::<Vec<_>>();
        let (first, last) = (fields(lines[1]), fields(lines[2]));
        // E = 2 cars × 2 steps: iteration 0's one episode is number E − 1.
        assert_eq!(
            [&first[0], &first[1], &first[8], &first[9]],
            ["3", "2.0", "0.0", "False"],
            "{csv0}"
        );
        assert_eq!([&last[0], &last[8], &last[9]], ["3", "2.0", "True"], "{csv0}");
        assert_eq!(first.len(), HEADER.split(',').count());
        let csv1 = std::fs::read_to_string(dir.path().join("training-simtrace/1-iteration.csv")).unwrap();
        let eps: Vec<&str> = csv1.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
        // Car 0's first episode (prepare, two steps) ends first, then car 1's, then car 0's second:
        // iteration 1's three episodes are 1 × E + E − 3 … 1 × E + E − 1.
        assert_eq!(eps, ["5", "5", "5", "6", "6", "7", "7"], "{csv1}");
        // deepracer-utils' unique_episode (episode mod E + iteration × E, E one more than iteration
        // 0's largest) is every episode's own.
        let unique = |it: u64, ep: u64| ep % 4 + it * 4;
        assert_eq!([unique(0, 3), unique(1, 5), unique(1, 6), unique(1, 7)], [3, 5, 6, 7]);

        let m: Value =
            serde_json::from_str(&std::fs::read_to_string(DeepRacerLogs::metrics_path(dir.path())).unwrap()).unwrap();
        let rows = m["metrics"].as_array().unwrap();
        // K = 3 episodes (iteration 1): episode = iteration × 3 + trial.
        let ep_trial: Vec<(u64, u64)> = rows
            .iter()
            .map(|r| (r["episode"].as_u64().unwrap(), r["trial"].as_u64().unwrap()))
            .collect();
        assert_eq!(ep_trial, [(1, 1), (4, 1), (5, 2), (6, 3)]);
        for (e, t) in &ep_trial {
            let iteration = (e - 1) / 3;
            assert_eq!(iteration, u64::from(*e > 3), "episode {e} trial {t}");
        }
        assert_eq!(rows[0]["reward_score"], 2.0);
        assert_eq!(rows[1]["reward_score"], 1.5, "car 0's return over its two steps");
        assert_eq!(rows[1]["episode_status"], "Off track");
        assert_eq!(rows[1]["elapsed_time_in_milliseconds"], 1000);
        assert_eq!(rows[0]["phase"], "training");
        assert_eq!(m["version"], 2.0);

        // A resumed run reads the episodes back and numbers on, with iteration 0's E whatever its
        // own settings (one car here).
        let mut again = logs(dir.path(), 1);
        assert_eq!(again.numbers_per_iteration, 4);
        assert_eq!(again.episodes.len(), 4);
        assert_eq!((again.episodes[3].iteration, again.most_per_iteration), (1, 3));
        again.begin(&step(1, &[], 0.0));
        again.record_step(&step(1, &[0], 0.5), &[1.0]);
        again.end_iteration(2).unwrap();
        let csv2 = std::fs::read_to_string(dir.path().join("training-simtrace/2-iteration.csv")).unwrap();
        assert!(csv2.lines().skip(1).all(|l| l.starts_with("11,")), "{csv2}");
        let m: Value =
            serde_json::from_str(&std::fs::read_to_string(DeepRacerLogs::metrics_path(dir.path())).unwrap()).unwrap();
        assert_eq!(m["metrics"][4]["episode"], 7);
    }

    /// A DeepRacer-for-Cloud `hyperparameters.json` as it comes: what this trainer uses is set,
    /// what it has no use for is named, what is unknown or out of range is refused by key.
    #[test]
    fn deepracers_hyperparameters_json_sets_the_config() {
        let text = r#"{"batch_size": 64, "beta_entropy": 0.01, "discount_factor": 0.999, "e_greedy_value": 0.05,
            "epsilon_steps": 10000, "exploration_type": "categorical", "loss_type": "huber", "lr": 0.0003,
            "num_episodes_between_training": 20, "num_epochs": 10, "stack_size": 1, "term_cond_avg_score": 350.0,
            "term_cond_max_episodes": 1000, "sac_alpha": 0.2}"#;
        let mut cfg = TrainConfig::default();
        let unused = apply_hyperparameters(&mut cfg, text).unwrap();
        assert_eq!(unused, ["e_greedy_value", "epsilon_steps", "sac_alpha"]);
        assert_eq!((cfg.batch_size, cfg.num_epochs, cfg.lr), (64, 10, 0.0003));
        assert_eq!((cfg.beta_entropy, cfg.discount_factor), (0.01, 0.999));
        assert_eq!(cfg.loss_type, crate::config::LossType::Huber);
        assert_eq!(cfg.num_episodes_between_training, Some(20));
        // Written back as DeepRacer writes them.
        let back = hyperparameters(&cfg);
        assert_eq!(
            (back["batch_size"].clone(), back["loss_type"].clone()),
            (json!(64), json!("huber"))
        );
        let e = apply_hyperparameters(&mut cfg, r#"{"learning_rate": 0.1}"#).unwrap_err();
        assert!(
            e.starts_with("learning_rate: not one of DeepRacer's hyperparameters"),
            "{e}"
        );
        let e = apply_hyperparameters(&mut cfg, r#"{"batch_size": "large"}"#).unwrap_err();
        assert!(e.starts_with("batch_size: invalid type"), "{e}");
        let e = apply_hyperparameters(&mut cfg, r#"{"discount_factor": 2.0}"#).unwrap_err();
        assert!(e.contains("discount_factor"), "{e}");
        assert_eq!(cfg.discount_factor, 0.999, "a refused file changes nothing");
    }

    #[test]
    fn hyperparameters_use_deepracers_names() {
        let cfg = TrainConfig {
            num_episodes_between_training: Some(20),
            ..Default::default()
        };
        let h = hyperparameters(&cfg);
        assert_eq!(h["num_episodes_between_training"], 20);
        assert_eq!(h["loss_type"], "mean squared error");
        assert_eq!(h["exploration_type"], "categorical");
        assert_eq!(h["stack_size"], 1);
        assert!(h.get("term_cond_max_episodes").is_none());
        assert_eq!(status_label(EpisodeStatus::LapComplete), "Lap complete");
    }
}

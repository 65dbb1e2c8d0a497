//! The training loop, in the named steps of CleanRL's `ppo.py`:
//!
//! ```text
//! set up: tracks, reward, model (new, cloned or resumed), optimizer, environment, metrics log
//! until the budget is used:
//!     1. anneal the learning rate                          learning_rate
//!     2. collect a rollout with the stochastic policy      Collector::collect_rollout  (rollout.rs)
//!     3. advantages and returns by GAE                     Rollout::advantages         (rollout.rs)
//!     4. the clipped-surrogate PPO update                  ppo::update                 (ppo.rs)
//!     5. race the deterministic policy every eval_every    evaluate_progress
//!     6. save the checkpoint (and model_best)              checkpoint::save            (checkpoint.rs)
//!     7. record a row of metrics                           MetricsLog::record          (metrics.rs)
//!        and DeepRacer's training logs                     DeepRacerLogs::end_iteration (deepracer_logs.rs)
//!     8. stop on DeepRacer's termination conditions
//! ```
//!
//! Every `eval_every` iterations (and at the last) the deterministic policy races 3 laps on the
//! first training track; the best racer so far is kept as `model_best.safetensors` (most
//! consecutive clean laps, then most completed laps, then fastest).

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;
use slipstream_sim::rng::Rng;
use slipstream_sim::{Mode, TrackSchedule, VecEnv};

use crate::checkpoint::{self, OutputFiles, RunState};
use crate::config::TrainConfig;
use crate::deepracer_logs::DeepRacerLogs;
use crate::device::{DeviceChoice, device_name};
use crate::error::TrainError;
use crate::evaluate::EvalReport;
use crate::metrics::{IterationMetrics, MetricsLog, mean};
use crate::model::Model;
use crate::optim::{Adam, AdamConfig};
use crate::policy::ActionDecoder;
use crate::ppo::{self, UpdateStats};
use crate::reward::RewardSource;
use crate::rollout::{Collector, Rollout, RolloutStats};
use crate::tracks::TrackSet;

/// How long to train.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Budget {
    /// Environment steps (car-steps).
    Steps(u64),
    /// Wall-clock minutes.
    Minutes(f64),
}

impl Budget {
    fn validate(self) -> Result<(), TrainError> {
        match self {
            Budget::Steps(0) => Err(TrainError::option("--steps", "expected at least 1 step")),
            Budget::Minutes(m) if !(m.is_finite() && m > 0.0) => Err(TrainError::option(
                "--minutes",
                format!("expected a positive number, got {m}"),
            )),
            _ => Ok(()),
        }
    }

    /// The fraction of the budget used after `run_steps` steps and `elapsed_s` seconds of this run.
    pub fn used(self, run_steps: u64, elapsed_s: f64) -> f64 {
        match self {
            Budget::Steps(s) => run_steps as f64 / s as f64,
            Budget::Minutes(m) => elapsed_s / (60.0 * m),
        }
    }
}

/// The learning rate of an iteration that starts with `used` of the budget spent (see
/// `TrainConfig::anneal_lr`).
pub fn learning_rate(cfg: &TrainConfig, used: f64) -> f64 {
    if cfg.anneal_lr {
        cfg.lr * (1.0 - used).max(0.02)
    } else {
        cfg.lr
    }
}

/// Everything `trainer train` passes in.
#[derive(Clone, Debug)]
pub struct TrainOptions {
    pub config: TrainConfig,
    /// Built-in names or track files.
    pub tracks: Vec<String>,
    /// A reward preset name or a `.py` file.
    pub reward: String,
    pub budget: Budget,
    pub seed: u64,
    pub device: DeviceChoice,
    pub out_dir: PathBuf,
    /// Start from this model's weights ("clone" in DeepRacer).
    pub init_from: Option<PathBuf>,
    /// Continue the run in `out_dir`.
    pub resume: bool,
    /// Show a Python reward function's `print()`s on standard error as well as in the run's
    /// `reward-prints.log`.
    pub show_reward_prints: bool,
}

/// What a finished run reports.
#[derive(Clone, Debug, Serialize)]
pub struct TrainSummary {
    pub out_dir: PathBuf,
    pub model_last: PathBuf,
    pub model_best: Option<PathBuf>,
    pub iterations: u64,
    pub env_steps: u64,
    pub episodes: u64,
    pub wall_s: f64,
    pub device: String,
    pub best_eval: Option<EvalReport>,
    /// Wall-clock seconds until an evaluation first drove 3 consecutive clean laps.
    pub first_three_clean_laps_s: Option<f64>,
    pub stopped_because: String,
}

/// Seeds of an iteration's random streams (with [`RunState::iteration_seed`]).
const TORCH_STREAM: u64 = 1;
const SHUFFLE_STREAM: u64 = 2;

/// Train a model. `on_iteration` sees every iteration's metrics (for progress display).
pub fn train(opts: TrainOptions, on_iteration: &mut dyn FnMut(&IterationMetrics)) -> Result<TrainSummary, TrainError> {
    let cfg = &opts.config;
    cfg.validate().map_err(|m| TrainError::option("--config", m))?;
    opts.budget.validate()?;
    let files = OutputFiles {
        dir: opts.out_dir.clone(),
    };
    // A resumed run continues on its own tracks unless others are given.
    let saved = if opts.resume {
        Some(checkpoint::load_state(&files)?)
    } else {
        None
    };
    let specs = match &saved {
        Some(s) if opts.tracks.is_empty() => s.track_specs.clone(),
        _ => opts.tracks.clone(),
    };
    let set = TrackSet::build(&specs, &cfg.generated, cfg.both_directions)?;
    let reward = RewardSource::parse(&opts.reward, &set.tracks)?;
    let device = opts.device.resolve()?;
    files.prepare(opts.resume)?;
    reward.log_prints(Some(&files.reward_prints()), opts.show_reward_prints)?;

    // The model (resumed, cloned or new) and its optimizer.
    let mut state = RunState::new(opts.seed, set.names.clone(), reward.name());
    state.track_specs = specs;
    tch::manual_seed(opts.seed as i64);
    let mut model = if let Some(saved) = saved {
        state = RunState {
            track_specs: state.track_specs,
            ..saved
        };
        Model::load(&files.last(), device)?
    } else if let Some(init) = &opts.init_from {
        let mut m = Model::load(init, device)?;
        m.info.cloned_from = Some(init.display().to_string());
        m
    } else {
        Model::new(cfg.model_spec(), cfg.init_log_std, cfg.normalize_observations, device)
    };
    let mut opt = Adam::new(&model.policy.vs, cfg.lr, AdamConfig::default());
    if opts.resume {
        match checkpoint::load_optimizer(&files)? {
            Some(saved) => opt
                .restore(saved)
                .map_err(|m| TrainError::file(&files.optimizer(), m))?,
            None => tracing::warn!("{}: no optimizer state saved; Adam restarts", files.dir.display()),
        }
    }
    check_track_widths(&set, &model)?;
    model.info.tracks = set.names.clone();
    model.info.seed = opts.seed;
    model.info.reward = reward.name();
    model.info.hyperparameters = serde_json::to_value(cfg).unwrap_or_default();

    // The environment: the model's world on every training track.
    let mut env_cfg = model.spec.env_config(&set.tracks, Mode::Train(cfg.episode.clone()));
    env_cfg.track_schedule = TrackSchedule::RoundRobin;
    env_cfg.scenario = cfg.scenario.clone();
    env_cfg.reward = reward.in_sim();
    env_cfg.threads = sim_threads(cfg);
    let env = VecEnv::new(env_cfg, cfg.num_cars)?;
    let decoder = ActionDecoder::new(model.spec.action_space());
    let logs = DeepRacerLogs::create(&files.dir, cfg, &model)?;
    let mut collector = Collector::new(env, reward, decoder, opts.seed.wrapping_add(state.iteration), logs)?;
    let mut rollout = Rollout::new(
        cfg.num_cars,
        model.spec.obs_dim(),
        model.policy.is_discrete(),
        model.spec.image_shape(),
        device,
    );
    let mut metrics = MetricsLog::open(&files.dir)?;

    let started = Instant::now();
    let run = RunStart {
        wall_s: state.wall_s,
        env_steps: state.env_steps,
    };
    let elapsed = || started.elapsed().as_secs_f64();
    let eval_track = (set.tracks[0].clone(), set.names[0].clone());
    let mut best_eval = None;
    let stopped_because = loop {
        // 1. Anneal the learning rate.
        let used = opts.budget.used(state.env_steps - run.env_steps, elapsed());
        if used >= 1.0 {
            break "budget reached".to_string();
        }
        let lr = learning_rate(cfg, used);
        opt.set_lr(lr);
        tch::manual_seed(state.iteration_seed(TORCH_STREAM) as i64);

        // 2. Rollout. 3. Advantages.
        let t_iter = Instant::now();
        let min_episodes = cfg.num_episodes_between_training.unwrap_or(0) as u64;
        let seen = collector.collect_rollout(
            &mut model,
            &mut rollout,
            cfg.rollout_steps,
            min_episodes,
            cfg.discount_factor,
        )?;
        let (advantages, returns) = rollout.advantages(cfg.discount_factor, cfg.gae_lambda);

        // 4. PPO update.
        let batch = rollout.batch(&advantages, &returns, device);
        let mut shuffle = Rng::new(state.iteration_seed(SHUFFLE_STREAM));
        let update = ppo::update(&model.policy, &mut opt, &batch, cfg, &mut shuffle);
        state.iteration += 1;
        state.env_steps += seen.steps;
        state.episodes += seen.episodes_ended;
        state.wall_s = run.wall_s + elapsed();
        model.info.steps = state.env_steps;
        model.info.episodes = state.episodes;
        let mut row = iteration_metrics(&state, &run, &seen, &update, lr, t_iter.elapsed().as_secs_f64());

        // 5. Evaluation. 6. Checkpoint.
        let last_iteration = opts
            .budget
            .used(state.env_steps - run.env_steps + seen.steps, elapsed())
            > 1.0;
        if cfg.eval_every > 0 && (state.iteration.is_multiple_of(cfg.eval_every as u64) || last_iteration) {
            let (report, is_best) =
                checkpoint::race_and_keep_best(&model, &eval_track, opts.seed, &mut state.best, &files.best())?;
            row.eval_completed_laps = Some(report.completed_laps);
            row.eval_clean_laps = Some(report.consecutive_clean);
            row.eval_best_lap_s = report.best_lap_s;
            row.eval_total_s = Some(report.total_time_s);
            if report.consecutive_clean >= 3 && state.first_three_clean_laps_s.is_none() {
                state.first_three_clean_laps_s = Some(run.wall_s + elapsed());
            }
            if is_best {
                row.best_so_far = true;
                best_eval = Some(report);
            }
        }
        checkpoint::save(&files, &model, &opt, &state)?;

        // 7. Metrics (ours, and DeepRacer's training logs; DeepRacer counts iterations from 0).
        metrics.record(&row)?;
        if let Some(logs) = &mut collector.deepracer_logs {
            logs.end_iteration(state.iteration - 1)?;
        }
        on_iteration(&row);

        // 8. DeepRacer's termination conditions.
        if let Some(max) = cfg.term_cond_max_episodes
            && state.episodes >= max
        {
            break format!("term_cond_max_episodes ({max}) reached");
        }
        if let (Some(score), Some(mean_return)) = (cfg.term_cond_avg_score, row.mean_return)
            && mean_return >= score
        {
            break format!("term_cond_avg_score ({score}) reached");
        }
    };
    Ok(TrainSummary {
        out_dir: opts.out_dir.clone(),
        model_last: files.last(),
        model_best: files.best().exists().then(|| files.best()),
        iterations: state.iteration,
        env_steps: state.env_steps,
        episodes: state.episodes,
        wall_s: state.wall_s,
        device: device_name(device),
        best_eval,
        first_three_clean_laps_s: state.first_three_clean_laps_s,
        stopped_because,
    })
}

/// Where this run (as opposed to a resumed run's earlier ones) started.
struct RunStart {
    wall_s: f64,
    env_steps: u64,
}

fn iteration_metrics(
    state: &RunState,
    run: &RunStart,
    seen: &RolloutStats,
    update: &UpdateStats,
    lr: f64,
    iteration_s: f64,
) -> IterationMetrics {
    let ended = seen.episodes_ended;
    IterationMetrics {
        iteration: state.iteration,
        env_steps: state.env_steps,
        run_steps: state.env_steps - run.env_steps,
        episodes: state.episodes,
        wall_s: state.wall_s,
        steps_per_s: seen.steps as f64 / iteration_s,
        mean_reward: seen.reward_sum / seen.steps.max(1) as f64,
        episodes_ended: ended,
        mean_return: mean(seen.return_sum, ended),
        mean_progress: mean(seen.progress_sum, ended),
        lap_completion_rate: mean(seen.laps as f64, ended),
        mean_episode_steps: mean(seen.length_sum, ended),
        policy_loss: update.policy_loss,
        value_loss: update.value_loss,
        entropy: update.entropy,
        approx_kl: update.approx_kl,
        clip_fraction: update.clip_fraction,
        explained_variance: Some(update.explained_variance).filter(|v| v.is_finite()),
        lr,
        ..Default::default()
    }
}

fn sim_threads(cfg: &TrainConfig) -> usize {
    if cfg.sim_threads == 0 {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(cfg.num_cars)
    } else {
        cfg.sim_threads
    }
}

fn check_track_widths(set: &TrackSet, model: &Model) -> Result<(), TrainError> {
    for (track, name) in set.tracks.iter().zip(&set.names) {
        if track.width_min() < model.spec.car.width {
            return Err(TrainError::option(
                "--track",
                format!("{name} is narrower ({:.3} m) than the car", track.width_min()),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_learning_rate_falls_linearly_to_a_floor() {
        let cfg = TrainConfig {
            lr: 1e-3,
            ..Default::default()
        };
        assert_eq!(learning_rate(&cfg, 0.0), 1e-3);
        assert!((learning_rate(&cfg, 0.25) - 0.75e-3).abs() < 1e-12);
        assert!((learning_rate(&cfg, 0.99) - 0.02e-3).abs() < 1e-12, "floored at 2 %");
        let flat = TrainConfig {
            anneal_lr: false,
            ..cfg
        };
        assert_eq!(learning_rate(&flat, 0.9), 1e-3);
        assert_eq!(Budget::Steps(1000).used(250, 99.0), 0.25);
        assert_eq!(Budget::Minutes(2.0).used(1_000_000, 30.0), 0.25);
    }
}

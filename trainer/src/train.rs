//! The training loop: rollouts from the vectorized simulator, PPO updates, metrics, evaluation and
//! checkpoints.
//!
//! Each iteration: every car takes `rollout_steps` steps with the stochastic policy (observations
//! normalised by running statistics, rewards from a preset inside the simulator or from a Python
//! reward function over DeepRacer's params); advantages by GAE; `num_epochs` of minibatch PPO
//! updates (`crate::ppo`); one row of metrics (CSV and JSON lines); `model_last.safetensors`. Every
//! `eval_every` iterations the deterministic policy races 3 laps on the first training track, and
//! the best racer so far is kept as `model_best.safetensors` (most consecutive clean laps, then
//! most completed laps, then fastest).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use slipstream_sim::rng::Rng;
use slipstream_sim::{Action, ActionSpace, EnvConfig, EpisodeStatus, Mode, TrackSchedule, VecEnv};
use tch::{Device, Kind, Tensor, nn, nn::OptimizerConfig};

use crate::config::TrainConfig;
use crate::device::{DeviceChoice, device_name};
use crate::error::TrainError;
use crate::evaluate::{EvalOptions, EvalReport, evaluate};
use crate::model::{Model, ModelSpec, OutputFiles, scale_continuous};
use crate::ppo::{self, Batch};
use crate::reward::RewardSource;
use crate::tracks::TrackSet;

/// How long to train.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Budget {
    /// Environment steps (car-steps).
    Steps(u64),
    /// Wall-clock minutes.
    Minutes(f64),
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
}

/// One iteration's metrics (a row of `metrics.csv` / `metrics.jsonl`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct IterationMetrics {
    pub iteration: u64,
    pub env_steps: u64,
    /// Environment steps of this run (excluding a resumed run's earlier steps).
    pub run_steps: u64,
    pub episodes: u64,
    pub wall_s: f64,
    pub steps_per_s: f64,
    pub mean_reward: f64,
    /// Over episodes that ended this iteration.
    pub episodes_ended: u64,
    pub mean_return: f64,
    pub mean_progress: f64,
    pub lap_completion_rate: f64,
    pub mean_episode_steps: f64,
    pub policy_loss: f64,
    pub value_loss: f64,
    pub entropy: f64,
    pub approx_kl: f64,
    pub clip_fraction: f64,
    pub explained_variance: f64,
    pub lr: f64,
    /// Deterministic 3-lap evaluation on the first track (when run this iteration).
    pub eval_completed_laps: Option<usize>,
    pub eval_clean_laps: Option<usize>,
    pub eval_best_lap_s: Option<f64>,
    pub eval_total_s: Option<f64>,
}

const CSV_COLUMNS: [&str; 23] = [
    "iteration",
    "env_steps",
    "episodes",
    "wall_s",
    "steps_per_s",
    "mean_reward",
    "episodes_ended",
    "mean_return",
    "mean_progress",
    "lap_completion_rate",
    "mean_episode_steps",
    "policy_loss",
    "value_loss",
    "entropy",
    "approx_kl",
    "clip_fraction",
    "explained_variance",
    "lr",
    "eval_completed_laps",
    "eval_clean_laps",
    "eval_best_lap_s",
    "eval_total_s",
    "best_so_far",
];

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

/// Saved between runs for `--resume`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct RunState {
    iteration: u64,
    env_steps: u64,
    episodes: u64,
    wall_s: f64,
    seed: u64,
    tracks: Vec<String>,
    reward: String,
    best_key: Option<(usize, usize, f64)>,
    first_three_clean_laps_s: Option<f64>,
}

/// An evaluation's rank: more consecutive clean laps, then more completed laps, then less time.
fn eval_key(r: &EvalReport) -> (usize, usize, f64) {
    (r.consecutive_clean, r.completed_laps, -r.total_time_s)
}

fn better(a: (usize, usize, f64), b: Option<(usize, usize, f64)>) -> bool {
    match b {
        None => true,
        Some(b) => a.0 > b.0 || (a.0 == b.0 && (a.1 > b.1 || (a.1 == b.1 && a.2 > b.2))),
    }
}

/// Rollout storage for `steps × cars`.
struct Rollout {
    obs: Vec<f32>,
    actions_d: Vec<i64>,
    actions_c: Vec<f32>,
    log_probs: Vec<f32>,
    values: Vec<f32>,
    rewards: Vec<f32>,
    dones: Vec<u8>,
}

impl Rollout {
    fn new(steps: usize, cars: usize, obs_dim: usize, discrete: bool) -> Self {
        let n = steps * cars;
        Rollout {
            obs: vec![0.0; n * obs_dim],
            actions_d: if discrete { vec![0; n] } else { vec![] },
            actions_c: if discrete { vec![] } else { vec![0.0; 2 * n] },
            log_probs: vec![0.0; n],
            values: vec![0.0; n],
            rewards: vec![0.0; n],
            dones: vec![0; n],
        }
    }
}

fn spec_from(cfg: &TrainConfig) -> ModelSpec {
    ModelSpec {
        sensor: cfg.sensor.clone(),
        action_space: cfg.action_space.clone(),
        network: cfg.network.clone(),
        car: cfg.car.clone(),
        agent_dt: 1.0 / 15.0,
        physics_substeps: cfg.physics_substeps,
    }
}

fn to_f32s(t: &Tensor, out: &mut [f32]) {
    let n = out.len();
    t.to_device(Device::Cpu).to_kind(Kind::Float).copy_data(out, n);
}

/// Train a model. `on_iteration` sees every iteration's metrics (for progress display).
pub fn train(opts: TrainOptions, on_iteration: &mut dyn FnMut(&IterationMetrics)) -> Result<TrainSummary, TrainError> {
    let cfg = &opts.config;
    cfg.validate().map_err(|m| TrainError::option("--config", m))?;
    match opts.budget {
        Budget::Steps(0) => return Err(TrainError::option("--steps", "expected at least 1 step")),
        Budget::Minutes(m) if !(m.is_finite() && m > 0.0) => {
            return Err(TrainError::option(
                "--minutes",
                format!("expected a positive number, got {m}"),
            ));
        }
        _ => {}
    }
    let files = OutputFiles {
        dir: opts.out_dir.clone(),
    };
    let set = TrackSet::build(&opts.tracks, &cfg.generated, cfg.both_directions)?;
    let reward = RewardSource::parse(&opts.reward, &set.tracks)?;
    let device = opts.device.resolve()?;
    prepare_out_dir(&opts.out_dir, opts.resume)?;
    tch::manual_seed(opts.seed as i64);

    // The model: resumed, cloned, or new.
    let mut state = RunState {
        iteration: 0,
        env_steps: 0,
        episodes: 0,
        wall_s: 0.0,
        seed: opts.seed,
        tracks: set.names.clone(),
        reward: reward.name(),
        best_key: None,
        first_three_clean_laps_s: None,
    };
    let mut model = if opts.resume {
        let text = std::fs::read_to_string(files.state())
            .map_err(|e| TrainError::file(&files.state(), format!("cannot read (nothing to resume?): {e}")))?;
        state = serde_json::from_str(&text).map_err(|e| TrainError::file(&files.state(), format!("invalid: {e}")))?;
        Model::load(&files.last(), device)?
    } else if let Some(init) = &opts.init_from {
        let mut m = Model::load(init, device)?;
        m.info.cloned_from = Some(init.display().to_string());
        m
    } else {
        Model::new(spec_from(cfg), cfg.init_log_std, cfg.normalize_observations, device)
    };
    let spec = model.spec.clone();
    for (i, t) in set.tracks.iter().enumerate() {
        if t.width_min() < spec.car.width {
            return Err(TrainError::option(
                "--track",
                format!("{} is narrower ({:.3} m) than the car", set.names[i], t.width_min()),
            ));
        }
    }
    let action_space: ActionSpace = spec.action_space();
    let discrete = action_space.is_discrete();
    model.info.tracks = set.names.clone();
    model.info.seed = opts.seed;
    model.info.reward = reward.name();
    model.info.hyperparameters = serde_json::to_value(cfg).unwrap_or_default();

    // The environment.
    let cars = cfg.num_cars;
    let threads = if cfg.sim_threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get()).min(cars)
    } else {
        cfg.sim_threads
    };
    let mut env_cfg = EnvConfig::new((*set.tracks[0]).clone());
    env_cfg.tracks = set.tracks.clone();
    env_cfg.track_schedule = TrackSchedule::RoundRobin;
    env_cfg.car = spec.car.clone();
    env_cfg.action_space = action_space.clone();
    env_cfg.obs = spec.sensor.clone();
    env_cfg.mode = Mode::Train(cfg.episode.clone());
    env_cfg.scenario = cfg.scenario.clone();
    env_cfg.reward = reward.in_sim();
    env_cfg.agent_dt = spec.agent_dt;
    env_cfg.physics_substeps = spec.physics_substeps;
    env_cfg.threads = threads;
    let mut env = VecEnv::new(env_cfg, cars)?;
    let python = matches!(reward, RewardSource::Python(_));
    let mut out = env.buffers(python);
    env.reset(opts.seed.wrapping_add(state.iteration), &mut out)?;

    let mut opt = nn::Adam {
        eps: 1e-5,
        ..Default::default()
    }
    .build(&model.policy.vs, cfg.lr)?;
    let d = spec.obs_dim();
    let steps = cfg.rollout_steps;
    let mut ro = Rollout::new(steps, cars, d, discrete);
    let mut rng = Rng::new(opts.seed ^ 0x5eed_0f99);
    let mut actions = vec![Action::Discrete(0); cars];
    let mut step_rewards = vec![0.0f32; cars];
    let mut ep_return = vec![0.0f64; cars];
    let mut raw_act = vec![0.0f32; 2 * cars];
    let mut idx_act = vec![0i64; cars];
    let mut tmp_f = vec![0.0f32; cars];
    let mut norm_obs = vec![0.0f32; cars * d];
    let gamma = cfg.discount_factor;

    let metrics_csv = files.metrics_csv();
    let new_csv = !(opts.resume && metrics_csv.exists());
    let mut csv = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&metrics_csv)
        .map_err(|e| TrainError::file(&metrics_csv, e.to_string()))?;
    if new_csv {
        writeln!(csv, "{}", CSV_COLUMNS.join(",")).map_err(|e| TrainError::file(&metrics_csv, e.to_string()))?;
    }
    let jsonl_path = files.metrics_jsonl();
    let mut jsonl = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&jsonl_path)
        .map_err(|e| TrainError::file(&jsonl_path, e.to_string()))?;

    let start = Instant::now();
    let wall0 = state.wall_s;
    let steps0 = state.env_steps;
    let per_iter = (steps * cars) as u64;
    let stop_reason: String;
    let mut best_eval: Option<EvalReport> = None;
    let eval_track = set.tracks[0].clone();
    let eval_name = set.names[0].clone();
    loop {
        let elapsed = start.elapsed().as_secs_f64();
        let done_frac = match opts.budget {
            Budget::Steps(s) => (state.env_steps - steps0) as f64 / s as f64,
            Budget::Minutes(m) => elapsed / (60.0 * m),
        };
        if done_frac >= 1.0 {
            stop_reason = "budget reached".into();
            break;
        }
        let lr = if cfg.anneal_lr {
            cfg.lr * (1.0 - done_frac).max(0.02)
        } else {
            cfg.lr
        };
        opt.set_lr(lr);

        // ---- Rollout ----
        let t_iter = Instant::now();
        let (mut ended, mut ret_sum, mut prog_sum, mut laps, mut len_sum, mut reward_sum) =
            (0u64, 0.0, 0.0, 0u64, 0.0, 0.0);
        let mut step_count = 0usize;
        loop {
            let t = step_count;
            if t >= steps {
                let min_eps = cfg.num_episodes_between_training.unwrap_or(0) as u64;
                if ended >= min_eps || t >= 4 * steps {
                    break;
                }
                // DeepRacer-style: keep collecting until enough episodes finished (buffers grow).
                ro.obs.extend(std::iter::repeat_n(0.0, cars * d));
                ro.actions_d
                    .extend(std::iter::repeat_n(0, if discrete { cars } else { 0 }));
                ro.actions_c
                    .extend(std::iter::repeat_n(0.0, if discrete { 0 } else { 2 * cars }));
                for v in [&mut ro.log_probs, &mut ro.values, &mut ro.rewards] {
                    v.extend(std::iter::repeat_n(0.0, cars));
                }
                ro.dones.extend(std::iter::repeat_n(0, cars));
            }
            // Observations: update the running statistics, store the normalised copy.
            let row = &mut ro.obs[t * cars * d..(t + 1) * cars * d];
            row.copy_from_slice(&out.obs);
            if let Some(norm) = &mut model.obs_norm {
                norm.update(&out.obs);
                norm.normalize(row);
            }
            let obs_t = Tensor::from_slice(row).view([cars as i64, d as i64]).to_device(device);
            let act = tch::no_grad(|| model.policy.act(&obs_t, false));
            to_f32s(&act.log_prob, &mut ro.log_probs[t * cars..(t + 1) * cars]);
            to_f32s(&act.value, &mut ro.values[t * cars..(t + 1) * cars]);
            if discrete {
                act.action.to_device(Device::Cpu).copy_data(&mut idx_act, cars);
                ro.actions_d[t * cars..(t + 1) * cars].copy_from_slice(&idx_act);
                for (a, i) in actions.iter_mut().zip(&idx_act) {
                    *a = Action::Discrete(*i as u32);
                }
            } else {
                act.action
                    .to_device(Device::Cpu)
                    .to_kind(Kind::Float)
                    .copy_data(&mut raw_act, 2 * cars);
                ro.actions_c[t * 2 * cars..(t + 1) * 2 * cars].copy_from_slice(&raw_act);
                for (k, a) in actions.iter_mut().enumerate() {
                    *a = Action::Continuous(scale_continuous(&raw_act[2 * k..2 * k + 2], &action_space));
                }
            }
            env.step(&actions, &mut out)?;
            match &reward {
                RewardSource::Preset(_) => step_rewards.copy_from_slice(&out.reward),
                RewardSource::Python(p) => p.call_batch(&out.params, &mut step_rewards)?,
            }
            // A truncated episode would have gone on: bootstrap with the value of its last observation.
            let truncated: Vec<usize> = (0..cars).filter(|&i| out.truncated[i] != 0).collect();
            if !truncated.is_empty() {
                let mut fin: Vec<f32> = truncated
                    .iter()
                    .flat_map(|&i| out.final_obs[i * d..(i + 1) * d].iter().copied())
                    .collect();
                if let Some(norm) = &model.obs_norm {
                    norm.normalize(&mut fin);
                }
                let ft = Tensor::from_slice(&fin)
                    .view([truncated.len() as i64, d as i64])
                    .to_device(device);
                let v = tch::no_grad(|| model.policy.value(&ft));
                let mut vals = vec![0.0f32; truncated.len()];
                to_f32s(&v, &mut vals);
                for (k, &i) in truncated.iter().enumerate() {
                    step_rewards[i] += (gamma as f32) * vals[k];
                }
            }
            let base = t * cars;
            for i in 0..cars {
                let r = step_rewards[i];
                ro.rewards[base + i] = r;
                reward_sum += f64::from(r);
                ep_return[i] += f64::from(r);
                let over = out.done[i] != 0 || out.truncated[i] != 0;
                ro.dones[base + i] = u8::from(over);
                if over {
                    let info = out.info[i];
                    ended += 1;
                    ret_sum += ep_return[i];
                    prog_sum += info.progress.clamp(0.0, 100.0);
                    len_sum += f64::from(info.steps.saturating_sub(1));
                    if info.status == EpisodeStatus::LapComplete {
                        laps += 1;
                    }
                    ep_return[i] = 0.0;
                }
            }
            step_count += 1;
        }
        let rollout_steps = step_count;
        // Bootstrap from the observation after the last step.
        norm_obs.copy_from_slice(&out.obs);
        if let Some(norm) = &model.obs_norm {
            norm.normalize(&mut norm_obs);
        }
        let last_t = Tensor::from_slice(&norm_obs)
            .view([cars as i64, d as i64])
            .to_device(device);
        let last_v = tch::no_grad(|| model.policy.value(&last_t));
        to_f32s(&last_v, &mut tmp_f);
        let n = rollout_steps * cars;
        let mut adv = vec![0.0f32; n];
        let mut ret = vec![0.0f32; n];
        ppo::gae(
            &ro.rewards[..n],
            &ro.values[..n],
            &ro.dones[..n],
            &tmp_f,
            cars,
            gamma,
            cfg.gae_lambda,
            &mut adv,
            &mut ret,
        );

        // ---- Update ----
        let batch = Batch {
            obs: Tensor::from_slice(&ro.obs[..n * d])
                .view([n as i64, d as i64])
                .to_device(device),
            actions: if discrete {
                Tensor::from_slice(&ro.actions_d[..n]).to_device(device)
            } else {
                Tensor::from_slice(&ro.actions_c[..2 * n])
                    .view([n as i64, 2])
                    .to_device(device)
            },
            log_probs: Tensor::from_slice(&ro.log_probs[..n]).to_device(device),
            advantages: Tensor::from_slice(&adv).to_device(device),
            returns: Tensor::from_slice(&ret).to_device(device),
            values: Tensor::from_slice(&ro.values[..n]).to_device(device),
        };
        let stats = ppo::update(&model.policy, &mut opt, &batch, cfg, &mut rng);
        if ro.obs.len() > steps * cars * d {
            ro = Rollout::new(steps, cars, d, discrete);
        }

        state.iteration += 1;
        state.env_steps += n as u64;
        state.episodes += ended;
        let wall = wall0 + start.elapsed().as_secs_f64();
        state.wall_s = wall;
        let mut m = IterationMetrics {
            iteration: state.iteration,
            env_steps: state.env_steps,
            run_steps: state.env_steps - steps0,
            episodes: state.episodes,
            wall_s: wall,
            steps_per_s: n as f64 / t_iter.elapsed().as_secs_f64(),
            mean_reward: reward_sum / n as f64,
            episodes_ended: ended,
            mean_return: if ended > 0 { ret_sum / ended as f64 } else { f64::NAN },
            mean_progress: if ended > 0 { prog_sum / ended as f64 } else { f64::NAN },
            lap_completion_rate: if ended > 0 {
                laps as f64 / ended as f64
            } else {
                f64::NAN
            },
            mean_episode_steps: if ended > 0 { len_sum / ended as f64 } else { f64::NAN },
            policy_loss: stats.policy_loss,
            value_loss: stats.value_loss,
            entropy: stats.entropy,
            approx_kl: stats.approx_kl,
            clip_fraction: stats.clip_fraction,
            explained_variance: stats.explained_variance,
            lr,
            ..Default::default()
        };
        model.info.steps = state.env_steps;
        model.info.episodes = state.episodes;

        // ---- Evaluation and checkpoints ----
        let mut improved = false;
        let final_iter = match opts.budget {
            Budget::Steps(s) => state.env_steps - steps0 + per_iter > s,
            Budget::Minutes(mins) => start.elapsed().as_secs_f64() >= 60.0 * mins,
        };
        if cfg.eval_every > 0 && (state.iteration.is_multiple_of(cfg.eval_every as u64) || final_iter) {
            let eval_opts = EvalOptions {
                laps: 3,
                seed: opts.seed,
                ..Default::default()
            };
            let r = evaluate(&model, eval_track.clone(), &eval_name, &eval_opts)?;
            m.eval_completed_laps = Some(r.completed_laps);
            m.eval_clean_laps = Some(r.consecutive_clean);
            m.eval_best_lap_s = r.best_lap_s;
            m.eval_total_s = Some(r.total_time_s);
            if r.consecutive_clean >= 3 && state.first_three_clean_laps_s.is_none() {
                state.first_three_clean_laps_s = Some(wall0 + start.elapsed().as_secs_f64());
            }
            let key = eval_key(&r);
            if better(key, state.best_key) {
                state.best_key = Some(key);
                model.save(&files.best())?;
                best_eval = Some(r);
                improved = true;
            }
        }
        model.save(&files.last())?;
        std::fs::write(
            files.state(),
            serde_json::to_string_pretty(&state).expect("serialisable"),
        )
        .map_err(|e| TrainError::file(&files.state(), e.to_string()))?;
        write_metrics(&mut csv, &mut jsonl, &m, improved).map_err(|e| TrainError::file(&metrics_csv, e.to_string()))?;
        on_iteration(&m);

        if let Some(max) = cfg.term_cond_max_episodes
            && state.episodes >= max
        {
            stop_reason = format!("term_cond_max_episodes ({max}) reached");
            break;
        }
        if let Some(score) = cfg.term_cond_avg_score
            && ended > 0
            && m.mean_return >= score
        {
            stop_reason = format!("term_cond_avg_score ({score}) reached");
            break;
        }
    }
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
        stopped_because: stop_reason,
    })
}

fn prepare_out_dir(dir: &Path, resume: bool) -> Result<(), TrainError> {
    if resume {
        if !dir.join("model_last.safetensors").exists() {
            return Err(TrainError::file(
                dir,
                "--resume: no model_last.safetensors here to resume from",
            ));
        }
        return Ok(());
    }
    if dir.join("model_last.safetensors").exists() || dir.join("metrics.csv").exists() {
        return Err(TrainError::file(
            dir,
            "already holds a training run; use --resume to continue it or choose another --out",
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| TrainError::file(dir, format!("cannot create: {e}")))
}

fn opt_num(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| format!("{x}"))
}

fn write_metrics(
    csv: &mut impl Write,
    jsonl: &mut impl Write,
    m: &IterationMetrics,
    best: bool,
) -> std::io::Result<()> {
    writeln!(
        csv,
        "{},{},{},{:.3},{:.1},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
        m.iteration,
        m.env_steps,
        m.episodes,
        m.wall_s,
        m.steps_per_s,
        m.mean_reward,
        m.episodes_ended,
        m.mean_return,
        m.mean_progress,
        m.lap_completion_rate,
        m.mean_episode_steps,
        m.policy_loss,
        m.value_loss,
        m.entropy,
        m.approx_kl,
        m.clip_fraction,
        m.explained_variance,
        m.lr,
        m.eval_completed_laps.map_or(String::new(), |v| v.to_string()),
        m.eval_clean_laps.map_or(String::new(), |v| v.to_string()),
        opt_num(m.eval_best_lap_s),
        opt_num(m.eval_total_s),
        best
    )?;
    // (serde_json writes NaN as null.)
    let mut v = serde_json::to_value(m).expect("serialisable");
    v["best_so_far"] = serde_json::json!(best);
    writeln!(jsonl, "{v}")?;
    csv.flush()?;
    jsonl.flush()
}

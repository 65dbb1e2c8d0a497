//! `trainer bench …`: PPO update throughput and reward-function calls per second.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use serde_json::json;
use slipstream_sim::reward::RewardContext;
use slipstream_sim::rng::Rng;
use slipstream_sim::sensors::{CameraLidarConfig, DeepRacerLidarKind};
use slipstream_sim::track::ValidateOptions;
use slipstream_sim::{Action, EnvConfig, ObsConfig, RewardPreset, Track, VecEnv};
use slipstream_trainer::config::{ActionSpaceConfig, TrainConfig};
use slipstream_trainer::model::{Model, ModelSpec};
use slipstream_trainer::network::NetworkSpec;
use slipstream_trainer::optim::{Adam, AdamConfig};
use slipstream_trainer::policy::Observations;
use slipstream_trainer::ppo::{self, Batch};
use slipstream_trainer::reward::{PythonReward, preset_batch};
use slipstream_trainer::runner::PolicyRunner;
use slipstream_trainer::{DeviceChoice, device::device_name};
use tch::{Kind, Tensor};

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// PPO update throughput, (samples × epochs) per second on a synthetic batch, and the batch-1
    /// latency of the deterministic policy (what racing runs per step), for an MLP or a camera CNN.
    Ppo(PpoArgs),
    /// Reward-function calls per second over real simulator params (preset or Python file).
    Reward(RewardArgs),
}

#[derive(Args, Debug)]
pub struct PpoArgs {
    /// Samples in the batch (one rollout).
    #[arg(long, default_value_t = 16384)]
    samples: usize,
    /// Minibatch size.
    #[arg(long, default_value_t = 2048)]
    minibatch: usize,
    /// Epochs over the batch.
    #[arg(long, default_value_t = 4)]
    epochs: usize,
    /// Hidden layer sizes of the MLP, comma-separated.
    #[arg(long, default_value = "64,64")]
    hidden: String,
    /// The network: mlp (on the state observation), or a camera network on 160 × 120 images: cnn
    /// (Slipstream's), deep_convolutional_network_shallow or deep_convolutional_network (DeepRacer's).
    #[arg(long, default_value = "mlp")]
    network: String,
    /// With a camera network, a lidar beside the camera (DeepRacer's two-sensor layout): lidar or
    /// sector_lidar.
    #[arg(long)]
    lidar: Option<String>,
    /// Timed updates (after one warm-up update); the median is reported.
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// Where the learner runs: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    device: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct RewardArgs {
    /// A preset name or a DeepRacer reward_function.py.
    #[arg(long)]
    reward: String,
    /// Track for the params.
    #[arg(long, default_value = "oval")]
    track: String,
    /// Cars per step.
    #[arg(long, default_value_t = 256)]
    cars: usize,
    /// Steps (each calls the reward once per car).
    #[arg(long, default_value_t = 100)]
    steps: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Ppo(a) => ppo_bench(a),
        BenchCommand::Reward(a) => reward_bench(a),
    }
}

fn ppo_bench(a: PpoArgs) -> Result<()> {
    let hidden: Vec<usize> = a
        .hidden
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow::anyhow!("--hidden: expected sizes like 64,64"))?;
    if a.samples == 0 || a.minibatch == 0 || a.epochs == 0 || a.repeat == 0 {
        bail!("--samples, --minibatch, --epochs and --repeat must be at least 1");
    }
    let device = a.device.parse::<DeviceChoice>()?.resolve()?;
    let mut cfg = TrainConfig {
        batch_size: a.minibatch,
        num_epochs: a.epochs,
        ..Default::default()
    };
    cfg.network = match a.network.as_str() {
        "mlp" => NetworkSpec::Mlp {
            hidden,
            activation: slipstream_trainer::network::Activation::Tanh,
        },
        "cnn" => NetworkSpec::camera_default(),
        "deep_convolutional_network_shallow" => NetworkSpec::DeepConvolutionalNetworkShallow {},
        "deep_convolutional_network" => NetworkSpec::DeepConvolutionalNetwork {},
        other => bail!(
            "--network: expected mlp, cnn, deep_convolutional_network_shallow or deep_convolutional_network, got {other:?}"
        ),
    };
    let lidar = match a.lidar.as_deref() {
        None => None,
        Some("lidar") => Some(DeepRacerLidarKind::Lidar),
        Some("sector_lidar") => Some(DeepRacerLidarKind::SectorLidar),
        Some(other) => bail!("--lidar: expected lidar or sector_lidar, got {other:?}"),
    };
    cfg.sensor = match (cfg.network.cnn().is_some(), lidar) {
        (false, None) => cfg.sensor,
        (false, Some(_)) => bail!("--lidar: goes with a camera network (--network cnn or one of DeepRacer's)"),
        (true, None) => ObsConfig::Camera(Default::default()),
        (true, Some(lidar)) => ObsConfig::CameraLidar(CameraLidarConfig {
            lidar,
            ..Default::default()
        }),
    };
    let spec = ModelSpec {
        action_space: ActionSpaceConfig::default(),
        ..cfg.model_spec()
    };
    tch::manual_seed(0);
    let model = Model::new(spec, -0.5, true, device);
    let d = model.spec.obs_dim() as i64;
    let n = a.samples as i64;
    let opts = (Kind::Float, device);
    let images = model
        .spec
        .image_shape()
        .map(|[c, h, w]| Tensor::randint(256, [n, c, h, w], (Kind::Uint8, device)));
    let batch = Batch {
        obs: Observations {
            features: Tensor::randn([n, d], opts),
            images,
        },
        actions: Tensor::randn([n, 2], opts),
        log_probs: Tensor::randn([n], opts) - 2.0,
        advantages: Tensor::randn([n], opts),
        returns: Tensor::randn([n], opts),
        values: Tensor::randn([n], opts),
    };
    let mut opt = Adam::new(&model.policy.vs, 3e-4, AdamConfig::default());
    let mut rng = Rng::new(1);
    ppo::update(&model.policy, &mut opt, &batch, &cfg, &mut rng);
    let mut rates = Vec::new();
    for _ in 0..a.repeat {
        let t0 = Instant::now();
        let s = ppo::update(&model.policy, &mut opt, &batch, &cfg, &mut rng);
        let secs = t0.elapsed().as_secs_f64();
        rates.push((a.samples * s.epochs) as f64 / secs);
    }
    rates.sort_by(f64::total_cmp);
    let rate = rates[rates.len() / 2];
    let latency_ms = policy_latency_ms(&model)?;
    let threads = tch::get_num_threads();
    if a.json {
        println!(
            "{}",
            json!({"network": model.spec.network.name(), "sensor": model.spec.sensor.sensor_names(), "samples": a.samples, "minibatch": a.minibatch, "epochs": a.epochs,
                   "device": device_name(device), "torch_threads": threads, "samples_epochs_per_s": rate,
                   "min": rates[0], "max": rates[rates.len() - 1], "update_s": (a.samples * a.epochs) as f64 / rate,
                   "batch1_latency_ms": latency_ms})
        );
    } else {
        println!(
            "PPO update, {} (on {} → continuous 2), {} samples × {} epochs, minibatch {}, {} ({} torch threads): \
             median {:.0} samples·epochs/s ({:.3} s per update); batch-1 policy latency {:.3} ms",
            model.spec.network.name(),
            model.spec.sensor.sensor_names().join(" + "),
            a.samples,
            a.epochs,
            a.minibatch,
            device_name(device),
            threads,
            rate,
            (a.samples * a.epochs) as f64 / rate,
            latency_ms
        );
    }
    Ok(())
}

/// Median time of one deterministic action for one car (observation and image in, action out), ms.
fn policy_latency_ms(model: &Model) -> Result<f64> {
    let mut runner = PolicyRunner::new(model);
    let obs = vec![0.1f32; model.spec.obs_dim()];
    let image: Vec<u8> = (0..model.spec.sensor.image_len())
        .map(|i| (i * 7 % 256) as u8)
        .collect();
    let mut actions = [Action::Discrete(0)];
    let mut times = Vec::new();
    for k in 0..220 {
        let t0 = Instant::now();
        runner.act(model, &obs, &image, &mut actions);
        if k >= 20 {
            times.push(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

fn reward_bench(a: RewardArgs) -> Result<()> {
    if a.cars == 0 || a.steps == 0 {
        bail!("--cars and --steps must be at least 1");
    }
    let track = Arc::new(Track::resolve(&a.track, &ValidateOptions::default())?);
    let mut cfg = EnvConfig::new((*track).clone());
    cfg.reward = Arc::new(RewardPreset::Zero);
    let mut env = VecEnv::new(cfg.clone(), a.cars)?;
    let mut out = env.buffers(true);
    env.reset(1, &mut out)?;
    let python = if a.reward.ends_with(".py") {
        Some(PythonReward::load(
            &PathBuf::from(&a.reward),
            std::slice::from_ref(&track),
        )?)
    } else {
        None
    };
    let preset: Option<RewardPreset> = if python.is_none() {
        Some(a.reward.parse().map_err(|m: String| anyhow::anyhow!("--reward: {m}"))?)
    } else {
        None
    };
    let ctx = RewardContext {
        agent_dt: cfg.agent_dt,
        max_speed: cfg.car.max_speed,
    };
    let mut rng = Rng::new(2);
    let mut rewards = vec![0.0f32; a.cars];
    let mut actions = vec![Action::Discrete(0); a.cars];
    let mut timed = 0.0;
    for _ in 0..a.steps {
        for x in actions.iter_mut() {
            *x = Action::Discrete(rng.below(cfg.action_space.dim() as u64) as u32);
        }
        env.step(&actions, &mut out)?;
        let t0 = Instant::now();
        match (&python, preset) {
            (Some(p), _) => p.call_batch(&out.params, &mut rewards)?,
            (None, Some(p)) => preset_batch(p, &ctx, &out.params, &mut rewards),
            (None, None) => unreachable!(),
        }
        timed += t0.elapsed().as_secs_f64();
    }
    let calls = (a.cars * a.steps) as f64;
    if a.json {
        println!(
            "{}",
            json!({"reward": a.reward, "calls": calls, "seconds": timed, "calls_per_s": calls / timed})
        );
    } else {
        println!(
            "{}: {calls} calls in {timed:.3} s: {:.0} reward calls/s",
            a.reward,
            calls / timed
        );
    }
    Ok(())
}

//! `sim bench`: car-steps per second of the vectorized environment.

use std::time::Instant;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use slipstream_sim::rng::Rng;
use slipstream_sim::sensors::{LidarConfig, StateConfig};
use slipstream_sim::track::{Track, ValidateOptions};
use slipstream_sim::{Action, EnvConfig, ObsConfig, VecEnv};

use crate::alloc;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ObsKind {
    State,
    Lidar,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Observation: privileged state features or lidar.
    #[arg(long, value_enum, default_value = "state")]
    pub obs: ObsKind,
    /// Cars stepped in lockstep.
    #[arg(long, default_value_t = 4096)]
    pub cars: usize,
    /// Timed steps per repetition (after a warm-up of 20 steps).
    #[arg(long, default_value_t = 300)]
    pub steps: usize,
    /// Timed repetitions; the median is reported (the machine may be shared and noisy).
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
    /// Worker threads.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Lidar rays (with --obs lidar).
    #[arg(long, default_value_t = 32)]
    pub rays: usize,
    /// Track: a built-in name or a .npy / .csv file.
    #[arg(long, default_value = "oval")]
    pub track: String,
    /// Seed for the reset and the random actions.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Physics sub-steps per agent step (1/15 s).
    #[arg(long, default_value_t = 4)]
    pub substeps: u32,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: BenchArgs) -> Result<()> {
    if a.steps == 0 || a.cars == 0 {
        bail!("--steps and --cars must be at least 1");
    }
    let track = Track::resolve(&a.track, &ValidateOptions::default())?;
    let track_name = track.name().to_string();
    let mut cfg = EnvConfig::new(track);
    cfg.physics_substeps = a.substeps;
    cfg.threads = a.threads;
    cfg.obs = match a.obs {
        ObsKind::State => ObsConfig::State(StateConfig::default()),
        ObsKind::Lidar => ObsConfig::Lidar(LidarConfig {
            rays: a.rays,
            ..Default::default()
        }),
    };
    let n_actions = cfg.action_space.dim() as u64;
    let mut env = VecEnv::new(cfg, a.cars)?;
    let mut out = env.buffers(false);
    env.reset(a.seed, &mut out)?;
    // A fixed table of random discrete actions (a random policy), cycled through.
    const ROWS: usize = 61;
    let mut rng = Rng::new(a.seed);
    let table: Vec<Vec<Action>> = (0..ROWS)
        .map(|_| {
            (0..a.cars)
                .map(|_| Action::Discrete(rng.below(n_actions) as u32))
                .collect()
        })
        .collect();
    for k in 0..20 {
        env.step(&table[k % ROWS], &mut out)?;
    }
    if a.repeat == 0 {
        bail!("--repeat must be at least 1");
    }
    let total = (a.steps * a.repeat) as u64;
    let bar = if a.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total)
    };
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} steps {per_sec}").expect("valid template"));
    let mut episodes = 0u64;
    let mut rates = Vec::with_capacity(a.repeat);
    let allocs_before = alloc::count();
    let mut k = 0usize;
    for _ in 0..a.repeat {
        let t0 = Instant::now();
        for _ in 0..a.steps {
            env.step(&table[k % ROWS], &mut out)?;
            episodes += out
                .done
                .iter()
                .zip(&out.truncated)
                .filter(|(d, t)| **d != 0 || **t != 0)
                .count() as u64;
            k += 1;
            if k.is_multiple_of(16) {
                bar.set_position(k as u64);
            }
        }
        rates.push((a.cars * a.steps) as f64 / t0.elapsed().as_secs_f64());
    }
    let allocs = alloc::count() - allocs_before;
    bar.finish_and_clear();
    rates.sort_by(f64::total_cmp);
    let rate = rates[rates.len() / 2];
    let car_steps = total as f64 * a.cars as f64;
    let obs = match a.obs {
        ObsKind::State => "state",
        ObsKind::Lidar => "lidar",
    };
    let mean_episode = if episodes > 0 {
        car_steps / episodes as f64
    } else {
        car_steps
    };
    if a.json {
        println!(
            "{}",
            json!({"obs": obs, "rays": if matches!(a.obs, ObsKind::Lidar) { Some(a.rays) } else { None },
                   "track": track_name, "cars": a.cars, "steps": a.steps, "threads": a.threads,
                   "repeat": a.repeat, "car_steps_per_s": rate, "car_steps_per_s_per_thread": rate / a.threads as f64,
                   "car_steps_per_s_min": rates[0], "car_steps_per_s_max": rates[rates.len() - 1],
                   "allocations_per_step": allocs as f64 / total as f64, "mean_episode_steps": mean_episode})
        );
    } else {
        println!(
            "{obs}: {} cars × {} steps × {} on {track_name} with {} thread(s): median {:.0} car-steps/s ({:.0} per thread; \
             range {:.0}–{:.0}), {:.2} allocations per step, mean episode {:.0} steps",
            a.cars,
            a.steps,
            a.repeat,
            a.threads,
            rate,
            rate / a.threads as f64,
            rates[0],
            rates[rates.len() - 1],
            allocs as f64 / total as f64,
            mean_episode
        );
    }
    Ok(())
}

//! `sim bench`: car-steps per second of the vectorized environment.

use std::time::Instant;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use slipstream_sim::camera::{self, Camera, CameraConfig, CameraPose, Randomization, SceneObject};
use slipstream_sim::math::Obb;
use slipstream_sim::objects::ObstacleConfig;
use slipstream_sim::rng::Rng;
use slipstream_sim::sensors::{LidarConfig, StateConfig};
use slipstream_sim::track::{Track, ValidateOptions};
use slipstream_sim::{Action, EnvConfig, ObsConfig, Scenario, VecEnv};

use crate::alloc;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ObsKind {
    State,
    Lidar,
    /// DeepRacer's front-facing camera, 160 × 120.
    Camera,
    /// The stereo pair (2 channels).
    Stereo,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Observation: privileged state features or lidar.
    #[arg(long, value_enum, default_value = "state")]
    pub obs: ObsKind,
    /// Cars stepped in lockstep (default 4096; 256 with a camera).
    #[arg(long)]
    pub cars: Option<usize>,
    /// Static boxes per car's episode (object avoidance; 0: time trial).
    #[arg(long, default_value_t = 0)]
    pub obstacles: usize,
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

pub fn run(mut a: BenchArgs) -> Result<()> {
    let is_camera = matches!(a.obs, ObsKind::Camera | ObsKind::Stereo);
    let cars = a.cars.unwrap_or(if is_camera { 256 } else { 4096 });
    a.cars = Some(cars);
    if a.steps == 0 || cars == 0 {
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
        ObsKind::Camera => ObsConfig::Camera(CameraConfig::default()),
        ObsKind::Stereo => ObsConfig::StereoCamera(CameraConfig::default()),
    };
    if a.obstacles > 0 {
        cfg.scenario = Scenario::ObjectAvoidance(ObstacleConfig {
            count: a.obstacles,
            ..Default::default()
        });
    }
    let tracks = cfg.tracks.clone();
    let stereo = matches!(a.obs, ObsKind::Stereo);
    let n_actions = cfg.action_space.dim() as u64;
    let mut env = VecEnv::new(cfg, cars)?;
    let mut out = env.buffers(false);
    env.reset(a.seed, &mut out)?;
    // A fixed table of random discrete actions (a random policy), cycled through.
    const ROWS: usize = 61;
    let mut rng = Rng::new(a.seed);
    let table: Vec<Vec<Action>> = (0..ROWS)
        .map(|_| {
            (0..cars)
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
        rates.push((cars * a.steps) as f64 / t0.elapsed().as_secs_f64());
    }
    let allocs = alloc::count() - allocs_before;
    bar.finish_and_clear();
    rates.sort_by(f64::total_cmp);
    let rate = rates[rates.len() / 2];
    let car_steps = total as f64 * cars as f64;
    let obs = match a.obs {
        ObsKind::State => "state",
        ObsKind::Lidar => "lidar",
        ObsKind::Camera => "camera",
        ObsKind::Stereo => "stereo",
    };
    // Renderer alone: the cars' current poses, each with 3 boxes 1–3 m ahead in view.
    let render = if is_camera {
        Some(render_only(&tracks, stereo, &env.car_states()?, a.repeat)?)
    } else {
        None
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
                   "track": track_name, "cars": cars, "steps": a.steps, "threads": a.threads,
                   "repeat": a.repeat, "car_steps_per_s": rate, "car_steps_per_s_per_thread": rate / a.threads as f64,
                   "car_steps_per_s_min": rates[0], "car_steps_per_s_max": rates[rates.len() - 1],
                   "allocations_per_step": allocs as f64 / total as f64, "mean_episode_steps": mean_episode,
                   "obstacles": a.obstacles,
                   "render_only_frames_per_s": render.map(|r| r.0), "render_only_min": render.map(|r| r.1),
                   "render_only_max": render.map(|r| r.2)})
        );
    } else {
        println!(
            "{obs}: {} cars × {} steps × {} on {track_name} with {} thread(s): median {:.0} car-steps/s ({:.0} per thread; \
             range {:.0}–{:.0}), {:.2} allocations per step, mean episode {:.0} steps",
            cars,
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
        if let Some((med, lo, hi)) = render {
            let unit = if stereo { "stereo pairs" } else { "frames" };
            println!(
                "renderer alone (1 thread, 3 boxes in view): median {med:.0} {unit}/s (range {lo:.0}–{hi:.0}); \
                 with a camera every car-step above is one {}",
                if stereo { "pair" } else { "frame" }
            );
        }
    }
    Ok(())
}

/// Frames per second of the renderer alone on one thread: (median, min, max) over `repeat` runs.
fn render_only(
    tracks: &[std::sync::Arc<Track>],
    stereo: bool,
    poses: &[slipstream_sim::env::CarSnapshot],
    repeat: usize,
) -> Result<(f64, f64, f64)> {
    let cam = Camera::new(CameraConfig::default(), stereo, tracks)?;
    let mut scratch = cam.scratch();
    let mut img = vec![0u8; cam.image_len()];
    let scenes: Vec<(CameraPose, [SceneObject; 3])> = poses
        .iter()
        .map(|c| {
            let f = c.state.forward();
            let l = f.perp();
            let at = |d: f64, side: f64| {
                camera::scene_object(
                    Obb::new(c.state.pos + f * d + l * side, c.state.heading, 0.3, 0.3),
                    false,
                )
            };
            (
                CameraPose {
                    pos: c.state.pos,
                    forward: f,
                },
                [at(1.0, 0.15), at(2.0, -0.2), at(3.0, 0.1)],
            )
        })
        .collect();
    let frames = 4000usize;
    let mut rates = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let t0 = Instant::now();
        for k in 0..frames {
            let (pose, objs) = &scenes[k % scenes.len()];
            let track = poses[k % poses.len()].track;
            cam.render(track, pose, objs, &Randomization::IDENTITY, 0, &mut scratch, &mut img);
        }
        rates.push(frames as f64 / t0.elapsed().as_secs_f64());
    }
    std::hint::black_box(&img);
    rates.sort_by(f64::total_cmp);
    Ok((rates[rates.len() / 2], rates[0], rates[rates.len() - 1]))
}

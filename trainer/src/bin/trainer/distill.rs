//! `trainer distill`: a camera student learns from a state or lidar teacher.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use indicatif::ProgressBar;
use slipstream_sim::ObsConfig;
use slipstream_trainer::distill::{self, DistillMetrics, DistillOptions};
use slipstream_trainer::{Budget, TrainConfig};

/// Distil a teacher (a state or lidar model) into a camera-only student (DAgger): the student
/// drives more and more of the time, every frame it sees is labelled with the teacher's action,
/// and it learns to imitate them. The student is an ordinary camera model; fine-tune it with
/// `trainer train --init <student>/model_best.safetensors --config camera.toml`.
#[derive(Args, Debug)]
pub struct DistillArgs {
    /// The teacher model (.safetensors), trained on a state or lidar sensor.
    #[arg(long)]
    teacher: PathBuf,
    /// The student's camera: camera (DeepRacer's FRONT_FACING_CAMERA) or stereo_camera.
    #[arg(long, default_value = "camera")]
    sensor: String,
    /// Track: a built-in name or a DeepRacer .npy / .csv file. Repeat for several tracks.
    #[arg(long = "track")]
    tracks: Vec<String>,
    /// The student's settings (TOML, as for `trainer train`: network, camera, num_cars,
    /// rollout_steps, batch_size, num_epochs, lr, eval_every). Default: Slipstream's camera network,
    /// 32 cars × 32 steps per iteration, minibatch 256, 2 epochs, lr 1e-3.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Stop after this many frames (car-steps).
    #[arg(long, conflicts_with = "minutes")]
    steps: Option<u64>,
    /// Stop after this many minutes of wall-clock time (default 2).
    #[arg(long)]
    minutes: Option<f64>,
    /// β of iteration i is beta_decay^i: the probability that the teacher drives a car-step.
    #[arg(long, default_value_t = 0.6)]
    beta_decay: f64,
    /// Labelled frames kept for training (the oldest are replaced).
    #[arg(long, default_value_t = 40_000)]
    buffer: usize,
    /// Random seed (the student's initial weights, start positions, which cars the teacher drives).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where the learner runs: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    device: String,
    /// Output folder for the student's model files.
    #[arg(long)]
    out: PathBuf,
    /// Print one JSON object at the end instead of a summary.
    #[arg(long)]
    json: bool,
}

pub fn run(a: DistillArgs) -> Result<()> {
    let mut config = match &a.config {
        Some(p) => TrainConfig::load(p)?,
        None => distill::default_config(),
    };
    let camera = config.sensor.camera().map(|(c, _)| c.clone()).unwrap_or_default();
    config.sensor = match a.sensor.as_str() {
        "camera" => ObsConfig::Camera(camera),
        "stereo_camera" | "stereo" => ObsConfig::StereoCamera(camera),
        other => anyhow::bail!("--sensor: expected camera or stereo_camera, got {other:?}"),
    };
    let budget = crate::budget(a.steps, a.minutes.or(a.steps.is_none().then_some(2.0)))?;
    let bar = if a.json {
        ProgressBar::hidden()
    } else {
        crate::progress_bar(budget)
    };
    let started = std::time::Instant::now();
    let mut on_iter = |m: &DistillMetrics| {
        match budget {
            Budget::Steps(_) => bar.set_position(m.frames),
            Budget::Minutes(_) => bar.set_position(started.elapsed().as_secs()),
        }
        let eval = m.eval_completed_laps.map_or(String::new(), |l| {
            format!("  eval {l}/3 laps, {} clean", m.eval_clean_laps.unwrap_or(0))
        });
        bar.set_message(format!(
            "β {:.2}  disagreement {:.0}%  imitation loss {:.4}{eval}",
            m.beta,
            100.0 * m.disagreement,
            m.imitation_loss
        ));
    };
    let s = distill::distill(
        DistillOptions {
            config,
            teacher: a.teacher.clone(),
            tracks: a.tracks.clone(),
            budget,
            seed: a.seed,
            device: a.device.parse()?,
            out_dir: a.out.clone(),
            beta_decay: a.beta_decay,
            buffer_frames: a.buffer,
        },
        &mut on_iter,
    )?;
    bar.finish_and_clear();
    if a.json {
        println!("{}", serde_json::to_string(&s)?);
        return Ok(());
    }
    println!(
        "distilled {} iterations, {} frames in {:.1} s on {}",
        s.iterations, s.frames, s.wall_s, s.device
    );
    crate::print_outcome(
        &s.model_last,
        s.model_best.as_deref(),
        s.best_eval.as_ref(),
        s.first_three_clean_laps_s,
    );
    Ok(())
}

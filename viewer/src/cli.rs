//! The command line of `slipstream-viewer` (and of `sim view`, which runs it with its arguments).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Parser;
use slipstream_sim::Scenario;
use slipstream_sim::driver::PurePursuit;
use slipstream_sim::objects::{BotConfig, ObstacleConfig};
use slipstream_sim::race_args::RaceArgs;
use slipstream_sim::trace::Rival;
use slipstream_sim::track::{Track, ValidateOptions};
use slipstream_trainer::{DeviceChoice, EvalOptions, Model};

use crate::app::{self, CameraView, RunOptions, SPEEDS};
use crate::source::Source;

/// Watch a car drive round a track in 3-D: a trained model racing live (DeepRacer's evaluation
/// rules, as `trainer evaluate` races), a recorded trace replayed, or — with neither — the
/// pure-pursuit driver of `sim drive`.
///
/// Keys: C (or 1/2/3) switches the camera between chase, orbit and top-down; Space pauses;
/// N steps once (paused); + and - change the speed (×0.25 to ×8); ←/→ turn the orbit; Esc quits.
///
/// Without a GPU it runs on Mesa's software Vulkan (lavapipe), also under a virtual X server:
/// `Xvfb :99 -screen 0 1280x720x24 & DISPLAY=:99 WGPU_BACKEND=vulkan slipstream-viewer ...`.
#[derive(Parser, Debug)]
#[command(name = "slipstream-viewer", version, about, long_about)]
pub struct Cli {
    /// A built-in track name (see `sim track list`) or a DeepRacer .npy / .csv track file.
    #[arg(long)]
    pub track: String,
    /// Drive the track the other way round.
    #[arg(long)]
    pub reverse: bool,
    /// A trained model (.safetensors) to race live with its deterministic policy.
    #[arg(long, conflicts_with = "trace")]
    pub model: Option<PathBuf>,
    /// A SIM_TRACE_LOG CSV trace (`sim drive --trace`, `trainer evaluate --trace`, DeepRacer's
    /// simtrace) to replay, one row per step.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// A head-to-head race's other car: its trace (`trainer match --trace-dir`, `league matches
    /// trace`), replayed step for step with --trace in its colour (blue, orange, purple, teal).
    /// Repeat for each.
    #[arg(long = "rival", value_name = "TRACE", requires = "trace")]
    pub rivals: Vec<PathBuf>,
    /// Place this many static boxes on the track (object avoidance).
    #[arg(long, default_value_t = 0, conflicts_with_all = ["bots", "trace"])]
    pub obstacles: usize,
    /// Race against this many bot cars (head-to-bot).
    #[arg(long, default_value_t = 0, conflicts_with = "trace")]
    pub bots: usize,
    /// Seed for the race (obstacle and bot layouts).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub race: RaceArgs,
    /// Device for the model's network: auto, cpu or cuda.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// The camera to start with.
    #[arg(long, value_enum, default_value_t = CameraView::Chase)]
    pub camera: CameraView,
    /// Playback speed, × real time: 0.25, 0.5, 1, 2, 4 or 8.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Start paused.
    #[arg(long)]
    pub paused: bool,
    /// Window width and height, pixels.
    #[arg(long, default_value_t = 1280)]
    pub width: u32,
    #[arg(long, default_value_t = 720)]
    pub height: u32,
    /// Save the window as a PNG after --frames frames, print a JSON line (the file, the steps
    /// simulated, the car's pose) and exit. The simulation advances one step per frame.
    #[arg(long, requires = "frames")]
    pub screenshot: Option<PathBuf>,
    /// Run this many frames, then exit (after --screenshot or --bench); one simulation step
    /// per frame, whatever the frame rate.
    #[arg(long)]
    pub frames: Option<u64>,
    /// Measure the frame rate over --frames frames (after a short warm-up) and print it as JSON.
    #[arg(long, requires = "frames")]
    pub bench: bool,
}

/// Run the viewer with these options.
pub fn run(cli: Cli) -> Result<()> {
    if !SPEEDS.iter().any(|s| (s - cli.speed).abs() < 1e-9) {
        bail!("--speed: expected one of 0.25, 0.5, 1, 2, 4, 8, got {}", cli.speed);
    }
    if cli.width < 64 || cli.height < 64 {
        bail!("--width/--height: expected at least 64 pixels");
    }
    if cli.frames == Some(0) {
        bail!("--frames: expected at least 1 frame");
    }
    if cfg!(target_os = "linux") && std::env::var_os("DISPLAY").is_none_or(|d| d.is_empty()) {
        bail!(
            "no X display (DISPLAY is not set): the viewer opens a window. Without a screen, start a \
             virtual one: `Xvfb :99 -screen 0 1280x720x24 &` then `DISPLAY=:99 WGPU_BACKEND=vulkan \
             slipstream-viewer ...` (scripts/viewer-deps installs Xvfb and Mesa's software Vulkan)"
        );
    }
    let mut track = Track::resolve(&cli.track, &ValidateOptions::default())?;
    if cli.reverse {
        track = track.reversed();
    }
    let track_name = track.name().to_string();
    let track = Arc::new(track);
    let scenario = if cli.obstacles > 0 {
        Scenario::ObjectAvoidance(ObstacleConfig {
            count: cli.obstacles,
            ..Default::default()
        })
    } else if cli.bots > 0 {
        Scenario::HeadToBot(BotConfig {
            count: cli.bots,
            ..Default::default()
        })
    } else {
        Scenario::TimeTrial {}
    };
    let opts = EvalOptions {
        race: cli.race.config(),
        seed: cli.seed,
        scenario,
        ..EvalOptions::default()
    };
    let source = if let Some(trace) = &cli.trace {
        let rivals = cli
            .rivals
            .iter()
            .map(|p| Rival::from_trace(p).with_context(|| format!("--rival: reading {}", p.display())))
            .collect::<Result<Vec<_>>>()?;
        Source::replay(trace, track)
            .and_then(|s| s.with_rivals(rivals))
            .with_context(|| format!("replaying {}", trace.display()))?
    } else if let Some(path) = &cli.model {
        let device: DeviceChoice = cli.device.parse()?;
        let model = Model::load(path, device.resolve()?)?;
        Source::model(model, track, &opts).with_context(|| format!("racing {}", path.display()))?
    } else {
        Source::scripted(track, &opts, PurePursuit::default())?
    };
    app::run(
        source,
        RunOptions {
            width: cli.width,
            height: cli.height,
            camera: cli.camera,
            speed: cli.speed,
            paused: cli.paused,
            screenshot: cli.screenshot,
            frames: cli.frames,
            bench: cli.bench,
            track_name,
        },
    )
}

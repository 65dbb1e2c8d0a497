//! `sim drive`: a scripted pure-pursuit car races round a track.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::json;
use slipstream_sim::camera::CameraConfig;
use slipstream_sim::driver::PurePursuit;
use slipstream_sim::objects::{BotConfig, ObstacleConfig};
use slipstream_sim::race_args::RaceArgs;
use slipstream_sim::trace::TraceWriter;
use slipstream_sim::track::{Track, ValidateOptions};
use slipstream_sim::{Action, ActionSpace, EnvConfig, Mode, ObsConfig, RewardPreset, Scenario, VecEnv};

use crate::camera_cmd;

#[derive(Args, Debug)]
pub struct DriveArgs {
    /// A built-in track name (see `sim track list`) or a DeepRacer .npy / .csv track file.
    #[arg(long)]
    pub track: String,
    #[command(flatten)]
    pub race: RaceArgs,
    /// Drive the track the other way round.
    #[arg(long)]
    pub reverse: bool,
    /// Place this many static boxes on the track (object avoidance; the scripted driver ignores them).
    #[arg(long, default_value_t = 0, conflicts_with = "bots")]
    pub obstacles: usize,
    /// Race against this many bot cars (head-to-bot).
    #[arg(long, default_value_t = 0)]
    pub bots: usize,
    /// Seed for obstacle and bot layouts.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write a per-step trace (DeepRacer SIM_TRACE_LOG CSV layout) to this file.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Lateral acceleration the scripted driver plans corners for, m/s² (the car's grip is ~4.9).
    #[arg(long)]
    pub lateral_accel: Option<f64>,
    /// The scripted driver's base look-ahead distance, m.
    #[arg(long)]
    pub lookahead: Option<f64>,
    /// Physics sub-steps per agent step (1/15 s).
    #[arg(long, default_value_t = 4)]
    pub substeps: u32,
    /// Write the car's camera frames (one PNG per step, numbered from 00000) into this folder.
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// With --record: the stereo pair, side by side.
    #[arg(long, requires = "record")]
    pub stereo: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: DriveArgs) -> Result<()> {
    if a.race.laps == 0 {
        bail!("--laps: expected at least 1 lap");
    }
    let mut track = Track::resolve(&a.track, &ValidateOptions::default())?;
    if a.reverse {
        track = track.reversed();
    }
    let track_name = track.name().to_string();
    let mut cfg = EnvConfig::new(track);
    cfg.physics_substeps = a.substeps;
    cfg.action_space = ActionSpace::continuous(-30.0, 30.0, 0.1, 4.0);
    cfg.reward = Arc::new(RewardPreset::Zero);
    cfg.mode = Mode::Race(a.race.config());
    if a.obstacles > 0 {
        cfg.scenario = Scenario::ObjectAvoidance(ObstacleConfig {
            count: a.obstacles,
            ..Default::default()
        });
    } else if a.bots > 0 {
        cfg.scenario = Scenario::HeadToBot(BotConfig {
            count: a.bots,
            ..Default::default()
        });
    }
    if a.record.is_some() {
        cfg.obs = if a.stereo {
            ObsConfig::StereoCamera(CameraConfig::default())
        } else {
            ObsConfig::Camera(CameraConfig::default())
        };
    }
    let shape = cfg.obs.image_shape();
    if let Some(dir) = &a.record {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let car = cfg.car.clone();
    let track = cfg.tracks[0].clone();
    let mut env = VecEnv::new(cfg, 1)?;
    let mut out = env.buffers(true);
    env.reset(a.seed, &mut out)?;
    let mut trace = match &a.trace {
        Some(p) => Some(TraceWriter::create(p)?),
        None => None,
    };
    if let Some(t) = &mut trace {
        t.record_reset(&out, 0)?;
    }
    let mut driver = PurePursuit::default();
    if let Some(v) = a.lateral_accel {
        if !(v.is_finite() && v > 0.0) {
            bail!("--lateral-accel: expected a positive number of m/s², got {v}");
        }
        driver.lateral_accel = v;
    }
    if let Some(v) = a.lookahead {
        if !(v.is_finite() && v > 0.0) {
            bail!("--lookahead: expected a positive distance in metres, got {v}");
        }
        driver.lookahead = v;
    }
    let mut actions = [Action::Continuous([0.0, 0.0])];
    let mut frame = 0usize;
    let mut record = |out: &slipstream_sim::StepBuffers| -> Result<()> {
        if let (Some(dir), Some([c, h, w])) = (&a.record, shape) {
            let path = dir.join(format!("{frame:05}.png"));
            if c == 2 {
                let img = camera_cmd::side_by_side(out.image_of(0), w, h);
                camera_cmd::write_png(&path, 2 * w as u32, h as u32, &img)?;
            } else {
                camera_cmd::write_png(&path, w as u32, h as u32, out.image_of(0))?;
            }
            frame += 1;
        }
        Ok(())
    };
    record(&out)?;
    while !out.info[0].race_over {
        let (steer, speed) = driver.act(&track, &car, &out.params[0]);
        actions[0] = Action::Continuous([steer as f32, speed as f32]);
        env.step(&actions, &mut out)?;
        record(&out)?;
        if let Some(t) = &mut trace {
            t.record_step(&out, 0)?;
        }
    }
    if let Some(t) = &mut trace {
        t.flush()?;
    }
    let result = env.race_results()?.remove(0);
    if a.json {
        println!(
            "{}",
            json!({"track": track_name, "laps": result.laps, "completed_laps": result.completed_laps(),
                   "best_lap_s": result.best_lap(), "total_time_s": result.total_time()})
        );
    } else {
        println!("track {track_name}, {} laps, pure-pursuit driver", a.race.laps);
        println!("{}", result.table());
    }
    Ok(())
}

//! `sim camera`: one frame of the car's camera as a PNG.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use slipstream_sim::Scenario;
use slipstream_sim::camera::{self, Camera, CameraConfig, CameraPose, Randomization, SceneObject};
use slipstream_sim::car::CarParams;
use slipstream_sim::math::Vec2;
use slipstream_sim::objects::{self, BotConfig, ObjectState, ObstacleConfig};
use slipstream_sim::params::MAX_OBJECTS;
use slipstream_sim::rng::Rng;
use slipstream_sim::track::{Track, ValidateOptions};

#[derive(Args, Debug)]
pub struct CameraArgs {
    /// A built-in track name or a DeepRacer .npy / .csv track file.
    #[arg(long)]
    pub track: String,
    /// Drive the track the other way round.
    #[arg(long)]
    pub reverse: bool,
    /// Position along the lap, percent from the start line.
    #[arg(long, default_value_t = 0.0, conflicts_with_all = ["x", "y"])]
    pub progress: f64,
    /// Distance left of the centre line, metres (negative: right).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub offset: f64,
    /// Heading relative to the track, degrees (positive: turned left).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub heading_error: f64,
    /// The car's origin in world coordinates, metres (with --y and --heading instead of --progress).
    #[arg(long, requires = "y", allow_hyphen_values = true)]
    pub x: Option<f64>,
    #[arg(long, requires = "x", allow_hyphen_values = true)]
    pub y: Option<f64>,
    /// World heading with --x/--y, degrees from +x.
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub heading: f64,
    /// The stereo pair, side by side (left lens on the left).
    #[arg(long)]
    pub stereo: bool,
    /// Horizontal field of view, degrees (DeepRacer's simulator: 64.74; the physical car: 120).
    #[arg(long)]
    pub fov: Option<f64>,
    /// Image width and height, pixels.
    #[arg(long, default_value_t = 160)]
    pub width: u32,
    #[arg(long, default_value_t = 120)]
    pub height: u32,
    /// Static boxes laid out ahead as in object avoidance (seeded).
    #[arg(long, default_value_t = 0, conflicts_with = "bots")]
    pub obstacles: usize,
    /// Bot cars laid out ahead as in head-to-bot (seeded).
    #[arg(long, default_value_t = 0)]
    pub bots: usize,
    /// Metres kept clear ahead of the car when laying out objects.
    #[arg(long, default_value_t = 0.8)]
    pub clearance: f64,
    /// Seed of the object layout.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output PNG.
    #[arg(long)]
    pub out: PathBuf,
}

/// Write 8-bit grayscale pixels as a PNG.
pub fn write_png(path: &Path, width: u32, height: u32, pixels: &[u8]) -> Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::High);
    let mut w = enc
        .write_header()
        .with_context(|| format!("cannot write {}", path.display()))?;
    w.write_image_data(pixels)
        .with_context(|| format!("cannot write {}", path.display()))?;
    w.finish().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// A stereo image (left then right, each `w × h`) laid side by side.
pub fn side_by_side(img: &[u8], w: usize, h: usize) -> Vec<u8> {
    let mut out = vec![0u8; 2 * w * h];
    for r in 0..h {
        out[r * 2 * w..r * 2 * w + w].copy_from_slice(&img[r * w..(r + 1) * w]);
        out[r * 2 * w + w..(r + 1) * 2 * w].copy_from_slice(&img[w * h + r * w..w * h + (r + 1) * w]);
    }
    out
}

pub fn run(a: CameraArgs) -> Result<()> {
    let mut track = Track::resolve(&a.track, &ValidateOptions::default())?;
    if a.reverse {
        track = track.reversed();
    }
    let mut cfg = CameraConfig {
        width: a.width,
        height: a.height,
        ..CameraConfig::default()
    };
    if let Some(f) = a.fov {
        cfg.fov_deg = f;
    }
    if !a.progress.is_finite() || !(0.0..=100.0).contains(&a.progress) {
        bail!("--progress: expected 0–100 percent, got {}", a.progress);
    }
    let (pose, s) = match (a.x, a.y) {
        (Some(x), Some(y)) => {
            let p = Vec2::new(x, y);
            (CameraPose::new(p, a.heading.to_radians()), track.project_global(p).s)
        }
        _ => {
            let s = a.progress / 100.0 * track.length();
            let (p, seg, _) = track.point_at_s(s, 0);
            let dir = track.seg_dir(seg);
            let h = track.heading_at(seg) + a.heading_error.to_radians();
            (CameraPose::new(p + dir.perp() * a.offset, h), s)
        }
    };
    let track = Arc::new(track);
    let cam = Camera::new(cfg, a.stereo, std::slice::from_ref(&track))?;
    let car = CarParams::default();
    let scenario = if a.obstacles > 0 {
        Scenario::ObjectAvoidance(ObstacleConfig {
            count: a.obstacles,
            start_clearance: a.clearance,
            ..Default::default()
        })
    } else if a.bots > 0 {
        Scenario::HeadToBot(BotConfig {
            count: a.bots,
            start_clearance: a.clearance,
            ..Default::default()
        })
    } else {
        Scenario::TimeTrial {}
    };
    scenario.validate()?;
    let n = scenario.object_count();
    let mut states = [ObjectState::default(); MAX_OBJECTS];
    objects::layout(
        &scenario,
        &track,
        car.length,
        car.width,
        s,
        &mut Rng::new(a.seed),
        &mut states[..n],
    );
    let scene: Vec<SceneObject> = states[..n]
        .iter()
        .map(|o| camera::scene_object(o.obb, a.bots > 0))
        .collect();
    let mut img = vec![0u8; cam.image_len()];
    cam.render(
        0,
        &pose,
        &scene,
        &Randomization::IDENTITY,
        0,
        &mut cam.scratch(),
        &mut img,
    );
    let (w, h) = (a.width as usize, a.height as usize);
    if a.stereo {
        write_png(&a.out, 2 * a.width, a.height, &side_by_side(&img, w, h))?;
    } else {
        write_png(&a.out, a.width, a.height, &img)?;
    }
    println!("{}", a.out.display());
    Ok(())
}

//! `sim replay`: an animated replay (GIF, or MP4 through ffmpeg) of a trace on its track.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use slipstream_sim::plot::replay::{ReplayOptions, ReplayRenderer, Rival, write_replay};

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// The trace: a SIM_TRACE_LOG CSV file (`sim drive --trace`, `trainer evaluate --trace`, `league
    /// trace`, or DeepRacer's own simtrace).
    pub trace: PathBuf,
    /// The track the trace was driven on: a built-in name or a DeepRacer .npy / .csv file.
    #[arg(long)]
    pub track: String,
    /// The track was driven the other way round.
    #[arg(long)]
    pub reverse: bool,
    /// The replay: a .gif file (always), or .mp4 (needs ffmpeg on the PATH).
    #[arg(long)]
    pub out: PathBuf,
    /// Frames per simulated second (15: one per DeepRacer step, in real time).
    #[arg(long, default_value_t = 15.0)]
    pub fps: f64,
    /// Width of the track map, pixels (a 360-pixel panel with the camera view and timer is added).
    #[arg(long, default_value_t = 720)]
    pub width: u32,
    /// Leave out the car's camera view.
    #[arg(long)]
    pub no_camera: bool,
    /// At most this many frames: a longer race is thinned evenly (plays faster than real time).
    #[arg(long)]
    pub max_frames: Option<usize>,
    /// A head-to-head race's other car: its trace (`trainer match --trace-dir`), drawn on the map
    /// in its colour and seen by the camera. Repeat for each; rows go step for step with the
    /// main trace's.
    #[arg(long = "rival", value_name = "TRACE")]
    pub rivals: Vec<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: ReplayArgs) -> Result<()> {
    let (track, rows, name) = crate::plot_cmd::trace_on_track(&a.trace, &a.track, a.reverse)?;
    let title = format!("{} — {name}", track.name());
    let opts = ReplayOptions {
        fps: a.fps,
        map_width: a.width,
        camera: !a.no_camera,
        max_frames: a.max_frames,
        ..ReplayOptions::default()
    };
    let started = Instant::now();
    let mut renderer = ReplayRenderer::new(Arc::new(track), rows, &title, opts)?;
    if !a.rivals.is_empty() {
        let rivals = a
            .rivals
            .iter()
            .map(|p| Rival::from_trace(p).with_context(|| format!("reading {}", p.display())))
            .collect::<Result<Vec<_>>>()?;
        let me = a
            .trace
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        renderer = renderer.with_rivals(&me, rivals);
    }
    let report = write_replay(&a.out, &mut renderer)?;
    let wall = started.elapsed().as_secs_f64();
    if a.json {
        println!(
            "{}",
            json!({"file": a.out, "frames": report.frames, "width": report.width, "height": report.height,
                   "duration_s": report.duration_s, "fps": report.fps, "format": report.format,
                   "bytes": report.bytes, "render_s": wall})
        );
    } else {
        println!(
            "wrote {} ({} frames, {}×{}, {:.1} s of racing at {:.1} frames/s, {:.1} MB) in {wall:.1} s",
            a.out.display(),
            report.frames,
            report.width,
            report.height,
            report.duration_s,
            report.fps,
            report.bytes as f64 / 1e6
        );
    }
    Ok(())
}

//! `sim plot`: PNG figures from a SIM_TRACE_LOG trace on its track.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use serde_json::json;
use slipstream_sim::plot::trace_plots::TracePlot;
use slipstream_sim::trace::{TraceRow, check_on_track, read_trace};
use slipstream_sim::track::{Track, ValidateOptions};

#[derive(Args, Debug)]
pub struct PlotArgs {
    /// The trace: a SIM_TRACE_LOG CSV file (`sim drive --trace`, `trainer evaluate --trace`, a
    /// training run's training-simtrace/N-iteration.csv, or DeepRacer's own simtrace).
    pub trace: PathBuf,
    /// The track the trace was driven on: a built-in name (see `sim track list`) or a DeepRacer
    /// .npy / .csv track file (e.g. one written by `sim track generate`).
    #[arg(long)]
    pub track: String,
    /// The track was driven the other way round (as with `sim drive --reverse`).
    #[arg(long)]
    pub reverse: bool,
    /// A folder for track_map.png, lap_times.png and actions.png, or a file name ending in .png
    /// for one picture with all three.
    #[arg(long)]
    pub out: PathBuf,
    /// Print one JSON object (the files written and what they show) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A trace file and the track it was driven on (`--track`, `--reverse`), checked to belong
/// together; with the trace's file name for titles.
pub fn trace_on_track(trace: &Path, track: &str, reverse: bool) -> Result<(Track, Vec<TraceRow>, String)> {
    let mut track = Track::resolve(track, &ValidateOptions::default())?;
    if reverse {
        track = track.reversed();
    }
    let rows = read_trace(trace)?;
    check_on_track(&track, &rows).map_err(|m| anyhow::anyhow!("{}: {m}", trace.display()))?;
    let name = trace
        .file_name()
        .map_or_else(|| trace.display().to_string(), |n| n.to_string_lossy().into_owned());
    Ok((track, rows, name))
}

pub fn run(a: PlotArgs) -> Result<()> {
    let (track, rows, name) = trace_on_track(&a.trace, &a.track, a.reverse)?;
    let plot = TracePlot::new(&track, &rows, name);
    let files = plot.write(&a.out)?;
    let summary = plot.summary();
    if a.json {
        println!("{}", json!({"files": files, "summary": summary}));
    } else {
        println!(
            "{} on {}: {} rows, {} episode(s), {} completed lap(s){}, {} off-track; line coloured by speed from {}",
            a.trace.display(),
            summary.track,
            summary.rows,
            summary.episodes,
            summary.completed_laps,
            summary
                .best_lap_s
                .map(|b| format!(" (best {b:.2} s)"))
                .unwrap_or_default(),
            summary.off_track,
            summary.speed_from
        );
        for f in &files {
            println!("wrote {}", f.display());
        }
    }
    Ok(())
}

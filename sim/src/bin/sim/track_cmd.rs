//! `sim track …`

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde_json::json;
use slipstream_sim::track::generate::{GenerateRequest, generate};
use slipstream_sim::track::{Track, ValidateOptions, builtin, csv, npy};

#[derive(Subcommand, Debug)]
pub enum TrackCommand {
    /// List the built-in tracks.
    List {
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Validate a track file (.npy or .csv) or built-in track and print its summary.
    Info(InfoArgs),
    /// Generate a random closed track from a seed (same seed, same track) and write it as .npy or .csv.
    Generate(GenerateArgs),
    /// Write a built-in track (or a repaired track file) as a DeepRacer .npy (N×6 float64: centre x, y,
    /// inner x, y, outer x, y; a loop repeats its first row last) or as .csv.
    Export(ExportArgs),
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// A built-in track name (see `sim track list`) or a path to a DeepRacer .npy or a .csv file.
    pub track: String,
    /// Output file: .npy (DeepRacer format) or .csv.
    #[arg(long)]
    pub out: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// A built-in track name (see `sim track list`) or a path to a DeepRacer .npy or a .csv file.
    pub track: String,
    /// Describe the track driven the other way round.
    #[arg(long)]
    pub reverse: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Random seed.
    #[arg(long)]
    pub seed: u64,
    /// Centre-line length in metres (10–200).
    #[arg(long)]
    pub length: f64,
    /// Track width in metres.
    #[arg(long)]
    pub width: f64,
    /// 0 = gentle curves, 1 = many tight bends.
    #[arg(long, default_value_t = 0.5)]
    pub difficulty: f64,
    /// Output file: .npy (DeepRacer format) or .csv.
    #[arg(long)]
    pub out: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: TrackCommand) -> Result<()> {
    match cmd {
        TrackCommand::List { json } => list(json),
        TrackCommand::Info(a) => info(a),
        TrackCommand::Generate(a) => gen_cmd(a),
        TrackCommand::Export(a) => export(a),
    }
}

fn list(json: bool) -> Result<()> {
    let opts = ValidateOptions::default();
    let mut rows = Vec::new();
    for b in builtin::all() {
        let t = b.build(&opts)?;
        rows.push((b, t.info()));
    }
    if json {
        let tracks: Vec<_> = rows
            .iter()
            .map(|(b, i)| {
                let mut v = serde_json::to_value(i).expect("serialisable");
                v["description"] = json!(b.description);
                v["difficulty"] = json!(b.difficulty);
                v
            })
            .collect();
        println!("{}", json!({ "tracks": tracks }));
    } else {
        println!(
            "{:<12} {:<10} {:>9} {:>8} {:<7} {:<18} description",
            "name", "difficulty", "length_m", "width_m", "closed", "direction"
        );
        for (b, i) in rows {
            let dir = i.direction.map_or("-", |d| d.as_str());
            println!(
                "{:<12} {:<10} {:>9.2} {:>8.2} {:<7} {:<18} {}",
                i.name, b.difficulty, i.length_m, i.width_min_m, i.closed, dir, b.description
            );
        }
    }
    Ok(())
}

fn info(a: InfoArgs) -> Result<()> {
    let mut t = Track::resolve(&a.track, &ValidateOptions::default())?;
    if a.reverse {
        t = t.reversed();
    }
    let i = t.info();
    if a.json {
        println!("{}", serde_json::to_string(&i)?);
    } else {
        println!("name          {}", i.name);
        println!("waypoints     {}", i.waypoints);
        println!("length_m      {:.3}", i.length_m);
        println!("width_min_m   {:.3}", i.width_min_m);
        println!("width_mean_m  {:.3}", i.width_mean_m);
        println!("closed        {}", i.closed);
        println!("direction     {}", i.direction.map_or("-", |d| d.as_str()));
        if i.warnings.is_empty() {
            println!("warnings      none");
        } else {
            println!(
                "warnings      {} (repaired or accepted, as DeepRacer races it)",
                i.warnings.len()
            );
            for w in &i.warnings {
                println!("  {}  {w}", w.kind());
            }
        }
    }
    Ok(())
}

/// The extension of an output track file: `npy` or `csv`.
fn out_format(out: &std::path::Path) -> Result<String> {
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext != "npy" && ext != "csv" {
        bail!("--out {}: expected a .npy or .csv file name", out.display());
    }
    Ok(ext)
}

/// Write `t`'s rows to `out` as .npy or .csv.
fn write_track(t: &Track, out: &std::path::Path, ext: &str) -> Result<()> {
    let rows = t.rows();
    if ext == "npy" {
        npy::write_track_rows(out, &rows).with_context(|| format!("cannot write {}", out.display()))
    } else {
        std::fs::write(out, csv::to_string(&rows)).with_context(|| format!("cannot write {}", out.display()))
    }
}

fn export(a: ExportArgs) -> Result<()> {
    let ext = out_format(&a.out)?;
    let t = Track::resolve(&a.track, &ValidateOptions::default())?;
    write_and_report(&t, &a.out, &ext, a.json, json!({}))
}

/// Write `t` to `out` and say so: one line for people, or the track's info (and `extra`) as JSON.
fn write_and_report(
    t: &Track,
    out: &std::path::Path,
    ext: &str,
    as_json: bool,
    extra: serde_json::Value,
) -> Result<()> {
    write_track(t, out, ext)?;
    let i = t.info();
    if as_json {
        let mut v = serde_json::to_value(&i)?;
        v["file"] = json!(out.display().to_string());
        if let (Some(v), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
            v.extend(extra.clone());
        }
        println!("{v}");
    } else {
        println!(
            "wrote {} ({} waypoints, {:.2} m long, {:.2} m wide, {})",
            out.display(),
            i.waypoints,
            i.length_m,
            i.width_min_m,
            i.direction.map_or("-", |d| d.as_str())
        );
    }
    Ok(())
}

fn gen_cmd(a: GenerateArgs) -> Result<()> {
    let ext = out_format(&a.out)?;
    let req = GenerateRequest {
        seed: a.seed,
        length: a.length,
        width: a.width,
        difficulty: a.difficulty,
    };
    let t = generate(&req, &ValidateOptions::default())?;
    write_and_report(&t, &a.out, &ext, a.json, json!({ "seed": a.seed }))
}

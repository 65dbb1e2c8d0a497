//! `trainer match`: several models race each other on one track (the simulator's head-to-head
//! group): places, and each car's laps.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use slipstream_sim::race_args::RaceArgs;
use slipstream_trainer::{DeviceChoice, EvalOptions, Model, TraceTo, race_match};

#[derive(Args, Debug)]
pub struct MatchArgs {
    /// A model (.safetensors); repeat for each car, in grid order: the first starts at the line,
    /// each next one 0.75 m further back on the other lane. 2–17 models sharing a sensor and car
    /// settings (each keeps its own action space).
    #[arg(long = "model", required = true)]
    models: Vec<PathBuf>,
    /// The track (closed).
    #[command(flatten)]
    on: crate::RaceTrack,
    /// The race's rules (laps are driven continuously in a head-to-head race).
    #[command(flatten)]
    race: RaceArgs,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write each car's per-step trace (DeepRacer SIM_TRACE_LOG CSV) as DIR/car-1.csv, DIR/car-2.csv, …
    #[arg(long, value_name = "DIR")]
    trace_dir: Option<PathBuf>,
    /// Where the policies run: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(a: MatchArgs) -> Result<()> {
    let device = a.device.parse::<DeviceChoice>()?.resolve()?;
    let models = a
        .models
        .iter()
        .map(|p| Model::load(p, device).with_context(|| format!("loading {}", p.display())))
        .collect::<Result<Vec<_>>>()?;
    let track = a.on.load()?;
    let traces: Vec<PathBuf> = match &a.trace_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            (1..=models.len()).map(|i| dir.join(format!("car-{i}.csv"))).collect()
        }
        None => vec![],
    };
    let opts = EvalOptions {
        race: a.race.config(),
        seed: a.seed,
        ..Default::default()
    };
    let cars: Vec<&Model> = models.iter().collect();
    let trace_to: Vec<TraceTo> = traces.iter().cloned().map(TraceTo::File).collect();
    let report = race_match(&cars, Arc::new(track), &a.on.track, &opts, &trace_to)?;
    let mut order: Vec<usize> = (0..cars.len()).collect();
    order.sort_by_key(|&i| (report.places[i], i));
    if a.json {
        let seats: Vec<_> = (0..cars.len())
            .map(|i| {
                let r = &report.seats[i];
                json!({
                    "model": a.models[i].display().to_string(), "grid": i + 1, "place": report.places[i],
                    "laps": r.laps, "completed_laps": r.completed_laps, "total_time_s": r.total_time_s,
                    "off_track": r.off_track, "collisions": r.collisions,
                    "trace": traces.get(i).map(|p| p.display().to_string()),
                })
            })
            .collect();
        println!(
            "{}",
            json!({"track": a.on.track, "steps": report.steps, "seats": seats})
        );
    } else {
        println!(
            "head-to-head on {}, {} laps, {} cars",
            a.on.track,
            a.race.laps,
            cars.len()
        );
        println!(
            "{:>5} {:>4}  {:<40} {:>5} {:>10} {:>9} {:>10}",
            "place", "grid", "model", "laps", "time", "off-track", "collisions"
        );
        for &i in &order {
            let r = &report.seats[i];
            println!(
                "{:>5} {:>4}  {:<40} {:>5} {:>10.3} {:>9} {:>10}",
                report.places[i],
                i + 1,
                a.models[i].display().to_string(),
                r.completed_laps,
                r.laps.iter().filter(|l| l.completed).map(|l| l.time_s).sum::<f64>(),
                r.off_track,
                r.collisions
            );
        }
        for &i in &order {
            println!(
                "\ncar {} ({}):\n{}",
                i + 1,
                a.models[i].display(),
                report.seats[i].table()
            );
        }
        if let Some(d) = &a.trace_dir {
            println!("\ntraces: {}/car-N.csv", d.display());
        }
    }
    Ok(())
}

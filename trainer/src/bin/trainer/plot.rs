//! `trainer plot`: PNG charts of a run's `metrics.csv`, in the spirit of DeepRacer's reward graph.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;
use serde_json::json;
use slipstream_sim::plot::chart::{LineChart, Mark, PALETTE, Series};
use slipstream_sim::plot::write_png;
use slipstream_trainer::checkpoint::EVAL_LAPS;
use slipstream_trainer::metrics::{IterationMetrics, read_metrics};

#[derive(Args, Debug)]
pub struct PlotArgs {
    /// The run's folder (a `trainer train --out` folder, with its metrics.csv).
    pub run: PathBuf,
    /// Where to write the PNGs (created if missing). Default: RUN/plots.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print one JSON object listing the files written.
    #[arg(long)]
    pub json: bool,
}

/// A chart and the file it is written to.
pub struct Figure {
    pub file: &'static str,
    pub chart: LineChart,
}

/// The x axis: environment steps, or wall-clock time.
#[derive(Clone, Copy)]
enum X {
    Steps,
    Time,
}

impl X {
    fn label(self, rows: &[IterationMetrics]) -> &'static str {
        match self {
            X::Steps => "environment steps (car-steps)",
            X::Time if minutes(rows) => "wall-clock time (min)",
            X::Time => "wall-clock time (s)",
        }
    }
    fn of(self, m: &IterationMetrics, rows: &[IterationMetrics]) -> f64 {
        match self {
            X::Steps => m.env_steps as f64,
            X::Time if minutes(rows) => m.wall_s / 60.0,
            X::Time => m.wall_s,
        }
    }
}

/// Wall time reads in minutes once a run is longer than 3 minutes.
fn minutes(rows: &[IterationMetrics]) -> bool {
    rows.last().is_some_and(|m| m.wall_s > 180.0)
}

/// A value of every iteration; an iteration without one (no episode ended) is a gap in the line.
fn series(
    rows: &[IterationMetrics],
    x: X,
    label: &str,
    colour: usize,
    mark: Mark,
    y: impl Fn(&IterationMetrics) -> Option<f64>,
) -> Series {
    let points = rows.iter().map(|m| (x.of(m, rows), y(m).unwrap_or(f64::NAN))).collect();
    Series::new(label, PALETTE[colour], mark, points)
}

/// A value of the iterations that have one (evaluations, every `eval_every` iterations), joined up.
fn sparse(
    rows: &[IterationMetrics],
    x: X,
    label: &str,
    colour: usize,
    mark: Mark,
    y: impl Fn(&IterationMetrics) -> Option<f64>,
) -> Series {
    let points = rows.iter().filter_map(|m| Some((x.of(m, rows), y(m)?))).collect();
    Series::new(label, PALETTE[colour], mark, points)
}

/// Line, plus dots when there are few points (so that one iteration still shows).
fn line_mark(rows: &[IterationMetrics]) -> Mark {
    if rows.len() <= 40 {
        Mark::LineAndPoints
    } else {
        Mark::Line
    }
}

fn mean_return(rows: &[IterationMetrics], x: X) -> LineChart {
    let mut c = LineChart::new(
        "Mean episode return (training)",
        x.label(rows),
        "return (sum of rewards per episode)",
    )
    .with(series(rows, x, "", 2, line_mark(rows), |m| m.mean_return));
    c.y_from_zero = true;
    c
}

fn best_lap(rows: &[IterationMetrics], x: X) -> LineChart {
    LineChart::new(
        format!("Best lap time in the {EVAL_LAPS}-lap evaluation races"),
        x.label(rows),
        "best lap (s)",
    )
    .with(sparse(rows, x, "evaluation", 0, Mark::LineAndPoints, |m| {
        m.eval_best_lap_s
    }))
    .with(sparse(rows, x, "new model_best", 1, Mark::Points, |m| {
        m.eval_best_lap_s.filter(|_| m.best_so_far)
    }))
}

/// The charts of a run, each with its file name.
pub fn figures(rows: &[IterationMetrics]) -> Vec<Figure> {
    let s = X::Steps;
    let mark = line_mark(rows);
    let mut progress = LineChart::new(
        "Mean progress per episode (training)",
        s.label(rows),
        "progress (% of a lap)",
    )
    .with(series(rows, s, "", 0, mark, |m| m.mean_progress));
    progress.y_from_zero = true;
    let mut laps = LineChart::new("Lap completion", s.label(rows), "completed laps (%)")
        .with(series(rows, s, "training: laps per finished episode", 0, mark, |m| {
            m.lap_completion_rate.map(|r| 100.0 * r)
        }))
        .with(sparse(
            rows,
            s,
            "evaluation: laps of the race",
            1,
            Mark::LineAndPoints,
            |m| m.eval_completed_laps.map(|l| 100.0 * l as f64 / f64::from(EVAL_LAPS)),
        ));
    laps.y_from_zero = true;
    let entropy =
        LineChart::new("Policy entropy", s.label(rows), "entropy (nats)")
            .with(series(rows, s, "", 4, mark, |m| Some(m.entropy)));
    let kl = LineChart::new("Approximate KL divergence of each update", s.label(rows), "KL (nats)").with(series(
        rows,
        s,
        "",
        4,
        mark,
        |m| Some(m.approx_kl),
    ));
    let value_loss = LineChart::new("Value loss", s.label(rows), "value loss (squared error)").with(series(
        rows,
        s,
        "",
        5,
        mark,
        |m| Some(m.value_loss),
    ));
    let mut lr =
        LineChart::new("Learning rate", s.label(rows), "learning rate")
            .with(series(rows, s, "", 3, mark, |m| Some(m.lr)));
    lr.y_from_zero = true;
    let mut speed = LineChart::new("Training speed", s.label(rows), "environment steps per second").with(series(
        rows,
        s,
        "",
        3,
        mark,
        |m| Some(m.steps_per_s),
    ));
    speed.y_from_zero = true;
    vec![
        Figure {
            file: "return.png",
            chart: mean_return(rows, s),
        },
        Figure {
            file: "progress.png",
            chart: progress,
        },
        Figure {
            file: "lap_completion.png",
            chart: laps,
        },
        Figure {
            file: "eval_best_lap.png",
            chart: best_lap(rows, s),
        },
        Figure {
            file: "entropy.png",
            chart: entropy,
        },
        Figure {
            file: "kl.png",
            chart: kl,
        },
        Figure {
            file: "value_loss.png",
            chart: value_loss,
        },
        Figure {
            file: "learning_rate.png",
            chart: lr,
        },
        Figure {
            file: "steps_per_s.png",
            chart: speed,
        },
        Figure {
            file: "return_vs_time.png",
            chart: mean_return(rows, X::Time),
        },
        Figure {
            file: "eval_best_lap_vs_time.png",
            chart: best_lap(rows, X::Time),
        },
    ]
}

/// The overview: the charts against steps on one page.
pub const OVERVIEW: &str = "overview.png";

/// Write every chart and the overview into `out`; returns the files written.
pub fn write(rows: &[IterationMetrics], out: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).map_err(|e| anyhow::anyhow!("{}: cannot create folder: {e}", out.display()))?;
    let figures = figures(rows);
    let mut files = Vec::new();
    for f in &figures {
        let path = out.join(f.file);
        write_png(&path, (1200, 700), |a| f.chart.draw(a))?;
        files.push(path);
    }
    let path = out.join(OVERVIEW);
    let grid: Vec<&Figure> = figures.iter().take(9).collect();
    write_png(&path, (2400, 1500), |root| {
        for (f, area) in grid.iter().zip(root.split_evenly((3, 3))) {
            f.chart.draw(&area)?;
        }
        Ok(())
    })?;
    files.push(path);
    Ok(files)
}

pub fn run(a: PlotArgs) -> Result<()> {
    let csv = a.run.join("metrics.csv");
    if !csv.is_file() {
        bail!(
            "{}: no metrics.csv in this folder (a `trainer train --out` folder has one after its first iteration)",
            a.run.display()
        );
    }
    let rows = read_metrics(&csv)?;
    if rows.is_empty() {
        bail!("{}: no iterations yet (only the header)", csv.display());
    }
    let out = a.out.clone().unwrap_or_else(|| a.run.join("plots"));
    let files = write(&rows, &out)?;
    let last = rows.last().expect("not empty");
    if a.json {
        println!(
            "{}",
            json!({"run": a.run, "iterations": rows.len(), "env_steps": last.env_steps, "wall_s": last.wall_s, "files": files})
        );
    } else {
        println!(
            "{}: {} iterations, {} environment steps, {:.0} s of training",
            a.run.display(),
            rows.len(),
            last.env_steps,
            last.wall_s
        );
        for f in &files {
            println!("wrote {}", f.display());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chart_has_a_title_axes_and_the_runs_values() {
        let rows: Vec<IterationMetrics> = (1..=5)
            .map(|i| IterationMetrics {
                iteration: i,
                env_steps: i * 1000,
                wall_s: i as f64 * 100.0,
                mean_return: Some(i as f64),
                eval_best_lap_s: (i % 2 == 0).then_some(20.0 - i as f64),
                best_so_far: i == 4,
                ..Default::default()
            })
            .collect();
        let figs = figures(&rows);
        assert_eq!(figs.len(), 11);
        let mut files: Vec<&str> = figs.iter().map(|f| f.file).collect();
        files.sort_unstable();
        files.dedup();
        assert_eq!(files.len(), 11, "file names are unique");
        for f in &figs {
            assert!(
                !f.chart.title.is_empty() && f.chart.x_label.contains('(') && f.chart.y_label.len() > 3,
                "{}",
                f.file
            );
        }
        let ret = &figs[0].chart.series[0].points;
        assert_eq!(ret[2], (3000.0, 3.0));
        let lap = &figs.iter().find(|f| f.file == "eval_best_lap.png").unwrap().chart;
        assert_eq!(lap.series[0].points, vec![(2000.0, 18.0), (4000.0, 16.0)]);
        assert_eq!(lap.series[1].points, vec![(4000.0, 16.0)]);
        // An iteration where no episode ended is a gap in the training lines.
        let progress = &figs.iter().find(|f| f.file == "progress.png").unwrap().chart;
        assert!(progress.series[0].points.iter().all(|p| p.1.is_nan()) && progress.series[0].points.len() == 5);
        // Over 3 minutes of training, time reads in minutes.
        let t = &figs.iter().find(|f| f.file == "return_vs_time.png").unwrap().chart;
        assert_eq!(t.x_label, "wall-clock time (min)");
        assert_eq!(t.series[0].points[2].0, 5.0);
    }
}

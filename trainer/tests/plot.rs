//! `trainer plot`, black-box: a run's metrics.csv (written by the trainer's own `MetricsLog`) as
//! PNG charts — one file per chart plus the overview, each with its series drawn in the plot area.

use std::path::Path;
use std::process::{Command, Output};

use slipstream_trainer::metrics::{IterationMetrics, MetricsLog};

fn trainer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .output()
        .expect("the trainer binary runs")
}

fn ok_json(args: &[&str]) -> serde_json::Value {
    let out = trainer(args);
    assert!(
        out.status.success(),
        "trainer {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn fails_with(args: &[&str], needle: &str) {
    let out = trainer(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "trainer {args:?} should fail");
    assert!(
        err.contains(needle),
        "trainer {args:?}: stderr does not mention {needle:?}: {err}"
    );
    assert!(!err.contains("panicked"), "trainer {args:?} panicked: {err}");
}

/// A run of `n` iterations; evaluations every 5th when `eval`.
fn write_run(dir: &Path, n: u64, eval: bool) {
    let mut log = MetricsLog::open(dir).unwrap();
    for i in 1..=n {
        let f = i as f64 / n as f64;
        log.record(&IterationMetrics {
            iteration: i,
            env_steps: i * 16_384,
            run_steps: i * 16_384,
            episodes: i * 40,
            wall_s: i as f64 * 0.25,
            steps_per_s: 60_000.0 + 1000.0 * (i % 7) as f64,
            mean_reward: f,
            episodes_ended: 40,
            mean_return: Some(150.0 * f),
            mean_progress: Some(100.0 * f),
            lap_completion_rate: Some(f * f),
            mean_episode_steps: Some(200.0),
            policy_loss: -0.01,
            value_loss: 20.0 * (1.0 - f) + 1.0,
            entropy: 1.8 - 0.3 * f,
            approx_kl: 0.004 * (1.0 - f) + 0.001,
            clip_fraction: 0.05,
            explained_variance: Some(0.5),
            lr: 3e-4 * (1.0 - f).max(0.02),
            eval_completed_laps: (eval && i % 5 == 0).then_some(3),
            eval_clean_laps: (eval && i % 5 == 0).then_some(3),
            eval_best_lap_s: (eval && i % 5 == 0).then_some(25.0 - 10.0 * f),
            eval_total_s: (eval && i % 5 == 0).then_some(75.0 - 30.0 * f),
            best_so_far: eval && i % 10 == 0,
        })
        .unwrap();
    }
}

/// Pixels of a saturated colour (a series' line or dots, not text, grid or background) in the
/// middle of the picture, where the plot area is.
fn coloured_in_plot_area(path: &Path) -> usize {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let (w, h) = (info.width as usize, info.height as usize);
    let mut n = 0;
    for y in h * 12 / 100..h * 85 / 100 {
        for x in w * 15 / 100..w * 95 / 100 {
            let p = &buf[(y * w + x) * 3..(y * w + x) * 3 + 3];
            let (lo, hi) = (p.iter().min().unwrap(), p.iter().max().unwrap());
            if hi - lo > 60 {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn every_chart_of_a_run_is_a_png_with_its_data_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    std::fs::create_dir(&run).unwrap();
    write_run(&run, 60, true);
    let report = ok_json(&["plot", run.to_str().unwrap(), "--json"]);
    assert_eq!(report["iterations"], 60);
    let files: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 12, "{report}");
    let written = std::fs::read_dir(run.join("plots")).unwrap().count();
    assert_eq!(
        written, 12,
        "one PNG per chart and the overview, in RUN/plots by default"
    );
    for f in &files {
        assert!(
            Path::new(f).starts_with(run.join("plots")) && f.ends_with(".png"),
            "{f}"
        );
        let ink = coloured_in_plot_area(Path::new(f));
        assert!(ink > 500, "{f}: {ink} coloured pixels in the plot area");
    }
    // --out elsewhere; text output lists the paths.
    let out = dir.path().join("charts");
    let text = trainer(&["plot", run.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("60 iterations"), "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("wrote ")).count(), 12, "{text}");
    assert!(out.join("overview.png").is_file() && out.join("eval_best_lap.png").is_file());
}

#[test]
fn a_run_without_evaluations_gets_an_empty_lap_time_chart_and_bad_runs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    std::fs::create_dir(&run).unwrap();
    let r = run.to_str().unwrap();
    fails_with(&["plot", r], "no metrics.csv");
    write_run(&run, 3, false);
    ok_json(&["plot", r, "--json"]);
    let plots = run.join("plots");
    assert_eq!(
        coloured_in_plot_area(&plots.join("eval_best_lap.png")),
        0,
        "no evaluation, no line"
    );
    assert!(coloured_in_plot_area(&plots.join("return.png")) > 100);
    let header = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    std::fs::write(run.join("metrics.csv"), header.lines().next().unwrap()).unwrap();
    fails_with(&["plot", r], "no iterations yet");
    std::fs::write(
        run.join("metrics.csv"),
        format!("{}\n1,2,x\n", header.lines().next().unwrap()),
    )
    .unwrap();
    fails_with(&["plot", r], "metrics.csv");
}

//! DeepRacer's own log-analysis library reads a training run's folder unchanged: deepracer-utils
//! (installed once by `scripts/deepracer-utils` into a cache folder outside the checkout) loads the
//! training simtrace with `DeepRacerLog` as a local (DeepRacer-for-Cloud) training and the metrics
//! with `TrainingMetrics`, and what it aggregates per iteration is what our `metrics.csv` says.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use slipstream_sim::EpisodeConfig;
use slipstream_trainer::metrics::IterationMetrics;
use slipstream_trainer::{Budget, DeviceChoice, TrainConfig, TrainOptions, train};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python with deepracer-utils that `scripts/deepracer-utils` provides (installing it once).
fn deepracer_python() -> String {
    let out = Command::new("bash")
        .arg(repo().join("scripts/deepracer-utils"))
        .output()
        .expect("running scripts/deepracer-utils");
    assert!(
        out.status.success(),
        "scripts/deepracer-utils failed (it installs deepracer-utils from PyPI on first use):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Loads the run with deepracer-utils as a student's notebook would and prints what it sees.
const SNIPPET: &str = r#"
import contextlib, io, json, sys
from deepracer.logs import AnalysisUtils, DeepRacerLog, TrainingMetrics

run = sys.argv[1]
quiet = io.StringIO()
with contextlib.redirect_stdout(quiet):
    log = DeepRacerLog(run)
    folder_type = log.fh.type.name
    log.load_training_trace()
    df = log.dataframe()
    agg = AnalysisUtils.simulation_agg(df)
    tm = TrainingMetrics(None, fname=run + "/metrics/TrainingMetrics.json")
    summary = tm.getSummary(method="mean", summary_index=["iteration"])
train = tm.getTraining()
# simulation_agg's progress is an episode's largest; metrics.csv has the last (where it ended).
last = df.groupby(["iteration", "episode"])["progress"].last().groupby("iteration").mean()
print(json.dumps({
    "folder_type": folder_type,
    "hyperparameters": log.hyperparameters(),
    "action_space": log.action_space(),
    "agent_and_network": log.agent_and_network(),
    "rows": len(df),
    "simtrace": [
        {"iteration": int(it), "episodes": len(g), "reward": float(g["reward"].mean()),
         "progress": float(g["progress"].mean()), "last_progress": float(last[it]),
         "steps": float(g["steps"].mean())}
        for it, g in agg.groupby("iteration")
    ],
    "metrics_episodes": len(train),
    "metrics": [
        {"iteration": int(it), "episodes": int(r["train_episodes"]),
         "reward": float(r["train_reward"]), "completion": float(r["train_completion"])}
        for it, r in summary.iterrows()
    ],
}))
"#;

fn read_metrics_csv(dir: &Path) -> Vec<IterationMetrics> {
    let mut r = csv::Reader::from_path(dir.join("metrics.csv")).unwrap();
    r.deserialize().map(|row| row.unwrap()).collect()
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-6 * (1.0 + b.abs()),
        "{what}: deepracer-utils {a}, ours {b}"
    );
}

#[test]
fn deepracer_utils_reads_a_training_run() {
    let python = deepracer_python();
    let dir = tempfile::tempdir().unwrap();
    let cars = 8;
    let config = TrainConfig {
        num_cars: cars,
        rollout_steps: 64,
        batch_size: 256,
        eval_every: 0,
        simtrace_cars: cars,
        // Short episodes: several end in every iteration, a different number each time.
        episode: EpisodeConfig {
            max_steps: 40,
            ..Default::default()
        },
        ..Default::default()
    };
    let iterations = 5;
    train(
        TrainOptions {
            config,
            tracks: vec!["oval".into()],
            reward: "progress_speed".into(),
            budget: Budget::Steps(iterations * cars as u64 * 64),
            seed: 5,
            device: DeviceChoice::Cpu,
            out_dir: dir.path().to_path_buf(),
            init_from: None,
            resume: false,
        },
        &mut |_| {},
    )
    .unwrap();
    let ours = read_metrics_csv(dir.path());
    assert_eq!(ours.len(), iterations as usize);

    let out = Command::new(&python)
        .arg("-c")
        .arg(SNIPPET)
        .arg(dir.path())
        .output()
        .expect("running deepracer-utils' Python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "deepracer-utils failed:\n{stderr}\n{stdout}");
    let r: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("the snippet's report is not JSON ({e}):\n{stdout}\n{stderr}"));

    assert_eq!(r["folder_type"], "DRFC_MODEL_SINGLE_WORKERS", "{r}");
    assert_eq!(r["hyperparameters"]["batch_size"], 256, "{r}");
    assert_eq!(r["hyperparameters"]["num_epochs"], 4, "{r}");
    assert!(r["action_space"]["steering_angle"].is_object(), "{r}");
    assert_eq!(
        r["agent_and_network"]["sensor_list"],
        serde_json::json!(["STATE"]),
        "{r}"
    );

    // Every episode that ended, in the iteration where it ended (DeepRacer counts from 0).
    let ended: u64 = ours.iter().map(|m| m.episodes_ended).sum();
    assert!(ended > iterations, "short episodes end often: {ended}");
    assert_eq!(r["metrics_episodes"], ended, "{r}");
    let simtrace = r["simtrace"].as_array().unwrap();
    let metrics = r["metrics"].as_array().unwrap();
    let with_episodes: Vec<&IterationMetrics> = ours.iter().filter(|m| m.episodes_ended > 0).collect();
    assert_eq!(simtrace.len(), with_episodes.len(), "{r}");
    assert_eq!(metrics.len(), with_episodes.len(), "{r}");
    let counts: Vec<u64> = with_episodes.iter().map(|m| m.episodes_ended).collect();
    assert!(
        counts.iter().any(|&c| c != counts[0]),
        "iterations differ in episodes: {counts:?}"
    );
    let mut rows = 0.0;
    for ((m, s), t) in with_episodes.iter().zip(simtrace).zip(metrics) {
        let it = m.iteration - 1;
        assert_eq!(s["iteration"], it, "{r}");
        assert_eq!(t["iteration"], it, "{r}");
        assert_eq!(s["episodes"], m.episodes_ended, "iteration {it}: {r}");
        assert_eq!(t["episodes"], m.episodes_ended, "iteration {it}: {r}");
        let what = |x: &str| format!("iteration {it} {x}");
        close(
            s["reward"].as_f64().unwrap(),
            m.mean_return.unwrap(),
            &what("simtrace reward"),
        );
        close(
            t["reward"].as_f64().unwrap(),
            m.mean_return.unwrap(),
            &what("metrics reward"),
        );
        let progress = m.mean_progress.unwrap();
        close(
            s["last_progress"].as_f64().unwrap(),
            progress,
            &what("simtrace progress"),
        );
        let largest = s["progress"].as_f64().unwrap();
        assert!(largest >= progress - 1e-9, "{}: {r}", what("largest progress"));
        close(
            t["completion"].as_f64().unwrap(),
            m.mean_progress.unwrap(),
            &what("metrics completion"),
        );
        // deepracer-utils counts an episode's steps with its prepare row, we count actions.
        let steps = s["steps"].as_f64().unwrap();
        close(steps - 1.0, m.mean_episode_steps.unwrap(), &what("steps"));
        rows += steps * m.episodes_ended as f64;
    }
    assert_eq!(r["rows"].as_f64().unwrap(), rows.round(), "{r}");
}

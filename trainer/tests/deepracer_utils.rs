//! DeepRacer's own log-analysis library reads a training run's folder unchanged: deepracer-utils
//! (installed once by `scripts/deepracer-utils` into a cache folder outside the checkout) loads the
//! training simtrace with `DeepRacerLog` as a local (DeepRacer-for-Cloud) training and the metrics
//! with `TrainingMetrics`, and what it aggregates per iteration is what our `metrics.csv` says; and it
//! loads a model's races (evaluation traces) and aggregates them into our laps: one episode per
//! trial or lap, its completion, time and incidents.

use std::path::{Path, PathBuf};
use std::process::Command;

use std::sync::Arc;

use serde_json::Value;
use slipstream_sim::{EpisodeConfig, RaceConfig, Track};
use slipstream_trainer::metrics::IterationMetrics;
use slipstream_trainer::reward::RewardSource;
use slipstream_trainer::{
    Budget, DeviceChoice, EvalOptions, Model, TrainConfig, TrainOptions, deepracer_logs, evaluate, train,
};

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
    # Per episode, as a notebook groups a run's episodes (deepracer-utils' own unique_episode).
    per_episode = AnalysisUtils.simulation_agg(df, secondgroup="unique_episode")
    episode_of = df.groupby("unique_episode")["episode"].agg(["min", "max"])
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
    "episodes": [
        {"unique_episode": int(r["unique_episode"]), "iteration": int(r["iteration"]),
         "episodes": [int(episode_of.loc[r["unique_episode"], "min"]), int(episode_of.loc[r["unique_episode"], "max"])],
         "time": float(r["time"]), "dist": float(r["dist"])}
        for _, r in per_episode.iterrows()
    ],
    "metrics_episodes": len(train),
    "metrics": [
        {"iteration": int(it), "episodes": int(r["train_episodes"]),
         "reward": float(r["train_reward"]), "completion": float(r["train_completion"])}
        for it, r in summary.iterrows()
    ],
}))
"#;

/// Run a Python snippet (with deepracer-utils) on a run folder; its one JSON report.
fn run_snippet(python: &str, snippet: &str, run: &Path) -> Value {
    let out = Command::new(python)
        .arg("-c")
        .arg(snippet)
        .arg(run)
        .output()
        .expect("running deepracer-utils' Python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "deepracer-utils failed:\n{stderr}\n{stdout}");
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("the snippet's report is not JSON ({e}):\n{stdout}\n{stderr}"))
}

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

/// Torch's random generator is the process's: a test training a model holds this, so another
/// test's draws cannot change its run (the iterations' episode counts it checks).
static TORCH: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn deepracer_utils_reads_a_training_run() {
    let _torch = TORCH.lock().unwrap_or_else(|e| e.into_inner());
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
            show_reward_prints: false,
        },
        &mut |_| {},
    )
    .unwrap();
    let ours = read_metrics_csv(dir.path());
    assert_eq!(ours.len(), iterations as usize);

    let r = run_snippet(&python, SNIPPET, dir.path());

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

    // Every episode's time and distance, as deepracer-utils computes them per unique_episode, are
    // the trace's own: one episode per unique_episode (none shares its rows with another).
    let traced = traced_episodes(dir.path());
    let theirs = r["episodes"].as_array().unwrap();
    assert_eq!(theirs.len(), traced.len(), "one unique_episode per episode: {r}");
    for e in theirs {
        let (lo, hi) = (e["episodes"][0].as_u64().unwrap(), e["episodes"][1].as_u64().unwrap());
        assert_eq!(
            lo, hi,
            "unique_episode {} mixes episodes {lo} and {hi}",
            e["unique_episode"]
        );
        let it = e["iteration"].as_u64().unwrap();
        let (time, dist) = traced[&(it, lo)];
        let what = format!("iteration {it} episode {lo}");
        assert!(
            (e["time"].as_f64().unwrap() - time).abs() < 1e-6,
            "{what}: time {e} vs {time}"
        );
        assert!(
            (e["dist"].as_f64().unwrap() - dist).abs() < 1e-6,
            "{what}: dist {e} vs {dist}"
        );
        assert!(time > 0.0 && dist >= 0.0, "{what}: {time} s, {dist} m");
    }
}

/// Each episode of a run's training simtrace files, by (iteration, episode): the time from its
/// prepare row to its last row and the distance driven between its consecutive rows.
fn traced_episodes(run: &Path) -> std::collections::HashMap<(u64, u64), (f64, f64)> {
    let mut out = std::collections::HashMap::new();
    let folder = run.join("training-simtrace");
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let iteration: u64 = name.trim_end_matches("-iteration.csv").parse().unwrap();
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let mut last: Option<(u64, f64, f64, f64)> = None;
        for row in reader.records() {
            let row = row.unwrap();
            let (episode, x, y, t): (u64, f64, f64, f64) = (
                row[0].parse().unwrap(),
                row[2].parse().unwrap(),
                row[3].parse().unwrap(),
                row[14].parse().unwrap(),
            );
            let e = out.entry((iteration, episode)).or_insert((0.0, 0.0));
            match last {
                Some((ep, lx, ly, lt)) if ep == episode => {
                    e.0 += t - lt;
                    e.1 += ((x - lx).powi(2) + (y - ly).powi(2)).sqrt();
                }
                _ => assert_eq!(
                    &row[15], "prepare",
                    "{name}: episode {episode} starts with its prepare row"
                ),
            }
            last = Some((episode, x, y, t));
        }
    }
    out
}

/// Loads a run's evaluation traces with deepracer-utils and prints its per-episode aggregation.
const RACE_SNIPPET: &str = r#"
import contextlib, io, json, sys
from deepracer.logs import AnalysisUtils, DeepRacerLog

run = sys.argv[1]
with contextlib.redirect_stdout(io.StringIO()):
    log = DeepRacerLog(run)
    log.load_evaluation_trace()
    df = log.dataframe()
    agg = AnalysisUtils.simulation_agg(df, firstgroup="stream", is_eval=True)
print(json.dumps({
    "folder_type": log.fh.type.name,
    "episodes": [
        {"stream": str(r["stream"]), "episode": int(r["episode"]), "progress": float(r["progress"]),
         "time": float(r["time"]), "off_track": int(r["off_track"]), "crashed": int(r["crashed"])}
        for _, r in agg.sort_values(["stream", "episode"]).iterrows()
    ],
}))
"#;

/// The rows of a trace: (status, reward, pause_duration).
fn trace_rows(path: &Path) -> Vec<(String, f64, f64)> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|row| {
            let row = row.unwrap();
            (row[15].to_string(), row[8].parse().unwrap(), row[16].parse().unwrap())
        })
        .collect()
}

#[test]
fn deepracer_utils_aggregates_a_race_into_our_laps() {
    let _torch = TORCH.lock().unwrap_or_else(|e| e.into_inner());
    let python = deepracer_python();
    let dir = tempfile::tempdir().unwrap();
    // A model trained briefly: every trial ends off the track, and with resets it laps (with
    // off-tracks).
    train(
        TrainOptions {
            config: TrainConfig {
                eval_every: 0,
                ..Default::default()
            },
            tracks: vec!["oval".into()],
            reward: "progress_speed".into(),
            budget: Budget::Steps(10_000),
            seed: 3,
            device: DeviceChoice::Cpu,
            out_dir: dir.path().to_path_buf(),
            init_from: None,
            resume: false,
            show_reward_prints: false,
        },
        &mut |_| {},
    )
    .unwrap();
    let model = Model::load(&dir.path().join("model_last.safetensors"), tch::Device::Cpu).unwrap();
    let track = Arc::new(Track::resolve("oval", &Default::default()).unwrap());
    // Two races as `trainer evaluate --deepracer-log` writes them: DeepRacer's default trials,
    // and continuous laps where every incident holds the car.
    let races = [
        ("20261202000001", RaceConfig::default()),
        (
            "20261202000002",
            RaceConfig {
                laps: 2,
                continuous: true,
                number_of_resets: u32::MAX,
                max_time_s: 600.0,
                ..RaceConfig::default()
            },
        ),
    ];
    let mut ours = Vec::new();
    for (stamp, race) in races {
        let trace = deepracer_logs::evaluation_simtrace_path(dir.path(), stamp).unwrap();
        let opts = EvalOptions {
            race,
            reward: Some(RewardSource::parse(&model.info.reward, std::slice::from_ref(&track)).unwrap()),
            trace: Some(trace.clone().into()),
            ..Default::default()
        };
        let report = evaluate(&model, track.clone(), "oval", &opts).unwrap();
        // Rewards are computed while the car drives, and are 0 while it is held.
        let rows = trace_rows(&trace);
        assert!(rows.iter().any(|r| r.1 > 0.0), "{stamp}: rewards are filled");
        assert!(rows.iter().filter(|r| r.0 == "pause").all(|r| r.1 == 0.0));
        ours.push((stamp, report, rows));
    }
    let (_, trials, _) = &ours[0];
    assert_eq!(trials.laps.len(), 3, "three trials: {:?}", trials.laps);
    let (_, continuous, rows) = &ours[1];
    assert!(continuous.completed_laps >= 1, "{:?}", continuous.laps);
    let incidents: u32 = ours.iter().map(|o| o.1.off_track + o.1.collisions).sum();
    assert!(
        incidents > 0,
        "the model is not clean yet, so incidents are compared too"
    );
    if continuous.off_track > 0 {
        // An off-track's row carries the penalty, then pause rows count it down.
        let k = rows.iter().position(|r| r.0 == "off_track").unwrap();
        assert_eq!(rows[k].2, 2.0);
        assert!(rows[k + 1].0 == "pause" && rows[k + 1].2 < 2.0, "{:?}", &rows[k..k + 3]);
    }

    let r = run_snippet(&python, RACE_SNIPPET, dir.path());
    assert_eq!(r["folder_type"], "DRFC_MODEL_SINGLE_WORKERS", "{r}");
    let episodes = r["episodes"].as_array().unwrap();
    for (stamp, report, _) in &ours {
        let theirs: Vec<&Value> = episodes.iter().filter(|e| e["stream"] == *stamp).collect();
        assert_eq!(
            theirs.len(),
            report.laps.len(),
            "{stamp}: one episode per lap or trial: {r}"
        );
        for (k, (e, lap)) in theirs.iter().zip(&report.laps).enumerate() {
            let what = format!("{stamp} lap {}: {e} vs {lap:?}", k + 1);
            assert_eq!(e["episode"], k, "{what}");
            assert_eq!(e["progress"].as_f64() == Some(100.0), lap.completed, "{what}");
            // DeepRacer's times are whole steps; ours interpolate the crossing within the step.
            let dt = e["time"].as_f64().unwrap() - lap.time_s;
            assert!(dt.abs() <= 1.0 / 15.0 + 1e-6, "{what}");
            assert_eq!(e["off_track"], lap.off_track, "{what}");
            assert_eq!(e["crashed"], lap.collisions, "{what}");
        }
    }
}

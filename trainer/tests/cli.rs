//! The `trainer` binary, black-box: train → evaluate, JSON output, and clear errors for bad input.

use std::path::Path;
use std::process::{Command, Output};

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
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
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

#[test]
fn train_then_evaluate_with_trace() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let cfg = dir.path().join("cfg.toml");
    std::fs::write(
        &cfg,
        "num_cars = 64\nrollout_steps = 32\nbatch_size = 512\neval_every = 2\n",
    )
    .unwrap();
    let o = out.to_str().unwrap();
    let s = ok_json(&[
        "train",
        "--track",
        "kidney",
        "--config",
        cfg.to_str().unwrap(),
        "--steps",
        "20000",
        "--out",
        o,
        "--device",
        "cpu",
        "--json",
    ]);
    assert!(s["env_steps"].as_u64().unwrap() >= 20000, "{s}");
    for f in [
        "model_last.safetensors",
        "model_best.safetensors",
        "model_metadata.json",
        "metrics.csv",
        "metrics.jsonl",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .starts_with("iteration,env_steps,episodes,wall_s,steps_per_s,mean_reward")
    );
    let jsonl = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert!(first.get("mean_progress").is_some() && first.get("lap_completion_rate").is_some());

    let trace = dir.path().join("trace.csv");
    let model = out.join("model_last.safetensors");
    let r = ok_json(&[
        "evaluate",
        "--model",
        model.to_str().unwrap(),
        "--track",
        "kidney",
        "--laps",
        "2",
        "--trace",
        trace.to_str().unwrap(),
        "--json",
    ]);
    let laps = r["laps"].as_array().unwrap();
    assert!(!laps.is_empty() && laps.len() <= 2);
    for l in laps {
        assert!(
            l.get("time_s").is_some() && l.get("off_track").is_some() && l.get("completed").is_some(),
            "{l}"
        );
    }
    for k in ["completed_laps", "best_lap_s", "total_time_s"] {
        assert!(r.get(k).is_some(), "{k} missing: {r}");
    }
    assert!(
        std::fs::read_to_string(&trace)
            .unwrap()
            .starts_with("episode,steps,X,Y,yaw")
    );
    // DeepRacer's rules as options; the trace where deepracer-utils finds an evaluation, with the
    // model's own reward (progress_speed) in its reward column.
    let r = ok_json(&[
        "evaluate",
        "--model",
        model.to_str().unwrap(),
        "--track",
        "kidney",
        "--laps",
        "2",
        "--continuous",
        "--number-of-resets",
        "unlimited",
        "--off-track-penalty",
        "1.5",
        "--deepracer-log",
        o,
        "--video",
        dir.path().join("race.gif").to_str().unwrap(),
        "--json",
    ]);
    // The replay: one frame per 1/15 s of the race.
    let gif = std::fs::read(dir.path().join("race.gif")).unwrap();
    assert!(gif.starts_with(b"GIF89a"), "an animated GIF");
    let frames = r["video"]["frames"].as_f64().unwrap();
    let race_s = r["total_time_s"].as_f64().unwrap();
    assert!(
        (frames - race_s * 15.0).abs() <= 2.0,
        "{frames} frames for {race_s} s: {r}"
    );
    // Bad race and replay options are one clear error each.
    let m = model.to_str().unwrap();
    let avi = dir.path().join("race.avi");
    let avi = avi.to_str().unwrap();
    fails_with(
        &[
            "evaluate", "--model", m, "--track", "kidney", "--laps", "1", "--video", avi,
        ],
        ".gif or .mp4",
    );
    fails_with(
        &[
            "evaluate",
            "--model",
            m,
            "--track",
            "kidney",
            "--number-of-resets",
            "lots",
        ],
        "unlimited",
    );
    fails_with(
        &["evaluate", "--model", m, "--track", "kidney", "--off-track-penalty=-1"],
        "off_track_penalty_s",
    );
    fails_with(
        &["evaluate", "--model", m, "--track", "kidney", "--reward", "nonsense"],
        "--reward",
    );
    let laps = r["laps"].as_array().unwrap();
    assert_eq!(
        laps.len(),
        2,
        "continuous laps with unlimited resets are all driven: {r}"
    );
    for l in laps {
        let (off, penalty) = (l["off_track"].as_f64().unwrap(), l["penalty_s"].as_f64().unwrap());
        assert_eq!(penalty, 1.5 * off, "{l}");
    }
    let evals: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("evaluation-"))
        .collect();
    assert_eq!(evals.len(), 1, "{evals:?}");
    assert_eq!(evals[0].len(), "evaluation-".len() + 14, "{evals:?}");
    let text = std::fs::read_to_string(out.join(&evals[0]).join("evaluation-simtrace/0-iteration.csv")).unwrap();
    let rewards: f64 = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(8).unwrap().parse::<f64>().unwrap())
        .sum();
    assert!(rewards > 0.0, "rewards are computed during the race");
    // Human output.
    let out2 = trainer(&[
        "evaluate",
        "--model",
        model.to_str().unwrap(),
        "--track",
        "kidney",
        "--laps",
        "1",
    ]);
    assert!(out2.status.success());
    assert!(String::from_utf8_lossy(&out2.stdout).contains("lap  1"));

    // Head-to-head: the run's last and best models race each other; a trace per car.
    let traces = dir.path().join("match");
    let last = out.join("model_last.safetensors");
    let m = ok_json(&[
        "match",
        "--model",
        model.to_str().unwrap(),
        "--model",
        last.to_str().unwrap(),
        "--track",
        "kidney",
        "--laps",
        "1",
        "--number-of-resets",
        "unlimited",
        "--max-time",
        "40",
        "--trace-dir",
        traces.to_str().unwrap(),
        "--json",
    ]);
    let seats = m["seats"].as_array().unwrap();
    assert_eq!(seats.len(), 2, "{m}");
    let mut places: Vec<u64> = seats.iter().map(|s| s["place"].as_u64().unwrap()).collect();
    places.sort();
    assert!(places == [1, 2] || places == [1, 1], "{m}");
    // Header, prepare row, a row per step until the car's race ended (its `done` row): the car
    // whose race ended last has one for every step of the match.
    let mut rows = Vec::new();
    for i in 1..=2 {
        let csv = std::fs::read_to_string(traces.join(format!("car-{i}.csv"))).unwrap();
        let done = |l: &str| l.split(',').nth(9) == Some("True");
        assert!(csv.lines().last().is_some_and(done), "car {i}");
        assert_eq!(csv.lines().filter(|l| done(l)).count(), 1, "car {i}");
        rows.push(csv.lines().count() as u64);
    }
    assert_eq!(rows.iter().max(), Some(&(m["steps"].as_u64().unwrap() + 2)), "{rows:?}");
    let out3 = trainer(&[
        "match",
        "--model",
        model.to_str().unwrap(),
        "--model",
        last.to_str().unwrap(),
        "--track",
        "kidney",
        "--laps",
        "1",
    ]);
    assert!(out3.status.success());
    let text = String::from_utf8_lossy(&out3.stdout);
    assert!(
        text.contains("head-to-head on kidney") && text.contains("place grid"),
        "{text}"
    );
    fails_with(
        &["match", "--model", model.to_str().unwrap(), "--track", "kidney"],
        "2–17 models",
    );
    fails_with(
        &[
            "match",
            "--model",
            model.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--track",
            "drag_strip",
        ],
        "closed tracks",
    );
}

#[test]
fn bad_input_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name);
    let out = d("out");
    let o = out.to_str().unwrap();
    let write = |name: &str, text: &str| {
        std::fs::write(d(name), text).unwrap();
        d(name).to_str().unwrap().to_string()
    };
    let unknown = write("unknown.toml", "batch_sise = 64\n");
    fails_with(
        &[
            "train", "--track", "oval", "--config", &unknown, "--steps", "100", "--out", o,
        ],
        "batch_sise",
    );
    let range = write("range.toml", "discount_factor = 2.0\n");
    fails_with(
        &[
            "train", "--track", "oval", "--config", &range, "--steps", "100", "--out", o,
        ],
        "discount_factor",
    );
    let space = write(
        "space.toml",
        "[action_space]\ntype = \"discrete\"\nactions = [{ steering_angle = 40, speed = 1 }]\n",
    );
    fails_with(
        &[
            "train", "--track", "oval", "--config", &space, "--steps", "100", "--out", o,
        ],
        "action_space[0].steering_angle",
    );
    fails_with(
        &[
            "train",
            "--track",
            "oval",
            "--config",
            d("missing.toml").to_str().unwrap(),
            "--out",
            o,
        ],
        "missing.toml",
    );
    fails_with(
        &[
            "train",
            "--track",
            "oval",
            "--reward",
            d("missing.py").to_str().unwrap(),
            "--steps",
            "100",
            "--out",
            o,
        ],
        "missing.py",
    );
    let broken = write("broken.py", "def reward_function(params)\n    return 1\n");
    fails_with(
        &[
            "train", "--track", "oval", "--reward", &broken, "--steps", "100", "--out", o,
        ],
        "broken.py",
    );
    let raises = write("raises.py", "def reward_function(params):\n    return params['nope']\n");
    fails_with(
        &[
            "train", "--track", "oval", "--reward", &raises, "--steps", "100", "--out", o,
        ],
        "raises.py:2",
    );
    fails_with(&["train", "--track", "oval", "--device", "tpu", "--out", o], "--device");
    if !tch::Cuda::is_available() {
        fails_with(
            &[
                "train", "--track", "oval", "--device", "cuda", "--steps", "100", "--out", o,
            ],
            "no CUDA device",
        );
    }
    fails_with(
        &["train", "--track", "nowhere.npy", "--steps", "100", "--out", o],
        "nowhere.npy",
    );
    fails_with(&["train", "--steps", "100", "--out", o], "--track");
    // DeepRacer's files, broken: each refused with the file and what is wrong, never a panic.
    let refused = |flag: &str, file: &str, needle: &str| {
        fails_with(
            &["train", "--track", "oval", flag, file, "--steps", "100", "--out", o],
            needle,
        )
    };
    let not_json = write("model_metadata.json", "{\"action_space\": [");
    refused("--model-metadata", &not_json, "model_metadata.json: not valid JSON");
    refused("--config", &not_json, "model_metadata.json: not valid JSON");
    let no_space = write("no_space.json", r#"{"sensor": ["FRONT_FACING_CAMERA"]}"#);
    refused("--model-metadata", &no_space, "action_space: missing");
    let missing = d("nowhere.json");
    refused("--model-metadata", missing.to_str().unwrap(), "nowhere.json");
    let hp_broken = write("hp_broken.json", "[1, 2]");
    refused(
        "--hyperparameters",
        &hp_broken,
        "hp_broken.json: expected a JSON object",
    );
    let hp_typo = write("hp_typo.json", r#"{"learning_rate": 0.001}"#);
    refused("--hyperparameters", &hp_typo, "hp_typo.json: learning_rate: not one of");
    let hp_type = write("hp_type.json", r#"{"batch_size": "large"}"#);
    refused("--hyperparameters", &hp_type, "hp_type.json: batch_size: invalid type");
    refused("--hyperparameters", missing.to_str().unwrap(), "nowhere.json");
    let model = write("model.safetensors", "garbage");
    fails_with(&["evaluate", "--model", &model, "--track", "oval"], "model.safetensors");
    fails_with(
        &[
            "evaluate",
            "--model",
            d("none.safetensors").to_str().unwrap(),
            "--track",
            "oval",
        ],
        "none.safetensors",
    );
    assert!(!Path::new(&out).join("model_last.safetensors").exists());
}

#[test]
fn bench_commands_report_figures() {
    let v = ok_json(&[
        "bench",
        "ppo",
        "--samples",
        "2048",
        "--minibatch",
        "512",
        "--epochs",
        "1",
        "--repeat",
        "1",
        "--device",
        "cpu",
        "--json",
    ]);
    assert!(v["samples_epochs_per_s"].as_f64().unwrap() > 0.0);
    let v = ok_json(&[
        "bench",
        "reward",
        "--reward",
        "centerline",
        "--cars",
        "8",
        "--steps",
        "5",
        "--json",
    ]);
    assert!(v["calls_per_s"].as_f64().unwrap() > 0.0);
    assert_eq!(v["calls"].as_f64().unwrap(), 40.0);
}

#[test]
fn resume_and_clone_keep_the_runs_tracks_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cfg.toml");
    std::fs::write(
        &cfg,
        "num_cars = 16\nrollout_steps = 16\nbatch_size = 128\neval_every = 0\n",
    )
    .unwrap();
    let run = dir.path().join("run");
    let o = run.to_str().unwrap();
    let common = ["--device", "cpu", "--json"];
    let first = ok_json(
        &[
            &[
                "train",
                "--track",
                "kidney",
                "--config",
                cfg.to_str().unwrap(),
                "--steps",
                "512",
                "--out",
                o,
            ][..],
            &common,
        ]
        .concat(),
    );
    // --resume with neither --track nor --config: the run's own track and settings.
    let resumed = ok_json(&[&["train", "--resume", "--out", o, "--steps", "512"][..], &common].concat());
    assert_eq!(
        resumed["env_steps"].as_u64().unwrap(),
        first["env_steps"].as_u64().unwrap() + 512,
        "2 more iterations of 16 cars × 16 steps: {resumed}"
    );
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 1 + 4, "{metrics}");
    // --init without --config: the cloned model's settings (16 cars), on a new track.
    let clone = dir.path().join("clone");
    let c = ok_json(
        &[
            &[
                "train",
                "--init",
                run.join("model_last.safetensors").to_str().unwrap(),
                "--track",
                "oval",
                "--steps",
                "256",
                "--out",
                clone.to_str().unwrap(),
            ][..],
            &common,
        ]
        .concat(),
    );
    assert_eq!(c["env_steps"].as_u64().unwrap(), 256, "one iteration of 16 × 16: {c}");
}

#[test]
fn distill_and_bench_refuse_bad_options_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("student");
    let o = out.to_str().unwrap();
    let missing = dir.path().join("no_teacher.safetensors");
    let t = missing.to_str().unwrap();
    let base = [
        "distill",
        "--teacher",
        t,
        "--track",
        "oval",
        "--steps",
        "100",
        "--out",
        o,
    ];
    fails_with(&[&base[..], &["--sensor", "lidar"]].concat(), "--sensor");
    fails_with(&[&base[..], &["--beta-decay", "2"]].concat(), "--beta-decay");
    fails_with(&[&base[..], &["--buffer", "10"]].concat(), "--buffer");
    fails_with(&base, "no_teacher.safetensors");
    fails_with(&["bench", "ppo", "--network", "resnet"], "--network");
}

/// A reward function's prints go to the run's reward-prints.log (with the step and the car), and
/// to standard error when asked — never into `--json`'s standard output.
#[test]
fn reward_prints_never_reach_json_output() {
    let dir = tempfile::tempdir().unwrap();
    let reward = dir.path().join("chatty.py");
    std::fs::write(
        &reward,
        "print('loading')\ndef reward_function(params):\n    print('progress', params['progress'])\n    return 1.0\n",
    )
    .unwrap();
    let out = dir.path().join("run");
    let o = out.to_str().unwrap();
    let args = [
        "train",
        "--track",
        "oval",
        "--reward",
        reward.to_str().unwrap(),
        "--steps",
        "100",
        "--out",
        o,
        "--device",
        "cpu",
        "--json",
    ];
    let s = ok_json(&args);
    assert!(s["env_steps"].as_u64().unwrap() >= 100, "{s}");
    let log = std::fs::read_to_string(out.join("reward-prints.log")).unwrap();
    assert!(
        log.lines().any(|l| l.starts_with("[step 0 car 0] loading")),
        "{log:.300}"
    );
    assert!(
        log.lines().any(|l| l.starts_with("[step 1 car 3] progress ")),
        "{log:.300}"
    );
    // Asked for, they are on standard error too, and still not on standard output.
    let out2 = dir.path().join("run2");
    let mut args2 = args.to_vec();
    args2[8] = out2.to_str().unwrap();
    args2.push("--show-reward-prints");
    let shown = trainer(&args2);
    assert!(shown.status.success(), "{}", String::from_utf8_lossy(&shown.stderr));
    let stderr = String::from_utf8_lossy(&shown.stderr);
    assert!(stderr.contains("car 0] progress "), "{stderr:.300}");
    // A budget under one iteration says what the run will train.
    assert!(
        stderr.contains("--steps 100: training runs whole iterations of 16384 steps")
            && stderr.contains("this run trains 16384"),
        "{stderr:.300}"
    );
    let stdout = String::from_utf8_lossy(&shown.stdout);
    assert!(!stdout.contains("progress "), "{stdout:.300}");
    serde_json::from_str::<serde_json::Value>(&stdout).expect("one JSON object");
}

/// A student's DeepRacer model_metadata.json, as it is, sets the model's action space, sensor and
/// network: the trained model races with them and says so in its own model_metadata.json; what
/// Slipstream cannot train is refused by name.
#[test]
fn a_deepracer_model_metadata_json_trains_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    // Few cars and short rollouts: one quick iteration of a camera model.
    let small = write(
        "small.toml",
        "num_cars = 4\nrollout_steps = 16\nbatch_size = 32\nnum_epochs = 1\neval_every = 0\n",
    );
    let kinds = [
        (
            "discrete",
            r#"{"action_space": [{"steering_angle": -30.0, "speed": 0.8, "index": 0},
                {"steering_angle": 0.0, "speed": 1.5, "index": 1}, {"steering_angle": 30.0, "speed": 0.8, "index": 2}],
                "sensor": ["FRONT_FACING_CAMERA"], "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
                "version": "5", "training_algorithm": "clipped_ppo", "action_space_type": "discrete"}"#,
        ),
        (
            "continuous",
            r#"{"action_space": {"steering_angle": {"high": 30.0, "low": -30.0}, "speed": {"high": 2.0, "low": 0.5}},
                "sensor": ["STEREO_CAMERAS"], "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
                "version": "5", "training_algorithm": "clipped_ppo", "action_space_type": "continuous"}"#,
        ),
        (
            "camera-and-lidar",
            r#"{"action_space": {"steering_angle": {"high": 30.0, "low": -30.0}, "speed": {"high": 2.0, "low": 0.5}},
                "sensor": ["FRONT_FACING_CAMERA", "SECTOR_LIDAR"], "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
                "version": "5", "training_algorithm": "clipped_ppo", "action_space_type": "continuous"}"#,
        ),
    ];
    for (kind, json) in kinds {
        let meta = write(&format!("{kind}.json"), json);
        let out = dir.path().join(kind);
        let o = out.to_str().unwrap();
        let s = ok_json(&[
            "train",
            "--track",
            "oval",
            "--config",
            &small,
            "--model-metadata",
            &meta,
            "--steps",
            "64",
            "--out",
            o,
            "--device",
            "cpu",
            "--json",
        ]);
        assert!(s["env_steps"].as_u64().unwrap() >= 64, "{kind}: {s}");
        let ours: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("model_metadata.json")).unwrap()).unwrap();
        let theirs: serde_json::Value = serde_json::from_str(json).unwrap();
        for key in ["action_space", "sensor", "neural_network", "action_space_type"] {
            assert_eq!(ours[key], theirs[key], "{kind}: {key}");
        }
        let model = out.join("model_last.safetensors");
        let r = ok_json(&[
            "evaluate",
            "--model",
            model.to_str().unwrap(),
            "--track",
            "oval",
            "--laps",
            "1",
            "--json",
        ]);
        assert!(r["laps"].is_array(), "{kind}: {r}");
    }
    let sac = write(
        "sac.json",
        r#"{"action_space": {"steering_angle": {"high": 30, "low": -30}, "speed": {"high": 2, "low": 0.5}},
            "sensor": ["FRONT_FACING_CAMERA"], "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
            "training_algorithm": "sac", "action_space_type": "continuous", "version": "5"}"#,
    );
    let o = dir.path().join("sac-run");
    fails_with(
        &[
            "train",
            "--track",
            "oval",
            "--model-metadata",
            &sac,
            "--steps",
            "64",
            "--out",
            o.to_str().unwrap(),
        ],
        "SAC is not supported yet",
    );
    // Given as --config, a .json file is read as a model_metadata.json (not as TOML).
    fails_with(
        &[
            "train",
            "--track",
            "oval",
            "--config",
            &sac,
            "--steps",
            "64",
            "--out",
            o.to_str().unwrap(),
        ],
        "SAC is not supported yet",
    );
    let both = write(
        "both.json",
        r#"{"action_space": {"steering_angle": {"high": 30, "low": -30}, "speed": {"high": 2, "low": 0.5}},
            "sensor": ["FRONT_FACING_CAMERA", "STEREO_CAMERAS"], "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
            "training_algorithm": "clipped_ppo", "action_space_type": "continuous", "version": "5"}"#,
    );
    fails_with(
        &[
            "train",
            "--track",
            "oval",
            "--model-metadata",
            &both,
            "--steps",
            "64",
            "--out",
            o.to_str().unwrap(),
        ],
        "both.json: sensor: [\"FRONT_FACING_CAMERA\", \"STEREO_CAMERAS\"]: give one camera",
    );
}

/// A DeepRacer model folder as a student downloads it — model_metadata.json, reward_function.py,
/// hyperparameters.json — trains as it is (a TOML config beside it only makes the run small).
#[test]
fn a_deepracer_model_folder_trains_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("my-deepracer-model");
    std::fs::create_dir(&folder).unwrap();
    let put = |name: &str, text: &str| {
        let p = folder.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let meta = put(
        "model_metadata.json",
        r#"{"action_space": [{"steering_angle": -30.0, "speed": 1.0, "index": 0}, {"steering_angle": 0.0, "speed": 2.0, "index": 1},
            {"steering_angle": 30.0, "speed": 1.0, "index": 2}], "sensor": ["FRONT_FACING_CAMERA"],
            "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW", "version": "5", "training_algorithm": "clipped_ppo",
            "action_space_type": "discrete"}"#,
    );
    let reward = put(
        "reward_function.py",
        "def reward_function(params):\n    if params['all_wheels_on_track']:\n        return 1.0 - params['distance_from_center'] / (0.5 * params['track_width'])\n    return 1e-3\n",
    );
    let hp = put(
        "hyperparameters.json",
        r#"{"batch_size": 32, "beta_entropy": 0.01, "discount_factor": 0.99, "e_greedy_value": 0.05, "epsilon_steps": 10000,
            "exploration_type": "categorical", "loss_type": "huber", "lr": 0.0003, "num_episodes_between_training": 20,
            "num_epochs": 3, "stack_size": 1, "term_cond_avg_score": 350.0, "term_cond_max_episodes": 1000}"#,
    );
    let small = dir.path().join("small.toml");
    std::fs::write(&small, "num_cars = 4\nrollout_steps = 16\neval_every = 0\n").unwrap();
    let out = dir.path().join("run");
    let args = [
        "train",
        "--track",
        "oval",
        "--config",
        small.to_str().unwrap(),
        "--model-metadata",
        &meta,
        "--reward",
        &reward,
        "--hyperparameters",
        &hp,
        "--steps",
        "64",
        "--out",
        out.to_str().unwrap(),
        "--device",
        "cpu",
        "--json",
    ];
    let run = trainer(&args);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("not used by Slipstream's PPO") && stderr.contains("e_greedy_value"),
        "{stderr}"
    );
    let s: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert!(s["env_steps"].as_u64().unwrap() >= 64, "{s}");
    // The run's DeepRacer logs echo the student's settings.
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("ip/hyperparameters.json")).unwrap()).unwrap();
    assert_eq!(
        (written["batch_size"].as_u64(), written["num_epochs"].as_u64()),
        (Some(32), Some(3))
    );
    assert_eq!(written["loss_type"], "huber");
    let ours: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("model_metadata.json")).unwrap()).unwrap();
    assert_eq!(ours["sensor"], serde_json::json!(["FRONT_FACING_CAMERA"]));
    assert_eq!(ours["action_space"].as_array().unwrap().len(), 3);
}

/// `trainer check-reward` (DeepRacer's "Validate"): a reward that fails only off the track is caught
/// with its file and line before any training; a sound one reports what it returned; `--json` says
/// which on standard output either way.
#[test]
fn check_reward_finds_a_bug_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let buggy = dir.path().join("reward_function.py");
    std::fs::write(
        &buggy,
        "def reward_function(params):\n    if params['is_offtrack']:\n        return 1 / 0\n    return float(params['speed'])\n",
    )
    .unwrap();
    let out = trainer(&[
        "check-reward",
        "--reward",
        buggy.to_str().unwrap(),
        "--track",
        "oval",
        "--json",
    ]);
    assert!(!out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = v["error"].as_str().unwrap();
    assert_eq!(v["ok"], false);
    assert!(
        e.contains("reward_function.py:3") && e.contains("ZeroDivisionError"),
        "{e}"
    );
    assert!(e.contains("'is_offtrack': True"), "the failing step's params: {e}");

    let fixed = dir.path().join("fixed.py");
    std::fs::write(
        &fixed,
        "def reward_function(params):\n    print('checking', params['steps'])\n    if params['is_offtrack']:\n        return 1e-3\n    return float(params['speed'])\n",
    )
    .unwrap();
    let v = ok_json(&[
        "check-reward",
        "--reward",
        fixed.to_str().unwrap(),
        "--track",
        "oval",
        "--json",
        "--steps",
        "100",
    ]);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["calls"], 800, "{v}");
    let fixed = fixed.to_str().unwrap();
    fails_with(
        &["check-reward", "--reward", fixed, "--track", "oval", "--steps", "0"],
        "--steps: expected 1–100000, got 0",
    );
    fails_with(
        &["check-reward", "--reward", fixed, "--track", "nowhere.npy"],
        "nowhere.npy",
    );
    assert!(v["offtrack_calls"].as_u64().unwrap() > 0, "{v}");
    assert!((v["min"].as_f64().unwrap() - 1e-3).abs() < 1e-9, "{v}");
    assert!(v["max"].as_f64().unwrap() > 0.5, "{v}");
}

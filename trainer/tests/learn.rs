//! The trainer learns: on a small built-in track, within a fixed step budget, a car goes from random
//! weights to lapping (assertions on laps and progress, never on wall time).

use std::sync::Arc;

use slipstream_sim::Track;
use slipstream_sim::action::{DiscreteAction, Range};
use slipstream_sim::track::ValidateOptions;
use slipstream_trainer::config::ActionSpaceConfig;
use slipstream_trainer::{Budget, DeviceChoice, EvalOptions, Model, TrainConfig, TrainOptions, evaluate, train};

fn options(dir: &std::path::Path, config: TrainConfig, steps: u64) -> TrainOptions {
    TrainOptions {
        config,
        tracks: vec!["oval".into()],
        reward: "progress_speed".into(),
        budget: Budget::Steps(steps),
        seed: 7,
        device: DeviceChoice::Cpu,
        out_dir: dir.to_path_buf(),
        init_from: None,
        resume: false,
        show_reward_prints: false,
    }
}

fn race(model: &std::path::Path) -> slipstream_trainer::EvalReport {
    let m = Model::load(model, tch::Device::Cpu).unwrap();
    let track = Arc::new(Track::resolve("oval", &ValidateOptions::default()).unwrap());
    evaluate(&m, track, "oval", &EvalOptions::default()).unwrap()
}

#[test]
fn continuous_policy_learns_to_lap_the_oval() {
    let dir = tempfile::tempdir().unwrap();
    let mut first_progress = None;
    let mut last_progress = 0.0;
    let summary = train(options(dir.path(), TrainConfig::default(), 160_000), &mut |m| {
        if let Some(progress) = m.mean_progress {
            first_progress.get_or_insert(progress);
            last_progress = progress;
        }
    })
    .unwrap();
    assert!(summary.env_steps >= 160_000);
    let first = first_progress.unwrap();
    assert!(
        last_progress > first + 30.0,
        "episodes got longer: {first:.1}% → {last_progress:.1}%"
    );
    let best = summary.model_best.expect("an evaluation ran");
    let r = race(&best);
    assert_eq!(r.completed_laps, 3, "{r:?}");
    assert!(r.consecutive_clean >= 1, "{r:?}");
    // The untrained policy cannot do this: a fresh model races the same track for comparison.
    let fresh = tempfile::tempdir().unwrap();
    train(
        options(
            fresh.path(),
            TrainConfig {
                eval_every: 0,
                ..Default::default()
            },
            1,
        ),
        &mut |_| {},
    )
    .unwrap();
    let r0 = race(&fresh.path().join("model_last.safetensors"));
    assert!(
        r0.consecutive_clean < 3,
        "an untrained model should not lap cleanly: {r0:?}"
    );
}

#[test]
fn discrete_policy_learns_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut actions = Vec::new();
    for steering_angle in [-30.0, -15.0, 0.0, 15.0, 30.0] {
        for speed in [1.5, 3.0] {
            actions.push(DiscreteAction { steering_angle, speed });
        }
    }
    let config = TrainConfig {
        action_space: ActionSpaceConfig::Discrete { actions },
        ..Default::default()
    };
    let summary = train(options(dir.path(), config, 200_000), &mut |_| {}).unwrap();
    let r = race(&summary.model_best.expect("an evaluation ran"));
    assert!(r.completed_laps >= 1, "{r:?}");
}

#[test]
fn resume_continues_and_clone_starts_from_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = TrainConfig {
        eval_every: 0,
        ..Default::default()
    };
    let a = train(options(dir.path(), cfg.clone(), 40_000), &mut |_| {}).unwrap();
    // Training into the same folder again without --resume is refused.
    let e = train(options(dir.path(), cfg.clone(), 10_000), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("--resume"), "{e}");
    let mut opts = options(dir.path(), cfg.clone(), 40_000);
    opts.resume = true;
    let mut first_iteration = None;
    let b = train(opts, &mut |m| {
        first_iteration.get_or_insert(m.iteration);
    })
    .unwrap();
    assert_eq!(first_iteration, Some(a.iterations + 1));
    assert!(b.env_steps >= a.env_steps + 40_000);
    let rows = std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
    assert_eq!(
        rows.lines().count() as u64,
        1 + b.iterations,
        "one header and one row per iteration"
    );

    let cloned = tempfile::tempdir().unwrap();
    let mut opts = options(cloned.path(), cfg, 20_000);
    opts.init_from = Some(b.model_last.clone());
    train(opts, &mut |_| {}).unwrap();
    let m = Model::load(&cloned.path().join("model_last.safetensors"), tch::Device::Cpu).unwrap();
    assert_eq!(m.info.cloned_from.as_deref(), Some(b.model_last.to_str().unwrap()));
}

#[test]
fn bad_options_are_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = options(dir.path(), TrainConfig::default(), 1000);
    o.reward = "no_such_preset".into();
    assert!(train(o, &mut |_| {}).unwrap_err().to_string().contains("--reward"));
    let mut o = options(dir.path(), TrainConfig::default(), 1000);
    o.tracks = vec!["missing_track.npy".into()];
    assert!(
        train(o, &mut |_| {})
            .unwrap_err()
            .to_string()
            .contains("missing_track.npy")
    );
    let mut o = options(dir.path(), TrainConfig::default(), 0);
    o.budget = Budget::Minutes(-1.0);
    assert!(train(o, &mut |_| {}).unwrap_err().to_string().contains("--minutes"));
    let bad_space = ActionSpaceConfig::Continuous {
        steering_angle: Range { low: -30.0, high: 30.0 },
        speed: Range { low: 0.5, high: 6.0 },
    };
    let o = options(
        dir.path(),
        TrainConfig {
            action_space: bad_space,
            ..Default::default()
        },
        1000,
    );
    assert!(train(o, &mut |_| {}).unwrap_err().to_string().contains("speed"));
}

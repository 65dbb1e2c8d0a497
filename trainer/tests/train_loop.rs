//! The training loop's bookkeeping: reported returns, the learning-rate schedule, and what
//! `--resume` carries over (each once a bug).

use slipstream_sim::EpisodeConfig;
use slipstream_trainer::checkpoint::{self, OutputFiles};
use slipstream_trainer::metrics::IterationMetrics;
use slipstream_trainer::train::learning_rate;
use slipstream_trainer::{Budget, DeviceChoice, TrainConfig, TrainOptions, train};

fn small_config() -> TrainConfig {
    TrainConfig {
        num_cars: 16,
        rollout_steps: 64,
        batch_size: 256,
        eval_every: 0,
        // Short episodes, so the time limit truncates many of them.
        episode: EpisodeConfig {
            max_steps: 20,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn options(dir: &std::path::Path, config: TrainConfig, reward: &str, steps: u64) -> TrainOptions {
    TrainOptions {
        config,
        tracks: vec!["oval".into()],
        reward: reward.into(),
        budget: Budget::Steps(steps),
        seed: 3,
        device: DeviceChoice::Cpu,
        out_dir: dir.to_path_buf(),
        init_from: None,
        resume: false,
        show_reward_prints: false,
    }
}

fn run(opts: TrainOptions) -> Vec<IterationMetrics> {
    let mut rows = Vec::new();
    train(opts, &mut |m| rows.push(m.clone())).unwrap();
    rows
}

#[test]
fn reported_returns_are_the_reward_functions_own_values() {
    // With a reward of zero everywhere, every return is exactly zero: the bootstrap value that
    // PPO adds at a truncation must not leak into the reported returns (it once did, and
    // term_cond_avg_score stopped on the inflated figure).
    let dir = tempfile::tempdir().unwrap();
    let rows = run(options(dir.path(), small_config(), "zero", 4 * 16 * 64));
    assert_eq!(rows.len(), 4);
    let mut ended = 0;
    for m in &rows {
        ended += m.episodes_ended;
        assert_eq!(m.mean_reward, 0.0, "{m:?}");
        if m.episodes_ended > 0 {
            assert_eq!(m.mean_return, Some(0.0), "{m:?}");
        }
    }
    assert!(ended >= 16, "episodes were truncated: {ended}");
    // The same run stops on term_cond_avg_score only if the true mean return reaches it.
    let dir = tempfile::tempdir().unwrap();
    let cfg = TrainConfig {
        term_cond_avg_score: Some(1e-9),
        ..small_config()
    };
    let rows = run(options(dir.path(), cfg, "zero", 4 * 16 * 64));
    assert_eq!(rows.len(), 4, "a return of 0 never reaches 1e-9");
}

#[test]
fn the_learning_rate_follows_the_documented_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = small_config();
    let budget = 5 * 16 * 64;
    let rows = run(options(dir.path(), cfg.clone(), "progress_speed", budget));
    assert_eq!(rows.len(), 5);
    for m in &rows {
        let used_before = (m.run_steps - 16 * 64) as f64 / budget as f64;
        assert_eq!(m.lr, learning_rate(&cfg, used_before), "{m:?}");
    }
    assert_eq!(rows[0].lr, cfg.lr);
    assert!((rows[4].lr - cfg.lr * 0.2).abs() < 1e-15, "{}", rows[4].lr);
}

#[test]
fn resume_continues_the_optimizer() {
    let dir = tempfile::tempdir().unwrap();
    let files = OutputFiles {
        dir: dir.path().to_path_buf(),
    };
    let cfg = small_config();
    run(options(dir.path(), cfg.clone(), "progress_speed", 2 * 16 * 64));
    let first = checkpoint::load_optimizer(&files)
        .unwrap()
        .expect("optimizer state saved");
    let updates_per_iteration = cfg.num_epochs as u64 * (16 * 64 / cfg.batch_size) as u64;
    assert_eq!(first.step, 2 * updates_per_iteration);
    let moments = Vec::<f32>::try_from(&first.exp_avg_sq).unwrap();
    assert!(moments.iter().any(|v| *v > 0.0), "second moments are saved");

    let mut opts = options(dir.path(), cfg, "progress_speed", 16 * 64);
    opts.resume = true;
    let rows = run(opts);
    assert_eq!(rows[0].iteration, 3);
    let second = checkpoint::load_optimizer(&files).unwrap().unwrap();
    assert_eq!(
        second.step,
        3 * updates_per_iteration,
        "Adam's step count continues instead of restarting"
    );
    let state = checkpoint::load_state(&files).unwrap();
    assert_eq!(state.iteration, 3);
}

#[test]
fn a_damaged_optimizer_state_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = small_config();
    run(options(dir.path(), cfg.clone(), "progress_speed", 16 * 64));
    let path = dir.path().join("optimizer.safetensors");
    for bytes in [b"not a safetensors file".to_vec(), Vec::new()] {
        std::fs::write(&path, &bytes).unwrap();
        let mut opts = options(dir.path(), cfg.clone(), "progress_speed", 16 * 64);
        opts.resume = true;
        let e = train(opts, &mut |_| {}).unwrap_err().to_string();
        assert!(e.contains("optimizer.safetensors"), "{e}");
    }
}

//! Same track, configuration, seed and actions → bit-identical results, for every thread count.

mod common;

use slipstream_sim::camera::{CameraConfig, RandomizeConfig};
use slipstream_sim::objects::{BotConfig, ObstacleConfig};
use slipstream_sim::sensors::{LidarConfig, StateConfig};
use slipstream_sim::{EnvConfig, ObsConfig, Scenario, VecEnv};

/// Everything the environment wrote, as raw bits.
fn run(cfg: &EnvConfig, cars: usize, steps: usize, seed: u64) -> Vec<u64> {
    let mut env = VecEnv::new(cfg.clone(), cars).unwrap();
    let mut out = env.buffers(true);
    env.reset(seed, &mut out).unwrap();
    let actions = common::random_actions(&cfg.action_space, cars, steps, seed ^ 0xabc);
    let mut bits: Vec<u64> = Vec::new();
    for a in &actions {
        env.step(a, &mut out).unwrap();
        bits.extend(out.obs.iter().map(|v| u64::from(v.to_bits())));
        bits.push(fnv(&out.image));
        bits.push(fnv(&out.final_image));
        bits.extend(out.reward.iter().map(|v| u64::from(v.to_bits())));
        bits.extend(out.done.iter().chain(&out.truncated).map(|&v| u64::from(v)));
        for p in &out.params {
            bits.extend([
                p.x.to_bits(),
                p.y.to_bits(),
                p.heading.to_bits(),
                p.progress.to_bits(),
                u64::from(p.steps),
            ]);
            bits.extend(
                p.objects()
                    .iter()
                    .map(|o| o.location.x.to_bits() ^ o.location.y.to_bits()),
            );
        }
        for i in &out.info {
            bits.extend([i.episode, i.tstamp.to_bits(), u64::from(i.closest_waypoint)]);
        }
    }
    for c in env.car_states().unwrap() {
        bits.extend([
            c.state.pos.x.to_bits(),
            c.state.pos.y.to_bits(),
            c.state.heading.to_bits(),
            c.state.vx.to_bits(),
        ]);
    }
    bits
}

/// FNV-1a hash of the camera's pixels (empty without a camera).
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn configs() -> Vec<(&'static str, EnvConfig)> {
    let mut out = Vec::new();
    for (name, track) in [("oval", "oval"), ("hairpins", "hairpins")] {
        let mut c = EnvConfig::new(common::builtin(track));
        c.obs = ObsConfig::State(StateConfig::default());
        out.push((name, c.clone()));
        c.obs = ObsConfig::Lidar(LidarConfig::default());
        c.scenario = Scenario::ObjectAvoidance(ObstacleConfig::default());
        out.push((name, c.clone()));
        c.scenario = Scenario::HeadToBot(BotConfig::default());
        c.tracks.push(std::sync::Arc::new(common::builtin("kidney").reversed()));
        out.push((name, c));
    }
    // Cameras: mono with obstacles; stereo with bots, two tracks and randomisation on.
    let mut c = EnvConfig::new(common::builtin("hairpins"));
    c.obs = ObsConfig::Camera(CameraConfig::default());
    c.scenario = Scenario::ObjectAvoidance(ObstacleConfig::default());
    out.push(("camera", c.clone()));
    c.obs = ObsConfig::StereoCamera(CameraConfig {
        randomize: RandomizeConfig {
            enabled: true,
            ..Default::default()
        },
        ..Default::default()
    });
    c.scenario = Scenario::HeadToBot(BotConfig::default());
    c.tracks.push(std::sync::Arc::new(common::builtin("kidney").reversed()));
    out.push(("stereo", c));
    out
}

#[test]
fn identical_across_runs_and_thread_counts() {
    for (name, cfg) in configs() {
        // Camera frames cost more than the rest of a step: fewer steps keep the test quick.
        let steps = if cfg.obs.image_len() > 0 { 60 } else { 200 };
        let reference = run(&cfg, 37, steps, 7);
        assert_eq!(reference, run(&cfg, 37, steps, 7), "{name}: second run differs");
        for threads in [2, 3] {
            let mut c = cfg.clone();
            c.threads = threads;
            assert!(
                reference == run(&c, 37, steps, 7),
                "{name} ({:?}, {}): {threads} threads differ from 1",
                cfg.obs.kind(),
                cfg.scenario.name()
            );
        }
        assert_ne!(
            reference,
            run(&cfg, 37, steps, 8),
            "{name}: a different seed must change something"
        );
    }
}

#[test]
fn reset_with_the_same_seed_replays_the_same_episode() {
    let cfg = EnvConfig::new(common::builtin("kidney"));
    let mut env = VecEnv::new(cfg.clone(), 5).unwrap();
    let mut out = env.buffers(false);
    let actions = common::random_actions(&cfg.action_space, 5, 50, 1);
    let mut first = Vec::new();
    env.reset(3, &mut out).unwrap();
    for a in &actions {
        env.step(a, &mut out).unwrap();
        first.extend_from_slice(&out.obs);
    }
    let mut second = Vec::new();
    env.reset(3, &mut out).unwrap();
    for a in &actions {
        env.step(a, &mut out).unwrap();
        second.extend_from_slice(&out.obs);
    }
    assert!(first.iter().zip(&second).all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn parameters_of_the_first_cars_only_are_those_of_every_car() {
    // 40 cars on 4 threads: parameters for 1 car (shards without any) and for 15 (across a boundary).
    let mut cfg = EnvConfig::new(common::builtin("hairpins"));
    cfg.threads = 4;
    let cars = 40;
    let actions = common::random_actions(&cfg.action_space, cars, 120, 2);
    for some in [1, 15] {
        let mut env = VecEnv::new(cfg.clone(), cars).unwrap();
        let mut all = env.buffers(true);
        let mut env2 = VecEnv::new(cfg.clone(), cars).unwrap();
        let mut first = env2.buffers(false).with_params_of(some);
        assert_eq!((first.params.len(), first.reset_params.len()), (some, some));
        env.reset(5, &mut all).unwrap();
        env2.reset(5, &mut first).unwrap();
        assert_eq!(all.params[..some], first.params[..], "the first parameters");
        let mut ended = 0;
        for a in &actions {
            env.step(a, &mut all).unwrap();
            env2.step(a, &mut first).unwrap();
            assert_eq!(all.params[..some], first.params[..], "the step's parameters");
            for i in 0..some {
                if first.ended(i) {
                    ended += 1;
                    assert_eq!(all.reset_params[i], first.reset_params[i], "car {i}'s next episode");
                }
            }
        }
        assert!(ended > 0, "random driving ends episodes");
    }
}

//! "Zero heap allocation per step", checked: a counting global allocator wraps the system one, and
//! stepping (after the first few steps) must not call it at all — for every observation, race type,
//! mode and thread count, with resets and params output included.
//!
//! It runs without libtest's harness (`harness = false`): the process then holds only this test's
//! thread and the simulator's workers, so no allocation by the harness's own threads (which it
//! makes now and then while it waits) can be counted against the simulator.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use slipstream_sim::camera::{CameraConfig, RandomizeConfig};
use slipstream_sim::objects::{BotConfig, ObstacleConfig};
use slipstream_sim::sensors::{DeepRacerLidarConfig, LidarConfig};
use slipstream_sim::{EnvConfig, Mode, ObsConfig, RaceConfig, Scenario, VecEnv};

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same layout as requested.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: allocated by System with this layout.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() {
    stepping_allocates_nothing();
    println!("alloc: 1 passed, 0 failed");
}

fn stepping_allocates_nothing() {
    let mut cases: Vec<(String, EnvConfig)> = Vec::new();
    for threads in [1, 2] {
        let mut c = EnvConfig::new(common::builtin("oval"));
        c.threads = threads;
        cases.push((format!("state/time-trial/{threads}"), c.clone()));
        c.obs = ObsConfig::Lidar(LidarConfig::default());
        c.scenario = Scenario::ObjectAvoidance(ObstacleConfig::default());
        cases.push((format!("lidar/obstacles/{threads}"), c.clone()));
        c.scenario = Scenario::HeadToBot(BotConfig::default());
        cases.push((format!("lidar/bots/{threads}"), c.clone()));
        c.mode = Mode::Race(RaceConfig {
            laps: 2,
            max_time_s: 5.0,
            ..Default::default()
        });
        cases.push((format!("lidar/bots/race/{threads}"), c));
        let mut c = EnvConfig::new(common::builtin("oval"));
        c.threads = threads;
        c.obs = ObsConfig::SectorLidar(DeepRacerLidarConfig { borders: true });
        c.scenario = Scenario::ObjectAvoidance(ObstacleConfig::default());
        cases.push((format!("sector_lidar/obstacles/{threads}"), c.clone()));
        c.obs = ObsConfig::DeepracerLidar(DeepRacerLidarConfig::default());
        c.scenario = Scenario::HeadToBot(BotConfig::default());
        cases.push((format!("deepracer_lidar/bots/{threads}"), c));
        let mut c = EnvConfig::new(common::builtin("oval"));
        c.threads = threads;
        c.obs = ObsConfig::Camera(CameraConfig::default());
        c.scenario = Scenario::ObjectAvoidance(ObstacleConfig::default());
        cases.push((format!("camera/obstacles/{threads}"), c.clone()));
        c.obs = ObsConfig::StereoCamera(CameraConfig {
            randomize: RandomizeConfig {
                enabled: true,
                ..Default::default()
            },
            ..Default::default()
        });
        c.scenario = Scenario::HeadToBot(BotConfig::default());
        cases.push((format!("stereo/bots/randomized/{threads}"), c));
    }
    for (name, cfg) in cases {
        let cars = 16;
        let actions = common::random_actions(&cfg.action_space, cars, 300, 5);
        let mut env = VecEnv::new(cfg, cars).unwrap();
        let mut out = env.buffers(true);
        env.reset(1, &mut out).unwrap();
        for a in &actions[..10] {
            env.step(a, &mut out).unwrap();
        }
        let before = ALLOCS.load(Ordering::SeqCst);
        let mut episodes = 0;
        for a in &actions[10..] {
            env.step(a, &mut out).unwrap();
            episodes += out.done.iter().filter(|&&d| d != 0).count();
        }
        let allocs = ALLOCS.load(Ordering::SeqCst) - before;
        assert_eq!(allocs, 0, "{name}: {allocs} allocations in 290 steps");
        if !name.contains("race") {
            assert!(episodes > 0, "{name}: the test should cover auto-resets");
        }
    }
}

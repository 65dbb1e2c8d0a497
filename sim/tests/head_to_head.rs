//! Head-to-head groups: cars sharing one world see each other, collide by DeepRacer's rule, start on
//! a grid, and finish in an order; a group never depends on the thread count.

mod common;

use std::sync::Arc;

use slipstream_sim::camera::{CameraConfig, CameraPose, Randomization, scene_object};
use slipstream_sim::car::CarModel;
use slipstream_sim::driver::PurePursuit;
use slipstream_sim::math::Vec2;
use slipstream_sim::sensors::{Lidar, LidarConfig, LidarScratch};
use slipstream_sim::{
    Action, ActionSpace, EnvConfig, EpisodeStatus, GroupConfig, Mode, ObsConfig, RaceConfig, SimError, StepBuffers,
    VecEnv, finishing_places,
};

fn h2h_config(track: &str, size: usize, laps: u32) -> EnvConfig {
    let mut cfg = EnvConfig::new(common::builtin(track));
    cfg.action_space = ActionSpace::continuous(-30.0, 30.0, 0.1, 4.0);
    cfg.group = GroupConfig::of(size);
    cfg.mode = Mode::Race(RaceConfig {
        laps,
        continuous: true,
        number_of_resets: 10_000,
        ..Default::default()
    });
    cfg
}

/// Drive every car with pure pursuit, car `i` at `pace[i]` × its planned speed, until every race
/// is over; `each` sees every step's outputs.
fn race(env: &mut VecEnv, out: &mut StepBuffers, pace: &[f64], mut each: impl FnMut(&StepBuffers)) {
    let driver = PurePursuit::default();
    let cfg = env.config().clone();
    let mut actions = vec![Action::Continuous([0.0, 0.0]); env.num_cars()];
    for _ in 0..20_000 {
        for (i, a) in actions.iter_mut().enumerate() {
            let (s, v) = driver.act(&cfg.tracks[0], &cfg.car, &out.params[i]);
            *a = Action::Continuous([s as f32, (v * pace[i]).max(0.1) as f32]);
        }
        env.step(&actions, out).unwrap();
        each(out);
        if out.info.iter().all(|i| i.race_over) {
            return;
        }
    }
    panic!("the race did not end");
}

#[test]
fn cars_start_on_a_grid_see_each_other_and_the_faster_one_wins() {
    let cfg = h2h_config("oval", 2, 2);
    let track = cfg.tracks[0].clone();
    let mut env = VecEnv::new(cfg, 2).unwrap();
    let mut out = env.buffers(true);
    env.reset(7, &mut out).unwrap();

    // The grid: seat 0 on the left lane line at the start line, seat 1 0.75 m behind on the right.
    let cars = env.car_states().unwrap();
    let (left, _, _) = track.lane_point(0.0, 0.5, 0);
    let (right, _, _) = track.lane_point(track.wrap_s(-0.75), -0.5, 0);
    assert!(cars[0].state.pos.distance(left) < 1e-9, "{:?}", cars[0].state.pos);
    assert!(cars[1].state.pos.distance(right) < 1e-9, "{:?}", cars[1].state.pos);
    // Laps count from the line: the car behind it starts at negative progress.
    assert!(
        out.info[1].progress < 0.0 && out.info[0].progress > 0.0,
        "{:?}",
        out.info
    );
    // Each car's parameters list the other as a car-like object where it is.
    for (me, other) in [(0, 1), (1, 0)] {
        let p = &out.params[me];
        assert_eq!(p.num_objects, 1);
        assert!(p.objects[0].location.distance(cars[other].state.pos) < 1e-9);
        assert_eq!(p.objects[0].left_of_center, other == 0);
    }

    // The car behind is slower: it never catches up, and finishes second.
    let mut steps = 0;
    race(&mut env, &mut out, &[1.0, 0.6], |_| steps += 1);
    let results = env.race_results().unwrap();
    for r in &results {
        assert_eq!(r.completed_laps(), 2, "{}", r.table());
        assert_eq!(r.laps.iter().map(|l| l.collisions).sum::<u32>(), 0);
    }
    let laps: Vec<&[_]> = results.iter().map(|r| r.laps.as_slice()).collect();
    assert_eq!(finishing_places(&laps), vec![1, 2]);
    assert!(results[1].total_time() > results[0].total_time() + 1.0);
    assert!(steps > 100);
}

#[test]
fn the_follower_that_runs_into_the_car_ahead_is_penalised_and_held_as_a_ghost() {
    let cfg = h2h_config("oval", 2, 1);
    let mut env = VecEnv::new(cfg, 2).unwrap();
    let mut out = env.buffers(true);
    env.reset(1, &mut out).unwrap();
    // The leader dawdles; the follower drives flat out along the same line.
    let (mut crashes, mut held_rows, mut leader_saw_ghost) = (0, 0, false);
    let mut held_at: Option<(f64, f64)> = None;
    race(&mut env, &mut out, &[0.35, 1.0], |o| {
        for (me, other) in [(0, 1), (1, 0)] {
            if o.info[me].status == EpisodeStatus::Crashed {
                // Only the car behind is at fault: the other was ahead (origins compared; the
                // reference point is 0.14 m ahead of the origin), and not both at once.
                let my_s = o.params[me].projection_distance - 0.14;
                assert!(o.params[me].objects[0].distance > my_s - 0.02, "{me} hit from ahead");
                assert_ne!(o.info[other].status, EpisodeStatus::Crashed, "both at fault");
            }
        }
        if o.info[1].status == EpisodeStatus::Crashed {
            crashes += 1;
        }
        if o.info[1].status == EpisodeStatus::Pause {
            held_rows += 1;
            let at = (o.params[1].x, o.params[1].y);
            if let Some(h) = held_at {
                assert_eq!(h, at, "a held car stays where it is held");
            }
            held_at = Some(at);
            // The leader neither sees nor can hit a held car.
            leader_saw_ghost |= o.params[0].num_objects != 0;
        } else {
            held_at = None;
        }
    });
    let results = env.race_results().unwrap();
    assert!(crashes > 0, "the follower never reached the leader");
    assert_eq!(results[1].laps.iter().map(|l| l.collisions).sum::<u32>(), crashes);
    // 5 s collision penalty at 15 steps/s per crash (the incident row, then 75 pause rows; the
    // race may end while the last hold is served).
    assert!(
        held_rows <= 75 * crashes && held_rows > 75 * (crashes - 1),
        "{held_rows} rows held"
    );
    assert!(!leader_saw_ghost);
    assert!(results[1].laps[0].penalty_s >= 5.0 * f64::from(crashes) - 1e-9);
}

/// The grid moved a tenth of a lap on, where both cars stand on the oval's first straight.
fn on_the_straight(mut cfg: EnvConfig) -> EnvConfig {
    if let Mode::Race(r) = &mut cfg.mode {
        r.start_offset = 0.1;
    }
    cfg
}

#[test]
fn the_camera_and_the_lidar_see_the_rival() {
    // Camera: the car behind sees the car ahead, drawn as a bot car (both on the first straight).
    let mut cfg = on_the_straight(h2h_config("oval", 2, 1));
    cfg.obs = ObsConfig::Camera(CameraConfig::default());
    let track = cfg.tracks[0].clone();
    let car = CarModel::new(cfg.car.clone());
    let cam =
        slipstream_sim::camera::Camera::new(CameraConfig::default(), false, std::slice::from_ref(&track)).unwrap();
    let mut env = VecEnv::new(cfg, 2).unwrap();
    let mut out = env.buffers(false);
    env.reset(3, &mut out).unwrap();
    let cars = env.car_states().unwrap();
    let pose = CameraPose {
        pos: cars[1].state.pos,
        forward: cars[1].state.forward(),
    };
    let render = |objects: &[slipstream_sim::camera::SceneObject]| {
        let mut img = vec![0u8; cam.image_len()];
        cam.render(
            0,
            &pose,
            objects,
            &Randomization::IDENTITY,
            1,
            &mut cam.scratch(),
            &mut img,
        );
        img
    };
    let rival = scene_object(car.footprint(&cars[0].state), true);
    let len = cam.image_len();
    let seen = &out.image[len..2 * len];
    assert_eq!(seen, render(&[rival]).as_slice());
    let alone = render(&[]);
    let changed = seen.iter().zip(&alone).filter(|(a, b)| a != b).count();
    // At the grid the rival stands at the left edge of DeepRacer's 65° view (I looked at it).
    assert!(changed > 100, "the rival covers only {changed} pixels");

    // Lidar: the same, ray by ray.
    let mut cfg = on_the_straight(h2h_config("oval", 2, 1));
    let lidar_cfg = LidarConfig::default();
    cfg.obs = ObsConfig::Lidar(lidar_cfg.clone());
    let mut env = VecEnv::new(cfg, 2).unwrap();
    let mut out = env.buffers(false);
    env.reset(3, &mut out).unwrap();
    let cars = env.car_states().unwrap();
    let lidar = Lidar::new(lidar_cfg.clone());
    let scan = |objects: &[slipstream_sim::math::Obb]| {
        let s = &cars[1].state;
        let seg = track.project_near(s.pos, 0).seg;
        let mut ranges = vec![0f32; lidar_cfg.rays];
        let mut scratch = LidarScratch::new(lidar_cfg.rays);
        lidar.scan(
            &track,
            s.pos,
            s.forward(),
            track.locate_quad(s.pos, seg),
            objects,
            &mut scratch,
            &mut ranges,
        );
        ranges
    };
    let dim = env.obs_dim();
    let seen = &out.obs[dim..dim + lidar_cfg.rays];
    assert_eq!(seen, scan(&[car.footprint(&cars[0].state)]).as_slice());
    let alone = scan(&[]);
    let nearer = seen.iter().zip(&alone).filter(|(a, b)| a < b).count();
    assert!(nearer >= 2, "the rival blocks {nearer} rays");
}

#[test]
fn groups_are_bit_identical_whatever_the_thread_count() {
    let run = |threads: usize| {
        let mut cfg = h2h_config("kidney", 2, 2);
        cfg.threads = threads;
        cfg.obs = ObsConfig::Lidar(LidarConfig::default());
        let mut env = VecEnv::new(cfg, 8).unwrap();
        let mut out = env.buffers(true);
        env.reset(11, &mut out).unwrap();
        let mut obs = Vec::new();
        // Different paces per car: collisions and holds happen in some groups.
        race(&mut env, &mut out, &[0.5, 1.0, 0.9, 0.8, 1.0, 0.4, 0.7, 0.7], |o| {
            obs.extend_from_slice(&o.obs)
        });
        let positions: Vec<Vec2> = env.car_states().unwrap().iter().map(|c| c.state.pos).collect();
        (obs, positions, env.race_results().unwrap())
    };
    let one = run(1);
    let three = run(3);
    assert!(one.0 == three.0, "observations differ between 1 and 3 threads");
    assert_eq!(one.1, three.1);
    assert_eq!(one.2, three.2);
    let collisions: u32 = one.2.iter().flat_map(|r| &r.laps).map(|l| l.collisions).sum();
    assert!(
        collisions > 0,
        "no group collided: the check is weaker than it should be"
    );
}

#[test]
fn head_to_head_settings_are_checked() {
    let err = |cfg: EnvConfig, cars: usize| VecEnv::new(cfg, cars).unwrap_err().to_string();
    let e = err(h2h_config("oval", 2, 1), 3);
    assert!(
        e.contains("num_cars") && e.contains("multiple of group.size (2)"),
        "{e}"
    );
    let e = err(h2h_config("oval", GroupConfig::MAX_SIZE + 1, 1), 18);
    assert!(e.contains("group.size"), "{e}");
    let mut cfg = h2h_config("oval", 2, 1);
    cfg.mode = Mode::Race(RaceConfig::default());
    let e = err(cfg, 2);
    assert!(e.contains("mode.continuous"), "{e}");
    let mut cfg = h2h_config("oval", 2, 1);
    cfg.scenario = slipstream_sim::Scenario::HeadToBot(Default::default());
    assert!(err(cfg, 2).contains("scenario"));
    let mut cfg = h2h_config("oval", 2, 1);
    cfg.tracks = vec![Arc::new(common::builtin("drag_strip"))];
    let e = err(cfg, 2);
    assert!(e.contains("tracks[0]") && e.contains("open"), "{e}");
    let mut cfg = h2h_config("oval", 2, 1);
    cfg.group.stagger_m = f64::NAN;
    assert!(matches!(VecEnv::new(cfg, 2), Err(SimError::Config { .. })));
}

#[test]
fn each_seat_acts_in_its_own_action_space() {
    let mut cfg = h2h_config("oval", 2, 1);
    // Seat 0 continuous (the environment's), seat 1 DeepRacer's default discrete space.
    cfg.group.action_spaces = vec![cfg.action_space.clone(), ActionSpace::default()];
    let mut env = VecEnv::new(cfg.clone(), 4).unwrap();
    let mut out = env.buffers(true);
    env.reset(0, &mut out).unwrap();
    let ok = [
        Action::Continuous([0.0, 1.0]),
        Action::Discrete(3),
        Action::Continuous([5.0, 2.0]),
        Action::Discrete(0),
    ];
    env.step(&ok, &mut out).unwrap();
    // The seat's own space decides what its action means (steering, speed in the params).
    let steer_of = |a: Action, space: &ActionSpace| space.resolve(a).unwrap();
    assert_eq!(
        (out.params[1].steering_angle, out.params[1].speed),
        steer_of(Action::Discrete(3), &ActionSpace::default())
    );
    assert_eq!((out.params[2].steering_angle, out.params[2].speed), (5.0, 2.0));
    // A continuous action for a discrete seat is refused, naming the car.
    let bad = [ok[0], Action::Continuous([0.0, 1.0]), ok[2], ok[3]];
    match env.step(&bad, &mut out) {
        Err(SimError::Action { car, .. }) => assert_eq!(car, 1),
        other => panic!("{other:?}"),
    }
    // One space per seat, each within the car's limits.
    let mut wrong = cfg.clone();
    wrong.group.action_spaces.pop();
    let e = VecEnv::new(wrong, 2).unwrap_err().to_string();
    assert!(
        e.contains("group.action_spaces") && e.contains("one action space per seat"),
        "{e}"
    );
    let mut wrong = cfg;
    wrong.group.action_spaces[1] = ActionSpace::continuous(-30.0, 30.0, 0.1, 99.0);
    let e = VecEnv::new(wrong, 2).unwrap_err().to_string();
    assert!(e.contains("group.action_spaces[1]"), "{e}");
}

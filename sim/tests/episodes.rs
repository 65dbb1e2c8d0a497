//! Episodes, races, objects, parameters and traces through the public `VecEnv` API.

mod common;

use std::sync::Arc;

use slipstream_sim::driver::PurePursuit;
use slipstream_sim::objects::{BotConfig, ObstacleConfig};
use slipstream_sim::sensors::LidarConfig;
use slipstream_sim::trace::{HEADER, TraceWriter};
use slipstream_sim::track::builtin;
use slipstream_sim::{
    Action, ActionSpace, EnvConfig, EpisodeStatus, Mode, ObsConfig, RaceConfig, RewardPreset, Scenario, SimError,
    StepBuffers, VecEnv,
};

fn continuous(cfg: &mut EnvConfig) {
    cfg.action_space = ActionSpace::continuous(-30.0, 30.0, 0.1, 4.0);
}

/// Drive every car with the pure-pursuit driver until all are done — in race mode, until every
/// car's race is over — (or `max_steps`).
fn drive(env: &mut VecEnv, out: &mut StepBuffers, max_steps: usize, mut each: impl FnMut(&StepBuffers)) {
    let driver = PurePursuit::default();
    let cfg = env.config().clone();
    let race = matches!(cfg.mode, Mode::Race(_));
    let mut actions = vec![Action::Continuous([0.0, 0.0]); env.num_cars()];
    for _ in 0..max_steps {
        for (i, a) in actions.iter_mut().enumerate() {
            let track = &cfg.tracks[out.params[i].track_index as usize];
            let (s, v) = driver.act(track, &cfg.car, &out.params[i]);
            *a = Action::Continuous([s as f32, v as f32]);
        }
        env.step(&actions, out).unwrap();
        each(out);
        let over = if race {
            out.info.iter().all(|i| i.race_over)
        } else {
            out.done.iter().all(|&d| d != 0)
        };
        if over {
            return;
        }
    }
}

#[test]
fn pure_pursuit_laps_every_builtin_both_ways_without_leaving_the_track() {
    for b in builtin::all() {
        for reverse in [false, true] {
            let mut track = b.build(&Default::default()).unwrap();
            if reverse {
                track = track.reversed();
            }
            let length = track.length();
            let mut cfg = EnvConfig::new(track);
            continuous(&mut cfg);
            cfg.mode = Mode::Race(RaceConfig {
                laps: 2,
                ..Default::default()
            });
            let mut env = VecEnv::new(cfg, 1).unwrap();
            let mut out = env.buffers(true);
            env.reset(0, &mut out).unwrap();
            drive(&mut env, &mut out, 5000, |_| {});
            let r = env.race_results().unwrap().remove(0);
            assert_eq!(r.completed_laps(), 2, "{} reverse={reverse}: {:?}", b.name, r.laps);
            for lap in &r.laps {
                assert_eq!(lap.off_track, 0, "{} reverse={reverse}: {lap:?}", b.name);
                assert!(
                    lap.time_s > length / 4.0 && lap.time_s < length / 0.5,
                    "{}: {lap:?}",
                    b.name
                );
            }
        }
    }
}

#[test]
fn steps_progress_and_start_positions_follow_deepracer() {
    let track = common::builtin("oval");
    let length = track.length();
    let cfg = EnvConfig::new(track);
    let mut env = VecEnv::new(cfg, 4).unwrap();
    let mut out = env.buffers(true);
    env.reset(0, &mut out).unwrap();
    for (i, p) in out.params.iter().enumerate() {
        assert_eq!(p.steps, 1, "the prepare step");
        assert_eq!(out.info[i].status, EpisodeStatus::Prepare);
        // Cars are spread round the lap; x, y and progress are measured 0.14 m ahead of the origin.
        let expected = (i as f64 / 4.0 * length + 0.14) % length;
        assert!(
            (p.projection_distance - expected).abs() < 2e-3,
            "car {i}: {} vs {expected}",
            p.projection_distance
        );
        // (On a bend the straight 0.14 m projects to a little less along the centre line.)
        assert!(
            (p.progress - 0.14 / length * 100.0).abs() < 5e-3,
            "car {i}: progress {}",
            p.progress
        );
        assert!(p.all_wheels_on_track && !p.is_offtrack && !p.is_reversed);
        assert_eq!(p.track_length, length);
        assert!((p.track_width - 1.07).abs() < 1e-6);
    }
    env.step(&[Action::Discrete(4); 4], &mut out).unwrap();
    assert!(
        out.params.iter().all(|p| p.steps == 2),
        "the first action's call sees steps == 2"
    );
    assert!(out.params.iter().all(|p| p.speed == 1.0 && p.steering_angle == 0.0));
}

#[test]
fn leaving_the_track_ends_the_episode_and_the_next_start_moves_on() {
    let track = common::builtin("oval");
    let length = track.length();
    let mut cfg = EnvConfig::new(track);
    continuous(&mut cfg);
    let mut env = VecEnv::new(cfg, 1).unwrap();
    let mut out = env.buffers(true);
    env.reset(0, &mut out).unwrap();
    let mut ended = None;
    for step in 0..200 {
        env.step(&[Action::Continuous([-30.0, 3.0])], &mut out).unwrap();
        if out.done[0] != 0 {
            ended = Some(step);
            break;
        }
    }
    assert!(ended.is_some(), "a car steering hard right must leave the track");
    assert_eq!(out.info[0].status, EpisodeStatus::OffTrack);
    let p = &out.params[0];
    assert!(p.is_offtrack && !p.all_wheels_on_track, "{p:?}");
    assert_eq!(out.reward[0], -1.0, "the progress preset punishes leaving the track");
    // Auto-reset: the next episode starts 5 % of a lap further on, at its prepare step.
    let next = &out.reset_params[0];
    assert_eq!(out.reset_info[0].episode, 1);
    assert_eq!(next.steps, 1);
    // The prepare step has no action yet (the last episode's full-speed right turn is gone).
    assert_eq!((next.speed, next.steering_angle), (0.0, 0.0));
    assert_eq!(out.reset_info[0].action, Action::Discrete(0));
    assert_eq!(out.reset_info[0].episode_return, 0.0);
    let expected = 0.05 * length + 0.14;
    assert!(
        (next.projection_distance - expected).abs() < 1e-3,
        "{} vs {expected}",
        next.projection_distance
    );
    env.step(&[Action::Continuous([0.0, 1.0])], &mut out).unwrap();
    assert_eq!(out.info[0].episode, 1);
    assert_eq!(out.params[0].steps, 2);
}

#[test]
fn a_lap_completes_a_training_episode_and_the_step_limit_truncates() {
    let mut cfg = EnvConfig::new(common::builtin("kidney"));
    continuous(&mut cfg);
    let mut env = VecEnv::new(cfg.clone(), 1).unwrap();
    let mut out = env.buffers(true);
    env.reset(0, &mut out).unwrap();
    let mut status = None;
    drive(&mut env, &mut out, 2000, |o| {
        if o.done[0] != 0 && status.is_none() {
            status = Some((o.info[0].status, o.params[0].progress));
        }
    });
    let (st, progress) = status.unwrap();
    assert_eq!(st, EpisodeStatus::LapComplete);
    assert!(progress >= 100.0);

    cfg.mode = Mode::Train(slipstream_sim::EpisodeConfig {
        max_steps: 10,
        ..Default::default()
    });
    let mut env = VecEnv::new(cfg, 1).unwrap();
    env.reset(0, &mut out).unwrap();
    for _ in 0..10 {
        env.step(&[Action::Continuous([0.0, 0.5])], &mut out).unwrap();
    }
    assert_eq!(out.truncated[0], 1);
    assert_eq!(out.done[0], 0);
    assert_eq!(out.info[0].status, EpisodeStatus::TimeUp);
    assert!(
        out.final_obs.iter().any(|&v| v != 0.0),
        "the truncated episode's last observation is kept"
    );
}

#[test]
fn a_box_in_the_way_crashes_the_car_and_costs_a_race_penalty() {
    let mut cfg = EnvConfig::new(common::builtin("oval"));
    continuous(&mut cfg);
    cfg.obs = ObsConfig::Lidar(LidarConfig::default());
    // One box on the centre line 2 m after the start.
    let frac = 2.0 / cfg.tracks[0].length();
    cfg.scenario = Scenario::ObjectAvoidance(ObstacleConfig {
        count: 1,
        positions: vec![[frac, 0.0]],
        ..Default::default()
    });
    let mut env = VecEnv::new(cfg.clone(), 1).unwrap();
    let mut out = env.buffers(true);
    env.reset(0, &mut out).unwrap();
    assert_eq!(out.params[0].num_objects, 1);
    let o = out.params[0].objects()[0];
    assert!((o.distance - 2.0).abs() < 1e-6 && o.distance_from_center < 1e-9 && o.speed == 0.0);
    // The lidar's middle rays see the box's near face (about 1.85 m ahead) before the car moves.
    let rays = 32;
    let forward = out.obs[rays / 2 - 1].min(out.obs[rays / 2]);
    assert!(forward < 0.7, "the box is within range ahead: {forward}");
    let mut crashed = false;
    for _ in 0..60 {
        env.step(&[Action::Continuous([0.0, 1.5])], &mut out).unwrap();
        if out.done[0] != 0 {
            crashed = out.info[0].status == EpisodeStatus::Crashed && out.params[0].is_crashed;
            break;
        }
    }
    assert!(crashed, "driving straight into the box crashes");

    // A race: by default (no resets) the crash ends the trial.
    cfg.mode = Mode::Race(RaceConfig {
        laps: 1,
        ..Default::default()
    });
    let mut env = VecEnv::new(cfg.clone(), 1).unwrap();
    env.reset(0, &mut out).unwrap();
    drive(&mut env, &mut out, 3000, |_| {});
    let r = env.race_results().unwrap().remove(0);
    assert_eq!(r.completed_laps(), 0);
    assert_eq!(
        (r.laps[0].collisions, r.laps[0].ended),
        (1, EpisodeStatus::Crashed),
        "{:?}",
        r.laps
    );
    // With resets the car is held for the penalty 1 m behind the box in the other lane, then
    // drives on from there.
    cfg.mode = Mode::Race(RaceConfig {
        laps: 1,
        number_of_resets: 10,
        ..Default::default()
    });
    let mut env = VecEnv::new(cfg, 1).unwrap();
    env.reset(0, &mut out).unwrap();
    let mut rows = Vec::new();
    for _ in 0..120 {
        env.step(&[Action::Continuous([0.0, 1.5])], &mut out).unwrap();
        let p = &out.params[0];
        rows.push((out.info[0].status, out.info[0].pause_duration, p.x, p.y, p.speed));
    }
    let crash = rows
        .iter()
        .position(|r| r.0 == EpisodeStatus::Crashed)
        .expect("a crash");
    assert_eq!(rows[crash].1, 5.0, "the crash row carries the penalty");
    // 5 s at 15 steps per second, every row at the same place, counting down.
    let held = &rows[crash + 1..crash + 76];
    assert!(
        held.iter()
            .all(|h| h.0 == EpisodeStatus::Pause && (h.2, h.3) == (held[0].2, held[0].3)),
        "{held:?}"
    );
    assert!(held[0].1 < 5.0 && held[74].1.abs() < 1e-6, "{held:?}");
    assert_eq!(rows[crash + 76].0, EpisodeStatus::InProgress);
    assert!(rows[crash + 80].2 > held[0].2, "released, it drives on");
    let o = out.params[0].objects()[0];
    let (x, y) = (held[0].2, held[0].3);
    assert!(
        o.distance - x > 0.7 && o.distance - x < 1.3,
        "about 1 m behind the box: {x} vs {}",
        o.distance
    );
    assert!(y.abs() > 0.1, "in a lane, not on the centre line where the box is: {y}");
}

#[test]
fn a_reset_starts_a_finished_race_again_from_scratch() {
    let mut cfg = EnvConfig::new(common::builtin("oval"));
    continuous(&mut cfg);
    cfg.mode = Mode::Race(RaceConfig {
        laps: 2,
        ..Default::default()
    });
    let mut env = VecEnv::new(cfg, 2).unwrap();
    let mut out = env.buffers(true);
    let race = |env: &mut VecEnv, out: &mut StepBuffers| {
        env.reset(4, out).unwrap();
        let start = (out.obs.clone(), out.info.clone(), out.params.clone());
        let fresh = env.race_results().unwrap();
        assert!(fresh.iter().all(|r| r.laps.is_empty() && !r.finished), "{fresh:?}");
        drive(env, out, 3000, |_| {});
        (start, env.race_results().unwrap())
    };
    let first = race(&mut env, &mut out);
    assert!(
        first.1.iter().all(|r| r.finished && r.completed_laps() == 2),
        "{:?}",
        first.1
    );
    assert!(
        first == race(&mut env, &mut out),
        "the same seed races the same race again"
    );
}

#[test]
fn bots_drive_and_appear_in_the_parameters() {
    let mut cfg = EnvConfig::new(common::builtin("speedway"));
    cfg.scenario = Scenario::HeadToBot(BotConfig {
        count: 3,
        speed: 0.5,
        ..Default::default()
    });
    let mut env = VecEnv::new(cfg, 2).unwrap();
    let mut out = env.buffers(true);
    env.reset(1, &mut out).unwrap();
    let before: Vec<f64> = out.params[0].objects().iter().map(|o| o.distance).collect();
    assert_eq!(before.len(), 3);
    for _ in 0..15 {
        env.step(&[Action::Discrete(4); 2], &mut out).unwrap();
    }
    let p = &out.params[0];
    for (o, b) in p.objects().iter().zip(&before) {
        assert_eq!(o.speed, 0.5);
        let moved = (o.distance - b).rem_euclid(p.track_length);
        assert!((moved - 0.5).abs() < 1e-6, "a bot moves 0.5 m in 1 s: {moved}");
    }
    let [behind, ahead] = p.closest_objects;
    assert!(behind < 3 && ahead < 3 && behind != ahead);
}

#[test]
fn object_headings_and_sim_time_are_what_deepracer_passes() {
    // Boxes round the whole lap (in bends too): DeepRacer passes heading 0.0 for every one.
    let mut cfg = EnvConfig::new(common::builtin("speedway"));
    cfg.scenario = Scenario::ObjectAvoidance(ObstacleConfig {
        count: 6,
        ..Default::default()
    });
    let mut env = VecEnv::new(cfg, 1).unwrap();
    let mut out = env.buffers(true);
    env.reset(2, &mut out).unwrap();
    let p = &out.params[0];
    assert_eq!(p.num_objects, 6);
    assert!(p.objects().iter().all(|o| o.heading == 0.0), "{:?}", p.objects());
    assert_eq!(p.sim_time, 0.0, "the prepare step of a fresh environment");
    // Bot cars: their yaw, in radians, as the simulator passes it.
    let track = common::builtin("speedway");
    let mut cfg = EnvConfig::new(track.clone());
    cfg.scenario = Scenario::HeadToBot(BotConfig {
        count: 3,
        lane_change: false,
        ..Default::default()
    });
    let mut env = VecEnv::new(cfg, 1).unwrap();
    env.reset(1, &mut out).unwrap();
    for _ in 0..15 {
        env.step(&[Action::Discrete(4)], &mut out).unwrap();
    }
    let p = &out.params[0];
    let mut turning = 0;
    for o in p.objects() {
        let seg = track.seg_at_s(track.wrap_s(o.distance), 0);
        let yaw = track.heading_at(seg);
        assert!((o.heading - yaw).abs() < 1e-9, "{o:?}: track heading {yaw} rad");
        turning += usize::from(o.heading.abs() > 0.2);
    }
    assert!(turning > 0, "some bot is not heading along +x: {:?}", p.objects());
    assert!((p.sim_time - 1.0).abs() < 1e-9, "15 steps of 1/15 s: {}", p.sim_time);
}

#[test]
fn leaving_the_track_ends_a_trial_and_each_trial_starts_at_the_line() {
    let mut cfg = EnvConfig::new(common::builtin("oval"));
    continuous(&mut cfg);
    cfg.mode = Mode::Race(RaceConfig {
        laps: 3,
        ..Default::default()
    });
    let mut env = VecEnv::new(cfg, 1).unwrap();
    let mut out = env.buffers(true);
    env.reset(0, &mut out).unwrap();
    let start = (out.params[0].x, out.params[0].y);
    let mut trials = vec![(out.info[0].episode, out.params[0].x, out.params[0].y)];
    let mut steps = 0;
    while !out.info[0].race_over && steps < 1000 {
        env.step(&[Action::Continuous([-30.0, 2.0])], &mut out).unwrap();
        steps += 1;
        if out.done[0] != 0 && !out.info[0].race_over {
            // The next trial's prepare step: at the start line, at rest.
            let next = (out.reset_info[0].episode, out.reset_params[0].x, out.reset_params[0].y);
            assert_eq!(out.reset_params[0].speed, 0.0);
            trials.push(next);
        }
    }
    let r = env.race_results().unwrap().remove(0);
    assert!(r.finished && out.info[0].status == EpisodeStatus::OffTrack);
    assert_eq!(r.laps.len(), 3);
    assert!(
        r.laps
            .iter()
            .all(|l| l.ended == EpisodeStatus::OffTrack && l.off_track == 1 && l.penalty_s == 0.0)
    );
    assert_eq!(trials.iter().map(|t| t.0).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(trials.iter().all(|t| (t.1, t.2) == start), "{trials:?}");
}

#[test]
fn leaving_the_track_in_a_race_with_resets_holds_the_car_and_the_time_limit_ends_it() {
    let mut cfg = EnvConfig::new(common::builtin("oval"));
    continuous(&mut cfg);
    cfg.reward = Arc::new(RewardPreset::Zero);
    cfg.mode = Mode::Race(RaceConfig {
        laps: 3,
        continuous: true,
        number_of_resets: u32::MAX,
        off_track_penalty_s: 2.0,
        max_time_s: 20.0,
        ..Default::default()
    });
    let mut env = VecEnv::new(cfg, 1).unwrap();
    let mut out = env.buffers(true);
    env.reset(0, &mut out).unwrap();
    let mut steps = 0;
    let mut rows = Vec::new();
    while out.done[0] == 0 && steps < 1000 {
        env.step(&[Action::Continuous([-30.0, 2.0])], &mut out).unwrap();
        steps += 1;
        let p = &out.params[0];
        rows.push((
            out.info[0].status,
            p.all_wheels_on_track,
            p.x,
            p.y,
            p.progress,
            p.distance_from_center,
        ));
    }
    // The off-track row shows where the car left the road; the next (held) rows show it back on a
    // lane line (half-way to a border), at about the previous step's progress.
    let k = rows.iter().position(|r| r.0 == EpisodeStatus::OffTrack).unwrap();
    let (off, held, before) = (rows[k], rows[k + 1], rows[k - 1]);
    assert!(!off.1, "{off:?}");
    assert_eq!(held.0, EpisodeStatus::Pause);
    assert!(held.1 && (held.2, held.3) != (off.2, off.3), "{held:?} vs {off:?}");
    let half_width = 0.5 * 1.07;
    assert!((held.5 - 0.5 * half_width).abs() < 0.1, "on a lane line: {held:?}");
    assert!(
        (held.4 - before.4).abs() < 1.0,
        "at the previous progress: {held:?} vs {before:?}"
    );
    let r = env.race_results().unwrap().remove(0);
    assert!(r.finished);
    assert_eq!(r.completed_laps(), 0);
    let lap = r.laps[0];
    assert!(!lap.completed && lap.off_track >= 2, "{lap:?}");
    assert_eq!(lap.penalty_s, 2.0 * f64::from(lap.off_track));
    assert_eq!(out.info[0].status, EpisodeStatus::TimeUp);
}

#[test]
fn the_trace_has_deepracers_columns_and_one_prepare_row_per_episode() {
    let cfg = EnvConfig::new(common::builtin("oval"));
    let mut env = VecEnv::new(cfg, 1).unwrap();
    let mut out = env.buffers(true);
    env.reset(0, &mut out).unwrap();
    let mut w = TraceWriter::new(Vec::new()).unwrap();
    w.record_reset(&out, 0).unwrap();
    let mut episodes = 1;
    for k in 0..120 {
        let a = if k % 40 < 30 {
            Action::Discrete(4)
        } else {
            Action::Discrete(0)
        };
        env.step(&[a], &mut out).unwrap();
        w.record_step(&out, 0).unwrap();
        if out.ended(0) {
            episodes += 1;
        }
    }
    let text = String::from_utf8(w.into_inner()).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(HEADER));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.iter().all(|r| r.len() == 17));
    assert_eq!(rows.len(), 120 + episodes);
    let prepares = rows.iter().filter(|r| r[15] == "prepare").count();
    assert_eq!(prepares, episodes);
    assert!(episodes > 1, "the test should cover an episode end");
    assert_eq!(rows[0][1], "1.0");
    assert_eq!(rows[1][1], "2.0");
    assert!(rows.iter().filter(|r| r[9] == "True").count() == episodes - 1);
    for r in &rows {
        for c in [2, 3, 4, 5, 6, 8, 11, 13, 14, 16] {
            r[c].parse::<f64>()
                .unwrap_or_else(|_| panic!("column {c} is not a number: {r:?}"));
        }
    }
}

#[test]
fn bad_actions_and_buffers_are_refused_with_the_car_named() {
    let cfg = EnvConfig::new(common::builtin("oval"));
    let mut env = VecEnv::new(cfg, 3).unwrap();
    let mut out = env.buffers(false);
    let e = env.step(&[Action::Discrete(0); 3], &mut out).unwrap_err();
    assert!(e.to_string().contains("reset"), "{e}");
    env.reset(0, &mut out).unwrap();
    let e = env
        .step(
            &[Action::Discrete(0), Action::Discrete(99), Action::Discrete(0)],
            &mut out,
        )
        .unwrap_err();
    assert!(matches!(e, SimError::Action { car: 1, .. }), "{e}");
    assert!(e.to_string().contains("out of range"), "{e}");
    let e = env.step(&[Action::Continuous([0.0, 1.0]); 3], &mut out).unwrap_err();
    assert!(matches!(e, SimError::Action { car: 0, .. }), "{e}");
    let e = env.step(&[Action::Discrete(0); 2], &mut out).unwrap_err();
    assert!(e.to_string().contains("actions"), "{e}");
    let mut small = StepBuffers::new(2, env.obs_dim(), false);
    assert!(env.step(&[Action::Discrete(0); 3], &mut small).is_err());
    // Configuration errors name the field.
    let mut cfg = EnvConfig::new(common::builtin("oval"));
    cfg.agent_dt = -1.0;
    assert!(VecEnv::new(cfg, 1).unwrap_err().to_string().contains("agent_dt"));
    let mut cfg = EnvConfig::new(common::builtin("oval"));
    cfg.action_space = ActionSpace::continuous(-45.0, 45.0, 0.1, 4.0);
    assert!(VecEnv::new(cfg, 1).unwrap_err().to_string().contains("steering_angle"));
    assert!(VecEnv::new(EnvConfig::new(common::builtin("oval")), 0).is_err());
}

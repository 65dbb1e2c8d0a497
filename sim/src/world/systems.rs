//! The simulator's systems (see the module docs of [`crate::world`] for their order). Each system is a
//! thin loop over entities calling the engine-free functions of the other modules.

use bevy_ecs::prelude::*;

use super::{
    CameraRandom, CameraScratch, Car, CarFilter, CarIndex, CarObjects, Controls, Episode, Groups, Io, Nearby, ObjectOf,
    Race, Score, Seat, Seed, SenseScratch, Settings, SimObject, Stage, TrackPose,
};
use crate::action::ActionSpace;
use crate::camera::{self, Camera, CameraPose, RenderScratch, SceneObject};
use crate::car::{CarModel, CarState};
use crate::episode::{self, EpisodeState, EpisodeStatus, HoldAt, HoldPose, Mode, RaceAction, StepFacts};
use crate::objects::{self, ObjectState, Scenario};
use crate::params::MAX_OBJECTS;
use crate::rng::{Rng, mix_seed};
use crate::sensors::{LidarScratch, ObsConfig, deepracer_lidar};
use crate::track::Track;

use super::incident::{contact, hold_pose, open_span, place_on_centerline, rival_state};
pub use super::outputs::{CAMERA_FOV_DEG, CAMERA_RANGE_M};
use super::outputs::{fill_params, info_of};
use super::start;

/// Stands in for the objects of a car whose race type has none.
static NO_OBJECTS: std::sync::LazyLock<Nearby> = std::sync::LazyLock::new(Nearby::default);

/// Read this step's actions.
pub fn apply_actions(settings: Res<Settings>, io: Res<Io>, mut cars: Query<(&CarIndex, &mut Controls)>) {
    let io = io.lock();
    for (idx, mut c) in &mut cars {
        let action = io.actions[idx.local as usize];
        // Actions were validated by the environment before the step (against the car's seat's
        // space, head-to-head).
        let (steer_deg, speed) = settings
            .group
            .action_space(idx.global as usize, &settings.action_space)
            .resolve(action)
            .unwrap_or((0.0, settings.model.params.min_speed));
        *c = Controls {
            action,
            steer_deg,
            speed,
            command: ActionSpace::command(steer_deg, speed),
        };
    }
}

/// Bot cars drive along the track and change lanes.
pub fn move_bots(settings: Res<Settings>, cars: Query<&Car>, mut objects: Query<(&ObjectOf, &mut SimObject)>) {
    let Scenario::HeadToBot(cfg) = &settings.scenario else {
        return;
    };
    let p = &settings.model.params;
    for (owner, mut obj) in &mut objects {
        let Ok(car) = cars.get(owner.0) else { continue };
        let track = &settings.tracks[car.track as usize];
        let SimObject { state, rng, .. } = &mut *obj;
        objects::move_bot(cfg, track, state, settings.agent_dt, rng, p.length, p.width);
    }
}

/// Integrate the car dynamics (a car held after a race incident stays at rest where it is held).
pub fn drive(settings: Res<Settings>, mut cars: Query<(&Controls, &mut Car, Option<&Race>)>) {
    for (c, mut car, race) in &mut cars {
        if let Some(r) = race {
            if r.0.finished {
                continue;
            }
            if let Some(h) = r.0.hold {
                car.state = CarState::at_rest(h.pos, h.heading);
                continue;
            }
        }
        settings
            .model
            .step(&mut car.state, c.command, settings.agent_dt, settings.substeps);
    }
}

/// Copy each car's object footprints for this step; head-to-head, its rivals' after them (after
/// Locate: a rival is described where it is this step).
pub fn gather_objects<F: CarFilter>(
    settings: Res<Settings>,
    groups: Res<Groups>,
    mut cars: Query<(Entity, Option<&CarObjects>, Option<&Seat>, &Episode, &mut Nearby)>,
    objects: Query<&SimObject>,
    rivals: Query<(&Car, &TrackPose, Option<&Race>)>,
) {
    let is_bot = matches!(settings.scenario, Scenario::HeadToBot(_)) || settings.group.is_head_to_head();
    for (me, objs, seat, ep, mut near) in &mut cars {
        if !F::visits(ep) {
            continue;
        }
        let mut n = 0;
        for &e in objs.map_or(&[][..], CarObjects::entities) {
            if let Ok(o) = objects.get(e) {
                let k = o.slot as usize;
                if k < MAX_OBJECTS {
                    near.states[k] = o.state;
                    near.obbs[k] = o.state.obb;
                    n = n.max(k + 1);
                }
            }
        }
        if let Some(seat) = seat {
            for &e in &groups.0[seat.group as usize] {
                let Ok((car, pose, race)) = rivals.get(e) else { continue };
                // A held or parked rival is a ghost (and a car is not its own rival).
                if e == me || n >= MAX_OBJECTS || race.is_some_and(|r| r.0.finished || r.0.hold.is_some()) {
                    continue;
                }
                let state = rival_state(&settings.tracks[car.track as usize], &settings.model, &car.state, pose);
                near.states[n] = state;
                near.obbs[n] = state.obb;
                n += 1;
            }
        }
        near.n = n;
        near.is_bot = is_bot;
    }
}

/// Project the car onto the track and check its wheels.
pub fn locate_one(track: &Track, model: &CarModel, need_quad: bool, car: &CarState, pose: &mut TrackPose) {
    pose.origin = track.project_near(car.pos, pose.origin.seg);
    pose.ref_pos = model.reference_point(car);
    pose.reference = track.project_near(pose.ref_pos, pose.origin.seg);
    let mut bits = 0u8;
    for (k, w) in model.wheels(car).into_iter().enumerate() {
        let p = track.project_near(w, pose.origin.seg);
        if track.is_on_track(&p) {
            bits |= 1 << k;
        }
    }
    pose.wheels_on = bits;
    pose.quad = if need_quad {
        track.locate_quad(car.pos, pose.origin.seg)
    } else {
        None
    };
}

/// Track pose of every car.
pub fn locate(settings: Res<Settings>, mut cars: Query<(&Car, &mut TrackPose)>) {
    let need_quad = settings.lidar.is_some();
    for (car, mut pose) in &mut cars {
        locate_one(
            &settings.tracks[car.track as usize],
            &settings.model,
            need_quad,
            &car.state,
            &mut pose,
        );
    }
}

/// Progress, collisions, termination; race laps and penalties.
pub fn judge(
    settings: Res<Settings>,
    mut cars: Query<(
        &mut Car,
        &mut TrackPose,
        &mut Episode,
        Option<&mut Race>,
        Option<&Nearby>,
    )>,
) {
    let need_quad = settings.lidar.is_some();
    for (mut car, mut pose, mut ep, race, near) in &mut cars {
        let car = &mut *car;
        let track = &settings.tracks[car.track as usize];
        let ep = &mut ep.state;
        if let Some(r) = &race
            && r.0.finished
        {
            ep.done = true;
            continue;
        }
        let facts = StepFacts {
            ref_s: pose.reference.s,
            ref_pos: pose.ref_pos,
            any_wheel_on_track: pose.any_wheel_on(),
            contact: contact(
                track,
                &settings.model,
                &car.state,
                if settings.group.is_head_to_head() {
                    pose.origin.s
                } else {
                    pose.reference.s
                },
                near.unwrap_or(&NO_OBJECTS),
            ),
            track_length: track.length(),
            open_span: open_span(track, ep.start_s),
            dt: settings.agent_dt,
        };
        let (prev_ref_s, prev_ref_pos) = (ep.ref_s, ep.last_ref_pos);
        let delta = track.delta_s(ep.ref_s, pose.reference.s);
        episode::advance_progress(ep, &facts, delta);
        match (&settings.mode, race) {
            (Mode::Train(cfg), _) => episode::judge_training(ep, cfg, &facts),
            (Mode::Race(cfg), Some(mut race)) => match episode::judge_race(ep, &mut race.0, cfg, &facts) {
                RaceAction::Continue => {}
                RaceAction::Hold(at) => {
                    let near = near.unwrap_or(&NO_OBJECTS);
                    let hint = pose.origin.seg;
                    race.0.hold = Some(match at {
                        HoldAt::Collision if near.is_bot => HoldPose {
                            pos: car.state.pos,
                            heading: car.state.heading,
                        },
                        HoldAt::Collision => hold_pose(track, pose.reference.s, car.state.pos, hint, near),
                        HoldAt::PreviousProgress => hold_pose(track, prev_ref_s, prev_ref_pos, hint, near),
                    });
                }
                RaceAction::Restart => {
                    // An open track's next lap starts at its start.
                    let seg = place_on_centerline(track, &mut car.state, ep.start_s, pose.origin.seg);
                    pose.origin.seg = seg;
                    locate_one(track, &settings.model, need_quad, &car.state, &mut pose);
                    ep.along = pose.reference.s - ep.start_s;
                    ep.ref_s = pose.reference.s;
                    ep.last_ref_pos = pose.ref_pos;
                }
            },
            (Mode::Race(_), None) => {}
        }
    }
}

/// DeepRacer parameters and the in-simulator reward (0 for a new episode's prepare step, as in
/// DeepRacer).
pub fn score<F: CarFilter>(
    settings: Res<Settings>,
    mut cars: Query<(&Car, &Controls, &TrackPose, &mut Episode, Option<&Nearby>, &mut Score)>,
) {
    for (car, c, pose, mut ep, near, mut score) in &mut cars {
        if !F::visits(&ep) {
            continue;
        }
        let track = &settings.tracks[car.track as usize];
        let score = &mut *score;
        fill_params(
            &mut score.params,
            track,
            car.track,
            &car.state,
            c.steer_deg,
            c.speed,
            pose,
            &ep.state,
            near.unwrap_or(&NO_OBJECTS),
        );
        if ep.stage == Stage::Fresh || ep.state.status == EpisodeStatus::Pause {
            // DeepRacer calls the reward function only while the car drives.
            score.reward = 0.0;
        } else {
            score.reward = settings.reward.reward(&score.params, &settings.reward_ctx);
            ep.state.episode_return += f64::from(score.reward);
        }
    }
}

/// Rewards, flags, info and parameters into the shard's buffers; a new episode's prepare step into
/// the `reset_*` records (after a seeded reset they are also the step's outputs).
pub fn write_outputs<F: CarFilter>(
    settings: Res<Settings>,
    io: Res<Io>,
    cars: Query<(&CarIndex, &Car, &Controls, &TrackPose, &Episode, Option<&Race>, &Score)>,
) {
    let mut io = io.lock();
    let io = &mut *io;
    for (idx, car, c, pose, ep, race, score) in &cars {
        if !F::visits(ep) {
            continue;
        }
        let l = idx.local as usize;
        let track = &settings.tracks[car.track as usize];
        let info = info_of(&ep.state, c.action, track, pose, race, car.track);
        if ep.stage == Stage::Fresh {
            io.reset_info[l] = info;
            if l < io.want_params {
                io.reset_params[l] = score.params;
            }
        } else {
            io.reward[l] = score.reward;
            io.done[l] = u8::from(ep.state.done);
            io.truncated[l] = u8::from(ep.state.truncated);
            io.info[l] = info;
            if l < io.want_params {
                io.params[l] = score.params;
            }
        }
    }
}

/// One car's observation.
fn sense_one(
    settings: &Settings,
    car: &Car,
    pose: &TrackPose,
    near: &Nearby,
    scratch: &mut LidarScratch,
    out: &mut [f32],
) {
    let track = &settings.tracks[car.track as usize];
    match (&settings.obs, &settings.lidar) {
        (ObsConfig::State(cfg), _) => cfg.observe(track, &car.state, &pose.origin, &settings.model.params, out),
        (ObsConfig::Lidar(cfg), Some(lidar)) => {
            let n = cfg.rays;
            lidar.scan(
                track,
                car.state.pos,
                car.state.forward(),
                pose.quad,
                &near.obbs[..near.n],
                scratch,
                &mut out[..n],
            );
            out[n] = (car.state.vx / settings.model.params.max_speed) as f32;
            out[n + 1] = (car.state.steer / settings.model.params.max_steer) as f32;
        }
        (ObsConfig::Lidar(_), None) => unreachable!("a lidar is built for lidar observations"),
        (obs, _) => {
            // A camera's vector, DeepRacer's lidars', or both: the lidar's readings (if any), then
            // speed and steering.
            let n = match obs.deepracer_lidar() {
                Some((kind, cfg)) => {
                    let mut ranges = [0.0; deepracer_lidar::SAMPLES];
                    deepracer_lidar::scan(
                        track,
                        car.state.pos,
                        car.state.forward(),
                        pose.origin.seg,
                        cfg.borders,
                        &near.obbs[..near.n],
                        &mut ranges,
                    );
                    kind.observe(&ranges, out)
                }
                None => 0,
            };
            out[n] = (car.state.vx / settings.model.params.max_speed) as f32;
            out[n + 1] = (car.state.steer / settings.model.params.max_steer) as f32;
        }
    }
}

/// One car's camera image.
fn render_one(
    cam: &Camera,
    car: &Car,
    near: &Nearby,
    rand: &CameraRandom,
    frame: u32,
    scratch: &mut RenderScratch,
    out: &mut [u8],
) {
    let mut scene = [SceneObject {
        obb: crate::math::Obb::default(),
        height: 0.0,
        tone: 0,
    }; MAX_OBJECTS];
    for k in 0..near.n {
        scene[k] = camera::scene_object(near.obbs[k], near.is_bot);
    }
    let pose = CameraPose {
        pos: car.state.pos,
        forward: car.state.forward(),
    };
    cam.render(
        car.track as usize,
        &pose,
        &scene[..near.n],
        &rand.0,
        frame,
        scratch,
        out,
    );
}

/// Phase 11: every car's camera image (camera observations only), at its final pose for the step.
pub fn render(
    settings: Res<Settings>,
    io: Res<Io>,
    mut scratch: ResMut<CameraScratch>,
    cars: Query<(&CarIndex, &Car, &Episode, Option<&Nearby>, &CameraRandom)>,
) {
    let Some(cam) = &settings.camera else { return };
    let mut io = io.lock();
    let len = cam.image_len();
    for (idx, car, ep, near, rand) in &cars {
        let l = idx.local as usize;
        render_one(
            cam,
            car,
            near.unwrap_or(&NO_OBJECTS),
            rand,
            ep.state.steps,
            &mut scratch.0,
            &mut io.image[l * len..(l + 1) * len],
        );
    }
}

/// Draw each new episode's camera randomisation from its `(seed, car, episode)` stream (identity
/// unless the camera's randomisation is enabled).
pub fn randomize_cameras(
    settings: Res<Settings>,
    seed: Res<Seed>,
    mut cars: Query<(&CarIndex, &Episode, &mut CameraRandom)>,
) {
    let Some(cam) = &settings.camera else { return };
    for (idx, ep, mut rand) in &mut cars {
        if ep.stage != Stage::Fresh {
            continue;
        }
        let mut rng = Rng::new(mix_seed(&[seed.0, u64::from(idx.global), ep.state.number, 3]));
        rand.0 = cam.config.randomize.draw(&mut rng, &camera::tones::TONES);
    }
}

/// Terminal observations of episodes cut off by the step limit (the ones a learner bootstraps from;
/// a terminated episode's value is zero, so its last observation is not needed).
pub fn sense_final(
    settings: Res<Settings>,
    io: Res<Io>,
    mut scratch: ResMut<SenseScratch>,
    mut cam_scratch: ResMut<CameraScratch>,
    cars: Query<(
        &CarIndex,
        &Car,
        &TrackPose,
        &Episode,
        Option<&Nearby>,
        Option<&CameraRandom>,
    )>,
) {
    let mut io = io.lock();
    let dim = settings.obs.dim();
    for (idx, car, pose, ep, near, rand) in &cars {
        if ep.state.truncated {
            let l = idx.local as usize;
            if let (Some(cam), Some(rand)) = (&settings.camera, rand) {
                let len = cam.image_len();
                render_one(
                    cam,
                    car,
                    near.unwrap_or(&NO_OBJECTS),
                    rand,
                    ep.state.steps,
                    &mut cam_scratch.0,
                    &mut io.final_image[l * len..(l + 1) * len],
                );
            }
            sense_one(
                &settings,
                car,
                pose,
                near.unwrap_or(&NO_OBJECTS),
                &mut scratch.0,
                &mut io.final_obs[l * dim..(l + 1) * dim],
            );
        }
    }
}

/// Observations of every car (after auto-resets); new episodes are under way from here.
pub fn sense(
    settings: Res<Settings>,
    io: Res<Io>,
    mut scratch: ResMut<SenseScratch>,
    mut cars: Query<(&CarIndex, &Car, &TrackPose, &mut Episode, Option<&Nearby>)>,
) {
    let mut io = io.lock();
    let dim = settings.obs.dim();
    for (idx, car, pose, mut ep, near) in &mut cars {
        let l = idx.local as usize;
        sense_one(
            &settings,
            car,
            pose,
            near.unwrap_or(&NO_OBJECTS),
            &mut scratch.0,
            &mut io.obs[l * dim..(l + 1) * dim],
        );
        ep.stage = Stage::Running;
    }
}

/// Every car starts again from scratch (the [`super::SimReset`] schedule, before [`begin_episodes`]).
pub fn restart_all(mut cars: Query<&mut Episode>) {
    for mut ep in &mut cars {
        ep.stage = Stage::Restart;
    }
}

/// Start new episodes for cars that finished (training), or for every car after a reset.
pub fn begin_episodes(
    settings: Res<Settings>,
    seed: Res<Seed>,
    mut cars: Query<(
        &CarIndex,
        &mut Car,
        &mut Controls,
        &mut TrackPose,
        &mut Episode,
        Option<&mut Race>,
        Option<&Seat>,
    )>,
) {
    let need_quad = settings.lidar.is_some();
    let num_tracks = settings.tracks.len() as u64;
    let train = matches!(settings.mode, Mode::Train(_));
    for (idx, mut car, mut controls, mut pose, mut ep, race, seat) in &mut cars {
        let restart = ep.stage == Stage::Restart;
        // A training episode that ended, or a race's trial that ended with trials left.
        let next = if train {
            ep.state.done || ep.state.truncated
        } else {
            ep.state.done && race.as_ref().is_some_and(|r| !r.0.finished)
        };
        if !restart && !next {
            continue;
        }
        let number = if restart { 0 } else { ep.state.number + 1 };
        let clock = if restart { 0.0 } else { ep.state.clock };
        let g = u64::from(idx.global);
        let ti = start::episode_track(settings.track_schedule, train, g, number, num_tracks);
        let track = &settings.tracks[ti];
        let start_s = start::start_s(&settings.mode, track, g, number, settings.num_cars);
        let car = &mut *car;
        car.track = ti as u16;
        let seg = match seat {
            Some(seat) if !train => {
                start::grid_place(track, &mut car.state, start_s, seat.seat, settings.group.stagger_m)
            }
            _ => place_on_centerline(track, &mut car.state, start_s, 0),
        };
        pose.origin.seg = seg;
        locate_one(track, &settings.model, need_quad, &car.state, &mut pose);
        let mut st = EpisodeState::new(mix_seed(&[seed.0, g, number]));
        st.number = number;
        st.clock = clock;
        st.start_s = start_s;
        st.ref_s = pose.reference.s;
        st.along = if track.is_closed() {
            track.delta_s(start_s, pose.reference.s)
        } else {
            pose.reference.s - start_s
        };
        st.last_ref_pos = pose.ref_pos;
        let span = open_span(track, start_s).unwrap_or(track.length());
        st.progress = st.along / span * 100.0;
        st.prev_progress = st.progress;
        ep.state = st;
        ep.stage = Stage::Fresh;
        *controls = Controls::PREPARE;
        if let Some(mut race) = race {
            if restart {
                race.0.restart();
            }
            race.0.lap_start = clock;
            race.0.hold = None;
        }
    }
}

/// Lay out the objects of cars whose episode just began.
pub fn place_objects(
    settings: Res<Settings>,
    seed: Res<Seed>,
    cars: Query<(&CarIndex, &Car, &Episode, &CarObjects)>,
    mut objects: Query<&mut SimObject>,
) {
    let count = settings.scenario.object_count();
    let per_episode = match &settings.scenario {
        Scenario::ObjectAvoidance(o) => o.randomize_each_episode,
        _ => true,
    };
    let p = &settings.model.params;
    for (idx, car, ep, objs) in &cars {
        if ep.stage != Stage::Fresh {
            continue;
        }
        let track = &settings.tracks[car.track as usize];
        let g = u64::from(idx.global);
        let (mut rng, start_s) = if per_episode {
            (Rng::new(mix_seed(&[seed.0, g, ep.state.number, 1])), ep.state.start_s)
        } else {
            (Rng::new(mix_seed(&[seed.0, g, 1])), 0.0)
        };
        let mut layout = [ObjectState::default(); MAX_OBJECTS];
        objects::layout(
            &settings.scenario,
            track,
            p.length,
            p.width,
            start_s,
            &mut rng,
            &mut layout[..count],
        );
        for &e in objs.entities() {
            if let Ok(mut o) = objects.get_mut(e) {
                let k = o.slot as usize;
                if k < count {
                    o.state = layout[k];
                    o.rng = Rng::new(mix_seed(&[seed.0, g, ep.state.number, 2, k as u64]));
                }
            }
        }
    }
}

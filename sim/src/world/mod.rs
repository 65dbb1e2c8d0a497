//! The bevy world: cars, obstacles and bot cars as entities; dynamics, sensing, rules and rewards as
//! systems in a fixed order.
//!
//! A *shard* is one headless bevy [`SubApp`] (bevy_app + bevy_ecs, no renderer, no window) holding a
//! contiguous block of the environment's cars. [`crate::env::VecEnv`] steps several shards in
//! parallel, one per worker thread. Cars interact only within a head-to-head group
//! ([`crate::config::GroupConfig`]), and a group always lies within one shard, so sharding changes
//! nothing in the results: every car's computation reads only its own entities and its group's,
//! which is why trajectories are bit-identical whatever the thread count.
//!
//! # One step ([`SimStep`])
//!
//! One chain of systems, in the order of ARCHITECTURE.md's "One step":
//!
//! | # | phase | system | what it does |
//! |---|---|---|---|
//! | 1 | Act | [`systems::apply_actions`] | read this step's actions into each car's [`Controls`] |
//! | 2 | Objects | [`systems::move_bots`] | bot cars drive on and change lanes |
//! | 3 | Drive | [`systems::drive`] | integrate the car dynamics with fixed sub-steps |
//! | 4 | Locate | [`systems::locate`] | project onto the centre line, wheels on/off the road |
//! | 5 | Gather | [`systems::gather_objects`] | copy each car's object footprints (and its rivals', head-to-head) into [`Nearby`] |
//! | 6 | Judge | [`systems::judge`] | progress, collisions, termination, race laps and penalties |
//! | 7 | Score | [`systems::score`] | DeepRacer parameters and the in-simulator reward |
//! | 8 | Output | [`systems::write_outputs`] | rewards, flags, params, info into the shard's I/O buffers |
//! | 9 | Final | [`systems::sense_final`] | terminal observations (and camera images) of truncated episodes |
//! | 10 | Reset | [`systems::begin_episodes`], [`systems::place_objects`] | finished training episodes start again, objects re-laid |
//! | | | [`systems::randomize_cameras`] | … a new episode's camera randomisation drawn |
//! | | | [`systems::gather_objects`], [`systems::score`], [`systems::write_outputs`] | … and their prepare step, for the [`NewEpisodes`] only |
//! | 11 | Sense | [`systems::render`], [`systems::sense`] | camera images, then observation vectors, of every car |
//!
//! Gather, Score and Output take a [`CarFilter`]: in the step they visit [`AllCars`], and after
//! episodes begin they run again for the [`NewEpisodes`], so a prepare step is described by the same
//! code as any other step (a new episode's [`Controls`] read "no action": steering 0, speed 0; its
//! reward is 0 and its records go to the `reset_*` buffers).
//!
//! [`SimReset`] (a seeded reset) marks every car's episode [`Stage::Restart`], then runs phases 10
//! and 11.
//!
//! The camera's render system, [`systems::render`], runs at the start of phase 11, chained before
//! `sense` in `observe` (both schedules end with it): by then every car's pose is final for the
//! step. [`systems::sense_final`] renders the last image of truncated episodes in phase 9, at their
//! last pose, before phase 10 moves the car; [`systems::randomize_cameras`] draws each new episode's
//! camera randomisation in phase 10.

pub mod incident;
pub mod outputs;
pub mod start;
pub mod systems;

use std::sync::{Arc, Mutex};

use bevy_app::SubApp;
use bevy_ecs::prelude::*;
use bevy_ecs::schedule::{ScheduleConfigs, ScheduleLabel, SingleThreadedExecutor};
use bevy_ecs::system::ScheduleSystem;

use crate::action::Action;
use crate::buffers::StepInfo;
use crate::camera::{Camera, Randomization, RenderScratch};
use crate::car::{CarModel, CarState, Command};
use crate::config::{EnvConfig, GroupConfig, TrackSchedule};
use crate::episode::{EpisodeState, Mode, RaceState};
use crate::math::{Obb, Vec2};
use crate::objects::{ObjectState, Scenario};
use crate::params::{MAX_OBJECTS, RewardParams};
use crate::reward::{RewardContext, RewardFn};
use crate::rng::Rng;
use crate::sensors::{Lidar, ObsConfig};
use crate::track::{Projection, Track};

/// One agent step.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct SimStep;

/// A seeded reset of every car.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct SimReset;

/// Which cars a system visits (see the module docs).
pub trait CarFilter: Send + Sync + 'static {
    fn visits(ep: &Episode) -> bool;
}

/// Every car: the step's phases.
#[derive(Debug)]
pub struct AllCars;

impl CarFilter for AllCars {
    #[inline]
    fn visits(_: &Episode) -> bool {
        true
    }
}

/// Cars whose episode began in this update ([`Stage::Fresh`]): their prepare step.
#[derive(Debug)]
pub struct NewEpisodes;

impl CarFilter for NewEpisodes {
    #[inline]
    fn visits(ep: &Episode) -> bool {
        ep.stage == Stage::Fresh
    }
}

// ---------------------------------------------------------------------------------------------
// Components

/// A car's position in the environment's batch.
#[derive(Component, Clone, Copy, Debug)]
pub struct CarIndex {
    /// Index across the whole environment (outputs, seeds).
    pub global: u32,
    /// Index within this shard (I/O buffers).
    pub local: u32,
}

/// The car's physical state and which track it is on.
#[derive(Component, Clone, Debug)]
pub struct Car {
    pub state: CarState,
    pub track: u16,
}

/// This step's action and the command it resolved to.
#[derive(Component, Clone, Copy, Debug)]
pub struct Controls {
    pub action: Action,
    /// DeepRacer units: degrees and m/s.
    pub steer_deg: f64,
    pub speed: f64,
    pub command: Command,
}

impl Controls {
    /// No action yet: a new episode's prepare step (steering 0, speed 0, as DeepRacer reports it).
    pub const PREPARE: Self = Self {
        action: Action::Discrete(0),
        steer_deg: 0.0,
        speed: 0.0,
        command: Command { steer: 0.0, speed: 0.0 },
    };
}

/// Where the car is relative to the track.
#[derive(Component, Clone, Copy, Debug, Default)]
pub struct TrackPose {
    /// Projection of the car's origin.
    pub origin: Projection,
    /// Projection of DeepRacer's reference point (0.14 m ahead of the origin).
    pub reference: Projection,
    pub ref_pos: Vec2,
    /// Bit k set = wheel k on the road (front-left, front-right, rear-left, rear-right).
    pub wheels_on: u8,
    /// The road quad containing the origin, for ray casting.
    pub quad: Option<usize>,
}

impl TrackPose {
    pub fn all_wheels_on(&self) -> bool {
        self.wheels_on == 0b1111
    }
    pub fn any_wheel_on(&self) -> bool {
        self.wheels_on != 0
    }
}

/// Episode bookkeeping.
#[derive(Component, Clone, Debug)]
pub struct Episode {
    pub state: EpisodeState,
    pub stage: Stage,
}

/// Where a car's episode is within an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Under way (every car, between updates).
    Running,
    /// To start again from scratch (a seeded reset): episode 0, clock 0, the race restarted.
    Restart,
    /// Began in this update: its prepare step is scored, written and observed, then it runs.
    Fresh,
}

/// Race bookkeeping (race mode only).
#[derive(Component, Clone, Debug, Default)]
pub struct Race(pub RaceState);

/// DeepRacer parameters and reward of the last step.
#[derive(Component, Clone, Copy, Debug, Default)]
pub struct Score {
    pub params: RewardParams,
    pub reward: f32,
}

/// Copies of the footprints and states of the car's objects for this step.
#[derive(Component, Clone, Copy, Debug)]
pub struct Nearby {
    pub n: usize,
    pub obbs: [Obb; MAX_OBJECTS],
    pub states: [ObjectState; MAX_OBJECTS],
    pub is_bot: bool,
}

impl Default for Nearby {
    fn default() -> Self {
        Self {
            n: 0,
            obbs: [Obb::default(); MAX_OBJECTS],
            states: [ObjectState::default(); MAX_OBJECTS],
            is_bot: false,
        }
    }
}

/// A car's place in its head-to-head group (head-to-head environments only).
#[derive(Component, Clone, Copy, Debug)]
pub struct Seat {
    /// The group's index within this shard ([`Groups`]).
    pub group: u32,
    /// The car's index within its group (its grid place).
    pub seat: u32,
}

/// Every head-to-head group of the shard: its cars in seat order.
#[derive(Resource, Debug, Default)]
pub struct Groups(pub Vec<Vec<Entity>>);

/// An obstacle or bot car belonging to one car's episode.
#[derive(Component, Clone, Debug)]
#[relationship(relationship_target = CarObjects)]
pub struct ObjectOf(pub Entity);

/// The objects of a car's episode.
#[derive(Component, Clone, Debug)]
#[relationship_target(relationship = ObjectOf, linked_spawn)]
pub struct CarObjects(Vec<Entity>);

impl CarObjects {
    pub fn entities(&self) -> &[Entity] {
        &self.0
    }
}

/// An object's slot in its car's layout and its state.
#[derive(Component, Clone, Debug)]
pub struct SimObject {
    pub slot: u8,
    pub state: ObjectState,
    pub rng: Rng,
}

// ---------------------------------------------------------------------------------------------
// Resources

/// Immutable settings shared by every system.
#[derive(Resource, Debug)]
pub struct Settings {
    pub tracks: Vec<Arc<Track>>,
    pub track_schedule: TrackSchedule,
    pub model: CarModel,
    pub obs: ObsConfig,
    pub lidar: Option<Lidar>,
    /// The camera with every track's texture (shared by all shards), for camera observations.
    pub camera: Option<Arc<Camera>>,
    pub mode: Mode,
    pub scenario: Scenario,
    pub reward: Arc<dyn RewardFn>,
    pub reward_ctx: RewardContext,
    pub agent_dt: f64,
    pub substeps: u32,
    /// Cars in the whole environment.
    pub num_cars: usize,
    /// Head-to-head groups (size 1: every car alone).
    pub group: GroupConfig,
    pub action_space: crate::action::ActionSpace,
}

/// Working memory of the sensing systems (sized once, so sensing never allocates).
#[derive(Resource, Debug, Default)]
pub struct SenseScratch(pub crate::sensors::LidarScratch);

/// Working memory of the camera's render system.
#[derive(Resource, Debug, Default)]
pub struct CameraScratch(pub RenderScratch);

/// A car's camera randomisation for its current episode (identity unless enabled).
#[derive(Component, Clone, Copy, Debug, Default)]
pub struct CameraRandom(pub Randomization);

/// The seed of the current reset.
#[derive(Resource, Debug, Default, Clone, Copy)]
pub struct Seed(pub u64);

/// A shard's input and output buffers, shared with the environment (which copies them to the
/// caller's buffers). Locked once per system run, never per car.
#[derive(Debug)]
pub struct ShardIo {
    pub actions: Vec<Action>,
    pub obs: Vec<f32>,
    pub final_obs: Vec<f32>,
    pub image: Vec<u8>,
    pub final_image: Vec<u8>,
    pub reward: Vec<f32>,
    pub done: Vec<u8>,
    pub truncated: Vec<u8>,
    pub info: Vec<StepInfo>,
    pub params: Vec<RewardParams>,
    pub reset_params: Vec<RewardParams>,
    pub reset_info: Vec<StepInfo>,
    /// How many of the shard's cars (the first) get `params`/`reset_params` filled.
    pub want_params: usize,
}

impl ShardIo {
    pub fn new(cars: usize, obs_dim: usize, image_len: usize) -> Self {
        Self {
            actions: vec![Action::Discrete(0); cars],
            obs: vec![0.0; cars * obs_dim],
            final_obs: vec![0.0; cars * obs_dim],
            image: vec![0; cars * image_len],
            final_image: vec![0; cars * image_len],
            reward: vec![0.0; cars],
            done: vec![0; cars],
            truncated: vec![0; cars],
            info: vec![StepInfo::default(); cars],
            params: vec![RewardParams::default(); cars],
            reset_params: vec![RewardParams::default(); cars],
            reset_info: vec![StepInfo::default(); cars],
            want_params: 0,
        }
    }
}

/// The shard's I/O handle as a resource.
#[derive(Resource, Debug, Clone)]
pub struct Io(pub Arc<Mutex<ShardIo>>);

impl Io {
    /// Lock the buffers (a poisoned lock means a system panicked; its data is still usable).
    pub fn lock(&self) -> std::sync::MutexGuard<'_, ShardIo> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Build a shard holding the cars `first .. first + count` (global indices) of an environment.
/// `camera` is built once by the environment for camera observations and shared by every shard.
pub fn build_shard(
    cfg: &EnvConfig,
    num_cars: usize,
    first: usize,
    count: usize,
    io: Arc<Mutex<ShardIo>>,
    camera: Option<Arc<Camera>>,
) -> SubApp {
    let mut app = SubApp::new();
    let lidar = match &cfg.obs {
        ObsConfig::Lidar(l) => Some(Lidar::new(l.clone())),
        _ => None,
    };
    let render_scratch = camera.as_ref().map(|c| c.scratch()).unwrap_or_default();
    let has_camera = camera.is_some();
    app.insert_resource(Settings {
        tracks: cfg.tracks.clone(),
        track_schedule: cfg.track_schedule,
        model: CarModel::new(cfg.car.clone()),
        obs: cfg.obs.clone(),
        lidar,
        camera,
        mode: cfg.mode.clone(),
        scenario: cfg.scenario.clone(),
        reward: cfg.reward.clone(),
        reward_ctx: RewardContext {
            agent_dt: cfg.agent_dt,
            max_speed: cfg.car.max_speed,
        },
        agent_dt: cfg.agent_dt,
        substeps: cfg.physics_substeps,
        num_cars,
        group: cfg.group.clone(),
        action_space: cfg.action_space.clone(),
    });
    app.insert_resource(Seed(0));
    let rays = match &cfg.obs {
        ObsConfig::Lidar(l) => l.rays,
        _ => 0,
    };
    app.insert_resource(SenseScratch(crate::sensors::LidarScratch::new(rays)));
    app.insert_resource(CameraScratch(render_scratch));
    app.insert_resource(Io(io));

    let mut step = Schedule::new(SimStep);
    step.set_executor(SingleThreadedExecutor::new());
    step.add_systems(
        (
            systems::apply_actions,             // 1. Act
            systems::move_bots,                 // 2. Objects
            systems::drive,                     // 3. Drive
            systems::locate,                    // 4. Locate
            systems::gather_objects::<AllCars>, // 5. Gather
            systems::judge,                     // 6. Judge
            systems::score::<AllCars>,          // 7. Score
            systems::write_outputs::<AllCars>,  // 8. Output
            systems::sense_final,               // 9. Final
            new_episodes(),                     // 10. Reset
            observe(),                          // 11. Sense
        )
            .chain(),
    );
    app.add_schedule(step);

    let mut reset = Schedule::new(SimReset);
    reset.set_executor(SingleThreadedExecutor::new());
    reset.add_systems((systems::restart_all, new_episodes(), observe()).chain());
    app.add_schedule(reset);
    app.update_schedule = Some(SimStep.intern());

    spawn_cars(app.world_mut(), cfg, first, count, has_camera);
    app
}

/// Phase 10, Reset: new episodes begin, and their prepare step is described.
fn new_episodes() -> ScheduleConfigs<ScheduleSystem> {
    (
        systems::begin_episodes,
        systems::place_objects,
        systems::randomize_cameras,
        systems::gather_objects::<NewEpisodes>,
        systems::score::<NewEpisodes>,
        systems::write_outputs::<NewEpisodes>,
    )
        .chain()
}

/// Phase 11, Sense: every car's pose is final for the step: the camera's render system, then the
/// vector observations. (Final, phase 9, renders the last image of truncated episodes itself, before
/// phase 10 moves the car.)
fn observe() -> ScheduleConfigs<ScheduleSystem> {
    (systems::render, systems::sense).chain()
}

fn spawn_cars(world: &mut World, cfg: &EnvConfig, first: usize, count: usize, camera: bool) {
    let objects = cfg.scenario.object_count();
    let group = cfg.group.size;
    let mut groups = Groups::default();
    let race = matches!(cfg.mode, Mode::Race(_));
    let laps = match &cfg.mode {
        Mode::Race(r) => r.laps,
        Mode::Train(_) => 0,
    };
    for local in 0..count {
        let global = first + local;
        let mut e = world.spawn((
            CarIndex {
                global: global as u32,
                local: local as u32,
            },
            Car {
                state: CarState::at_rest(Vec2::ZERO, 0.0),
                track: 0,
            },
            Controls::PREPARE,
            TrackPose::default(),
            Episode {
                state: EpisodeState::new(0),
                stage: Stage::Running,
            },
            Score::default(),
        ));
        if objects > 0 || group > 1 {
            e.insert(Nearby::default());
        }
        if group > 1 {
            // Shards start at a group boundary (`VecEnv::new`).
            let (g, seat) = (local / group, local % group);
            e.insert(Seat {
                group: g as u32,
                seat: seat as u32,
            });
            if seat == 0 {
                groups.0.push(Vec::with_capacity(group));
            }
            groups.0[g].push(e.id());
        }
        if camera {
            e.insert(CameraRandom::default());
        }
        if race {
            e.insert(Race(RaceState::with_capacity(laps)));
        }
        let car = e.id();
        for slot in 0..objects {
            world.spawn((
                ObjectOf(car),
                SimObject {
                    slot: slot as u8,
                    state: ObjectState::default(),
                    rng: Rng::new(0),
                },
            ));
        }
    }
    world.insert_resource(groups);
}

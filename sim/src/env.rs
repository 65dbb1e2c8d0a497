//! The vectorized environment: N cars stepped in lockstep, the API the trainer and the league use.
//!
//! ```no_run
//! use slipstream_sim::{Action, EnvConfig, VecEnv, track::{Track, ValidateOptions}};
//! let track = Track::resolve("oval", &ValidateOptions::default()).unwrap();
//! let mut env = VecEnv::new(EnvConfig::new(track), 64).unwrap();
//! let mut out = env.buffers(false);
//! env.reset(42, &mut out).unwrap();
//! let actions = vec![Action::Discrete(4); 64];
//! for _ in 0..1000 {
//!     env.step(&actions, &mut out).unwrap();
//!     // out.obs, out.reward, out.done, out.truncated ... (finished cars are already reset)
//! }
//! ```
//!
//! Cars are split into contiguous shards, one bevy world per worker thread (see [`crate::world`]).
//! `step` copies the actions into each shard, runs all shards in parallel, and copies their outputs
//! into the caller's [`StepBuffers`]. Nothing is allocated per step: buffers are allocated once, and
//! workers are woken and awaited with a mutex and condition variable each.

use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use bevy_app::SubApp;
use bevy_ecs::prelude::*;

use crate::action::Action;
use crate::buffers::StepBuffers;
use crate::camera::Camera;
use crate::car::CarState;
use crate::config::EnvConfig;
use crate::episode::Mode;
use crate::error::SimError;
use crate::race::RaceResult;
use crate::world::{self, Car, CarIndex, Race, Seed, ShardIo, SimReset};

/// A car's pose and motion (for drivers, viewers and debugging).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CarSnapshot {
    pub car: usize,
    pub state: CarState,
    pub track: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmd {
    Step,
    Reset(u64),
    Inspect,
    Exit,
}

#[derive(Debug, Default)]
struct WorkerState {
    cmd: Option<Cmd>,
    busy: bool,
    error: Option<String>,
}

#[derive(Debug, Default)]
struct WorkerSync {
    state: Mutex<WorkerState>,
    cv: Condvar,
}

/// What a shard reports when inspected.
#[derive(Debug, Default)]
struct Inspection {
    cars: Vec<CarSnapshot>,
    races: Vec<RaceResult>,
}

#[derive(Debug)]
struct Shard {
    range: Range<usize>,
    io: Arc<Mutex<ShardIo>>,
    inspection: Arc<Mutex<Inspection>>,
    exec: ShardExec,
}

#[derive(Debug)]
enum ShardExec {
    /// Stepped on the caller's thread.
    Inline(Box<SubApp>),
    /// Stepped by its own worker thread.
    Worker {
        sync: Arc<WorkerSync>,
        handle: Option<JoinHandle<()>>,
    },
}

/// N cars in lockstep. See the module docs.
#[derive(Debug)]
pub struct VecEnv {
    cfg: EnvConfig,
    num_cars: usize,
    obs_dim: usize,
    image_len: usize,
    shards: Vec<Shard>,
    reset_done: bool,
}

fn run_cmd(app: &mut SubApp, cmd: Cmd, inspection: &Mutex<Inspection>) {
    match cmd {
        Cmd::Step => app.update(),
        Cmd::Reset(seed) => {
            app.world_mut().resource_mut::<Seed>().0 = seed;
            app.world_mut().run_schedule(SimReset);
            app.world_mut().clear_trackers();
        }
        Cmd::Inspect => {
            let world = app.world_mut();
            let mut out = Inspection::default();
            let mut q = world.query::<(&CarIndex, &Car, Option<&Race>)>();
            for (idx, car, race) in q.iter(world) {
                let i = idx.global as usize;
                out.cars.push(CarSnapshot {
                    car: i,
                    state: car.state,
                    track: car.track as usize,
                });
                if let Some(r) = race {
                    out.races.push(RaceResult {
                        car: i,
                        laps: r.0.laps.clone(),
                        finished: r.0.finished,
                    });
                }
            }
            out.cars.sort_by_key(|c| c.car);
            out.races.sort_by_key(|r| r.car);
            *inspection.lock().unwrap_or_else(|e| e.into_inner()) = out;
        }
        Cmd::Exit => {}
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

fn worker_loop(mut app: Box<SubApp>, sync: Arc<WorkerSync>, inspection: Arc<Mutex<Inspection>>) {
    loop {
        let cmd = {
            let mut st = sync.state.lock().unwrap_or_else(|e| e.into_inner());
            while st.cmd.is_none() {
                st = sync.cv.wait(st).unwrap_or_else(|e| e.into_inner());
            }
            st.cmd.take().expect("checked above")
        };
        if cmd == Cmd::Exit {
            return;
        }
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| run_cmd(&mut app, cmd, &inspection)));
        let mut st = sync.state.lock().unwrap_or_else(|e| e.into_inner());
        st.busy = false;
        if let Err(p) = result {
            st.error = Some(panic_message(p));
        }
        sync.cv.notify_all();
        if st.error.is_some() {
            return;
        }
    }
}

impl VecEnv {
    /// Build an environment of `num_cars` cars. Validates the configuration.
    pub fn new(cfg: EnvConfig, num_cars: usize) -> Result<Self, SimError> {
        cfg.validate()?;
        if num_cars == 0 || num_cars > 1 << 24 {
            return Err(SimError::config(
                "num_cars",
                format!("expected 1–16777216 cars, got {num_cars}"),
            ));
        }
        let obs_dim = cfg.obs.dim();
        // The camera's textures are rasterised once and shared by every shard.
        let camera = match cfg.obs.camera() {
            Some((c, stereo)) => Some(Arc::new(Camera::new(c.clone(), stereo, &cfg.tracks)?)),
            None => None,
        };
        let group = cfg.group.size;
        if !num_cars.is_multiple_of(group) {
            return Err(SimError::config(
                "num_cars",
                format!("expected a multiple of group.size ({group}) cars, got {num_cars}"),
            ));
        }
        let image_len = cfg.obs.image_len();
        // Shards hold whole head-to-head groups (a group shares one world).
        let groups = num_cars / group;
        let threads = cfg.threads.min(groups);
        let mut shards = Vec::with_capacity(threads);
        for t in 0..threads {
            let range = (groups * t / threads * group)..(groups * (t + 1) / threads * group);
            let io = Arc::new(Mutex::new(ShardIo::new(range.len(), obs_dim, image_len)));
            let app = Box::new(world::build_shard(
                &cfg,
                num_cars,
                range.start,
                range.len(),
                io.clone(),
                camera.clone(),
            ));
            let inspection = Arc::new(Mutex::new(Inspection::default()));
            let exec = if threads == 1 {
                ShardExec::Inline(app)
            } else {
                let sync = Arc::new(WorkerSync::default());
                let (s, i) = (sync.clone(), inspection.clone());
                let handle = std::thread::Builder::new()
                    .name(format!("sim-shard-{t}"))
                    .spawn(move || worker_loop(app, s, i))
                    .map_err(|e| SimError::Worker(format!("cannot start a worker thread: {e}")))?;
                ShardExec::Worker {
                    sync,
                    handle: Some(handle),
                }
            };
            shards.push(Shard {
                range,
                io,
                inspection,
                exec,
            });
        }
        Ok(Self {
            cfg,
            num_cars,
            obs_dim,
            image_len,
            shards,
            reset_done: false,
        })
    }

    pub fn num_cars(&self) -> usize {
        self.num_cars
    }

    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// Bytes of one car's camera image (0 without a camera); see [`crate::ObsConfig::image_shape`].
    pub fn image_len(&self) -> usize {
        self.image_len
    }

    pub fn config(&self) -> &EnvConfig {
        &self.cfg
    }

    /// Output buffers sized for this environment.
    pub fn buffers(&self, with_params: bool) -> StepBuffers {
        StepBuffers::new(self.num_cars, self.obs_dim, with_params).with_images(self.image_len)
    }

    fn check_buffers(&self, out: &StepBuffers) -> Result<(), SimError> {
        if out.num_cars != self.num_cars || out.obs.len() != self.num_cars * self.obs_dim {
            return Err(SimError::Buffer {
                name: "obs",
                expected: self.num_cars * self.obs_dim,
                got: out.obs.len(),
            });
        }
        if out.image.len() != self.num_cars * self.image_len || out.final_image.len() != out.image.len() {
            return Err(SimError::Buffer {
                name: "image",
                expected: self.num_cars * self.image_len,
                got: out.image.len(),
            });
        }
        if out.params.len() > self.num_cars || out.reset_params.len() != out.params.len() {
            return Err(SimError::Buffer {
                name: "params",
                expected: self.num_cars,
                got: out.params.len(),
            });
        }
        Ok(())
    }

    /// Run a command on every shard (in parallel where there are workers) and wait for all.
    fn run_all(&mut self, cmd: Cmd) -> Result<(), SimError> {
        for shard in &mut self.shards {
            if let ShardExec::Worker { sync, .. } = &shard.exec {
                let mut st = sync.state.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(e) = &st.error {
                    return Err(SimError::Worker(e.clone()));
                }
                st.cmd = Some(cmd);
                st.busy = true;
                sync.cv.notify_all();
            }
        }
        let mut first_error = None;
        for shard in &mut self.shards {
            match &mut shard.exec {
                ShardExec::Inline(app) => {
                    let insp = shard.inspection.clone();
                    if let Err(p) = std::panic::catch_unwind(AssertUnwindSafe(|| run_cmd(app, cmd, &insp))) {
                        first_error.get_or_insert(panic_message(p));
                    }
                }
                ShardExec::Worker { sync, .. } => {
                    let mut st = sync.state.lock().unwrap_or_else(|e| e.into_inner());
                    while st.busy && st.error.is_none() {
                        st = sync.cv.wait(st).unwrap_or_else(|e| e.into_inner());
                    }
                    if let Some(e) = &st.error {
                        first_error.get_or_insert(e.clone());
                    }
                }
            }
        }
        match first_error {
            Some(e) => Err(SimError::Worker(e)),
            None => Ok(()),
        }
    }

    /// Start new episodes for every car from `seed` and write their first observations.
    pub fn reset(&mut self, seed: u64, out: &mut StepBuffers) -> Result<(), SimError> {
        self.check_buffers(out)?;
        for shard in &self.shards {
            shard.io.lock().unwrap_or_else(|e| e.into_inner()).want_params = params_in(out, &shard.range);
        }
        self.run_all(Cmd::Reset(seed))?;
        let dim = self.obs_dim;
        for shard in &self.shards {
            let io = shard.io.lock().unwrap_or_else(|e| e.into_inner());
            let r = shard.range.clone();
            out.obs[r.start * dim..r.end * dim].copy_from_slice(&io.obs);
            let il = self.image_len;
            out.image[r.start * il..r.end * il].copy_from_slice(&io.image);
            out.reward[r.clone()].fill(0.0);
            out.done[r.clone()].fill(0);
            out.truncated[r.clone()].fill(0);
            out.info[r.clone()].copy_from_slice(&io.reset_info);
            out.reset_info[r.clone()].copy_from_slice(&io.reset_info);
            let k = io.want_params;
            if k > 0 {
                out.params[r.start..r.start + k].copy_from_slice(&io.reset_params[..k]);
                out.reset_params[r.start..r.start + k].copy_from_slice(&io.reset_params[..k]);
            }
        }
        self.reset_done = true;
        Ok(())
    }

    /// Apply one action per car, advance one agent step, and write the results. Finished training
    /// episodes are reset automatically (their new first observation is in `obs`, the last one in
    /// `final_obs` for truncated ones). Errors name the car whose action is invalid; nothing is stepped then.
    pub fn step(&mut self, actions: &[Action], out: &mut StepBuffers) -> Result<(), SimError> {
        if !self.reset_done {
            return Err(SimError::config("reset", "call reset(seed) before the first step"));
        }
        self.check_buffers(out)?;
        if actions.len() != self.num_cars {
            return Err(SimError::Buffer {
                name: "actions",
                expected: self.num_cars,
                got: actions.len(),
            });
        }
        for (car, a) in actions.iter().enumerate() {
            let space = self.cfg.group.action_space(car, &self.cfg.action_space);
            if let Err(message) = space.resolve(*a) {
                return Err(SimError::Action { car, message });
            }
        }
        for shard in &self.shards {
            let mut io = shard.io.lock().unwrap_or_else(|e| e.into_inner());
            io.actions.copy_from_slice(&actions[shard.range.clone()]);
            io.want_params = params_in(out, &shard.range);
        }
        self.run_all(Cmd::Step)?;
        let dim = self.obs_dim;
        for shard in &self.shards {
            let io = shard.io.lock().unwrap_or_else(|e| e.into_inner());
            let r = shard.range.clone();
            out.obs[r.start * dim..r.end * dim].copy_from_slice(&io.obs);
            let il = self.image_len;
            out.image[r.start * il..r.end * il].copy_from_slice(&io.image);
            out.reward[r.clone()].copy_from_slice(&io.reward);
            out.done[r.clone()].copy_from_slice(&io.done);
            out.truncated[r.clone()].copy_from_slice(&io.truncated);
            out.info[r.clone()].copy_from_slice(&io.info);
            for l in 0..r.len() {
                if io.done[l] != 0 || io.truncated[l] != 0 {
                    let g = r.start + l;
                    if io.truncated[l] != 0 {
                        out.final_obs[g * dim..(g + 1) * dim].copy_from_slice(&io.final_obs[l * dim..(l + 1) * dim]);
                        out.final_image[g * il..(g + 1) * il].copy_from_slice(&io.final_image[l * il..(l + 1) * il]);
                    }
                    out.reset_info[g] = io.reset_info[l];
                    if l < io.want_params {
                        out.reset_params[g] = io.reset_params[l];
                    }
                }
            }
            let k = io.want_params;
            if k > 0 {
                out.params[r.start..r.start + k].copy_from_slice(&io.params[..k]);
            }
        }
        Ok(())
    }

    fn inspect(&mut self) -> Result<Inspection, SimError> {
        self.run_all(Cmd::Inspect)?;
        let mut all = Inspection::default();
        for shard in &self.shards {
            let mut i = shard.inspection.lock().unwrap_or_else(|e| e.into_inner());
            all.cars.append(&mut i.cars);
            all.races.append(&mut i.races);
        }
        Ok(all)
    }

    /// Every car's race so far (race mode only).
    pub fn race_results(&mut self) -> Result<Vec<RaceResult>, SimError> {
        if !matches!(self.cfg.mode, Mode::Race(_)) {
            return Err(SimError::config("mode", "race results exist only in race mode"));
        }
        Ok(self.inspect()?.races)
    }

    /// Every car's physical state.
    pub fn car_states(&mut self) -> Result<Vec<CarSnapshot>, SimError> {
        Ok(self.inspect()?.cars)
    }
}

impl Drop for VecEnv {
    fn drop(&mut self) {
        for shard in &mut self.shards {
            if let ShardExec::Worker { sync, handle } = &mut shard.exec {
                {
                    let mut st = sync.state.lock().unwrap_or_else(|e| e.into_inner());
                    st.cmd = Some(Cmd::Exit);
                    sync.cv.notify_all();
                }
                if let Some(h) = handle.take() {
                    let _ = h.join();
                }
            }
        }
    }
}

/// How many of a shard's cars (`range`) get parameters: those of `out.params` (cars `0..len`).
fn params_in(out: &StepBuffers, range: &std::ops::Range<usize>) -> usize {
    out.params.len().saturating_sub(range.start).min(range.len())
}

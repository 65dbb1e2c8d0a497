//! Configuration of a vectorized environment.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::action::ActionSpace;
use crate::car::CarParams;
use crate::episode::Mode;
use crate::error::SimError;
use crate::objects::Scenario;
use crate::reward::{RewardFn, RewardPreset};
use crate::sensors::ObsConfig;
use crate::track::Track;

/// How cars are assigned to the environment's tracks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackSchedule {
    /// Car `i`'s `k`-th episode runs on track `(i + k) mod T`.
    #[default]
    RoundRobin,
    /// Car `i` always runs on track `i mod T`.
    PerCar,
}

/// Everything that defines an environment. Construct with [`EnvConfig::new`] and adjust fields.
#[derive(Clone, Debug)]
pub struct EnvConfig {
    /// One or more tracks (several for training generalist models).
    pub tracks: Vec<Arc<Track>>,
    pub track_schedule: TrackSchedule,
    pub car: CarParams,
    pub action_space: ActionSpace,
    pub obs: ObsConfig,
    pub mode: Mode,
    pub scenario: Scenario,
    /// The in-simulator reward. Use [`RewardPreset::Zero`] when rewards are computed elsewhere.
    pub reward: Arc<dyn RewardFn>,
    /// Seconds per agent step (DeepRacer: 1/15).
    pub agent_dt: f64,
    /// Physics sub-steps per agent step.
    pub physics_substeps: u32,
    /// Worker threads stepping the cars (1 = on the caller's thread).
    pub threads: usize,
    /// Head-to-head: cars in groups sharing one world (1 = every car alone).
    pub group: GroupConfig,
}

/// Head-to-head racing: the environment's cars in consecutive groups of [`GroupConfig::size`]
/// (cars `0..size` are group 0, and so on) drive on one track at the same time. Each car's rivals
/// are gathered like bot cars into its objects, so its lidar and camera see them, DeepRacer's
/// collision rule applies (a wheel inside a car ahead: the follower crashed), and the reward
/// parameters list them. A car held after an incident, or parked after its last lap, is a ghost:
/// the others neither see nor hit it. A group never spans two worker threads, so the thread count
/// cannot change a result.
///
/// In a race, the cars start on a grid behind the start line: seat `i` (the car's index within
/// its group) [`GroupConfig::stagger_m`] × i behind it, seats alternating between the left and the
/// right lane line (seat 0 on the left). Every car's laps are counted from the line, so cars
/// behind it drive their gap to the line first. A head-to-head race is `continuous` on closed
/// tracks, with the objects of a time trial (the rivals are the objects).
#[derive(Clone, Debug, PartialEq)]
pub struct GroupConfig {
    /// Cars per group (1–[`GroupConfig::MAX_SIZE`]).
    pub size: usize,
    /// Distance between consecutive grid places along the track, m (DeepRacer's 0.75).
    pub stagger_m: f64,
    /// Each seat's action space (seat `i` of every group uses `action_spaces[i]`), so models
    /// with different action spaces race together; empty: every car uses the environment's.
    pub action_spaces: Vec<ActionSpace>,
}

impl Default for GroupConfig {
    fn default() -> Self {
        Self {
            size: 1,
            stagger_m: 0.75,
            action_spaces: Vec::new(),
        }
    }
}

impl GroupConfig {
    /// The most cars in one group (each car sees the others as objects).
    pub const MAX_SIZE: usize = crate::params::MAX_OBJECTS + 1;

    /// Groups of `size` cars on DeepRacer's grid.
    pub fn of(size: usize) -> Self {
        Self {
            size,
            ..Self::default()
        }
    }

    /// Whether cars share worlds.
    pub fn is_head_to_head(&self) -> bool {
        self.size > 1
    }

    /// The action space of the environment's car `car` (its seat's, or `default`).
    pub fn action_space<'a>(&'a self, car: usize, default: &'a ActionSpace) -> &'a ActionSpace {
        self.action_spaces.get(car % self.size).unwrap_or(default)
    }
}

impl EnvConfig {
    /// Defaults on one track: state observations, DeepRacer's default discrete actions, training
    /// episodes, time trial, the progress-and-speed reward, 1/15 s steps with 4 physics sub-steps.
    pub fn new(track: Track) -> Self {
        Self {
            tracks: vec![Arc::new(track)],
            track_schedule: TrackSchedule::default(),
            car: CarParams::default(),
            action_space: ActionSpace::default(),
            obs: ObsConfig::default(),
            mode: Mode::default(),
            scenario: Scenario::default(),
            reward: Arc::new(RewardPreset::ProgressSpeed),
            agent_dt: 1.0 / 15.0,
            physics_substeps: 4,
            threads: 1,
            group: GroupConfig::default(),
        }
    }

    /// Check every part; errors name the field.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.tracks.is_empty() {
            return Err(SimError::config("tracks", "at least one track is needed"));
        }
        if self.tracks.len() > u16::MAX as usize {
            return Err(SimError::config("tracks", "too many tracks"));
        }
        self.car
            .validate()
            .map_err(|(f, m)| SimError::config(format!("car.{f}"), m))?;
        for (i, t) in self.tracks.iter().enumerate() {
            if t.width_min() < self.car.width {
                return Err(SimError::config(
                    format!("tracks[{i}]"),
                    format!(
                        "track {} is {:.3} m wide at its narrowest, narrower than the car ({:.3} m)",
                        t.name(),
                        t.width_min(),
                        self.car.width
                    ),
                ));
            }
        }
        self.action_space.validate(&self.car)?;
        self.obs.validate()?;
        self.mode.validate()?;
        self.scenario.validate()?;
        if !(self.agent_dt.is_finite() && self.agent_dt > 0.0 && self.agent_dt <= 1.0) {
            return Err(SimError::config(
                "agent_dt",
                format!("expected a step length in (0, 1] s, got {}", self.agent_dt),
            ));
        }
        if !(1..=1000).contains(&self.physics_substeps) {
            return Err(SimError::config(
                "physics_substeps",
                format!("expected 1–1000, got {}", self.physics_substeps),
            ));
        }
        self.validate_group()?;
        if !(1..=256).contains(&self.threads) {
            return Err(SimError::config(
                "threads",
                format!("expected 1–256, got {}", self.threads),
            ));
        }
        Ok(())
    }

    fn validate_group(&self) -> Result<(), SimError> {
        let g = &self.group;
        if !(1..=GroupConfig::MAX_SIZE).contains(&g.size) {
            return Err(SimError::config(
                "group.size",
                format!("expected 1–{} cars per group, got {}", GroupConfig::MAX_SIZE, g.size),
            ));
        }
        if !(g.stagger_m.is_finite() && (0.0..=10.0).contains(&g.stagger_m)) {
            return Err(SimError::config(
                "group.stagger_m",
                format!("expected a distance in [0, 10] m, got {}", g.stagger_m),
            ));
        }
        if !g.action_spaces.is_empty() && g.action_spaces.len() != g.size {
            return Err(SimError::config(
                "group.action_spaces",
                format!(
                    "expected one action space per seat ({}), got {}",
                    g.size,
                    g.action_spaces.len()
                ),
            ));
        }
        for (i, space) in g.action_spaces.iter().enumerate() {
            space
                .validate(&self.car)
                .map_err(|e| SimError::config(format!("group.action_spaces[{i}]"), e.to_string()))?;
        }
        if !g.is_head_to_head() {
            return Ok(());
        }
        if !matches!(self.scenario, Scenario::TimeTrial {}) {
            return Err(SimError::config(
                "scenario",
                "head-to-head groups race without boxes or bot cars (the rivals are the objects)",
            ));
        }
        if let Mode::Race(r) = &self.mode
            && !r.continuous
        {
            return Err(SimError::config(
                "mode.continuous",
                "a head-to-head race drives its laps continuously (cars cannot restart trials alone)",
            ));
        }
        if let Some((i, t)) = self.tracks.iter().enumerate().find(|(_, t)| !t.is_closed()) {
            return Err(SimError::config(
                format!("tracks[{i}]"),
                format!("head-to-head groups need closed tracks; {} is open", t.name()),
            ));
        }
        Ok(())
    }
}

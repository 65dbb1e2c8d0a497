//! Caller-owned output buffers of the vectorized environment. Allocate once with
//! [`StepBuffers::new`]; every `reset` and `step` overwrites them in place without allocating.

use crate::action::Action;
use crate::episode::EpisodeStatus;
use crate::params::RewardParams;

/// Per-car bookkeeping of a step (what a trace row or a progress display needs beyond the params).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepInfo {
    pub status: EpisodeStatus,
    /// The car's episode number (0-based since the environment's reset).
    pub episode: u64,
    /// DeepRacer's `steps` (1 at the prepare step).
    pub steps: u32,
    /// Simulated seconds since the environment's reset (DeepRacer's `tstamp`).
    pub tstamp: f64,
    /// The action applied this step.
    pub action: Action,
    /// The nearer of the two closest waypoints (DeepRacer's trace column `closest_waypoint`).
    pub closest_waypoint: u32,
    /// DeepRacer's `pause_duration` (race mode): the penalty at an incident's row, then the seconds
    /// of holding left on each `pause` row.
    pub pause_duration: f64,
    /// Sum of rewards of the episode so far (in-simulator reward).
    pub episode_return: f64,
    /// Laps completed so far (race mode).
    pub laps: u32,
    /// Index of the car's track.
    pub track_index: u32,
    /// DeepRacer's `progress` (0–100 % of a lap since the episode's start).
    pub progress: f64,
    /// Race mode: the race is over (every lap or trial driven, or the time limit reached). A
    /// trial's end alone sets `done` and the next trial begins, as a training episode would.
    pub race_over: bool,
}

impl Default for StepInfo {
    fn default() -> Self {
        Self {
            status: EpisodeStatus::Prepare,
            episode: 0,
            steps: 0,
            tstamp: 0.0,
            action: Action::Discrete(0),
            closest_waypoint: 0,
            pause_duration: 0.0,
            episode_return: 0.0,
            laps: 0,
            track_index: 0,
            progress: 0.0,
            race_over: false,
        }
    }
}

/// Output of `reset` and `step` for N cars.
#[derive(Clone, Debug)]
pub struct StepBuffers {
    pub num_cars: usize,
    pub obs_dim: usize,
    /// N × obs_dim observations. For a car whose episode just ended, the first observation of its
    /// next episode (auto-reset); see `final_obs` for the last one of a truncated episode.
    pub obs: Vec<f32>,
    /// N rewards from the in-simulator reward function.
    pub reward: Vec<f32>,
    /// N flags (0/1): the episode terminated this step (lap complete, off-track, crashed, reversed,
    /// immobilized; in race mode: the race is over).
    pub done: Vec<u8>,
    /// N flags (0/1): the episode was cut off by the step or time limit.
    pub truncated: Vec<u8>,
    /// N × obs_dim: the last observation of an episode cut off this step (valid where `truncated`
    /// is set; a learner bootstraps the value of a truncated episode from it).
    pub final_obs: Vec<f32>,
    /// Bytes of one car's image (channels × height × width; 0 without a camera).
    pub image_len: usize,
    /// N × image_len camera pixels (8-bit luma, row-major, channels first), next to `obs` (the same
    /// auto-reset rule). Empty without a camera.
    pub image: Vec<u8>,
    /// N × image_len: the last image of an episode cut off this step (valid where `truncated` is set).
    pub final_image: Vec<u8>,
    /// N step bookkeeping records.
    pub info: Vec<StepInfo>,
    /// DeepRacer parameter sets of the step just taken (the terminal state for finished episodes)
    /// of cars `0..params.len()`: every car's when created `with_params`, the first few's after
    /// [`StepBuffers::with_params_of`], none otherwise.
    pub params: Vec<RewardParams>,
    /// For cars whose episode ended: the new episode's prepare-step parameters and info.
    pub reset_params: Vec<RewardParams>,
    pub reset_info: Vec<StepInfo>,
}

impl StepBuffers {
    /// Buffers for `num_cars` cars with observations of `obs_dim`. `with_params` also allocates the
    /// per-car DeepRacer parameters (needed by external reward functions and traces).
    pub fn new(num_cars: usize, obs_dim: usize, with_params: bool) -> Self {
        let p = if with_params { num_cars } else { 0 };
        Self {
            num_cars,
            obs_dim,
            obs: vec![0.0; num_cars * obs_dim],
            reward: vec![0.0; num_cars],
            done: vec![0; num_cars],
            truncated: vec![0; num_cars],
            final_obs: vec![0.0; num_cars * obs_dim],
            image_len: 0,
            image: Vec::new(),
            final_image: Vec::new(),
            info: vec![StepInfo::default(); num_cars],
            params: vec![RewardParams::default(); p],
            reset_params: vec![RewardParams::default(); p],
            reset_info: vec![StepInfo::default(); num_cars],
        }
    }

    /// Also allocate image buffers of `image_len` bytes per car (what `VecEnv::buffers` does for a
    /// camera observation).
    pub fn with_images(mut self, image_len: usize) -> Self {
        self.image_len = image_len;
        self.image = vec![0; self.num_cars * image_len];
        self.final_image = vec![0; self.num_cars * image_len];
        self
    }

    /// Fill parameters for cars `0..cars` only (e.g. the cars a training run logs; at most
    /// `num_cars`), sparing the copies of the others'.
    pub fn with_params_of(mut self, cars: usize) -> Self {
        let n = cars.min(self.num_cars);
        self.params = vec![RewardParams::default(); n];
        self.reset_params = vec![RewardParams::default(); n];
        self
    }

    /// Car `i`'s image.
    pub fn image_of(&self, i: usize) -> &[u8] {
        &self.image[i * self.image_len..(i + 1) * self.image_len]
    }

    pub fn has_params(&self) -> bool {
        !self.params.is_empty()
    }

    /// Car `i`'s observation.
    pub fn obs_of(&self, i: usize) -> &[f32] {
        &self.obs[i * self.obs_dim..(i + 1) * self.obs_dim]
    }

    /// Whether car `i`'s episode ended this step (terminated or truncated).
    pub fn ended(&self, i: usize) -> bool {
        self.done[i] != 0 || self.truncated[i] != 0
    }
}

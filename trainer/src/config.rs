//! Training configuration: a TOML file with DeepRacer's hyperparameter names where they exist.
//!
//! ```toml
//! # hyperparameters (DeepRacer names)
//! batch_size = 2048            # PPO minibatch size, samples
//! num_epochs = 4               # passes over each rollout
//! lr = 3e-4
//! beta_entropy = 0.0           # entropy bonus
//! discount_factor = 0.99
//! loss_type = "huber"          # or "mean squared error" (value loss)
//!
//! # PPO and rollouts
//! num_cars = 256               # cars stepped in lockstep
//! rollout_steps = 64           # steps per car per iteration
//! gae_lambda = 0.95
//! clip_epsilon = 0.2
//! simtrace_cars = 1            # cars logged in DeepRacer's training simtrace (0 = none)
//!
//! [network]
//! type = "mlp"
//! hidden = [64, 64]
//!
//! [action_space]
//! type = "continuous"
//! steering_angle = { low = -30.0, high = 30.0 }
//! speed = { low = 0.5, high = 4.0 }
//!
//! [sensor]
//! type = "state"               # or "lidar" (Slipstream's, rays/fov_deg/range), "deepracer_lidar"
//!                              # (DeepRacer's LIDAR), "sector_lidar" (its SECTOR_LIDAR)
//! ```
//!
//! Unknown keys are errors (with the key's name and line), and every value is range-checked with
//! the field named.

use std::path::Path;

use serde::{Deserialize, Serialize};
use slipstream_sim::{CarParams, EpisodeConfig, ObsConfig, Scenario};

use crate::error::TrainError;
use crate::network::NetworkSpec;
pub use crate::spec::ActionSpaceConfig;
use crate::spec::ModelSpec;

/// The value loss, with DeepRacer's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LossType {
    #[serde(rename = "huber")]
    Huber,
    #[serde(rename = "mean squared error")]
    MeanSquaredError,
}

/// Procedurally generated training tracks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeneratedTracks {
    /// How many tracks to generate (0 = none).
    pub count: usize,
    /// First seed; track k uses seed + k.
    pub seed: u64,
    /// Length range, metres.
    pub length: [f64; 2],
    /// Width range, metres.
    pub width: [f64; 2],
    /// Difficulty range (0–1).
    pub difficulty: [f64; 2],
}

impl Default for GeneratedTracks {
    fn default() -> Self {
        Self {
            count: 0,
            seed: 1,
            length: [15.0, 35.0],
            width: [0.6, 1.1],
            difficulty: [0.0, 1.0],
        }
    }
}

/// Everything that shapes a training run except the tracks, reward and budget (command-line options).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    // ---- DeepRacer's hyperparameters ----
    /// PPO minibatch size, samples (DeepRacer: `batch_size`).
    pub batch_size: usize,
    /// Passes over each rollout (DeepRacer: `num_epochs`).
    pub num_epochs: usize,
    /// Adam learning rate (DeepRacer: `lr`).
    pub lr: f64,
    /// Entropy bonus coefficient (DeepRacer: `beta_entropy`).
    pub beta_entropy: f64,
    /// Discount factor γ (DeepRacer: `discount_factor`).
    pub discount_factor: f64,
    /// Value loss (DeepRacer: `loss_type`).
    pub loss_type: LossType,
    /// Keep collecting until at least this many episodes have finished before each update
    /// (DeepRacer: `num_episodes_between_training`); the rollout is also at least `rollout_steps`.
    pub num_episodes_between_training: Option<usize>,
    /// Stop after this many episodes (DeepRacer: `term_cond_max_episodes`).
    pub term_cond_max_episodes: Option<u64>,
    /// Stop once the mean episode return of an iteration reaches this (DeepRacer: `term_cond_avg_score`):
    /// the mean over the episodes that ended in the iteration of the reward function's sums.
    pub term_cond_avg_score: Option<f64>,
    /// Only "categorical" is meaningful for PPO (DeepRacer: `exploration_type`).
    pub exploration_type: Option<String>,
    /// Frame stacking (DeepRacer: `stack_size`); only 1 is supported.
    pub stack_size: Option<usize>,

    // ---- PPO ----
    /// Cars stepped in lockstep (parallel episodes).
    pub num_cars: usize,
    /// Steps per car collected before each update.
    pub rollout_steps: usize,
    /// GAE λ.
    pub gae_lambda: f64,
    /// PPO ratio clip ε.
    pub clip_epsilon: f64,
    /// Clip the value loss around the old values too.
    pub clip_value_loss: bool,
    /// Weight of the value loss.
    pub value_coef: f64,
    /// Global gradient-norm clip.
    pub max_grad_norm: f64,
    /// Anneal the learning rate linearly over the budget: each iteration's rate is
    /// `lr · max(1 − f, 0.02)`, where `f` is the fraction of the budget used before the iteration —
    /// of the steps under `--steps`, of the wall-clock time under `--minutes` (a resumed run's
    /// budget is its own). The 2 % floor keeps the last iterations learning.
    pub anneal_lr: bool,
    /// Normalise advantages per minibatch.
    pub normalize_advantages: bool,
    /// Stop an update's epochs early once the approximate KL divergence exceeds this.
    pub target_kl: Option<f64>,
    /// Normalise observations with running mean/std (saved in the model).
    pub normalize_observations: bool,
    /// Initial log standard deviation of continuous actions.
    pub init_log_std: f64,
    /// Simulator worker threads (0 = one per available core).
    pub sim_threads: usize,
    /// Evaluate the deterministic policy on the first training track every this many iterations
    /// (3-lap race) to keep the best model; 0 = never.
    pub eval_every: usize,
    /// Cars whose steps go into DeepRacer's training logs in the output folder
    /// (`training-simtrace/N-iteration.csv`, `metrics/TrainingMetrics.json`): cars 0..simtrace_cars;
    /// 0 = none. One car is what a DeepRacer rollout worker logs and keeps long runs small.
    pub simtrace_cars: usize,

    // ---- Model and environment ----
    pub network: NetworkSpec,
    pub action_space: ActionSpaceConfig,
    pub sensor: ObsConfig,
    pub car: CarParams,
    pub episode: EpisodeConfig,
    pub scenario: Scenario,
    /// Physics sub-steps per 1/15 s agent step.
    pub physics_substeps: u32,
    /// Drive each track both ways (DeepRacer's alternate driving direction).
    pub both_directions: bool,
    /// Procedurally generated tracks added to the training set.
    pub generated: GeneratedTracks,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            batch_size: 2048,
            num_epochs: 4,
            lr: 3e-4,
            beta_entropy: 0.0,
            discount_factor: 0.99,
            loss_type: LossType::MeanSquaredError,
            num_episodes_between_training: None,
            term_cond_max_episodes: None,
            term_cond_avg_score: None,
            exploration_type: None,
            stack_size: None,
            num_cars: 256,
            rollout_steps: 64,
            gae_lambda: 0.95,
            clip_epsilon: 0.2,
            clip_value_loss: true,
            value_coef: 0.5,
            max_grad_norm: 0.5,
            anneal_lr: true,
            normalize_advantages: true,
            target_kl: None,
            normalize_observations: true,
            init_log_std: -0.5,
            sim_threads: 0,
            eval_every: 5,
            simtrace_cars: 1,
            network: NetworkSpec::default(),
            action_space: ActionSpaceConfig::default(),
            sensor: ObsConfig::default(),
            car: CarParams::default(),
            episode: EpisodeConfig::default(),
            scenario: Scenario::default(),
            physics_substeps: 4,
            both_directions: false,
            generated: GeneratedTracks::default(),
        }
    }
}

impl TrainConfig {
    /// The model a training run with these settings builds.
    pub fn model_spec(&self) -> ModelSpec {
        ModelSpec {
            sensor: self.sensor.clone(),
            action_space: self.action_space.clone(),
            network: self.network.clone(),
            car: self.car.clone(),
            agent_dt: 1.0 / 15.0,
            physics_substeps: self.physics_substeps,
        }
    }

    /// The settings a model was trained with (kept in its file): what `--resume` and `--init`
    /// continue with when no config file is given.
    pub fn of_model(path: &Path) -> Result<Self, TrainError> {
        let model = crate::model::Model::load(path, tch::Device::Cpu)?;
        let cfg: TrainConfig = serde_json::from_value(model.info.hyperparameters).map_err(|e| {
            TrainError::file(
                path,
                format!("its training settings cannot be read ({e}); give --config"),
            )
        })?;
        cfg.validate().map_err(|m| TrainError::file(path, m))?;
        Ok(cfg)
    }

    /// Read and validate a TOML file. Errors name the file, the key and (for syntax) the line.
    pub fn load(path: &Path) -> Result<Self, TrainError> {
        let text = std::fs::read_to_string(path).map_err(|e| TrainError::file(path, format!("cannot read: {e}")))?;
        Self::parse(&text).map_err(|m| TrainError::file(path, m))
    }

    /// Parse and validate TOML text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let cfg = Self::parse_part(text)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Read a TOML file that other files complete (a DeepRacer model_metadata.json or
    /// hyperparameters.json given with it): every key checked, the whole validated by the caller.
    pub fn load_part(path: &Path) -> Result<Self, TrainError> {
        let text = std::fs::read_to_string(path).map_err(|e| TrainError::file(path, format!("cannot read: {e}")))?;
        Self::parse_part(&text).map_err(|m| TrainError::file(path, m))
    }

    fn parse_part(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e: toml::de::Error| e.to_string().trim().to_string())
    }

    /// Check every value; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        fn positive(field: &str, v: f64) -> Result<(), String> {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!("{field}: expected a positive number, got {v}"))
            }
        }
        fn unit(field: &str, v: f64) -> Result<(), String> {
            if v.is_finite() && (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("{field}: expected a number in [0, 1], got {v}"))
            }
        }
        if self.batch_size == 0 {
            return Err("batch_size: expected at least 1".into());
        }
        if self.batch_size > self.num_cars * self.rollout_steps {
            return Err(format!(
                "batch_size: the minibatch ({}) is larger than a rollout (num_cars × rollout_steps = {})",
                self.batch_size,
                self.num_cars * self.rollout_steps
            ));
        }
        if !(1..=100).contains(&self.num_epochs) {
            return Err(format!("num_epochs: expected 1–100, got {}", self.num_epochs));
        }
        positive("lr", self.lr)?;
        if self.lr > 1.0 {
            return Err(format!("lr: {} is too large (expected at most 1)", self.lr));
        }
        if !(self.beta_entropy.is_finite() && self.beta_entropy >= 0.0) {
            return Err(format!(
                "beta_entropy: expected a non-negative number, got {}",
                self.beta_entropy
            ));
        }
        unit("discount_factor", self.discount_factor)?;
        if self.num_episodes_between_training == Some(0) {
            return Err("num_episodes_between_training: expected at least 1".into());
        }
        if let Some(e) = &self.exploration_type
            && e != "categorical"
        {
            return Err(format!(
                "exploration_type: PPO explores by sampling its policy (\"categorical\"); {e:?} is not supported"
            ));
        }
        if let Some(s) = self.stack_size
            && s != 1
        {
            return Err(format!("stack_size: frame stacking is not supported (only 1), got {s}"));
        }
        if !(1..=65536).contains(&self.num_cars) {
            return Err(format!("num_cars: expected 1–65536, got {}", self.num_cars));
        }
        if !(1..=10000).contains(&self.rollout_steps) {
            return Err(format!("rollout_steps: expected 1–10000, got {}", self.rollout_steps));
        }
        unit("gae_lambda", self.gae_lambda)?;
        positive("clip_epsilon", self.clip_epsilon)?;
        positive("value_coef", self.value_coef)?;
        positive("max_grad_norm", self.max_grad_norm)?;
        if let Some(k) = self.target_kl {
            positive("target_kl", k)?;
        }
        if !(self.init_log_std.is_finite() && (-5.0..=2.0).contains(&self.init_log_std)) {
            return Err(format!(
                "init_log_std: expected a number in [-5, 2], got {}",
                self.init_log_std
            ));
        }
        if self.simtrace_cars > self.num_cars {
            return Err(format!(
                "simtrace_cars: {} is more than num_cars ({})",
                self.simtrace_cars, self.num_cars
            ));
        }
        if self.sim_threads > 256 {
            return Err(format!("sim_threads: expected 0–256, got {}", self.sim_threads));
        }
        self.action_space
            .to_space()
            .validate(&self.car)
            .map_err(|e| e.to_string())?;
        self.car.validate().map_err(|(f, m)| format!("car.{f}: {m}"))?;
        self.sensor.validate().map_err(|e| e.to_string())?;
        slipstream_sim::Mode::Train(self.episode.clone())
            .validate()
            .map_err(|e| e.to_string())?;
        self.scenario.validate().map_err(|e| e.to_string())?;
        if !(1..=1000).contains(&self.physics_substeps) {
            return Err(format!(
                "physics_substeps: expected 1–1000, got {}",
                self.physics_substeps
            ));
        }
        let g = &self.generated;
        if g.count > 10_000 {
            return Err(format!("generated.count: expected at most 10000, got {}", g.count));
        }
        for (name, r) in [
            ("generated.length", g.length),
            ("generated.width", g.width),
            ("generated.difficulty", g.difficulty),
        ] {
            if !(r[0].is_finite() && r[1].is_finite() && r[0] <= r[1]) {
                return Err(format!("{name}: expected [low, high] with low ≤ high, got {r:?}"));
            }
        }
        // What the model is built for must make a model (e.g. no camera sensor for an MLP).
        self.model_spec().validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key after a table header belongs to that table (TOML): one put there by mistake is an
    /// error naming it, whatever the table's type — it was silently ignored under a network or a
    /// race type without settings of its own.
    #[test]
    fn a_key_misplaced_under_a_table_is_an_error() {
        for text in [
            "[sensor]\ntype = \"camera\"\n[network]\ntype = \"deep_convolutional_network_shallow\"\nnum_cars = 4\n",
            "[sensor]\ntype = \"camera\"\n[network]\ntype = \"deep_convolutional_network\"\nnum_cars = 4\n",
            "[scenario]\ntype = \"time_trial\"\nnum_cars = 4\n",
        ] {
            let e = TrainConfig::parse(text).unwrap_err();
            assert!(e.contains("num_cars"), "{text}: {e}");
        }
        // Without the stray key, both read.
        let ok = TrainConfig::parse("[scenario]\ntype = \"time_trial\"\n").unwrap();
        assert_eq!(ok.scenario, Scenario::TimeTrial {});
    }

    /// The documented example configs (`trainer/examples/`) load as they are, each its race type.
    #[test]
    fn the_example_configs_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let load = |name: &str| TrainConfig::load(&dir.join(name)).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(load("camera.toml").sensor, ObsConfig::Camera(_)));
        match load("object_avoidance.toml").scenario {
            Scenario::ObjectAvoidance(o) => assert_eq!((o.count, o.randomize_each_episode), (3, true)),
            other => panic!("{other:?}"),
        }
        let both = load("camera_lidar.toml");
        assert_eq!(
            (both.sensor.kind(), both.network.name().as_str()),
            ("camera+lidar", "CNN_16x8s4_32x4s2_32x3s2_256")
        );
        assert!(matches!(both.scenario, Scenario::ObjectAvoidance(_)));
        match load("head_to_bot.toml").scenario {
            Scenario::HeadToBot(b) => assert_eq!((b.count, b.speed), (3, 0.6)),
            other => panic!("{other:?}"),
        }
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "camera.toml",
                "camera_lidar.toml",
                "head_to_bot.toml",
                "object_avoidance.toml"
            ],
            "a new example gets a check here"
        );
    }

    #[test]
    fn camera_sensors_need_a_camera_network() {
        let mut c = TrainConfig {
            sensor: ObsConfig::Camera(Default::default()),
            ..Default::default()
        };
        let e = c.validate().unwrap_err();
        assert!(e.starts_with("network: an MLP cannot see camera images"), "{e}");
        c.network = NetworkSpec::DeepConvolutionalNetworkShallow {};
        c.validate().unwrap();
        c.sensor = ObsConfig::default();
        let e = c.validate().unwrap_err();
        assert!(
            e.contains("DEEP_CONVOLUTIONAL_NETWORK_SHALLOW reads camera images"),
            "{e}"
        );
    }

    #[test]
    fn defaults_validate_and_round_trip() {
        let c = TrainConfig::default();
        c.validate().unwrap();
        let text = toml::to_string(&c).unwrap();
        assert_eq!(TrainConfig::parse(&text).unwrap(), c);
    }

    #[test]
    fn deepracer_names_and_sections_parse() {
        let c = TrainConfig::parse(
            r#"
            batch_size = 512
            num_epochs = 3
            lr = 0.001
            beta_entropy = 0.01
            discount_factor = 0.995
            loss_type = "huber"
            num_episodes_between_training = 20
            exploration_type = "categorical"
            [action_space]
            type = "discrete"
            actions = [{ steering_angle = -30, speed = 1.0 }, { steering_angle = 30, speed = 2.0 }]
            [sensor]
            type = "lidar"
            rays = 16
            [network]
            type = "mlp"
            hidden = [32]
            "#,
        )
        .unwrap();
        assert_eq!(c.loss_type, LossType::Huber);
        assert_eq!(c.action_space.to_space().dim(), 2);
        assert_eq!(c.sensor.dim(), 18);
    }

    #[test]
    fn deepracers_lidar_presets_are_sensor_settings() {
        for (ty, dim) in [("deepracer_lidar", 66), ("sector_lidar", 10)] {
            let c = TrainConfig::parse(&format!("[sensor]\ntype = \"{ty}\"\nborders = true")).unwrap();
            assert_eq!((c.sensor.dim(), c.sensor.kind()), (dim, ty));
        }
        let e = TrainConfig::parse("[sensor]\ntype = \"sector_lidar\"\nrays = 8").unwrap_err();
        assert!(e.contains("rays"), "{e}");
    }

    #[test]
    fn bad_values_name_the_field() {
        for (text, needle) in [
            ("batch_sise = 3", "batch_sise"),
            ("lr = -1", "lr"),
            ("discount_factor = 1.5", "discount_factor"),
            ("num_epochs = 0", "num_epochs"),
            ("loss_type = \"l1\"", "loss_type"),
            ("exploration_type = \"e-greedy\"", "exploration_type"),
            ("batch_size = 100000", "batch_size"),
            (
                "[action_space]\ntype = \"continuous\"\nsteering_angle = { low = -45, high = 30 }\nspeed = { low = 1, high = 2 }",
                "steering_angle",
            ),
            (
                "[action_space]\ntype = \"discrete\"\nactions = [{ steering_angle = 0, speed = 9 }]",
                "action_space[0].speed",
            ),
            ("[network]\ntype = \"mlp\"\nhidden = [0]", "network.hidden[0]"),
            ("[sensor]\ntype = \"lidar\"\nrays = 0", "sensor.rays"),
            ("[car]\ngrip = -1", "car.grip"),
        ] {
            let e = TrainConfig::parse(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}

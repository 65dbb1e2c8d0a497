//! The policy network and the model file.
//!
//! A model is one self-describing `.safetensors` file: the network's weights, the observation
//! normalisation statistics as tensors (`obs_norm.mean`, `obs_norm.var`, `obs_norm.count`), and
//! metadata strings: `format` (`slipstream-model`), `format_version`, `spec` (sensor, action space,
//! network, car and step settings, JSON), `model_metadata` (DeepRacer's `model_metadata.json`) and
//! `training` (hyperparameters, tracks, steps). A DeepRacer-style `model_metadata.json` is written
//! beside it. Loading validates all of it — format, metadata, every tensor's name, dtype, shape and
//! finiteness, and the action space against the car's limits — and never executes anything from
//! the file (no TorchScript, no pickles).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};
use slipstream_sim::{ActionSpace, CarParams, ModelMetadata, ObsConfig};
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

use crate::config::{Activation, NetworkSpec};
use crate::error::TrainError;
use crate::norm::RunningMeanStd;

/// The model file format this build writes and reads.
pub const FORMAT: &str = "slipstream-model";
pub const FORMAT_VERSION: u32 = 1;

/// What a model was built for: everything needed to rebuild its network and environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub sensor: ObsConfig,
    pub action_space: crate::config::ActionSpaceConfig,
    pub network: NetworkSpec,
    pub car: CarParams,
    pub agent_dt: f64,
    pub physics_substeps: u32,
}

impl ModelSpec {
    pub fn action_space(&self) -> ActionSpace {
        self.action_space.to_space()
    }

    pub fn obs_dim(&self) -> usize {
        self.sensor.dim()
    }

    /// Check the spec is usable: valid sensor, network, car, and actions inside the car's limits.
    pub fn validate(&self) -> Result<(), String> {
        self.sensor.validate().map_err(|e| e.to_string())?;
        self.car.validate().map_err(|(f, m)| format!("car.{f}: {m}"))?;
        self.action_space().validate(&self.car).map_err(|e| e.to_string())?;
        match &self.network {
            NetworkSpec::Mlp { hidden, .. } => {
                if hidden.is_empty() || hidden.iter().any(|h| *h == 0 || *h > 4096) {
                    return Err(format!("network.hidden: invalid layer sizes {hidden:?}"));
                }
            }
        }
        if !(self.agent_dt.is_finite() && self.agent_dt > 0.0 && self.agent_dt <= 1.0) {
            return Err(format!("agent_dt: expected (0, 1] s, got {}", self.agent_dt));
        }
        if !(1..=1000).contains(&self.physics_substeps) {
            return Err(format!(
                "physics_substeps: expected 1–1000, got {}",
                self.physics_substeps
            ));
        }
        Ok(())
    }
}

/// Where the model came from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    /// Track names (files or built-ins) the model was trained on.
    pub tracks: Vec<String>,
    /// Environment steps (car-steps) of training.
    pub steps: u64,
    pub episodes: u64,
    pub seed: u64,
    /// The hyperparameters, as the config file's TOML keys.
    pub hyperparameters: serde_json::Value,
    /// The reward function (preset name or file name).
    pub reward: String,
    /// Model this one was cloned from, if any.
    pub cloned_from: Option<String>,
}

/// The actor-critic network.
#[derive(Debug)]
pub struct Policy {
    pub vs: nn::VarStore,
    actor: nn::Sequential,
    critic: nn::Sequential,
    log_std: Option<Tensor>,
    /// Discrete action count, or `None` for a 2-D continuous space.
    discrete: Option<i64>,
}

/// How a new network's weights start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WeightInit {
    /// Orthogonal, as in CleanRL's PPO: for training from scratch.
    Orthogonal,
    /// Zeros: the weights are about to be loaded (orthogonal init of a wide layer costs a QR
    /// decomposition, most of the time of loading a large model).
    Zeros,
}

fn mlp(
    p: nn::Path<'_>,
    input: i64,
    hidden: &[usize],
    activation: Activation,
    out: i64,
    out_gain: f64,
    init: WeightInit,
) -> nn::Sequential {
    let weights = |gain: f64| match init {
        WeightInit::Orthogonal => nn::Init::Orthogonal { gain },
        WeightInit::Zeros => nn::Init::Const(0.0),
    };
    let mut seq = nn::seq();
    let mut last = input;
    let gain = 2f64.sqrt();
    for (i, &h) in hidden.iter().enumerate() {
        let cfg = nn::LinearConfig {
            ws_init: weights(gain),
            bs_init: Some(nn::Init::Const(0.0)),
            bias: true,
        };
        seq = seq.add(nn::linear(&p / format!("l{i}"), last, h as i64, cfg));
        seq = match activation {
            Activation::Tanh => seq.add_fn(|x| x.tanh()),
            Activation::Relu => seq.add_fn(|x| x.relu()),
        };
        last = h as i64;
    }
    let cfg = nn::LinearConfig {
        ws_init: weights(out_gain),
        bs_init: Some(nn::Init::Const(0.0)),
        bias: true,
    };
    seq.add(nn::linear(&p / "out", last, out, cfg))
}

/// One step's policy output for a batch.
#[derive(Debug)]
pub struct ActOutput {
    /// Discrete: [B] int64 indices. Continuous: [B, 2] raw Gaussian samples (before clipping).
    pub action: Tensor,
    pub log_prob: Tensor,
    pub value: Tensor,
}

const LOG_2PI: f64 = 1.837_877_066_409_345_3;

impl Policy {
    /// A freshly initialised network (orthogonal weights, as in CleanRL's PPO).
    pub fn new(spec: &ModelSpec, init_log_std: f64, device: Device) -> Self {
        Self::with_init(spec, init_log_std, device, WeightInit::Orthogonal)
    }

    fn with_init(spec: &ModelSpec, init_log_std: f64, device: Device, init: WeightInit) -> Self {
        let vs = nn::VarStore::new(device);
        let obs = spec.obs_dim() as i64;
        let NetworkSpec::Mlp { hidden, activation } = &spec.network;
        let action_space = spec.action_space();
        let (discrete, out) = match &action_space {
            ActionSpace::Discrete(v) => (Some(v.len() as i64), v.len() as i64),
            ActionSpace::Continuous { .. } => (None, 2),
        };
        let root = vs.root();
        let actor = mlp(&root / "actor", obs, hidden, *activation, out, 0.01, init);
        let critic = mlp(&root / "critic", obs, hidden, *activation, 1, 1.0, init);
        let log_std = discrete
            .is_none()
            .then(|| root.var("log_std", &[2], nn::Init::Const(init_log_std)));
        Policy {
            vs,
            actor,
            critic,
            log_std,
            discrete,
        }
    }

    pub fn is_discrete(&self) -> bool {
        self.discrete.is_some()
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// State values, [B].
    pub fn value(&self, obs: &Tensor) -> Tensor {
        self.critic.forward(obs).squeeze_dim(-1)
    }

    /// Sample actions (or take the most likely one when `deterministic`), with log-probabilities
    /// and values.
    pub fn act(&self, obs: &Tensor, deterministic: bool) -> ActOutput {
        let out = self.actor.forward(obs);
        let value = self.value(obs);
        match (self.discrete, &self.log_std) {
            (Some(_), _) => {
                let logp_all = out.log_softmax(-1, Kind::Float);
                let action = if deterministic {
                    logp_all.argmax(-1, false)
                } else {
                    logp_all.exp().multinomial(1, true).squeeze_dim(-1)
                };
                let log_prob = logp_all.gather(-1, &action.unsqueeze(-1), false).squeeze_dim(-1);
                ActOutput {
                    action,
                    log_prob,
                    value,
                }
            }
            (None, Some(log_std)) => {
                let action = if deterministic {
                    out.shallow_clone()
                } else {
                    &out + out.randn_like() * log_std.exp()
                };
                let log_prob = gaussian_log_prob(&out, log_std, &action);
                ActOutput {
                    action,
                    log_prob,
                    value,
                }
            }
            (None, None) => unreachable!("continuous policies have a log-std"),
        }
    }

    /// Log-probabilities, entropies and values of given actions (the PPO update).
    pub fn evaluate(&self, obs: &Tensor, action: &Tensor) -> (Tensor, Tensor, Tensor) {
        let out = self.actor.forward(obs);
        let value = self.value(obs);
        match (self.discrete, &self.log_std) {
            (Some(_), _) => {
                let logp_all = out.log_softmax(-1, Kind::Float);
                let log_prob = logp_all.gather(-1, &action.unsqueeze(-1), false).squeeze_dim(-1);
                let entropy = -(logp_all.exp() * &logp_all).sum_dim_intlist(-1, false, Kind::Float);
                (log_prob, entropy, value)
            }
            (None, Some(log_std)) => {
                let log_prob = gaussian_log_prob(&out, log_std, action);
                let entropy = (log_std + 0.5 * (1.0 + LOG_2PI))
                    .sum(Kind::Float)
                    .expand([out.size()[0]], false);
                (log_prob, entropy, value)
            }
            (None, None) => unreachable!("continuous policies have a log-std"),
        }
    }
}

fn gaussian_log_prob(mean: &Tensor, log_std: &Tensor, x: &Tensor) -> Tensor {
    let z = (x - mean) * (-log_std).exp();
    (-(z.square()) * 0.5 - log_std - 0.5 * LOG_2PI).sum_dim_intlist(-1, false, Kind::Float)
}

/// Map raw policy outputs to environment actions (`[steering°, speed]` inside the ranges): a
/// continuous sample in [-1, 1] per dimension is scaled into [low, high] (DeepRacer's scaling).
pub fn scale_continuous(raw: &[f32], space: &ActionSpace) -> [f32; 2] {
    let ActionSpace::Continuous { steering_angle, speed } = space else {
        unreachable!("continuous space")
    };
    let s = |v: f32, lo: f64, hi: f64| (lo + (f64::from(v.clamp(-1.0, 1.0)) + 1.0) * 0.5 * (hi - lo)) as f32;
    [
        s(raw[0], steering_angle.low, steering_angle.high),
        s(raw[1], speed.low, speed.high),
    ]
}

/// A trained (or training) model.
#[derive(Debug)]
pub struct Model {
    pub spec: ModelSpec,
    pub policy: Policy,
    pub obs_norm: Option<RunningMeanStd>,
    pub info: TrainingInfo,
}

fn tensor_bytes(t: &Tensor) -> (Dtype, Vec<usize>, Vec<u8>) {
    let t = t.to_device(Device::Cpu).contiguous();
    let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
    let n = t.numel();
    match t.kind() {
        Kind::Double => {
            let mut v = vec![0f64; n];
            t.copy_data(&mut v, n);
            (Dtype::F64, shape, v.iter().flat_map(|x| x.to_le_bytes()).collect())
        }
        _ => {
            let t = t.to_kind(Kind::Float);
            let mut v = vec![0f32; n];
            t.copy_data(&mut v, n);
            (Dtype::F32, shape, v.iter().flat_map(|x| x.to_le_bytes()).collect())
        }
    }
}

impl Model {
    /// A new, untrained model.
    pub fn new(spec: ModelSpec, init_log_std: f64, normalize: bool, device: Device) -> Self {
        let policy = Policy::new(&spec, init_log_std, device);
        let obs_norm = normalize.then(|| RunningMeanStd::new(spec.obs_dim()));
        Model {
            spec,
            policy,
            obs_norm,
            info: TrainingInfo::default(),
        }
    }

    /// DeepRacer's `model_metadata.json` for this model.
    pub fn model_metadata(&self) -> ModelMetadata {
        let mut m = ModelMetadata::new(
            self.spec.action_space(),
            vec![self.spec.sensor.sensor_name().to_string()],
            self.spec.network.name(),
        );
        m.extra
            .insert("slipstream_format_version".into(), serde_json::json!(FORMAT_VERSION));
        m
    }

    /// Write the model (weights, statistics and metadata) to `path`, and `model_metadata.json`
    /// beside it. Written to a temporary file first and renamed, so a reader never sees half a file.
    pub fn save(&self, path: &Path) -> Result<(), TrainError> {
        let mut tensors: Vec<(String, (Dtype, Vec<usize>, Vec<u8>))> = Vec::new();
        let mut vars: Vec<(String, Tensor)> = self.policy.vs.variables().into_iter().collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, t) in vars {
            tensors.push((format!("policy.{name}"), tensor_bytes(&t)));
        }
        if let Some(n) = &self.obs_norm {
            let d = n.dim();
            let f64s = |v: &[f64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
            tensors.push(("obs_norm.mean".into(), (Dtype::F64, vec![d], f64s(&n.mean))));
            tensors.push(("obs_norm.var".into(), (Dtype::F64, vec![d], f64s(&n.var))));
            tensors.push(("obs_norm.count".into(), (Dtype::F64, vec![1], f64s(&[n.count]))));
        }
        let views: Vec<(String, TensorView<'_>)> = tensors
            .iter()
            .map(|(name, (dtype, shape, data))| {
                let view = TensorView::new(*dtype, shape.clone(), data).expect("consistent tensor");
                (name.clone(), view)
            })
            .collect();
        let metadata: HashMap<String, String> = [
            ("format".to_string(), FORMAT.to_string()),
            ("format_version".to_string(), FORMAT_VERSION.to_string()),
            (
                "spec".to_string(),
                serde_json::to_string(&self.spec).expect("serialisable"),
            ),
            (
                "model_metadata".to_string(),
                self.model_metadata().to_json().to_string(),
            ),
            (
                "training".to_string(),
                serde_json::to_string(&self.info).expect("serialisable"),
            ),
        ]
        .into_iter()
        .collect();
        let bytes = safetensors::serialize(views, Some(metadata))
            .map_err(|e| TrainError::file(path, format!("cannot encode: {e}")))?;
        let tmp = path.with_extension("safetensors.tmp");
        std::fs::write(&tmp, bytes).map_err(|e| TrainError::file(&tmp, format!("cannot write: {e}")))?;
        std::fs::rename(&tmp, path).map_err(|e| TrainError::file(path, format!("cannot write: {e}")))?;
        let meta_path = path.parent().unwrap_or(Path::new(".")).join("model_metadata.json");
        self.model_metadata().write(&meta_path)?;
        Ok(())
    }

    /// Load and validate a model file.
    pub fn load(path: &Path, device: Device) -> Result<Model, TrainError> {
        let bytes = std::fs::read(path).map_err(|e| TrainError::file(path, format!("cannot read: {e}")))?;
        Self::from_bytes(&bytes, path, device)
    }

    /// Validate and load a model from bytes; `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path, device: Device) -> Result<Model, TrainError> {
        let bad = |m: String| TrainError::model(path, m);
        let (_, header) =
            safetensors::SafeTensors::read_metadata(bytes).map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let st =
            safetensors::SafeTensors::deserialize(bytes).map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let meta = header
            .metadata()
            .clone()
            .ok_or_else(|| bad("no metadata: not a Slipstream model".into()))?;
        let get = |k: &str| meta.get(k).ok_or_else(|| bad(format!("metadata '{k}' is missing")));
        if get("format")? != FORMAT {
            return Err(bad(format!(
                "metadata 'format' is {:?}, expected {FORMAT:?}",
                get("format")?
            )));
        }
        let version: u32 = get("format_version")?
            .parse()
            .map_err(|_| bad("metadata 'format_version' is not a number".into()))?;
        if version != FORMAT_VERSION {
            return Err(bad(format!(
                "format version {version} is not supported (this build reads version {FORMAT_VERSION})"
            )));
        }
        let spec: ModelSpec = serde_json::from_str(get("spec")?).map_err(|e| bad(format!("metadata 'spec': {e}")))?;
        spec.validate().map_err(|e| bad(format!("metadata 'spec': {e}")))?;
        let info: TrainingInfo =
            serde_json::from_str(get("training")?).map_err(|e| bad(format!("metadata 'training': {e}")))?;
        ModelMetadata::parse(get("model_metadata")?).map_err(|e| bad(format!("metadata 'model_metadata': {e}")))?;

        let policy = Policy::with_init(&spec, 0.0, Device::Cpu, WeightInit::Zeros);
        let mut expected: Vec<(String, Tensor)> = policy.vs.variables().into_iter().collect();
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        let mut seen = std::collections::HashSet::new();
        for (name, var) in &expected {
            let key = format!("policy.{name}");
            let view = st.tensor(&key).map_err(|_| bad(format!("tensor '{key}' is missing")))?;
            let shape: Vec<usize> = var.size().iter().map(|&d| d as usize).collect();
            if view.shape() != shape.as_slice() {
                return Err(bad(format!(
                    "tensor '{key}' has shape {:?}, expected {shape:?}",
                    view.shape()
                )));
            }
            if view.dtype() != Dtype::F32 {
                return Err(bad(format!(
                    "tensor '{key}' has dtype {:?}, expected F32",
                    view.dtype()
                )));
            }
            let values: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect();
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(bad(format!("tensor '{key}' holds a non-finite value at element {i}")));
            }
            let src = Tensor::from_slice(&values).reshape(var.size());
            tch::no_grad(|| {
                let mut v = var.shallow_clone();
                v.copy_(&src);
            });
            seen.insert(key);
        }
        let obs_norm = match st.tensor("obs_norm.mean") {
            Ok(_) => {
                let read = |k: &str, len: usize| -> Result<Vec<f64>, TrainError> {
                    let v = st.tensor(k).map_err(|_| bad(format!("tensor '{k}' is missing")))?;
                    if v.dtype() != Dtype::F64 || v.shape() != [len] {
                        return Err(bad(format!(
                            "tensor '{k}' must be F64 of shape [{len}], is {:?} {:?}",
                            v.dtype(),
                            v.shape()
                        )));
                    }
                    let vals: Vec<f64> = v
                        .data()
                        .chunks_exact(8)
                        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                        .collect();
                    if let Some(i) = vals.iter().position(|x| !x.is_finite()) {
                        return Err(bad(format!("tensor '{k}' holds a non-finite value at element {i}")));
                    }
                    Ok(vals)
                };
                let d = spec.obs_dim();
                let mean = read("obs_norm.mean", d)?;
                let var = read("obs_norm.var", d)?;
                let count = read("obs_norm.count", 1)?[0];
                if var.iter().any(|v| *v < 0.0) || count <= 0.0 {
                    return Err(bad("obs_norm: variances and count must not be negative".into()));
                }
                for k in ["obs_norm.mean", "obs_norm.var", "obs_norm.count"] {
                    seen.insert(k.to_string());
                }
                Some(RunningMeanStd { mean, var, count })
            }
            Err(_) => None,
        };
        if let Some(extra) = st.names().into_iter().find(|n| !seen.contains(*n)) {
            return Err(bad(format!("unexpected tensor '{extra}'")));
        }
        let mut policy = policy;
        if device != Device::Cpu {
            policy.vs.set_device(device);
        }
        Ok(Model {
            spec,
            policy,
            obs_norm,
            info,
        })
    }

    /// The normalised observation rows (a copy).
    pub fn normalized(&self, obs: &[f32]) -> Vec<f32> {
        let mut v = obs.to_vec();
        if let Some(n) = &self.obs_norm {
            n.normalize(&mut v);
        }
        v
    }
}

/// Where `trainer train` puts its files.
#[derive(Clone, Debug)]
pub struct OutputFiles {
    pub dir: PathBuf,
}

impl OutputFiles {
    pub fn last(&self) -> PathBuf {
        self.dir.join("model_last.safetensors")
    }
    pub fn best(&self) -> PathBuf {
        self.dir.join("model_best.safetensors")
    }
    pub fn metrics_csv(&self) -> PathBuf {
        self.dir.join("metrics.csv")
    }
    pub fn metrics_jsonl(&self) -> PathBuf {
        self.dir.join("metrics.jsonl")
    }
    pub fn state(&self) -> PathBuf {
        self.dir.join("training_state.json")
    }
}

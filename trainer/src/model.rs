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
use std::path::Path;

use safetensors::tensor::Dtype;
use serde::{Deserialize, Serialize};
use slipstream_sim::{ModelMetadata, ObsConfig};
use tch::{Device, Tensor};

use crate::error::TrainError;
use crate::network::WeightInit;
use crate::norm::RunningMeanStd;
use crate::policy::Policy;
pub use crate::spec::{ModelSpec, image_shape};
use crate::tensors::{self, Encoded};

/// The model file format this build writes and reads.
pub const FORMAT: &str = "slipstream-model";
pub const FORMAT_VERSION: u32 = 1;

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

/// A trained (or training) model.
#[derive(Debug)]
pub struct Model {
    pub spec: ModelSpec,
    pub policy: Policy,
    pub obs_norm: Option<RunningMeanStd>,
    pub info: TrainingInfo,
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
            self.spec.sensor.sensor_names().iter().map(|s| s.to_string()).collect(),
            self.spec.network.name(),
        );
        m.extra
            .insert("slipstream_format_version".into(), serde_json::json!(FORMAT_VERSION));
        m
    }

    /// Write the model (weights, statistics and metadata) to `path`, and `model_metadata.json`
    /// beside it. Written to a temporary file first and renamed, so a reader never sees half a file.
    pub fn save(&self, path: &Path) -> Result<(), TrainError> {
        let mut tensors: Vec<(String, Encoded)> = Vec::new();
        for (name, t) in self.policy.vs.variables() {
            tensors.push((format!("policy.{name}"), tensors::encode(&t)));
        }
        if let Some(n) = &self.obs_norm {
            let d = n.dim();
            let f64s = |v: &[f64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
            tensors.push(("obs_norm.mean".into(), (Dtype::F64, vec![d], f64s(&n.mean))));
            tensors.push(("obs_norm.var".into(), (Dtype::F64, vec![d], f64s(&n.var))));
            tensors.push(("obs_norm.count".into(), (Dtype::F64, vec![1], f64s(&[n.count]))));
        }
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
        let bytes = tensors::serialize(tensors, Some(metadata)).map_err(|e| TrainError::file(path, e))?;
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
        // A file people mistake for a model gets named ("header too large" helps nobody).
        let not_safetensors = |e: safetensors::SafeTensorError| match foreign_format(bytes) {
            Some(what) => bad(format!(
                "this is {what}, not a safetensors file: only .safetensors models are accepted (as \
                 `trainer train` saves them); pickles and TorchScript are never loaded"
            )),
            None => bad(format!("not a safetensors file: {e}")),
        };
        let (_, header) = safetensors::SafeTensors::read_metadata(bytes).map_err(not_safetensors)?;
        let st = safetensors::SafeTensors::deserialize(bytes).map_err(not_safetensors)?;
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
        let metadata =
            ModelMetadata::parse(get("model_metadata")?).map_err(|e| bad(format!("metadata 'model_metadata': {e}")))?;
        // What DeepRacer's tools (and the league's listing) read must be what the model is.
        let expected = spec.sensor.sensor_names();
        // Models saved before DeepRacer's LIDAR preset existed named Slipstream's lidar "LIDAR".
        let legacy_lidar = matches!(spec.sensor, ObsConfig::Lidar(_)) && metadata.sensor == ["LIDAR"];
        if (metadata.sensor != expected && !legacy_lidar) || metadata.neural_network != spec.network.name() {
            return Err(bad(format!(
                "metadata 'model_metadata' claims sensor {:?} and network {:?}, but the model is built for {:?} and {:?}",
                metadata.sensor,
                metadata.neural_network,
                expected,
                spec.network.name()
            )));
        }

        let policy = Policy::with_init(&spec, 0.0, Device::Cpu, WeightInit::Zeros);
        let mut expected: Vec<(String, Tensor)> = policy.vs.variables().into_iter().collect();
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        let mut seen = std::collections::HashSet::new();
        for (name, var) in &expected {
            let key = format!("policy.{name}");
            let shape: Vec<usize> = var.size().iter().map(|&d| d as usize).collect();
            let src = tensors::read_f32(&st, &key, Some(&shape)).map_err(bad)?;
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

/// What a file that is not a safetensors file looks like, from its first bytes: the formats people
/// upload by mistake (`None` for anything else). Only asked once safetensors parsing has failed: a
/// safetensors header length can begin with the same bytes.
pub fn foreign_format(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [b'P', b'K', 3, 4, ..] => Some("a zip archive (a PyTorch .pt/.pth file or a TorchScript model)"),
        [0x80, 2..=5, ..] => Some("a Python pickle (a PyTorch file in the legacy format, or another pickled object)"),
        [0x1f, 0x8b, ..] => Some("a gzip file (a DeepRacer model export .tar.gz?)"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_metadata_names_deepracers_lidar_sensors_as_deepracer_does() {
        for (obs, name) in [
            (ObsConfig::DeepracerLidar(Default::default()), "LIDAR"),
            (ObsConfig::SectorLidar(Default::default()), "SECTOR_LIDAR"),
            (ObsConfig::Lidar(Default::default()), "SLIPSTREAM_LIDAR"),
        ] {
            let mut spec = crate::config::TrainConfig::default().model_spec();
            spec.sensor = obs;
            spec.validate().unwrap();
            let m = Model::new(spec, -0.5, false, Device::Cpu);
            assert_eq!(m.model_metadata().sensor, vec![name.to_string()]);
        }
    }
}

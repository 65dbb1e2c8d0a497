//! Running a model's deterministic policy per step: normalise the observations, run the policy,
//! decode its actions — what racing (and the league) calls per step.

use slipstream_sim::Action;
use tch::Tensor;

use crate::model::Model;
use crate::policy::{ActionDecoder, Observations, RawActions};

/// Reusable buffers for running a model's deterministic policy on a batch of observations (racing).
#[derive(Debug)]
pub struct PolicyRunner {
    obs: Vec<f32>,
    inv_std: Vec<f64>,
    idx: Vec<i64>,
    raw: Vec<f32>,
    decoder: ActionDecoder,
}

impl PolicyRunner {
    pub fn new(model: &Model) -> Self {
        Self {
            obs: Vec::new(),
            inv_std: model.obs_norm.as_ref().map(|n| n.inv_std()).unwrap_or_default(),
            idx: Vec::new(),
            raw: Vec::new(),
            decoder: ActionDecoder::new(model.spec.action_space()),
        }
    }

    /// Deterministic (greedy) actions for `obs` (rows of the model's observation size) and, for a
    /// camera model, `images` (the step's bytes, one image per row; empty otherwise).
    pub fn act(&mut self, model: &Model, obs: &[f32], images: &[u8], actions: &mut [Action]) {
        let d = model.spec.obs_dim();
        let n = obs.len() / d;
        self.obs.clear();
        self.obs.extend_from_slice(obs);
        if let Some(norm) = &model.obs_norm {
            norm.normalize_with(&self.inv_std, &mut self.obs);
        }
        let device = model.policy.device();
        let input = Observations {
            features: Tensor::from_slice(&self.obs)
                .view([n as i64, d as i64])
                .to_device(device),
            images: model.spec.image_shape().map(|[c, h, w]| {
                crate::tensors::images(&images[..n * (c * h * w) as usize], [n as i64, c, h, w], device)
            }),
        };
        let action = tch::no_grad(|| model.policy.distribution(&input).sample(true));
        let raw = if model.policy.is_discrete() {
            self.idx.resize(n, 0);
            RawActions::Discrete(&mut self.idx)
        } else {
            self.raw.resize(2 * n, 0.0);
            RawActions::Continuous(&mut self.raw)
        };
        self.decoder.decode(&action, raw, &mut actions[..n]);
    }
}

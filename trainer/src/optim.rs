//! Adam (Kingma & Ba 2015, as `torch.optim.Adam` computes it) with global gradient-norm clipping,
//! over a policy's variables — with its state in the open, so that a checkpoint can save it and a
//! resumed run continues with the same moments (libtorch's optimizer keeps its state private).
//!
//! The variables' gradients are gathered into one flat vector, so a step is a handful of tensor
//! operations whatever the number of layers:
//!
//! ```text
//! g ← clip(g, max_norm)            (scaled by max_norm / (‖g‖ + 1e-6) when ‖g‖ > max_norm)
//! m ← β₁ m + (1 − β₁) g            v ← β₂ v + (1 − β₂) g²          t ← t + 1
//! θ ← θ − lr / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
//! ```

use std::collections::HashMap;

use tch::{Device, Kind, Tensor, nn};

/// Adam's settings. CleanRL's PPO: β₁ 0.9, β₂ 0.999, ε 1e-5.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-5,
        }
    }
}

/// The optimizer's state: the step count and the two moment vectors (flat, in the order of the
/// variables' names).
#[derive(Debug)]
pub struct AdamState {
    pub step: u64,
    pub exp_avg: Tensor,
    pub exp_avg_sq: Tensor,
}

/// Adam over a [`nn::VarStore`]'s trainable variables.
#[derive(Debug)]
pub struct Adam {
    config: AdamConfig,
    lr: f64,
    /// Trainable variables, sorted by name (a stable order for the flat state).
    vars: Vec<(String, Tensor)>,
    /// Each variable's element count.
    sizes: Vec<i64>,
    state: AdamState,
}

impl Adam {
    pub fn new(vs: &nn::VarStore, lr: f64, config: AdamConfig) -> Self {
        let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().filter(|(_, t)| t.requires_grad()).collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let sizes: Vec<i64> = vars.iter().map(|(_, t)| t.numel() as i64).collect();
        let total: i64 = sizes.iter().sum();
        let zeros = || Tensor::zeros([total], (Kind::Float, vs.device()));
        Adam {
            config,
            lr,
            vars,
            sizes,
            state: AdamState {
                step: 0,
                exp_avg: zeros(),
                exp_avg_sq: zeros(),
            },
        }
    }

    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    pub fn lr(&self) -> f64 {
        self.lr
    }

    pub fn state(&self) -> &AdamState {
        &self.state
    }

    /// Number of parameters the moments cover.
    pub fn len(&self) -> usize {
        self.sizes.iter().sum::<i64>() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replace the state (from a checkpoint). The moments must cover exactly this optimizer's
    /// parameters.
    pub fn restore(&mut self, state: AdamState) -> Result<(), String> {
        let n = self.len() as i64;
        for (name, t) in [("exp_avg", &state.exp_avg), ("exp_avg_sq", &state.exp_avg_sq)] {
            if t.size() != [n] {
                return Err(format!(
                    "optimizer.{name} has shape {:?}, expected [{n}] (a different network?)",
                    t.size()
                ));
            }
        }
        // Copies: the moments are updated in place and must not share storage with the caller's.
        let device = self.state.exp_avg.device();
        let own = |t: &Tensor| t.to_kind(Kind::Float).to_device(device).copy();
        self.state = AdamState {
            step: state.step,
            exp_avg: own(&state.exp_avg),
            exp_avg_sq: own(&state.exp_avg_sq),
        };
        Ok(())
    }

    pub fn zero_grad(&mut self) {
        for (_, v) in &mut self.vars {
            v.zero_grad();
        }
    }

    /// One step on the variables' current gradients, after scaling them so that their global
    /// norm is at most `max_grad_norm`.
    pub fn clip_and_step(&mut self, max_grad_norm: f64) {
        tch::no_grad(|| {
            let grads: Vec<Tensor> = self
                .vars
                .iter()
                .map(|(_, v)| {
                    let g = v.grad();
                    if g.defined() {
                        g.reshape([-1])
                    } else {
                        v.zeros_like().reshape([-1])
                    }
                })
                .collect();
            let mut g = Tensor::cat(&grads, 0);
            let norm = g.norm().double_value(&[]);
            let coef = max_grad_norm / (norm + 1e-6);
            if coef < 1.0 {
                g *= coef;
            }
            let AdamConfig { beta1, beta2, eps } = self.config;
            let s = &mut self.state;
            s.step += 1;
            let t = s.step as i32;
            let _ = s.exp_avg.g_mul_scalar_(beta1).g_add_(&(&g * (1.0 - beta1)));
            let _ = s.exp_avg_sq.g_mul_scalar_(beta2).g_add_(&(g.square() * (1.0 - beta2)));
            let bias1 = 1.0 - beta1.powi(t);
            let bias2 = 1.0 - beta2.powi(t);
            let denom = s.exp_avg_sq.sqrt() / bias2.sqrt() + eps;
            let update = (&s.exp_avg / denom) * (self.lr / bias1);
            for ((_, v), chunk) in self.vars.iter_mut().zip(update.split_with_sizes(&self.sizes, 0)) {
                let _ = v.g_sub_(&chunk.view_as(v));
            }
        });
    }

    /// The state as named CPU tensors (for a `.safetensors` checkpoint).
    pub fn state_tensors(&self) -> HashMap<String, Tensor> {
        let cpu = |t: &Tensor| t.to_device(Device::Cpu).copy();
        HashMap::from([
            ("optimizer.exp_avg".into(), cpu(&self.state.exp_avg)),
            ("optimizer.exp_avg_sq".into(), cpu(&self.state.exp_avg_sq)),
            ("optimizer.step".into(), Tensor::from_slice(&[self.state.step as i64])),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(values: &[f32]) -> (nn::VarStore, Tensor) {
        let vs = nn::VarStore::new(Device::Cpu);
        let w = vs.root().var("w", &[values.len() as i64], nn::Init::Const(0.0));
        tch::no_grad(|| {
            let mut w2 = w.shallow_clone();
            w2.copy_(&Tensor::from_slice(values));
        });
        (vs, w)
    }

    fn grad_step(opt: &mut Adam, w: &Tensor, target: &[f32]) {
        opt.zero_grad();
        let loss = (w - Tensor::from_slice(target)).square().sum(Kind::Float);
        loss.backward();
        opt.clip_and_step(1e9);
    }

    #[test]
    fn matches_libtorch_adam() {
        let (vs_a, w_a) = store(&[1.0, -2.0, 0.5]);
        let (vs_b, w_b) = store(&[1.0, -2.0, 0.5]);
        let mut ours = Adam::new(&vs_a, 0.01, AdamConfig::default());
        let mut theirs = nn::OptimizerConfig::build(
            nn::Adam {
                eps: 1e-5,
                ..Default::default()
            },
            &vs_b,
            0.01,
        )
        .unwrap();
        for _ in 0..20 {
            grad_step(&mut ours, &w_a, &[0.0, 1.0, 2.0]);
            theirs.zero_grad();
            let loss = (&w_b - Tensor::from_slice(&[0.0f32, 1.0, 2.0]))
                .square()
                .sum(Kind::Float);
            loss.backward();
            theirs.step();
        }
        let diff = (&w_a - &w_b).abs().max().double_value(&[]);
        assert!(diff < 1e-6, "ours {w_a:?} vs libtorch {w_b:?}");
        assert_eq!(ours.state().step, 20);
    }

    #[test]
    fn clipping_bounds_the_step() {
        let (vs, w) = store(&[0.0, 0.0]);
        let mut opt = Adam::new(&vs, 1.0, AdamConfig::default());
        opt.zero_grad();
        let loss = (&w * Tensor::from_slice(&[3000.0f32, 4000.0])).sum(Kind::Float);
        loss.backward();
        opt.clip_and_step(0.5);
        // After clipping the gradient is (0.3, 0.4); Adam's first step is lr·sign(g) (up to ε).
        let m = Vec::<f32>::try_from(&opt.state().exp_avg).unwrap();
        assert!((m[0] - 0.03).abs() < 1e-6 && (m[1] - 0.04).abs() < 1e-6, "{m:?}");
    }

    #[test]
    fn a_restored_state_continues_identically() {
        let (vs_a, w_a) = store(&[1.0, 2.0]);
        let mut a = Adam::new(&vs_a, 0.05, AdamConfig::default());
        for _ in 0..5 {
            grad_step(&mut a, &w_a, &[-1.0, 0.0]);
        }
        // A second optimizer over a copy of the weights, given the first one's saved state.
        let (vs_b, w_b) = store(&Vec::<f32>::try_from(&w_a).unwrap());
        let mut b = Adam::new(&vs_b, 0.05, AdamConfig::default());
        let saved = a.state_tensors();
        b.restore(AdamState {
            step: saved["optimizer.step"].int64_value(&[0]) as u64,
            exp_avg: saved["optimizer.exp_avg"].shallow_clone(),
            exp_avg_sq: saved["optimizer.exp_avg_sq"].shallow_clone(),
        })
        .unwrap();
        // A fresh optimizer (what --resume used to do) takes a different step.
        let (vs_c, w_c) = store(&Vec::<f32>::try_from(&w_a).unwrap());
        let mut c = Adam::new(&vs_c, 0.05, AdamConfig::default());
        for _ in 0..3 {
            grad_step(&mut a, &w_a, &[-1.0, 0.0]);
            grad_step(&mut b, &w_b, &[-1.0, 0.0]);
            grad_step(&mut c, &w_c, &[-1.0, 0.0]);
        }
        assert_eq!(Vec::<f32>::try_from(&w_a).unwrap(), Vec::<f32>::try_from(&w_b).unwrap());
        assert_ne!(Vec::<f32>::try_from(&w_a).unwrap(), Vec::<f32>::try_from(&w_c).unwrap());
        assert!(
            b.restore(AdamState {
                step: 1,
                exp_avg: Tensor::zeros([3], (Kind::Float, Device::Cpu)),
                exp_avg_sq: Tensor::zeros([3], (Kind::Float, Device::Cpu)),
            })
            .unwrap_err()
            .contains("expected [2]")
        );
    }
}

//! Proximal Policy Optimization, following CleanRL's `ppo.py` / `ppo_continuous_action.py` (Schulman
//! et al. 2017; Huang et al., "The 37 Implementation Details of PPO"):
//!
//! 1. **Advantages** by GAE(λ) over the rollout (`gae`), bootstrapping from the value of the
//!    observation after the last step; a truncated episode's reward gets γ·V(last observation).
//! 2. **Update** (`update`): for `num_epochs` epochs, shuffle the rollout into minibatches of
//!    `batch_size`; per minibatch:
//!    * ratio r = exp(log π_new(a|s) − log π_old(a|s)); advantages normalised per minibatch;
//!    * policy loss = mean(max(−A·r, −A·clip(r, 1−ε, 1+ε)));
//!    * value loss = ½·mean(max(ℓ(V − R), ℓ(V_clipped − R))) with V_clipped = V_old + clip(V − V_old, ±ε)
//!      and ℓ squared error or Huber (DeepRacer's `loss_type`);
//!    * loss = policy loss − β·entropy + c_v·value loss; Adam step after clipping the global
//!      gradient norm (`crate::optim`);
//!    * optionally stop the epochs early when the approximate KL exceeds `target_kl`.

use slipstream_sim::rng::Rng;
use tch::{Kind, Tensor};

use crate::config::{LossType, TrainConfig};
use crate::optim::Adam;
use crate::policy::{Observations, Policy};

/// One rollout, flattened over (step, car), on the learner's device.
#[derive(Debug)]
pub struct Batch {
    pub obs: Observations,
    /// Discrete: [B] int64. Continuous: [B, 2] float.
    pub actions: Tensor,
    pub log_probs: Tensor,
    pub advantages: Tensor,
    pub returns: Tensor,
    pub values: Tensor,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.log_probs.size()[0] as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What one update did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UpdateStats {
    pub policy_loss: f64,
    pub value_loss: f64,
    pub entropy: f64,
    pub approx_kl: f64,
    pub clip_fraction: f64,
    pub explained_variance: f64,
    pub epochs: usize,
    pub minibatches: usize,
}

/// Generalised advantage estimation over `steps × cars` arrays (row = step). `dones[t][i]` means car
/// i's episode ended with the action at step t. `last_values` are V of the observations after the
/// final step. Writes advantages and returns (advantages + values).
pub fn gae(
    rewards: &[f32],
    values: &[f32],
    dones: &[u8],
    last_values: &[f32],
    cars: usize,
    gamma: f64,
    lambda: f64,
    advantages: &mut [f32],
    returns: &mut [f32],
) {
    let steps = rewards.len() / cars;
    let (gamma, lambda) = (gamma as f32, lambda as f32);
    for i in 0..cars {
        let mut last = 0.0f32;
        for t in (0..steps).rev() {
            let k = t * cars + i;
            let next_value = if t + 1 == steps {
                last_values[i]
            } else {
                values[k + cars]
            };
            let not_done = if dones[k] != 0 { 0.0 } else { 1.0 };
            let delta = rewards[k] + gamma * next_value * not_done - values[k];
            last = delta + gamma * lambda * not_done * last;
            advantages[k] = last;
            returns[k] = last + values[k];
        }
    }
}

fn value_error(e: &Tensor, loss: LossType) -> Tensor {
    match loss {
        LossType::MeanSquaredError => e.square(),
        LossType::Huber => {
            // 2·huber(e, δ = 1) so that both losses are ½ e² near zero.
            let a = e.abs();
            let h = a.clamp_max(1.0);
            &h * &h + (a - h) * 2.0
        }
    }
}

/// Run the PPO epochs over `batch`.
pub fn update(policy: &Policy, opt: &mut Adam, batch: &Batch, cfg: &TrainConfig, rng: &mut Rng) -> UpdateStats {
    let n = batch.len();
    let mb = cfg.batch_size.min(n).max(1);
    let device = policy.device();
    let mut idx: Vec<i64> = (0..n as i64).collect();
    let mut stats = UpdateStats::default();
    let (mut sum_pl, mut sum_vl, mut sum_ent, mut sum_kl, mut sum_clip, mut count) = (0.0, 0.0, 0.0, 0.0, 0.0, 0usize);
    'epochs: for _ in 0..cfg.num_epochs {
        stats.epochs += 1;
        // Fisher–Yates with the run's own generator: reproducible for a seed.
        for i in (1..n).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            idx.swap(i, j);
        }
        for chunk in idx.chunks(mb) {
            if chunk.len() < mb / 2 && count > 0 {
                continue; // skip a ragged tail far smaller than a minibatch
            }
            let ix = Tensor::from_slice(chunk).to_device(device);
            let obs = batch.obs.rows(&ix);
            let actions = batch.actions.index_select(0, &ix);
            let old_logp = batch.log_probs.index_select(0, &ix);
            let mut adv = batch.advantages.index_select(0, &ix);
            let ret = batch.returns.index_select(0, &ix);
            let old_v = batch.values.index_select(0, &ix);

            let (logp, entropy, value) = policy.evaluate(&obs, &actions);
            let log_ratio = &logp - &old_logp;
            let ratio = log_ratio.exp();
            let (approx_kl, clip_frac) = tch::no_grad(|| {
                let kl = ((&ratio - 1.0) - &log_ratio).mean(Kind::Float).double_value(&[]);
                let cf = (&ratio - 1.0)
                    .abs()
                    .gt(cfg.clip_epsilon)
                    .to_kind(Kind::Float)
                    .mean(Kind::Float)
                    .double_value(&[]);
                (kl, cf)
            });
            if cfg.normalize_advantages && chunk.len() > 1 {
                adv = (&adv - adv.mean(Kind::Float)) / (adv.std(true) + 1e-8);
            }
            let pg1 = -&adv * &ratio;
            let pg2 = -&adv * ratio.clamp(1.0 - cfg.clip_epsilon, 1.0 + cfg.clip_epsilon);
            let pg_loss = pg1.max_other(&pg2).mean(Kind::Float);
            let v_loss = if cfg.clip_value_loss {
                let unclipped = value_error(&(&value - &ret), cfg.loss_type);
                let v_clipped = &old_v + (&value - &old_v).clamp(-cfg.clip_epsilon, cfg.clip_epsilon);
                let clipped = value_error(&(v_clipped - &ret), cfg.loss_type);
                unclipped.max_other(&clipped).mean(Kind::Float) * 0.5
            } else {
                value_error(&(&value - &ret), cfg.loss_type).mean(Kind::Float) * 0.5
            };
            let ent = entropy.mean(Kind::Float);
            let loss = &pg_loss - &ent * cfg.beta_entropy + &v_loss * cfg.value_coef;
            opt.zero_grad();
            loss.backward();
            opt.clip_and_step(cfg.max_grad_norm);

            sum_pl += pg_loss.double_value(&[]);
            sum_vl += v_loss.double_value(&[]);
            sum_ent += ent.double_value(&[]);
            sum_kl += approx_kl;
            sum_clip += clip_frac;
            count += 1;
            if let Some(target) = cfg.target_kl
                && approx_kl > target
            {
                break 'epochs;
            }
        }
    }
    let c = count.max(1) as f64;
    stats.policy_loss = sum_pl / c;
    stats.value_loss = sum_vl / c;
    stats.entropy = sum_ent / c;
    stats.approx_kl = sum_kl / c;
    stats.clip_fraction = sum_clip / c;
    stats.minibatches = count;
    stats.explained_variance = tch::no_grad(|| {
        let var_y = batch.returns.var(true).double_value(&[]);
        if var_y <= 1e-12 {
            f64::NAN
        } else {
            1.0 - (&batch.returns - &batch.values).var(true).double_value(&[]) / var_y
        }
    });
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gae_matches_a_hand_computation() {
        // One car, three steps, episode ends after step 1.
        let rewards = [1.0, 2.0, 3.0];
        let values = [0.5, 0.25, 1.0];
        let dones = [0, 1, 0];
        let last = [2.0];
        let (g, l) = (0.9, 0.8);
        let mut adv = [0.0; 3];
        let mut ret = [0.0; 3];
        gae(&rewards, &values, &dones, &last, 1, g, l, &mut adv, &mut ret);
        let d2 = 3.0 + 0.9 * 2.0 - 1.0;
        let d1 = 2.0 - 0.25; // terminal: no bootstrap
        let d0 = 1.0 + 0.9 * 0.25 - 0.5;
        let a2 = d2;
        let a1 = d1;
        let a0 = d0 + 0.9 * 0.8 * a1;
        for (x, y) in adv.iter().zip([a0, a1, a2]) {
            assert!((f64::from(*x) - y).abs() < 1e-5, "{adv:?}");
        }
        assert!((ret[0] - (adv[0] + 0.5)).abs() < 1e-6);
    }
}

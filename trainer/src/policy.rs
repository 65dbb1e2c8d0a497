//! The actor-critic network, its action distribution, and the one path from a batch of
//! observations to the simulator's [`Action`]s.
//!
//! * [`Policy`]: an actor head and a critic head on the network's trunk ([`crate::network`]: MLPs,
//!   CNNs, a camera and a lidar joined), shared or one each. The actor's output parameterises a
//!   [`Distribution`] — categorical over a discrete action space, or a diagonal Gaussian over the
//!   two continuous dimensions with a learned, state-independent log-std (CleanRL's
//!   `ppo_continuous_action.py`). Acting samples from it; the PPO update evaluates log-probabilities
//!   and entropies of stored actions under it: one head, used both ways.
//! * [`ActionDecoder`]: copies a batch of sampled actions to the host (as the rollout stores them)
//!   and turns them into environment actions; training and racing both use it.
//!
//! Racing runs a model's policy through [`crate::runner::PolicyRunner`].

use slipstream_sim::{Action, ActionSpace};
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

use crate::network::{self, Trunk, WeightInit};
use crate::spec::ModelSpec;

const LOG_2PI: f64 = 1.837_877_066_409_345_3;

/// The policy's action distribution for a batch of observations.
#[derive(Debug)]
pub enum Distribution {
    /// Log-probabilities of every discrete action, [B, n].
    Categorical { log_probs: Tensor },
    /// Mean [B, 2] and log-std [2] of a diagonal Gaussian over raw (unclipped) actions.
    Gaussian { mean: Tensor, log_std: Tensor },
}

impl Distribution {
    /// A sample per row, or the most likely action when `deterministic`. Discrete: [B] int64
    /// indices. Continuous: [B, 2] raw values (the simulator clips them into the action ranges).
    pub fn sample(&self, deterministic: bool) -> Tensor {
        match self {
            Distribution::Categorical { log_probs } if deterministic => log_probs.argmax(-1, false),
            Distribution::Categorical { log_probs } => log_probs.exp().multinomial(1, true).squeeze_dim(-1),
            Distribution::Gaussian { mean, .. } if deterministic => mean.shallow_clone(),
            Distribution::Gaussian { mean, log_std } => mean + mean.randn_like() * log_std.exp(),
        }
    }

    /// Log-probability of each row's action, [B].
    pub fn log_prob(&self, action: &Tensor) -> Tensor {
        match self {
            Distribution::Categorical { log_probs } => {
                log_probs.gather(-1, &action.unsqueeze(-1), false).squeeze_dim(-1)
            }
            Distribution::Gaussian { mean, log_std } => {
                let z = (action - mean) * (-log_std).exp();
                (-(z.square()) * 0.5 - log_std - 0.5 * LOG_2PI).sum_dim_intlist(-1, false, Kind::Float)
            }
        }
    }

    /// Entropy of each row's distribution, [B].
    pub fn entropy(&self) -> Tensor {
        match self {
            Distribution::Categorical { log_probs } => {
                -(log_probs.exp() * log_probs).sum_dim_intlist(-1, false, Kind::Float)
            }
            Distribution::Gaussian { mean, log_std } => (log_std + 0.5 * (1.0 + LOG_2PI))
                .sum(Kind::Float)
                .expand([mean.size()[0]], false),
        }
    }
}

/// One step's policy output for a batch.
#[derive(Debug)]
pub struct ActOutput {
    /// Discrete: [B] int64 indices. Continuous: [B, 2] raw Gaussian samples (before clipping).
    pub action: Tensor,
    pub log_prob: Tensor,
    pub value: Tensor,
}

/// A batch of observations on the learner's device: the observation vectors (normalised) and, for
/// camera sensors, the images as bytes (`[B, C, H, W]` `u8`; the network scales them).
#[derive(Debug)]
pub struct Observations {
    pub features: Tensor,
    pub images: Option<Tensor>,
}

impl Observations {
    /// The rows `index` (a minibatch), gathered on the device.
    pub fn rows(&self, index: &Tensor) -> Observations {
        Observations {
            features: self.features.index_select(0, index),
            images: self.images.as_ref().map(|t| t.index_select(0, index)),
        }
    }
}

/// The actor-critic network: an actor head and a critic head, on one shared trunk or each on its own.
#[derive(Debug)]
pub struct Policy {
    pub vs: nn::VarStore,
    /// The actor's trunk (and the critic's, when `critic_trunk` is `None`).
    trunk: Trunk,
    critic_trunk: Option<Trunk>,
    actor: nn::Linear,
    critic: nn::Linear,
    /// Continuous spaces: the Gaussian's learned log-std.
    log_std: Option<Tensor>,
}

impl Policy {
    /// A freshly initialised network (orthogonal weights, as in CleanRL's PPO).
    pub fn new(spec: &ModelSpec, init_log_std: f64, device: Device) -> Self {
        Self::with_init(spec, init_log_std, device, WeightInit::Orthogonal)
    }

    pub(crate) fn with_init(spec: &ModelSpec, init_log_std: f64, device: Device, init: WeightInit) -> Self {
        let vs = nn::VarStore::new(device);
        let outputs = match spec.action_space() {
            ActionSpace::Discrete(v) => v.len() as i64,
            ActionSpace::Continuous { .. } => 2,
        };
        let root = vs.root();
        let (actor_path, critic_path) = (&root / "actor", &root / "critic");
        let trunk_of = |p: &nn::Path<'_>| Trunk::new(p, &spec.network, &spec.sensor, init);
        // Slipstream's `cnn` shares one trunk (`trunk/…`); DeepRacer's networks and MLPs give the
        // actor and the critic their own (`actor/…`, `critic/…`).
        let shared = spec.network.cnn().is_some_and(|l| l.shared);
        let (trunk, width, critic_trunk) = if shared {
            let (trunk, width) = trunk_of(&(&root / "trunk"));
            (trunk, width, None)
        } else {
            let (trunk, width) = trunk_of(&actor_path);
            (trunk, width, Some(trunk_of(&critic_path).0))
        };
        let log_std = matches!(spec.action_space(), ActionSpace::Continuous { .. })
            .then(|| root.var("log_std", &[2], nn::Init::Const(init_log_std)));
        Policy {
            actor: network::head(&actor_path, width, outputs, 0.01, init),
            critic: network::head(&critic_path, width, 1, 1.0, init),
            vs,
            trunk,
            critic_trunk,
            log_std,
        }
    }

    pub fn is_discrete(&self) -> bool {
        self.log_std.is_none()
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    fn features(trunk: &Trunk, obs: &Observations) -> Tensor {
        trunk.forward(&obs.features, obs.images.as_ref())
    }

    /// State values, [B].
    pub fn value(&self, obs: &Observations) -> Tensor {
        let trunk = self.critic_trunk.as_ref().unwrap_or(&self.trunk);
        self.critic.forward(&Self::features(trunk, obs)).squeeze_dim(-1)
    }

    /// The actor's output and the values, computing a shared trunk once.
    fn actor_and_value(&self, obs: &Observations) -> (Tensor, Tensor) {
        let h = Self::features(&self.trunk, obs);
        let value = match &self.critic_trunk {
            Some(t) => self.critic.forward(&Self::features(t, obs)),
            None => self.critic.forward(&h),
        };
        (self.actor.forward(&h), value.squeeze_dim(-1))
    }

    fn head(&self, out: Tensor) -> Distribution {
        match &self.log_std {
            None => Distribution::Categorical {
                log_probs: out.log_softmax(-1, Kind::Float),
            },
            Some(log_std) => Distribution::Gaussian {
                mean: out,
                log_std: log_std.shallow_clone(),
            },
        }
    }

    /// The action distribution for a batch of observations.
    pub fn distribution(&self, obs: &Observations) -> Distribution {
        self.head(self.actor.forward(&Self::features(&self.trunk, obs)))
    }

    /// Sample actions (or take the most likely one when `deterministic`), with log-probabilities
    /// and values.
    pub fn act(&self, obs: &Observations, deterministic: bool) -> ActOutput {
        let (out, value) = self.actor_and_value(obs);
        let dist = self.head(out);
        let action = dist.sample(deterministic);
        ActOutput {
            log_prob: dist.log_prob(&action),
            action,
            value,
        }
    }

    /// Log-probabilities, entropies and values of given actions (the PPO update).
    pub fn evaluate(&self, obs: &Observations, action: &Tensor) -> (Tensor, Tensor, Tensor) {
        let (out, value) = self.actor_and_value(obs);
        let dist = self.head(out);
        (dist.log_prob(action), dist.entropy(), value)
    }
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

/// A batch of sampled actions on the host, as the rollout stores them.
#[derive(Debug)]
pub enum RawActions<'a> {
    /// One index per car.
    Discrete(&'a mut [i64]),
    /// Two raw values per car.
    Continuous(&'a mut [f32]),
}

/// Turns the policy's sampled actions into the simulator's actions: the one place that knows how
/// network output maps onto an action space.
#[derive(Clone, Debug)]
pub struct ActionDecoder {
    space: ActionSpace,
}

impl ActionDecoder {
    pub fn new(space: ActionSpace) -> Self {
        Self { space }
    }

    pub fn space(&self) -> &ActionSpace {
        &self.space
    }

    /// Copy `action` (the output of [`Distribution::sample`] for `out.len()` cars) into `raw` and
    /// write the matching environment actions into `out`.
    pub fn decode(&self, action: &Tensor, raw: RawActions<'_>, out: &mut [Action]) {
        let action = action.to_device(Device::Cpu);
        match raw {
            RawActions::Discrete(idx) => {
                action.copy_data(idx, out.len());
                for (a, &i) in out.iter_mut().zip(idx.iter()) {
                    *a = Action::Discrete(i as u32);
                }
            }
            RawActions::Continuous(values) => {
                action.to_kind(Kind::Float).copy_data(values, 2 * out.len());
                for (k, a) in out.iter_mut().enumerate() {
                    *a = Action::Continuous(scale_continuous(&values[2 * k..2 * k + 2], &self.space));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ActionSpaceConfig, TrainConfig};

    fn three_actions() -> ActionSpaceConfig {
        let a = |steering_angle, speed| slipstream_sim::action::DiscreteAction { steering_angle, speed };
        ActionSpaceConfig::Discrete {
            actions: vec![a(-20.0, 1.0), a(0.0, 2.0), a(20.0, 1.0)],
        }
    }

    fn spec(action_space: ActionSpaceConfig) -> ModelSpec {
        ModelSpec {
            action_space,
            ..TrainConfig::default().model_spec()
        }
    }

    #[test]
    fn acting_and_evaluating_agree_on_log_probabilities() {
        tch::manual_seed(3);
        for s in [spec(ActionSpaceConfig::default()), spec(three_actions())] {
            let p = Policy::new(&s, -0.5, Device::Cpu);
            let obs = Observations {
                features: Tensor::randn([5, s.obs_dim() as i64], (Kind::Float, Device::Cpu)),
                images: None,
            };
            let out = tch::no_grad(|| p.act(&obs, false));
            let (logp, entropy, value) = tch::no_grad(|| p.evaluate(&obs, &out.action));
            assert!((&logp - &out.log_prob).abs().max().double_value(&[]) < 1e-6);
            assert!((&value - &out.value).abs().max().double_value(&[]) < 1e-6);
            assert_eq!(entropy.size(), [5]);
            assert!(entropy.min().double_value(&[]) > 0.0);
        }
    }

    #[test]
    fn the_decoder_maps_raw_actions_into_the_space() {
        let d = ActionDecoder::new(ActionSpaceConfig::default().to_space());
        let mut raw = [0.0f32; 4];
        let mut out = [Action::Discrete(0); 2];
        d.decode(
            &Tensor::from_slice(&[-1.0f32, 1.0, 5.0, 0.0]).view([2, 2]),
            RawActions::Continuous(&mut raw),
            &mut out,
        );
        assert_eq!(raw, [-1.0, 1.0, 5.0, 0.0], "the rollout keeps the unclipped sample");
        let ActionSpace::Continuous { steering_angle, speed } = d.space() else {
            unreachable!()
        };
        assert_eq!(
            out[0],
            Action::Continuous([steering_angle.low as f32, speed.high as f32])
        );
        let Action::Continuous([s, v]) = out[1] else {
            unreachable!()
        };
        assert_eq!(s, steering_angle.high as f32, "clipped to the range");
        assert!((f64::from(v) - (speed.low + speed.high) / 2.0).abs() < 1e-6);
        let mut idx = [0i64; 3];
        let mut out = [Action::Discrete(0); 3];
        ActionDecoder::new(three_actions().to_space()).decode(
            &Tensor::from_slice(&[2i64, 0, 1]),
            RawActions::Discrete(&mut idx),
            &mut out,
        );
        assert_eq!(out, [Action::Discrete(2), Action::Discrete(0), Action::Discrete(1)]);
    }
}

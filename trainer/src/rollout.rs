//! Collecting experience: every car takes `rollout_steps` steps with the stochastic policy, and the
//! [`Rollout`] keeps what PPO needs (normalised observations, actions, log-probabilities, values,
//! rewards, episode ends); [`Rollout::advantages`] turns it into GAE advantages and returns.
//!
//! Rewards come from the simulator's preset or from a Python `reward_function(params)`. An episode
//! cut by the time limit would have gone on, so the reward PPO learns from at that step gets
//! γ·V(last observation) added (bootstrapping, "The 37 Implementation Details of PPO" §1.3); the
//! episode returns and reward means that training *reports* are the reward function's own values,
//! without that estimate.

use slipstream_sim::{Action, EpisodeStatus, StepBuffers, VecEnv};
use tch::{Device, Kind, Tensor};

use crate::deepracer_logs::DeepRacerLogs;
use crate::error::TrainError;
use crate::model::Model;
use crate::policy::{ActionDecoder, Observations, RawActions};
use crate::ppo::{self, Batch};
use crate::reward::RewardSource;
use crate::tensors;

/// One iteration's experience, `steps × cars`, row = step.
#[derive(Debug)]
pub struct Rollout {
    cars: usize,
    obs_dim: usize,
    discrete: bool,
    /// Normalised observations, `[steps × cars × obs_dim]`.
    obs: Vec<f32>,
    /// Camera models: `[channels, height, width]` of an image, and the images of the rollout as
    /// bytes on the learner's device, `[capacity, C, H, W]` (rows beyond `len()` unused).
    image_shape: Option<[i64; 3]>,
    images: Option<Tensor>,
    device: Device,
    actions_discrete: Vec<i64>,
    /// Two raw values per car-step.
    actions_continuous: Vec<f32>,
    log_probs: Vec<f32>,
    values: Vec<f32>,
    /// The rewards PPO learns from (truncations bootstrapped).
    rewards: Vec<f32>,
    /// The car's episode ended with this step's action.
    dones: Vec<u8>,
    /// V of the observations after the last step.
    last_values: Vec<f32>,
}

/// What one rollout saw, for the metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RolloutStats {
    /// Car-steps collected.
    pub steps: u64,
    /// Sum of the reward function's values over all car-steps.
    pub reward_sum: f64,
    /// Episodes that ended (finished or truncated) during the rollout.
    pub episodes_ended: u64,
    /// Over the ended episodes: returns (reward function values, no bootstrap), progress (%),
    /// completed laps and lengths in agent steps.
    pub return_sum: f64,
    pub progress_sum: f64,
    pub laps: u64,
    pub length_sum: f64,
}

impl Rollout {
    /// A rollout of `cars` cars' observation vectors of `obs_dim`, and (camera models) images of
    /// `image_shape` kept on `device`.
    pub fn new(cars: usize, obs_dim: usize, discrete: bool, image_shape: Option<[i64; 3]>, device: Device) -> Self {
        Rollout {
            cars,
            obs_dim,
            discrete,
            obs: Vec::new(),
            image_shape,
            images: None,
            device,
            actions_discrete: Vec::new(),
            actions_continuous: Vec::new(),
            log_probs: Vec::new(),
            values: Vec::new(),
            rewards: Vec::new(),
            dones: Vec::new(),
            last_values: vec![0.0; cars],
        }
    }

    /// Steps collected so far.
    pub fn steps(&self) -> usize {
        self.log_probs.len() / self.cars
    }

    /// Car-steps collected so far.
    pub fn len(&self) -> usize {
        self.log_probs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn clear(&mut self) {
        for v in [
            &mut self.obs,
            &mut self.actions_continuous,
            &mut self.log_probs,
            &mut self.values,
            &mut self.rewards,
        ] {
            v.clear();
        }
        self.actions_discrete.clear();
        self.dones.clear();
    }

    /// Make room for one more step and return its slices (observations, raw actions, log-probs,
    /// values); rewards and dones are pushed after the environment stepped.
    fn grow(&mut self) -> (usize, usize) {
        let (n, d) = (self.cars, self.obs_dim);
        let start = self.len();
        // First, while `len()` still counts only the rows a bigger store must keep.
        self.reserve_images(start + n);
        self.obs.resize((start + n) * d, 0.0);
        if self.discrete {
            self.actions_discrete.resize(start + n, 0);
        } else {
            self.actions_continuous.resize(2 * (start + n), 0.0);
        }
        self.log_probs.resize(start + n, 0.0);
        self.values.resize(start + n, 0.0);
        (start, start + n)
    }

    /// Room for `rows` images on the device (grown by doubling, the old rows kept).
    fn reserve_images(&mut self, rows: usize) {
        let Some([c, h, w]) = self.image_shape else {
            return;
        };
        let capacity = self.images.as_ref().map_or(0, |t| t.size()[0] as usize);
        if rows <= capacity {
            return;
        }
        let new = Tensor::zeros([rows.max(2 * capacity) as i64, c, h, w], (Kind::Uint8, self.device));
        if let Some(old) = &self.images {
            let used = self.len() as i64;
            new.narrow(0, 0, used).copy_(&old.narrow(0, 0, used));
        }
        self.images = Some(new);
    }

    /// The images of car-steps `start..end` (a view of the device store).
    fn images(&self, start: usize, end: usize) -> Option<Tensor> {
        self.images
            .as_ref()
            .map(|t| t.narrow(0, start as i64, (end - start) as i64))
    }

    /// GAE(λ) advantages and returns over the rollout, bootstrapped from the value of the
    /// observation after the last step (`crate::ppo::gae`).
    pub fn advantages(&self, gamma: f64, lambda: f64) -> (Vec<f32>, Vec<f32>) {
        let n = self.len();
        let (mut adv, mut ret) = (vec![0.0f32; n], vec![0.0f32; n]);
        ppo::gae(
            &self.rewards,
            &self.values,
            &self.dones,
            &self.last_values,
            self.cars,
            gamma,
            lambda,
            &mut adv,
            &mut ret,
        );
        (adv, ret)
    }

    /// The rollout and its advantages as one batch on `device`, for the PPO update.
    pub fn batch(&self, advantages: &[f32], returns: &[f32], device: Device) -> Batch {
        let n = self.len() as i64;
        let to = |t: Tensor| t.to_device(device);
        Batch {
            obs: Observations {
                features: to(Tensor::from_slice(&self.obs).view([n, self.obs_dim as i64])),
                images: self.images(0, self.len()),
            },
            actions: if self.discrete {
                to(Tensor::from_slice(&self.actions_discrete))
            } else {
                to(Tensor::from_slice(&self.actions_continuous).view([n, 2]))
            },
            log_probs: to(Tensor::from_slice(&self.log_probs)),
            advantages: to(Tensor::from_slice(advantages)),
            returns: to(Tensor::from_slice(returns)),
            values: to(Tensor::from_slice(&self.values)),
        }
    }
}

fn copy_to(t: &Tensor, out: &mut [f32]) {
    let n = out.len();
    t.to_device(Device::Cpu).to_kind(Kind::Float).copy_data(out, n);
}

/// The training environment and the per-step buffers reused by every rollout.
#[derive(Debug)]
pub struct Collector {
    pub env: VecEnv,
    out: StepBuffers,
    reward: RewardSource,
    decoder: ActionDecoder,
    actions: Vec<Action>,
    /// The reward function's values for the current step.
    step_rewards: Vec<f32>,
    /// Each car's return so far in its current episode.
    episode_returns: Vec<f64>,
    /// Scratch for the final observations of truncated episodes.
    truncated: Vec<usize>,
    final_obs: Vec<f32>,
    final_images: Vec<u8>,
    final_values: Vec<f32>,
    /// DeepRacer's training logs of the first cars (`simtrace_cars`), fed every step.
    pub deepracer_logs: Option<DeepRacerLogs>,
}

impl Collector {
    /// Wrap a constructed environment (see [`crate::model::ModelSpec::env_config`]) and reset it;
    /// `deepracer_logs` (if any) records its cars' steps.
    pub fn new(
        mut env: VecEnv,
        reward: RewardSource,
        decoder: ActionDecoder,
        seed: u64,
        mut deepracer_logs: Option<DeepRacerLogs>,
    ) -> Result<Self, TrainError> {
        let cars = env.num_cars();
        // Parameters for every car if the reward function reads them; else only the logged cars'.
        let mut out = env.buffers(reward.needs_params());
        if let (false, Some(logs)) = (reward.needs_params(), &deepracer_logs) {
            out = out.with_params_of(logs.cars());
        }
        env.reset(seed, &mut out)?;
        if let Some(logs) = &mut deepracer_logs {
            logs.begin(&out);
        }
        Ok(Collector {
            env,
            out,
            reward,
            decoder,
            actions: vec![Action::Discrete(0); cars],
            step_rewards: vec![0.0; cars],
            episode_returns: vec![0.0; cars],
            truncated: Vec::with_capacity(cars),
            final_obs: Vec::new(),
            final_images: Vec::new(),
            final_values: Vec::new(),
            deepracer_logs,
        })
    }

    /// Fill `rollout` with `steps` steps of every car (more, up to 4×, while fewer than
    /// `min_episodes` episodes have ended: DeepRacer's `num_episodes_between_training`), updating
    /// the model's observation statistics on the way.
    pub fn collect_rollout(
        &mut self,
        model: &mut Model,
        rollout: &mut Rollout,
        steps: usize,
        min_episodes: u64,
        gamma: f64,
    ) -> Result<RolloutStats, TrainError> {
        let cars = rollout.cars;
        let d = rollout.obs_dim;
        let device = model.policy.device();
        let mut stats = RolloutStats::default();
        rollout.clear();
        rollout.reserve_images(steps * cars);
        while rollout.steps() < steps || (stats.episodes_ended < min_episodes && rollout.steps() < 4 * steps) {
            // Act: normalise the observations (updating the running statistics), sample actions.
            let (start, end) = rollout.grow();
            let obs = &mut rollout.obs[start * d..end * d];
            obs.copy_from_slice(&self.out.obs);
            if let Some(norm) = &mut model.obs_norm {
                norm.update(&self.out.obs);
                norm.normalize(obs);
            }
            let features = Tensor::from_slice(obs).view([cars as i64, d as i64]).to_device(device);
            // Images go to the device once, as bytes, straight into the rollout's store.
            let images = rollout.images(start, end);
            if let Some(t) = &images {
                tensors::copy_bytes_into(t, &self.out.image);
            }
            let input = Observations { features, images };
            let act = tch::no_grad(|| model.policy.act(&input, false));
            copy_to(&act.log_prob, &mut rollout.log_probs[start..end]);
            copy_to(&act.value, &mut rollout.values[start..end]);
            let raw = if rollout.discrete {
                RawActions::Discrete(&mut rollout.actions_discrete[start..end])
            } else {
                RawActions::Continuous(&mut rollout.actions_continuous[2 * start..2 * end])
            };
            self.decoder.decode(&act.action, raw, &mut self.actions);

            // Step the simulator; score the step.
            self.env.step(&self.actions, &mut self.out)?;
            self.reward.score(&self.out, &mut self.step_rewards)?;
            if let Some(logs) = &mut self.deepracer_logs {
                logs.record_step(&self.out, &self.step_rewards);
            }
            self.bootstrap_truncations(model, gamma);
            let bootstrap = Bootstrap {
                cars: &self.truncated,
                values: &self.final_values,
            };

            // Store the step; tally the episodes that ended.
            for i in 0..cars {
                let r = self.step_rewards[i];
                rollout.rewards.push(r + bootstrap.get(i));
                stats.reward_sum += f64::from(r);
                self.episode_returns[i] += f64::from(r);
                let ended = self.out.done[i] != 0 || self.out.truncated[i] != 0;
                rollout.dones.push(u8::from(ended));
                if ended {
                    let info = self.out.info[i];
                    stats.episodes_ended += 1;
                    stats.return_sum += self.episode_returns[i];
                    stats.progress_sum += info.progress.clamp(0.0, 100.0);
                    stats.length_sum += f64::from(info.steps.saturating_sub(1));
                    stats.laps += u64::from(info.status == EpisodeStatus::LapComplete);
                    self.episode_returns[i] = 0.0;
                }
            }
        }
        stats.steps = rollout.len() as u64;

        // The value of the observation after the last step, for GAE's bootstrap.
        let mut last = self.out.obs.clone();
        if let Some(norm) = &model.obs_norm {
            norm.normalize(&mut last);
        }
        let input = Observations {
            features: Tensor::from_slice(&last)
                .view([cars as i64, d as i64])
                .to_device(device),
            images: model
                .spec
                .image_shape()
                .map(|[c, h, w]| tensors::images(&self.out.image, [cars as i64, c, h, w], device)),
        };
        copy_to(&tch::no_grad(|| model.policy.value(&input)), &mut rollout.last_values);
        Ok(stats)
    }

    /// γ·V(final observation) for each car whose episode the time limit cut this step, into
    /// `truncated` (the cars, ascending) and `final_values`.
    fn bootstrap_truncations(&mut self, model: &Model, gamma: f64) {
        let d = model.spec.obs_dim();
        self.truncated.clear();
        self.truncated
            .extend((0..self.out.truncated.len()).filter(|&i| self.out.truncated[i] != 0));
        self.final_values.clear();
        if self.truncated.is_empty() {
            return;
        }
        self.final_obs.clear();
        self.final_images.clear();
        let len = self.out.image_len;
        for &i in &self.truncated {
            self.final_obs
                .extend_from_slice(&self.out.final_obs[i * d..(i + 1) * d]);
            self.final_images
                .extend_from_slice(&self.out.final_image[i * len..(i + 1) * len]);
        }
        if let Some(norm) = &model.obs_norm {
            norm.normalize(&mut self.final_obs);
        }
        let n = self.truncated.len() as i64;
        let device = model.policy.device();
        let input = Observations {
            features: Tensor::from_slice(&self.final_obs)
                .view([n, d as i64])
                .to_device(device),
            images: model
                .spec
                .image_shape()
                .map(|[c, h, w]| tensors::images(&self.final_images, [n, c, h, w], device)),
        };
        self.final_values.resize(self.truncated.len(), 0.0);
        copy_to(&tch::no_grad(|| model.policy.value(&input)), &mut self.final_values);
        for v in &mut self.final_values {
            *v *= gamma as f32;
        }
    }
}

/// The bootstrap values of one step's truncated cars (sorted by car).
struct Bootstrap<'a> {
    cars: &'a [usize],
    values: &'a [f32],
}

impl Bootstrap<'_> {
    fn get(&self, car: usize) -> f32 {
        self.cars.binary_search(&car).map_or(0.0, |k| self.values[k])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_values_belong_to_their_cars() {
        let b = Bootstrap {
            cars: &[1, 4],
            values: &[0.5, 2.0],
        };
        assert_eq!([0, 1, 2, 3, 4].map(|i| b.get(i)), [0.0, 0.5, 0.0, 0.0, 2.0]);
        let none = Bootstrap { cars: &[], values: &[] };
        assert_eq!(none.get(0), 0.0);
    }

    /// A rollout that runs past its planned steps (DeepRacer's `num_episodes_between_training`)
    /// grows its image store and keeps the images it had (it failed to grow past a full store).
    #[test]
    fn the_image_store_grows_past_its_planned_size_keeping_its_images() {
        let mut r = Rollout::new(2, 1, true, Some([1, 2, 2]), Device::Cpu);
        r.reserve_images(4);
        for step in 0..5u8 {
            let (start, end) = r.grow();
            let images = r.images(start, end).unwrap();
            tensors::copy_bytes_into(&images, &[step; 8]);
        }
        let all = r.images(0, r.len()).unwrap().flatten(0, -1);
        let bytes: Vec<u8> = Vec::try_from(&all).unwrap();
        let expected: Vec<u8> = (0..5u8).flat_map(|s| [s; 8]).collect();
        assert_eq!(bytes, expected);
    }
}

//! Checking a reward function before any training starts — DeepRacer's "Validate" button
//! (`trainer check-reward`, and the league's sandboxed check of a student's code): call it on the
//! parameters of a short drive on the chosen track, some cars following the centre line with the
//! scripted driver and some steering at random (so they leave the track, reverse and restart), and
//! report the first error — file, line and the step's params, as training would — or what it
//! returned.

use std::sync::Arc;

use serde::Serialize;
use slipstream_sim::driver::PurePursuit;
use slipstream_sim::rng::Rng;
use slipstream_sim::{Action, ActionSpace, EnvConfig, Track, VecEnv};

use super::RewardSource;
use crate::error::TrainError;

/// Cars in the check's drive: the first half follow the centre line, the rest drive at random.
const CARS: usize = 8;

/// What a reward function returned over the drive.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RewardCheck {
    /// The reward (preset name or file) that was checked.
    pub reward: String,
    /// Calls made (cars × steps).
    pub calls: u64,
    /// Calls whose params had the car off the track.
    pub offtrack_calls: u64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
}

/// Call `reward` (a preset name or a `reward_function.py`) on `steps` steps of [`CARS`] cars
/// driving `track`; its `print()`s go to standard error with `show_prints`, else nowhere. `Err` is
/// the reward's first failure, as training would report it.
pub fn check_reward(
    reward: &str,
    track: Arc<Track>,
    steps: usize,
    seed: u64,
    show_prints: bool,
) -> Result<RewardCheck, TrainError> {
    let source = RewardSource::parse(reward, std::slice::from_ref(&track))?;
    source.log_prints(None, show_prints)?;
    let mut cfg = EnvConfig::new((*track).clone());
    cfg.reward = source.in_sim();
    cfg.action_space = ActionSpace::continuous(-30.0, 30.0, 0.5, cfg.car.max_speed);
    let car = cfg.car.clone();
    let mut env = VecEnv::new(cfg, CARS)?;
    let mut out = env.buffers(true);
    env.reset(seed, &mut out)?;
    let driver = PurePursuit::default();
    let mut rng = Rng::new(seed);
    let mut actions = vec![Action::Continuous([0.0, 0.0]); CARS];
    let mut rewards = vec![0.0f32; CARS];
    let mut check = RewardCheck {
        reward: source.name(),
        calls: 0,
        offtrack_calls: 0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        mean: 0.0,
    };
    let mut sum = 0.0;
    for _ in 0..steps {
        for (k, a) in actions.iter_mut().enumerate() {
            *a = if k < CARS / 2 {
                let (steer, speed) = driver.act(&track, &car, &out.params[k]);
                Action::Continuous([steer as f32, speed as f32])
            } else {
                Action::Continuous([rng.range(-30.0, 30.0) as f32, rng.range(0.5, 3.0) as f32])
            };
        }
        env.step(&actions, &mut out)?;
        source.score(&out, &mut rewards)?;
        for (r, p) in rewards.iter().zip(&out.params) {
            let r = f64::from(*r);
            check.min = check.min.min(r);
            check.max = check.max.max(r);
            sum += r;
            check.calls += 1;
            check.offtrack_calls += u64::from(p.is_offtrack);
        }
    }
    check.mean = if check.calls > 0 { sum / check.calls as f64 } else { 0.0 };
    Ok(check)
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipstream_sim::track::ValidateOptions;

    fn oval() -> Arc<Track> {
        Arc::new(Track::resolve("oval", &ValidateOptions::default()).unwrap())
    }

    #[test]
    fn a_preset_is_called_on_and_off_the_track() {
        let c = check_reward("progress_speed", oval(), 120, 1, false).unwrap();
        assert_eq!(c.calls, 120 * CARS as u64);
        assert!(c.offtrack_calls > 0, "the random cars leave the track: {c:?}");
        assert!(c.max > c.min && c.mean.is_finite(), "{c:?}");
    }

    #[test]
    fn an_unknown_preset_is_named() {
        let e = check_reward("fastest", oval(), 10, 1, false).unwrap_err().to_string();
        assert!(e.contains("fastest"), "{e}");
    }
}

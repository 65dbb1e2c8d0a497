//! Pluggable reward functions. The simulator computes [`RewardParams`] every step; a [`RewardFn`] turns
//! them into a number. Built-in presets run in Rust inside the step; the trainer adds DeepRacer-style
//! Python reward files, which read the same parameters from the environment's output buffers.

use std::fmt::Debug;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::params::RewardParams;

/// A reward function over DeepRacer's parameters.
pub trait RewardFn: Send + Sync + Debug {
    /// The reward for one car's step. `agent_dt` is the step length in seconds, `max_speed` the car's.
    fn reward(&self, p: &RewardParams, ctx: &RewardContext) -> f32;
}

/// Constants a reward may scale by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RewardContext {
    pub agent_dt: f64,
    pub max_speed: f64,
}

/// The built-in presets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardPreset {
    /// DeepRacer's first example reward: 1.0 / 0.5 / 0.1 within 10 % / 25 % / 50 % of the track
    /// width from the centre line, else 1e-3 (also when off the track).
    Centerline,
    /// Progress and speed: the metres gained along the centre line this step divided by the most
    /// the car could gain (`max_speed · dt`), so a flat-out step straight along the track earns ~1;
    /// −1 when the car leaves the track or crashes. It rewards lap time directly.
    ProgressSpeed,
    /// Always 0: for when the reward is computed outside the simulator (e.g. a Python function).
    Zero,
}

impl RewardPreset {
    pub const ALL: [RewardPreset; 3] = [
        RewardPreset::Centerline,
        RewardPreset::ProgressSpeed,
        RewardPreset::Zero,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RewardPreset::Centerline => "centerline",
            RewardPreset::ProgressSpeed => "progress_speed",
            RewardPreset::Zero => "zero",
        }
    }
}

impl FromStr for RewardPreset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        RewardPreset::ALL.into_iter().find(|p| p.name() == s).ok_or_else(|| {
            format!(
                "unknown reward preset {s:?}; presets: {}",
                RewardPreset::ALL.map(RewardPreset::name).join(", ")
            )
        })
    }
}

impl RewardFn for RewardPreset {
    #[inline]
    fn reward(&self, p: &RewardParams, ctx: &RewardContext) -> f32 {
        match self {
            RewardPreset::Centerline => {
                if p.is_offtrack {
                    return 1e-3;
                }
                let w = p.track_width;
                let d = p.distance_from_center;
                if d <= 0.1 * w {
                    1.0
                } else if d <= 0.25 * w {
                    0.5
                } else if d <= 0.5 * w {
                    0.1
                } else {
                    1e-3
                }
            }
            RewardPreset::ProgressSpeed => {
                if p.is_offtrack || p.is_crashed {
                    return -1.0;
                }
                (p.progress_delta_m / (ctx.max_speed * ctx.agent_dt)) as f32
            }
            RewardPreset::Zero => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centerline_markers() {
        let ctx = RewardContext {
            agent_dt: 1.0 / 15.0,
            max_speed: 4.0,
        };
        let mut p = RewardParams {
            track_width: 1.0,
            distance_from_center: 0.05,
            ..Default::default()
        };
        assert_eq!(RewardPreset::Centerline.reward(&p, &ctx), 1.0);
        p.distance_from_center = 0.2;
        assert_eq!(RewardPreset::Centerline.reward(&p, &ctx), 0.5);
        p.distance_from_center = 0.45;
        assert_eq!(RewardPreset::Centerline.reward(&p, &ctx), 0.1);
        p.is_offtrack = true;
        assert_eq!(RewardPreset::Centerline.reward(&p, &ctx), 1e-3);
    }

    #[test]
    fn progress_speed_scales_to_one_at_full_speed() {
        let ctx = RewardContext {
            agent_dt: 0.1,
            max_speed: 4.0,
        };
        let p = RewardParams {
            progress_delta_m: 0.4,
            ..Default::default()
        };
        assert!((RewardPreset::ProgressSpeed.reward(&p, &ctx) - 1.0).abs() < 1e-6);
        let p = RewardParams {
            progress_delta_m: 0.4,
            is_offtrack: true,
            ..Default::default()
        };
        assert_eq!(RewardPreset::ProgressSpeed.reward(&p, &ctx), -1.0);
        assert_eq!(
            "progress_speed".parse::<RewardPreset>().unwrap(),
            RewardPreset::ProgressSpeed
        );
        assert!("nope".parse::<RewardPreset>().unwrap_err().contains("centerline"));
    }
}

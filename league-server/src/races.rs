//! Races: their settings, validation, and what an evaluation of a submission needs.

use serde::{Deserialize, Serialize};
use slipstream_sim::objects::{BotConfig, ObstacleConfig};
use slipstream_sim::sensors::SENSOR_KINDS;
use slipstream_sim::track::builtin;
use slipstream_sim::{RaceConfig, Scenario, Track};

use crate::error::{LeagueError, Result};
pub use slipstream_league_client::kinds::{ObstaclePosition, RaceSpec, RaceState, RaceType};

use crate::ranking::Timing;

/// Uploaded tracks are named `upload:<sha256 of the .npy>`.
pub fn upload_sha(track: &str) -> Option<&str> {
    track.strip_prefix("upload:")
}

/// The league's rules for a race's settings: the simulator's race and scenario, and validation.
pub trait RaceRules {
    fn rules(&self) -> RaceConfig;
    fn scenario(&self) -> Scenario;
    fn validate(&self, track_exists: impl Fn(&str) -> bool) -> Result<()>;
    /// Whether a model with sensor `kind` ([`slipstream_sim::ObsConfig::kind`]) may enter.
    fn takes_sensor(&self, kind: &str) -> bool;
    /// What an open race becomes when asked to be `new` at `now_ms`: only its name, description and
    /// closing time may change (closed early, or kept open longer; a closing time already past —
    /// a client's "now" a moment ago — closes it at `now_ms`); what its results are timed under
    /// stays. `Err` names the first field that would change.
    fn open_change(&self, new: RaceSpec, now_ms: i64) -> Result<RaceSpec>;
}

impl RaceRules for RaceSpec {
    /// The simulator's race rules for this race. The league's own choice: a race is stopped after
    /// 120 simulated seconds per lap (DeepRacer has no limit), so a car that never finishes cannot
    /// hold a worker.
    fn rules(&self) -> RaceConfig {
        RaceConfig {
            laps: self.laps,
            continuous: self.continuous,
            number_of_resets: self.number_of_resets,
            off_track_penalty_s: self.off_track_penalty_s,
            collision_penalty_s: self.collision_penalty_s,
            reverse_penalty_s: self.reverse_penalty_s,
            immobilized_penalty_s: self.immobilized_penalty_s,
            max_time_s: 120.0 * f64::from(self.laps),
            ..RaceConfig::default()
        }
    }

    /// The simulator's scenario for this race.
    fn scenario(&self) -> Scenario {
        match self.race_type {
            RaceType::TimeTrial => Scenario::TimeTrial {},
            RaceType::ObjectAvoidance => Scenario::ObjectAvoidance(ObstacleConfig {
                count: self.obstacle_count as usize,
                positions: self
                    .obstacle_positions
                    .iter()
                    .map(|p| [p.lap_fraction, p.lane])
                    .collect(),
                randomize_each_episode: false,
                ..Default::default()
            }),
            RaceType::HeadToBot => Scenario::HeadToBot(BotConfig {
                count: self.bot_count as usize,
                speed: self.bot_speed_mps,
                lane_change: self.bot_lane_change,
                ..Default::default()
            }),
        }
    }

    /// Check every field; `track_exists` says whether an uploaded track id is known. Errors name the
    /// field as the API does (`spec.min_laps`, …).
    fn validate(&self, track_exists: impl Fn(&str) -> bool) -> Result<()> {
        let bad = |f: &str, m: String| Err(LeagueError::invalid(format!("spec.{f}: {m}")));
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return bad("name", "expected 1–100 characters".into());
        }
        if self.description.chars().count() > 2000 {
            return bad("description", "at most 2000 characters".into());
        }
        if builtin::find(&self.track).is_none() && !track_exists(&self.track) {
            return bad(
                "track",
                format!(
                    "{:?} is neither a built-in track ({}) nor an uploaded track id",
                    self.track,
                    builtin::all().iter().map(|b| b.name).collect::<Vec<_>>().join(", ")
                ),
            );
        }
        if !(1..=100).contains(&self.laps) {
            return bad("laps", format!("expected 1–100 laps, got {}", self.laps));
        }
        if self.min_laps < 1 || self.min_laps > self.laps {
            return bad(
                "min_laps",
                format!("expected 1–{} (at most `laps`), got {}", self.laps, self.min_laps),
            );
        }
        if self.timing == Timing::TotalTime && self.min_laps != self.laps {
            return bad(
                "min_laps",
                format!(
                    "total-time races need min_laps = laps ({}), got {}",
                    self.laps, self.min_laps
                ),
            );
        }
        for (f, v) in [
            ("off_track_penalty_s", self.off_track_penalty_s),
            ("collision_penalty_s", self.collision_penalty_s),
            ("reverse_penalty_s", self.reverse_penalty_s.unwrap_or(0.0)),
            ("immobilized_penalty_s", self.immobilized_penalty_s),
        ] {
            if !(v.is_finite() && (0.0..=600.0).contains(&v)) {
                return bad(f, format!("expected 0–600 seconds, got {v}"));
            }
        }
        for (i, s) in self.sensors.iter().enumerate() {
            if !SENSOR_KINDS.contains(&s.as_str()) {
                return bad(
                    &format!("sensors[{i}]"),
                    format!("{s:?} is not a sensor; expected one of {}", SENSOR_KINDS.join(", ")),
                );
            }
        }
        // 0 = not set (the API's rule for times): open from creation, never closing.
        for (f, v) in [("opens_at_ms", self.opens_at_ms), ("closes_at_ms", self.closes_at_ms)] {
            if v < 0 {
                return bad(f, format!("expected Unix milliseconds, or 0 for no limit, got {v}"));
            }
        }
        if self.closes_at_ms != 0 && self.closes_at_ms <= self.opens_at_ms {
            return bad(
                "closes_at_ms",
                format!(
                    "the window must close after it opens (opens_at_ms {}), got {}; 0 = never closes",
                    self.opens_at_ms, self.closes_at_ms
                ),
            );
        }
        match self.race_type {
            RaceType::TimeTrial => {}
            RaceType::ObjectAvoidance if self.obstacle_count == 0 => {
                return bad("obstacles.count", "object avoidance needs 1–16 obstacles".into());
            }
            RaceType::HeadToBot if self.bot_count == 0 => {
                return bad("bots.count", "head-to-bot needs 1–16 bot cars".into());
            }
            _ => {}
        }
        self.scenario().validate().map_err(|e| {
            let m = e.to_string().replace(
                "scenario.",
                if self.race_type == RaceType::HeadToBot {
                    "bots."
                } else {
                    "obstacles."
                },
            );
            LeagueError::invalid(format!("spec.{}", m.trim_start_matches("invalid configuration: ")))
        })?;
        Ok(())
    }

    fn takes_sensor(&self, kind: &str) -> bool {
        self.sensors.is_empty() || self.sensors.iter().any(|s| s == kind)
    }

    fn open_change(&self, mut new: RaceSpec, now_ms: i64) -> Result<RaceSpec> {
        let kept = RaceSpec {
            name: self.name.clone(),
            description: self.description.clone(),
            closes_at_ms: self.closes_at_ms,
            ..new.clone()
        };
        if kept != *self {
            let (old, new) = (
                serde_json::to_value(self).expect("serialisable"),
                serde_json::to_value(&kept).expect("serialisable"),
            );
            let field = old
                .as_object()
                .and_then(|o| o.iter().find(|(k, v)| new.get(k.as_str()) != Some(*v)))
                .map_or("spec", |(k, _)| k.as_str());
            return Err(LeagueError::precondition(format!(
                "spec.{field}: the race is open, and its submissions are timed under its settings; \
                 only its name, description and closing time can change"
            )));
        }
        if new.closes_at_ms != 0 && new.closes_at_ms < now_ms {
            new.closes_at_ms = now_ms;
        }
        Ok(new)
    }
}

/// Everything an evaluation worker needs to race a submission (serialised into jobs for remote
/// workers).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RaceRun {
    pub race_id: String,
    pub track_name: String,
    /// Waypoint rows (uploaded tracks) — or empty for a built-in, named by `track_name`.
    pub rows: Vec<[f64; 6]>,
    pub reverse: bool,
    pub scenario: Scenario,
    /// The race rules ([`RaceSpec::rules`]).
    pub rules: RaceConfig,
    /// Fixed per race, so re-evaluations repeat exactly.
    pub seed: u64,
}

impl RaceRun {
    /// The track, as the simulator loads it.
    pub fn track(&self) -> Result<Track> {
        let opts = slipstream_sim::track::ValidateOptions::default();
        let t = if self.rows.is_empty() {
            Track::resolve(&self.track_name, &opts)
        } else {
            Track::from_rows(self.track_name.clone(), &self.rows, &opts)
        }
        .map_err(|e| LeagueError::internal(format!("race track: {e}")))?;
        Ok(if self.reverse { t.reversed() } else { t })
    }
}

/// A race's seed: derived from its id, so every evaluation of the race sees the same layout.
pub fn race_seed(race_id: &str) -> u64 {
    let h = crate::util::sha256_hex(race_id.as_bytes());
    u64::from_str_radix(&h[..16], 16).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn spec() -> RaceSpec {
        RaceSpec::time_trial("Sprint", "oval", 1000, 2000)
    }

    #[test]
    fn validation_names_fields() {
        let none = |_: &str| false;
        spec().validate(none).unwrap();
        let cases: Vec<(RaceSpec, &str)> = vec![
            (
                RaceSpec {
                    name: " ".into(),
                    ..spec()
                },
                "spec.name",
            ),
            (
                RaceSpec {
                    track: "nowhere".into(),
                    ..spec()
                },
                "spec.track",
            ),
            (RaceSpec { laps: 0, ..spec() }, "spec.laps"),
            (RaceSpec { min_laps: 4, ..spec() }, "spec.min_laps"),
            (
                RaceSpec {
                    timing: Timing::TotalTime,
                    min_laps: 2,
                    ..spec()
                },
                "total-time",
            ),
            (
                RaceSpec {
                    off_track_penalty_s: -1.0,
                    ..spec()
                },
                "spec.off_track_penalty_s",
            ),
            (
                RaceSpec {
                    closes_at_ms: 500,
                    ..spec()
                },
                "spec.closes_at_ms",
            ),
            (
                RaceSpec {
                    race_type: RaceType::ObjectAvoidance,
                    ..spec()
                },
                "spec.obstacles.count",
            ),
            (
                RaceSpec {
                    race_type: RaceType::HeadToBot,
                    bot_count: 2,
                    bot_speed_mps: 9.0,
                    ..spec()
                },
                "spec.bots.speed",
            ),
        ];
        for (s, needle) in cases {
            let e = s.validate(none).unwrap_err().to_string();
            assert!(e.contains(needle), "{needle}: {e}");
        }
        assert!(
            RaceSpec {
                track: "upload:abc".into(),
                ..spec()
            }
            .validate(|t| t == "upload:abc")
            .is_ok()
        );
    }

    #[test]
    fn a_window_end_of_zero_is_not_set() {
        let none = |_: &str| false;
        let open_ended = RaceSpec {
            opens_at_ms: 0,
            closes_at_ms: 0,
            ..spec()
        };
        open_ended.validate(none).unwrap();
        assert_eq!(open_ended.state(1), RaceState::Open);
        assert_eq!(open_ended.state(i64::MAX), RaceState::Open, "never closes");
        let from_creation = RaceSpec {
            opens_at_ms: 0,
            ..spec()
        };
        from_creation.validate(none).unwrap();
        assert_eq!(from_creation.state(1999), RaceState::Open);
        assert_eq!(from_creation.state(2000), RaceState::Closed);
        let never_closes = RaceSpec {
            closes_at_ms: 0,
            ..spec()
        };
        never_closes.validate(none).unwrap();
        assert_eq!(never_closes.state(999), RaceState::Upcoming);
        assert_eq!(never_closes.state(i64::MAX), RaceState::Open);
        for (s, field) in [
            (
                RaceSpec {
                    opens_at_ms: -1,
                    ..spec()
                },
                "spec.opens_at_ms",
            ),
            (
                RaceSpec {
                    closes_at_ms: -1,
                    ..spec()
                },
                "spec.closes_at_ms",
            ),
        ] {
            let e = s.validate(none).unwrap_err().to_string();
            assert!(e.contains(field), "{field}: {e}");
        }
    }

    #[test]
    fn state_follows_the_window_and_seed_is_stable() {
        let s = spec();
        assert_eq!(s.state(999), RaceState::Upcoming);
        assert_eq!(s.state(1000), RaceState::Open);
        assert_eq!(s.state(2000), RaceState::Closed);
        assert_eq!(race_seed("race_a"), race_seed("race_a"));
        assert_ne!(race_seed("race_a"), race_seed("race_b"));
    }
}

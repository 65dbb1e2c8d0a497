//! Action spaces exactly as DeepRacer's `model_metadata.json` defines them, and that file itself.
//!
//! Actions are `{steering_angle, speed}` in DeepRacer's units: degrees (positive = left) and m/s.
//! A discrete space is a list of such pairs; a continuous one gives `{low, high}` for each.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::car::{CarParams, Command};
use crate::error::SimError;

/// One discrete action.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscreteAction {
    /// Degrees, positive steers left.
    pub steering_angle: f64,
    /// m/s.
    pub speed: f64,
}

/// A closed interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Range {
    pub low: f64,
    pub high: f64,
}

/// A DeepRacer action space.
#[derive(Clone, Debug, PartialEq)]
pub enum ActionSpace {
    Discrete(Vec<DiscreteAction>),
    Continuous { steering_angle: Range, speed: Range },
}

/// A single action as the environment receives it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    /// Index into a discrete action list.
    Discrete(u32),
    /// `[steering_angle_degrees, speed_m_s]`, clipped into the continuous ranges.
    Continuous([f32; 2]),
}

impl Default for ActionSpace {
    /// DeepRacer's default-style discrete space: five steering angles × two speeds.
    fn default() -> Self {
        let mut v = Vec::new();
        for steering_angle in [-30.0, -15.0, 0.0, 15.0, 30.0] {
            for speed in [1.0, 2.0] {
                v.push(DiscreteAction { steering_angle, speed });
            }
        }
        ActionSpace::Discrete(v)
    }
}

impl ActionSpace {
    /// A continuous space.
    pub fn continuous(steer_low: f64, steer_high: f64, speed_low: f64, speed_high: f64) -> Self {
        ActionSpace::Continuous {
            steering_angle: Range {
                low: steer_low,
                high: steer_high,
            },
            speed: Range {
                low: speed_low,
                high: speed_high,
            },
        }
    }

    pub fn is_discrete(&self) -> bool {
        matches!(self, ActionSpace::Discrete(_))
    }

    /// Number of discrete actions, or 2 (steering, speed) for a continuous space.
    pub fn dim(&self) -> usize {
        match self {
            ActionSpace::Discrete(v) => v.len(),
            ActionSpace::Continuous { .. } => 2,
        }
    }

    /// Check that every action is inside the car's limits. Errors name the field, e.g.
    /// `action_space[3].speed`.
    pub fn validate(&self, car: &CarParams) -> Result<(), SimError> {
        let max_deg = car.max_steer.to_degrees();
        let check_steer = |field: String, v: f64| {
            if !v.is_finite() || v.abs() > max_deg + 1e-9 {
                return Err(SimError::config(
                    field,
                    format!("steering angle {v}° is outside ±{max_deg:.0}°"),
                ));
            }
            Ok(())
        };
        let check_speed = |field: String, v: f64| {
            if !v.is_finite() || v < car.min_speed - 1e-9 || v > car.max_speed + 1e-9 {
                return Err(SimError::config(
                    field,
                    format!("speed {v} m/s is outside {}–{} m/s", car.min_speed, car.max_speed),
                ));
            }
            Ok(())
        };
        match self {
            ActionSpace::Discrete(v) => {
                if v.is_empty() {
                    return Err(SimError::config(
                        "action_space",
                        "a discrete action space needs at least one action",
                    ));
                }
                for (i, a) in v.iter().enumerate() {
                    check_steer(format!("action_space[{i}].steering_angle"), a.steering_angle)?;
                    check_speed(format!("action_space[{i}].speed"), a.speed)?;
                }
            }
            ActionSpace::Continuous { steering_angle, speed } => {
                check_steer("action_space.steering_angle.low".into(), steering_angle.low)?;
                check_steer("action_space.steering_angle.high".into(), steering_angle.high)?;
                check_speed("action_space.speed.low".into(), speed.low)?;
                check_speed("action_space.speed.high".into(), speed.high)?;
                if steering_angle.low > steering_angle.high {
                    return Err(SimError::config("action_space.steering_angle", "low is above high"));
                }
                if speed.low > speed.high {
                    return Err(SimError::config("action_space.speed", "low is above high"));
                }
            }
        }
        Ok(())
    }

    /// The (steering degrees, speed) an action stands for, or an error naming what is wrong.
    #[inline]
    pub fn resolve(&self, action: Action) -> Result<(f64, f64), String> {
        match (self, action) {
            (ActionSpace::Discrete(v), Action::Discrete(i)) => match v.get(i as usize) {
                Some(a) => Ok((a.steering_angle, a.speed)),
                None => Err(format!(
                    "discrete action index {i} is out of range (the space has {} actions)",
                    v.len()
                )),
            },
            (ActionSpace::Continuous { steering_angle, speed }, Action::Continuous([s, v])) => {
                if !(s.is_finite() && v.is_finite()) {
                    return Err(format!("continuous action [{s}, {v}] is not finite"));
                }
                Ok((
                    (s as f64).clamp(steering_angle.low, steering_angle.high),
                    (v as f64).clamp(speed.low, speed.high),
                ))
            }
            (ActionSpace::Discrete(_), Action::Continuous(_)) => {
                Err("a continuous action was given for a discrete action space".into())
            }
            (ActionSpace::Continuous { .. }, Action::Discrete(_)) => {
                Err("a discrete action was given for a continuous action space".into())
            }
        }
    }

    /// The command for resolved (degrees, m/s) values.
    #[inline]
    pub fn command(steer_deg: f64, speed: f64) -> Command {
        Command {
            steer: steer_deg.to_radians(),
            speed,
        }
    }

    /// The JSON value of `action_space` in `model_metadata.json`.
    pub fn to_json(&self) -> Value {
        match self {
            ActionSpace::Discrete(v) => Value::Array(
                v.iter()
                    .enumerate()
                    .map(|(i, a)| serde_json::json!({"steering_angle": a.steering_angle, "speed": a.speed, "index": i}))
                    .collect(),
            ),
            ActionSpace::Continuous { steering_angle, speed } => serde_json::json!({
                "steering_angle": {"low": steering_angle.low, "high": steering_angle.high},
                "speed": {"low": speed.low, "high": speed.high},
            }),
        }
    }

    /// Parse `action_space` for the given `action_space_type` (`discrete` or `continuous`).
    pub fn from_json(value: &Value, space_type: &str) -> Result<Self, String> {
        match space_type {
            "discrete" => {
                let arr = value
                    .as_array()
                    .ok_or("action_space: a discrete action space must be a list of {steering_angle, speed}")?;
                let mut out = Vec::with_capacity(arr.len());
                for (i, a) in arr.iter().enumerate() {
                    let num = |k: &str| -> Result<f64, String> {
                        a.get(k)
                            .and_then(Value::as_f64)
                            .ok_or_else(|| format!("action_space[{i}].{k}: expected a number"))
                    };
                    out.push(DiscreteAction {
                        steering_angle: num("steering_angle")?,
                        speed: num("speed")?,
                    });
                }
                Ok(ActionSpace::Discrete(out))
            }
            "continuous" => {
                let range = |k: &str| -> Result<Range, String> {
                    let r = value.get(k).ok_or_else(|| format!("action_space.{k}: missing"))?;
                    let num = |b: &str| {
                        r.get(b)
                            .and_then(Value::as_f64)
                            .ok_or_else(|| format!("action_space.{k}.{b}: expected a number"))
                    };
                    Ok(Range {
                        low: num("low")?,
                        high: num("high")?,
                    })
                };
                Ok(ActionSpace::Continuous {
                    steering_angle: range("steering_angle")?,
                    speed: range("speed")?,
                })
            }
            other => Err(format!(
                "action_space_type: expected \"discrete\" or \"continuous\", got {other:?}"
            )),
        }
    }
}

/// DeepRacer's `model_metadata.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelMetadata {
    pub action_space: ActionSpace,
    /// Sensor names, e.g. `["LIDAR"]` (DeepRacer: `FRONT_FACING_CAMERA`, `LIDAR`, …).
    pub sensor: Vec<String>,
    pub neural_network: String,
    pub training_algorithm: String,
    pub version: String,
    /// Keys this crate does not interpret, kept so that a read–write round trip loses nothing.
    pub extra: Map<String, Value>,
}

impl ModelMetadata {
    pub fn new(action_space: ActionSpace, sensor: Vec<String>, neural_network: impl Into<String>) -> Self {
        Self {
            action_space,
            sensor,
            neural_network: neural_network.into(),
            training_algorithm: "clipped_ppo".into(),
            version: "5".into(),
            extra: Map::new(),
        }
    }

    pub fn to_json(&self) -> Value {
        let mut m = self.extra.clone();
        m.insert("action_space".into(), self.action_space.to_json());
        m.insert(
            "sensor".into(),
            Value::Array(self.sensor.iter().cloned().map(Value::String).collect()),
        );
        m.insert("neural_network".into(), Value::String(self.neural_network.clone()));
        m.insert(
            "training_algorithm".into(),
            Value::String(self.training_algorithm.clone()),
        );
        let t = if self.action_space.is_discrete() {
            "discrete"
        } else {
            "continuous"
        };
        m.insert("action_space_type".into(), Value::String(t.into()));
        m.insert("version".into(), Value::String(self.version.clone()));
        Value::Object(m)
    }

    /// Parse the JSON text of a `model_metadata.json`; errors name the field.
    pub fn parse(text: &str) -> Result<Self, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let Value::Object(mut m) = v else {
            return Err("expected a JSON object".into());
        };
        let space_type = match m.remove("action_space_type") {
            None => "discrete".to_string(),
            Some(Value::String(s)) => s.trim().to_ascii_lowercase(),
            Some(other) => {
                return Err(format!("action_space_type: expected a string, got {other}"));
            }
        };
        let space = m.remove("action_space").ok_or("action_space: missing")?;
        let action_space = ActionSpace::from_json(&space, &space_type)?;
        let sensor = match m.remove("sensor") {
            None => vec![],
            Some(Value::Array(a)) => a
                .into_iter()
                .enumerate()
                .map(|(i, s)| {
                    s.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("sensor[{i}]: expected a string"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("sensor: expected a list of strings".into()),
        };
        let string = |m: &mut Map<String, Value>, k: &str, default: &str| -> Result<String, String> {
            match m.remove(k) {
                None => Ok(default.to_string()),
                Some(Value::String(s)) => Ok(s),
                Some(Value::Number(n)) => Ok(n.to_string()),
                Some(other) => Err(format!("{k}: expected a string, got {other}")),
            }
        };
        let neural_network = string(&mut m, "neural_network", "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW")?;
        let training_algorithm = string(&mut m, "training_algorithm", "clipped_ppo")?
            .trim()
            .to_ascii_lowercase();
        let version = string(&mut m, "version", "5")?;
        Ok(Self {
            action_space,
            sensor,
            neural_network,
            training_algorithm,
            version,
            extra: m,
        })
    }

    pub fn read(path: &Path) -> Result<Self, SimError> {
        let text = std::fs::read_to_string(path).map_err(|e| SimError::file(path, format!("cannot read: {e}")))?;
        Self::parse(&text).map_err(|m| SimError::file(path, m))
    }

    pub fn write(&self, path: &Path) -> Result<(), SimError> {
        let text = serde_json::to_string_pretty(&self.to_json()).expect("JSON values serialise");
        std::fs::write(path, text + "\n").map_err(|e| SimError::file(path, format!("cannot write: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deepracer_discrete_file_parses() {
        let text = r#"{ "action_space" : [ {"steering_angle" : -30.0, "speed" : 1.0, "index" : 0},
            {"steering_angle" : 30.0, "speed" : 2.0, "index" : 1} ],
            "sensor" : [ "FRONT_FACING_CAMERA" ], "neural_network" : "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
            "version" : "4", "training_algorithm" : "clipped_ppo", "action_space_type" : "discrete" }"#;
        let m = ModelMetadata::parse(text).unwrap();
        assert_eq!(m.action_space.dim(), 2);
        assert_eq!(m.version, "4");
        assert_eq!(m.action_space.resolve(Action::Discrete(1)).unwrap(), (30.0, 2.0));
        assert!(m.action_space.resolve(Action::Discrete(2)).is_err());
        let again = ModelMetadata::parse(&m.to_json().to_string()).unwrap();
        assert_eq!(again, m);
    }

    #[test]
    fn deepracer_continuous_file_parses_and_clips() {
        let text = r#"{ "action_space": {"speed": {"high": 2, "low": 1}, "steering_angle": {"high": 30, "low": -30}},
            "sensor": ["FRONT_FACING_CAMERA"], "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
            "training_algorithm": "clipped_ppo", "action_space_type": "continuous", "version": "5", "lidar_config": {"num_sectors": 8} }"#;
        let m = ModelMetadata::parse(text).unwrap();
        assert_eq!(
            m.action_space.resolve(Action::Continuous([45.0, 0.5])).unwrap(),
            (30.0, 1.0)
        );
        assert!(m.action_space.resolve(Action::Continuous([f32::NAN, 1.0])).is_err());
        assert!(m.extra.contains_key("lidar_config"), "unknown keys survive");
    }

    #[test]
    fn validation_names_the_field() {
        let car = CarParams::default();
        let space = ActionSpace::Discrete(vec![
            DiscreteAction {
                steering_angle: 0.0,
                speed: 1.0,
            },
            DiscreteAction {
                steering_angle: 10.0,
                speed: 9.0,
            },
        ]);
        let e = space.validate(&car).unwrap_err().to_string();
        assert!(e.contains("action_space[1].speed"), "{e}");
        let e = ActionSpace::continuous(-40.0, 30.0, 1.0, 2.0)
            .validate(&car)
            .unwrap_err()
            .to_string();
        assert!(e.contains("steering_angle.low"), "{e}");
        assert!(ActionSpace::default().validate(&car).is_ok());
        let e = ModelMetadata::parse(r#"{"action_space": [{"steering_angle": "x", "speed": 1}]}"#).unwrap_err();
        assert!(e.contains("action_space[0].steering_angle"), "{e}");
    }
}

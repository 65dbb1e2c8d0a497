//! The league's plain kinds that its server and its clients share: roles, submission statuses, race
//! types, states and timing, and a race's settings. Each has one name (`as_str`), the one stored,
//! sent and shown.

use serde::{Deserialize, Serialize};

/// Roles, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Racer,
    Facilitator,
    Admin,
    Worker,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Racer => "racer",
            Role::Facilitator => "facilitator",
            Role::Admin => "admin",
            Role::Worker => "worker",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "racer" => Role::Racer,
            "facilitator" => Role::Facilitator,
            "admin" => Role::Admin,
            "worker" => Role::Worker,
            _ => return None,
        })
    }
}

/// A stored role (the `role` column).
impl TryFrom<String> for Role {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Role, String> {
        Role::parse(&s).ok_or_else(|| format!("unknown role {s:?} in the database"))
    }
}

/// Submission states, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SubStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl SubStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubStatus::Queued => "queued",
            SubStatus::Running => "running",
            SubStatus::Completed => "completed",
            SubStatus::Failed => "failed",
            SubStatus::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> SubStatus {
        match s {
            "running" => SubStatus::Running,
            "completed" => SubStatus::Completed,
            "failed" => SubStatus::Failed,
            "cancelled" => SubStatus::Cancelled,
            _ => SubStatus::Queued,
        }
    }
    pub fn finished(self) -> bool {
        matches!(self, SubStatus::Completed | SubStatus::Failed | SubStatus::Cancelled)
    }
}

/// A stored status (the `status` column).
impl From<String> for SubStatus {
    fn from(s: String) -> SubStatus {
        SubStatus::parse(&s)
    }
}

/// How a race scores its laps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    BestLap,
    BestAverage,
    TotalTime,
}

impl Timing {
    /// The name people read: `best lap`, `best average`, `total time` (serde stores snake_case).
    pub fn as_str(self) -> &'static str {
        match self {
            Timing::BestLap => "best lap",
            Timing::BestAverage => "best average",
            Timing::TotalTime => "total time",
        }
    }
}

/// The race types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RaceType {
    TimeTrial,
    ObjectAvoidance,
    HeadToBot,
}

impl RaceType {
    /// The name people read (and serde's): `time_trial`, `object_avoidance`, `head_to_bot`.
    pub fn as_str(self) -> &'static str {
        match self {
            RaceType::TimeTrial => "time_trial",
            RaceType::ObjectAvoidance => "object_avoidance",
            RaceType::HeadToBot => "head_to_bot",
        }
    }
}

/// Fixed obstacle positions.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObstaclePosition {
    pub lap_fraction: f64,
    pub lane: f64,
}

/// A race's settings (the API's `RaceSpec`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RaceSpec {
    pub name: String,
    pub description: String,
    /// A built-in name or `upload:<sha256>`.
    pub track: String,
    pub reverse: bool,
    pub race_type: RaceType,
    pub obstacle_count: u32,
    pub obstacle_positions: Vec<ObstaclePosition>,
    pub bot_count: u32,
    pub bot_speed_mps: f64,
    pub bot_lane_change: bool,
    pub timing: Timing,
    pub min_laps: u32,
    pub laps: u32,
    pub off_track_penalty_s: f64,
    pub collision_penalty_s: f64,
    /// DeepRacer's race rules beyond the penalties (see `slipstream_sim::episode`): laps driven
    /// one after another instead of separate trials, incidents per trial that hold the car instead
    /// of ending the trial, and the holds for reversing (unset: the off-track penalty) and for
    /// being immobilized. Absent in races stored before they existed: DeepRacer's defaults.
    #[serde(default)]
    pub continuous: bool,
    #[serde(default)]
    pub number_of_resets: u32,
    #[serde(default)]
    pub reverse_penalty_s: Option<f64>,
    #[serde(default)]
    pub immobilized_penalty_s: f64,
    pub opens_at_ms: i64,
    pub closes_at_ms: i64,
    pub max_submissions_per_user: u32,
    pub private: bool,
    /// The sensors a model must have to enter (`ModelInfo.sensor`'s names); empty: any. Absent in
    /// races stored before it existed.
    #[serde(default)]
    pub sensors: Vec<String>,
}

/// Where a race is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaceState {
    Upcoming,
    Open,
    Closed,
}

impl RaceState {
    pub fn as_str(self) -> &'static str {
        match self {
            RaceState::Upcoming => "upcoming",
            RaceState::Open => "open",
            RaceState::Closed => "closed",
        }
    }
}

impl RaceSpec {
    /// A public time trial on `track` (forward): 3 trials, best lap, 1 lap to qualify, DeepRacer's
    /// evaluation rules (no resets; holds of 2 s off-track, 5 s collision), no submission cap, open from
    /// `opens_at_ms` until `closes_at_ms`. Change fields with struct-update syntax.
    pub fn time_trial(name: &str, track: &str, opens_at_ms: i64, closes_at_ms: i64) -> Self {
        RaceSpec {
            name: name.into(),
            description: String::new(),
            track: track.into(),
            reverse: false,
            race_type: RaceType::TimeTrial,
            obstacle_count: 0,
            obstacle_positions: vec![],
            bot_count: 0,
            bot_speed_mps: 0.0,
            bot_lane_change: false,
            timing: Timing::BestLap,
            min_laps: 1,
            laps: 3,
            off_track_penalty_s: 2.0,
            collision_penalty_s: 5.0,
            continuous: false,
            number_of_resets: 0,
            reverse_penalty_s: None,
            immobilized_penalty_s: 0.0,
            opens_at_ms,
            closes_at_ms,
            max_submissions_per_user: 0,
            private: false,
            sensors: vec![],
        }
    }

    /// Where the race is at `now_ms`. A window end of 0 is "not set": `opens_at_ms` 0 opens the
    /// race from its creation, `closes_at_ms` 0 never closes it.
    pub fn state(&self, now_ms: i64) -> RaceState {
        if now_ms < self.opens_at_ms {
            RaceState::Upcoming
        } else if self.closes_at_ms == 0 || now_ms < self.closes_at_ms {
            RaceState::Open
        } else {
            RaceState::Closed
        }
    }
}

//! The API's messages ↔ the league's kinds (roles, statuses, race types, timing, directions, race
//! settings), and the names people read for the API's enum fields.

use slipstream_proto::v1 as pb;

use crate::kinds::{ObstaclePosition, RaceSpec, RaceState, RaceType, Role, SubStatus, Timing};

pub fn role_to_pb(r: Role) -> pb::Role {
    match r {
        Role::Racer => pb::Role::Racer,
        Role::Facilitator => pb::Role::Facilitator,
        Role::Admin => pb::Role::Admin,
        Role::Worker => pb::Role::Worker,
    }
}

pub fn role_from_pb(r: i32) -> Option<Role> {
    match pb::Role::try_from(r).ok()? {
        pb::Role::Racer => Some(Role::Racer),
        pb::Role::Facilitator => Some(Role::Facilitator),
        pb::Role::Admin => Some(Role::Admin),
        pb::Role::Worker => Some(Role::Worker),
        pb::Role::Unspecified => None,
    }
}

pub fn timing_to_pb(t: Timing) -> pb::TimingMethod {
    match t {
        Timing::BestLap => pb::TimingMethod::BestLap,
        Timing::BestAverage => pb::TimingMethod::BestAverage,
        Timing::TotalTime => pb::TimingMethod::TotalTime,
    }
}

/// `TIMING_METHOD_UNSPECIFIED` is the default, best lap; `None` for a value this version does not know.
pub fn timing_from_pb(t: i32) -> Option<Timing> {
    Some(match pb::TimingMethod::try_from(t).ok()? {
        pb::TimingMethod::Unspecified | pb::TimingMethod::BestLap => Timing::BestLap,
        pb::TimingMethod::BestAverage => Timing::BestAverage,
        pb::TimingMethod::TotalTime => Timing::TotalTime,
    })
}

pub fn race_type_to_pb(t: RaceType) -> pb::RaceType {
    match t {
        RaceType::TimeTrial => pb::RaceType::TimeTrial,
        RaceType::ObjectAvoidance => pb::RaceType::ObjectAvoidance,
        RaceType::HeadToBot => pb::RaceType::HeadToBot,
    }
}

/// `RACE_TYPE_UNSPECIFIED` is the default, a time trial; `None` for a value this version does not know.
pub fn race_type_from_pb(t: i32) -> Option<RaceType> {
    Some(match pb::RaceType::try_from(t).ok()? {
        pb::RaceType::Unspecified | pb::RaceType::TimeTrial => RaceType::TimeTrial,
        pb::RaceType::ObjectAvoidance => RaceType::ObjectAvoidance,
        pb::RaceType::HeadToBot => RaceType::HeadToBot,
    })
}

pub fn direction_to_pb(reverse: bool) -> pb::Direction {
    if reverse {
        pb::Direction::Reverse
    } else {
        pb::Direction::Forward
    }
}

/// Whether the track is driven in reverse (`DIRECTION_UNSPECIFIED`: forward); `None` for a value this
/// version does not know.
pub fn reverse_from_pb(d: i32) -> Option<bool> {
    Some(match pb::Direction::try_from(d).ok()? {
        pb::Direction::Reverse => true,
        pb::Direction::Unspecified | pb::Direction::Forward => false,
    })
}

pub fn race_state_to_pb(s: RaceState) -> pb::RaceState {
    match s {
        RaceState::Upcoming => pb::RaceState::Upcoming,
        RaceState::Open => pb::RaceState::Open,
        RaceState::Closed => pb::RaceState::Closed,
    }
}

pub fn race_state_from_pb(s: i32) -> Option<RaceState> {
    match pb::RaceState::try_from(s).ok()? {
        pb::RaceState::Upcoming => Some(RaceState::Upcoming),
        pb::RaceState::Open => Some(RaceState::Open),
        pb::RaceState::Closed => Some(RaceState::Closed),
        pb::RaceState::Unspecified => None,
    }
}

/// The API's spec → ours; errors name the field.
pub fn spec_from_pb(s: &pb::RaceSpec) -> Result<RaceSpec, String> {
    let race_type =
        race_type_from_pb(s.race_type).ok_or_else(|| format!("spec.race_type: unknown value {}", s.race_type))?;
    let timing = timing_from_pb(s.timing).ok_or_else(|| format!("spec.timing: unknown value {}", s.timing))?;
    let reverse =
        reverse_from_pb(s.direction).ok_or_else(|| format!("spec.direction: unknown value {}", s.direction))?;
    let obstacles = s.obstacles.clone().unwrap_or_default();
    let bots = s.bots.unwrap_or_default();
    Ok(RaceSpec {
        name: s.name.trim().to_string(),
        description: s.description.clone(),
        track: s.track.trim().to_string(),
        reverse,
        race_type,
        obstacle_count: obstacles.count,
        obstacle_positions: obstacles
            .positions
            .iter()
            .map(|p| ObstaclePosition {
                lap_fraction: p.lap_fraction,
                lane: p.lane,
            })
            .collect(),
        bot_count: bots.count,
        bot_speed_mps: bots.speed_mps,
        bot_lane_change: bots.lane_change,
        timing,
        min_laps: s.min_laps,
        laps: s.laps,
        off_track_penalty_s: s.off_track_penalty_s,
        collision_penalty_s: s.collision_penalty_s,
        continuous: s.continuous,
        number_of_resets: s.number_of_resets,
        reverse_penalty_s: s.reverse_penalty_s,
        immobilized_penalty_s: s.immobilized_penalty_s,
        opens_at_ms: s.opens_at_ms,
        closes_at_ms: s.closes_at_ms,
        max_submissions_per_user: s.max_submissions_per_user,
        private: s.private,
        sensors: s.sensors.iter().map(|n| n.trim().to_string()).collect(),
    })
}

pub fn spec_to_pb(s: &RaceSpec) -> pb::RaceSpec {
    pb::RaceSpec {
        name: s.name.clone(),
        description: s.description.clone(),
        track: s.track.clone(),
        direction: direction_to_pb(s.reverse) as i32,
        race_type: race_type_to_pb(s.race_type) as i32,
        obstacles: (s.race_type == RaceType::ObjectAvoidance).then(|| pb::ObstacleSettings {
            count: s.obstacle_count,
            positions: s
                .obstacle_positions
                .iter()
                .map(|p| pb::ObstaclePosition {
                    lap_fraction: p.lap_fraction,
                    lane: p.lane,
                })
                .collect(),
        }),
        bots: (s.race_type == RaceType::HeadToBot).then_some(pb::BotSettings {
            count: s.bot_count,
            speed_mps: s.bot_speed_mps,
            lane_change: s.bot_lane_change,
        }),
        timing: timing_to_pb(s.timing) as i32,
        min_laps: s.min_laps,
        laps: s.laps,
        off_track_penalty_s: s.off_track_penalty_s,
        collision_penalty_s: s.collision_penalty_s,
        continuous: s.continuous,
        number_of_resets: s.number_of_resets,
        reverse_penalty_s: s.reverse_penalty_s,
        immobilized_penalty_s: s.immobilized_penalty_s,
        opens_at_ms: s.opens_at_ms,
        closes_at_ms: s.closes_at_ms,
        max_submissions_per_user: s.max_submissions_per_user,
        private: s.private,
        sensors: s.sensors.clone(),
    }
}

pub fn status_to_pb(s: SubStatus) -> pb::SubmissionStatus {
    match s {
        SubStatus::Queued => pb::SubmissionStatus::Queued,
        SubStatus::Running => pb::SubmissionStatus::Running,
        SubStatus::Completed => pb::SubmissionStatus::Completed,
        SubStatus::Failed => pb::SubmissionStatus::Failed,
        SubStatus::Cancelled => pb::SubmissionStatus::Cancelled,
    }
}

pub fn status_from_pb(s: i32) -> Option<SubStatus> {
    match pb::SubmissionStatus::try_from(s).ok()? {
        pb::SubmissionStatus::Queued => Some(SubStatus::Queued),
        pb::SubmissionStatus::Running => Some(SubStatus::Running),
        pb::SubmissionStatus::Completed => Some(SubStatus::Completed),
        pb::SubmissionStatus::Failed => Some(SubStatus::Failed),
        pb::SubmissionStatus::Cancelled => Some(SubStatus::Cancelled),
        pb::SubmissionStatus::Unspecified => None,
    }
}

// The names people read for the API's enum fields (the `league` CLI's tables and `--json`): each is
// the name of our enum (`Role::as_str`, `Timing::as_str`, …), so a value is called the same in the
// server's messages, its database and its clients. `"?"` for a value this version does not know.

pub fn role_name(role: i32) -> &'static str {
    role_from_pb(role).map_or("?", Role::as_str)
}

pub fn status_name(status: i32) -> &'static str {
    status_from_pb(status).map_or("?", SubStatus::as_str)
}

pub fn race_state_name(state: i32) -> &'static str {
    race_state_from_pb(state).map_or("?", RaceState::as_str)
}

pub fn race_type_name(race_type: i32) -> &'static str {
    race_type_from_pb(race_type).map_or("?", RaceType::as_str)
}

pub fn timing_name(timing: i32) -> &'static str {
    timing_from_pb(timing).map_or("?", Timing::as_str)
}

/// `forward` or `reverse`.
pub fn direction_name(direction: i32) -> &'static str {
    match reverse_from_pb(direction) {
        Some(true) => "reverse",
        Some(false) => "forward",
        None => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_enum_value_has_one_name() {
        let role = |r: pb::Role| role_name(r as i32);
        assert_eq!(
            [
                pb::Role::Racer,
                pb::Role::Facilitator,
                pb::Role::Admin,
                pb::Role::Worker
            ]
            .map(role),
            ["racer", "facilitator", "admin", "worker"]
        );
        assert_eq!(role(pb::Role::Unspecified), "?");
        let status = |s: pb::SubmissionStatus| status_name(s as i32);
        assert_eq!(
            [
                pb::SubmissionStatus::Queued,
                pb::SubmissionStatus::Running,
                pb::SubmissionStatus::Completed,
                pb::SubmissionStatus::Failed,
                pb::SubmissionStatus::Cancelled,
                pb::SubmissionStatus::Unspecified
            ]
            .map(status),
            ["queued", "running", "completed", "failed", "cancelled", "?"]
        );
        let state = |s: pb::RaceState| race_state_name(s as i32);
        assert_eq!(
            [
                pb::RaceState::Upcoming,
                pb::RaceState::Open,
                pb::RaceState::Closed,
                pb::RaceState::Unspecified
            ]
            .map(state),
            ["upcoming", "open", "closed", "?"]
        );
        // Unspecified race types, timings and directions are the defaults the server applies.
        let race_type = |t: pb::RaceType| race_type_name(t as i32);
        assert_eq!(
            [
                pb::RaceType::TimeTrial,
                pb::RaceType::ObjectAvoidance,
                pb::RaceType::HeadToBot,
                pb::RaceType::Unspecified
            ]
            .map(race_type),
            ["time_trial", "object_avoidance", "head_to_bot", "time_trial"]
        );
        let timing = |t: pb::TimingMethod| timing_name(t as i32);
        assert_eq!(
            [
                pb::TimingMethod::BestLap,
                pb::TimingMethod::BestAverage,
                pb::TimingMethod::TotalTime,
                pb::TimingMethod::Unspecified
            ]
            .map(timing),
            ["best lap", "best average", "total time", "best lap"]
        );
        let direction = |d: pb::Direction| direction_name(d as i32);
        assert_eq!(
            [
                pb::Direction::Forward,
                pb::Direction::Reverse,
                pb::Direction::Unspecified
            ]
            .map(direction),
            ["forward", "reverse", "forward"]
        );
        for name in [
            role_name,
            status_name,
            race_state_name,
            race_type_name,
            timing_name,
            direction_name,
        ] {
            assert_eq!(name(99), "?", "a value from a newer server");
        }
    }

    #[test]
    fn enums_survive_the_api() {
        for r in [Role::Racer, Role::Facilitator, Role::Admin, Role::Worker] {
            assert_eq!(role_from_pb(role_to_pb(r) as i32), Some(r));
        }
        for s in [
            SubStatus::Queued,
            SubStatus::Running,
            SubStatus::Completed,
            SubStatus::Failed,
            SubStatus::Cancelled,
        ] {
            assert_eq!(status_from_pb(status_to_pb(s) as i32), Some(s));
        }
        for s in [RaceState::Upcoming, RaceState::Open, RaceState::Closed] {
            assert_eq!(race_state_from_pb(race_state_to_pb(s) as i32), Some(s));
        }
        for t in [RaceType::TimeTrial, RaceType::ObjectAvoidance, RaceType::HeadToBot] {
            assert_eq!(race_type_from_pb(race_type_to_pb(t) as i32), Some(t));
            // The name people read is the one serde stores.
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        for t in [Timing::BestLap, Timing::BestAverage, Timing::TotalTime] {
            assert_eq!(timing_from_pb(timing_to_pb(t) as i32), Some(t));
        }
        for reverse in [false, true] {
            assert_eq!(reverse_from_pb(direction_to_pb(reverse) as i32), Some(reverse));
        }
    }
}

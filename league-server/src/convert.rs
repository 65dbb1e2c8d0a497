//! Conversions between the database's rows and the API's messages.

use slipstream_proto::v1 as pb;

use crate::races::{ObstaclePosition, RaceSpec, RaceState, RaceType};
use crate::ranking::{Lap, Timing};
use crate::store::{InviteRow, ModelRow, RaceRow, Role, SubStatus, SubmissionRow, TokenRow, User};

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

/// A token as listed: never its secret (the store has only its hash, and does not give that).
pub fn token_to_pb(t: &TokenRow) -> pb::TokenInfo {
    pb::TokenInfo {
        token_id: t.id.clone(),
        user_id: t.user_id.clone(),
        user_name: t.user_name.clone(),
        description: t.description.clone(),
        created_at_ms: t.created_at,
        expires_at_ms: t.expires_at,
        revoked_at_ms: t.revoked_at,
        last_used_at_ms: t.last_used_at,
        bootstrap: t.bootstrap,
    }
}

/// What watchers of a race who are not the submission's owner, the race's creator or an admin see
/// of a submission: what the public leaderboard shows (no model, laps, score, attempts or failure
/// reason).
pub fn public_submission(s: &pb::Submission) -> pb::Submission {
    pb::Submission {
        id: s.id.clone(),
        race_id: s.race_id.clone(),
        user_id: s.user_id.clone(),
        status: s.status,
        submitted_at_ms: s.submitted_at_ms,
        finished_at_ms: s.finished_at_ms,
        ..Default::default()
    }
}

pub fn user_to_pb(u: &User) -> pb::User {
    pb::User {
        id: u.id.clone(),
        name: u.name.clone(),
        role: role_to_pb(u.role) as i32,
        created_at_ms: u.created_at,
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
    }
}

/// A race as the API shows it, its state as of `now_ms`.
pub fn race_to_pb(r: &RaceRow, track: Option<pb::TrackInfo>, now_ms: i64) -> pb::Race {
    pb::Race {
        id: r.id.clone(),
        spec: Some(spec_to_pb(&r.spec)),
        state: race_state_to_pb(r.spec.state(now_ms)) as i32,
        created_by: r.created_by.clone(),
        created_at_ms: r.created_at,
        track,
    }
}

pub fn model_to_pb(m: &ModelRow) -> pb::ModelInfo {
    pb::ModelInfo {
        id: m.id.clone(),
        name: m.name.clone(),
        owner_id: m.owner_id.clone(),
        sha256: m.sha256.clone(),
        size_bytes: m.size as u64,
        uploaded_at_ms: m.uploaded_at,
        sensor: m.sensor.clone(),
        action_space_type: m.action_space_type.clone(),
        network: m.network.clone(),
        already_uploaded: false,
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

pub fn lap_to_pb(i: usize, l: &Lap) -> pb::LapTime {
    pb::LapTime {
        lap: i as u32 + 1,
        time_ms: l.time_ms,
        penalty_ms: l.penalty_ms,
        off_track: l.off_track,
        collisions: l.collisions,
        completed: l.completed,
    }
}

pub fn lap_from_pb(l: &pb::LapTime) -> Lap {
    Lap {
        time_ms: l.time_ms,
        penalty_ms: l.penalty_ms,
        off_track: l.off_track,
        collisions: l.collisions,
        completed: l.completed,
    }
}

pub fn submission_to_pb(s: &SubmissionRow) -> pb::Submission {
    pb::Submission {
        id: s.id.clone(),
        race_id: s.race_id.clone(),
        model_id: s.model_id.clone(),
        user_id: s.user_id.clone(),
        status: status_to_pb(s.status) as i32,
        laps: s.laps.iter().enumerate().map(|(i, l)| lap_to_pb(i, l)).collect(),
        qualified: s.qualified,
        score_ms: s.score_ms,
        failure_reason: s.failure_reason.clone(),
        submitted_at_ms: s.submitted_at,
        finished_at_ms: s.finished_at,
        attempts: s.attempts as u32,
        off_track: s.off_track as u32,
        collisions: s.collisions as u32,
        has_replay: !s.replay_sha256.is_empty(),
    }
}

pub fn invite_to_pb(i: &InviteRow, token: String) -> pb::Invite {
    pb::Invite {
        id: i.id.clone(),
        race_id: i.race_id.clone(),
        token,
        expires_at_ms: i.expires_at,
        revoked: i.revoked,
        uses: i.uses as u32,
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

//! Conversions between the database's rows and the API's messages.

use slipstream_proto::v1 as pb;

use crate::races::{ObstaclePosition, RaceSpec, RaceState, RaceType};
use crate::ranking::{Lap, Timing};
use crate::store::{InviteRow, ModelRow, RaceRow, Role, SubStatus, SubmissionRow, User};
use crate::util::now_ms;

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

/// The API's spec → ours; errors name the field.
pub fn spec_from_pb(s: &pb::RaceSpec) -> Result<RaceSpec, String> {
    let race_type = match pb::RaceType::try_from(s.race_type)
        .map_err(|_| format!("spec.race_type: unknown value {}", s.race_type))?
    {
        pb::RaceType::Unspecified | pb::RaceType::TimeTrial => RaceType::TimeTrial,
        pb::RaceType::ObjectAvoidance => RaceType::ObjectAvoidance,
        pb::RaceType::HeadToBot => RaceType::HeadToBot,
    };
    let timing =
        match pb::TimingMethod::try_from(s.timing).map_err(|_| format!("spec.timing: unknown value {}", s.timing))? {
            pb::TimingMethod::Unspecified | pb::TimingMethod::BestLap => Timing::BestLap,
            pb::TimingMethod::BestAverage => Timing::BestAverage,
            pb::TimingMethod::TotalTime => Timing::TotalTime,
        };
    let reverse = match pb::Direction::try_from(s.direction)
        .map_err(|_| format!("spec.direction: unknown value {}", s.direction))?
    {
        pb::Direction::Reverse => true,
        pb::Direction::Unspecified | pb::Direction::Forward => false,
    };
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
        direction: if s.reverse {
            pb::Direction::Reverse
        } else {
            pb::Direction::Forward
        } as i32,
        race_type: match s.race_type {
            RaceType::TimeTrial => pb::RaceType::TimeTrial,
            RaceType::ObjectAvoidance => pb::RaceType::ObjectAvoidance,
            RaceType::HeadToBot => pb::RaceType::HeadToBot,
        } as i32,
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
        opens_at_ms: s.opens_at_ms,
        closes_at_ms: s.closes_at_ms,
        max_submissions_per_user: s.max_submissions_per_user,
        private: s.private,
    }
}

pub fn race_to_pb(r: &RaceRow, track: Option<pb::TrackInfo>) -> pb::Race {
    let state = match r.spec.state(now_ms()) {
        RaceState::Upcoming => pb::RaceState::Upcoming,
        RaceState::Open => pb::RaceState::Open,
        RaceState::Closed => pb::RaceState::Closed,
    };
    pb::Race {
        id: r.id.clone(),
        spec: Some(spec_to_pb(&r.spec)),
        state: state as i32,
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

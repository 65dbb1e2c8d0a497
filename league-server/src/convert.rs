//! Conversions between the database's rows and the API's messages (the kinds' own conversions,
//! shared with clients: `slipstream_league_client::convert`, re-exported here).

use slipstream_proto::v1 as pb;

pub use slipstream_league_client::convert::*;

use crate::ranking::Lap;
use crate::store::{InviteRow, ModelRow, RaceRow, SignupInviteRow, SubmissionRow, TokenRow, User};

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

pub fn signup_invite_to_pb(i: &SignupInviteRow) -> pb::SignupInvite {
    pb::SignupInvite {
        invite_id: i.id.clone(),
        role: role_to_pb(i.role) as i32,
        note: i.note.clone(),
        created_by: i.created_by.clone(),
        created_at_ms: i.created_at,
        expires_at_ms: i.expires_at,
        max_uses: i.max_uses,
        uses: i.uses,
        revoked_at_ms: i.revoked_at,
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

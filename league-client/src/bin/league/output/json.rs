//! What `--json` prints: one typed view per document. Scripts (scripts/demo, tests/cli.rs) read these
//! keys, so a view's fields are its contract. Enum fields carry the names of
//! `slipstream_league_client::convert` (`"racer"`, `"total time"`, …); times are milliseconds since the
//! Unix epoch, 0 for "never".

use serde::Serialize;
use slipstream_league_client::convert::{
    direction_name, race_state_name, race_type_name, role_name, status_name, timing_name,
};
use slipstream_proto::v1 as pb;

#[derive(Debug, Serialize)]
pub struct User<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub role: &'static str,
    pub created_at_ms: i64,
}

impl<'a> From<&'a pb::User> for User<'a> {
    fn from(u: &'a pb::User) -> Self {
        User {
            id: &u.id,
            name: &u.name,
            role: role_name(u.role),
            created_at_ms: u.created_at_ms,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Users<'a> {
    pub users: Vec<User<'a>>,
}

/// A new token (shown once).
#[derive(Debug, Serialize)]
pub struct Token<'a> {
    pub token_id: &'a str,
    pub token: &'a str,
    pub expires_at_ms: i64,
}

/// Whether a listed token works at `now`: `active`, `revoked` or `expired`.
pub fn token_state(t: &pb::TokenInfo, now: i64) -> &'static str {
    if t.revoked_at_ms != 0 {
        "revoked"
    } else if t.expires_at_ms != 0 && t.expires_at_ms <= now {
        "expired"
    } else {
        "active"
    }
}

/// A listed token (never the secret).
#[derive(Debug, Serialize)]
pub struct TokenInfo<'a> {
    pub token_id: &'a str,
    pub user_id: &'a str,
    pub user: &'a str,
    pub description: &'a str,
    pub state: &'static str,
    pub bootstrap: bool,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub revoked_at_ms: i64,
    pub last_used_at_ms: i64,
}

impl<'a> TokenInfo<'a> {
    pub fn new(t: &'a pb::TokenInfo, now: i64) -> Self {
        TokenInfo {
            token_id: &t.token_id,
            user_id: &t.user_id,
            user: &t.user_name,
            description: &t.description,
            state: token_state(t, now),
            bootstrap: t.bootstrap,
            created_at_ms: t.created_at_ms,
            expires_at_ms: t.expires_at_ms,
            revoked_at_ms: t.revoked_at_ms,
            last_used_at_ms: t.last_used_at_ms,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Tokens<'a> {
    pub tokens: Vec<TokenInfo<'a>>,
}

/// A sign-up invite (never its token, but where it was just made).
#[derive(Debug, Serialize)]
pub struct SignupInvite<'a> {
    pub invite_id: &'a str,
    pub role: &'static str,
    pub note: &'a str,
    pub created_by: &'a str,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub max_uses: i64,
    pub uses: i64,
    pub revoked_at_ms: i64,
}

impl<'a> From<&'a pb::SignupInvite> for SignupInvite<'a> {
    fn from(i: &'a pb::SignupInvite) -> Self {
        SignupInvite {
            invite_id: &i.invite_id,
            role: role_name(i.role),
            note: &i.note,
            created_by: &i.created_by,
            created_at_ms: i.created_at_ms,
            expires_at_ms: i.expires_at_ms,
            max_uses: i.max_uses,
            uses: i.uses,
            revoked_at_ms: i.revoked_at_ms,
        }
    }
}

/// An invite just made: its token and link, shown once.
#[derive(Debug, Serialize)]
pub struct MadeSignupInvite<'a> {
    pub invite: SignupInvite<'a>,
    pub token: &'a str,
    pub signup_url: &'a str,
}

#[derive(Debug, Serialize)]
pub struct SignupInvites<'a> {
    pub invites: Vec<SignupInvite<'a>>,
}

/// Whether a sign-up invite can still make accounts at `now`: `open`, `withdrawn`, `expired` or
/// `used up`.
pub fn invite_state(i: &pb::SignupInvite, now: i64) -> &'static str {
    if i.revoked_at_ms != 0 {
        "withdrawn"
    } else if i.expires_at_ms != 0 && i.expires_at_ms <= now {
        "expired"
    } else if i.uses >= i.max_uses {
        "used up"
    } else {
        "open"
    }
}

#[derive(Debug, Serialize)]
pub struct PasswordSet {
    pub password_set: bool,
}

#[derive(Debug, Serialize)]
pub struct Revoked<'a> {
    pub revoked: &'a str,
}

#[derive(Debug, Serialize)]
pub struct Deleted<'a> {
    pub deleted: &'a str,
}

#[derive(Debug, Serialize)]
pub struct Track<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub waypoints: u32,
    pub length_m: f64,
    pub width_min_m: f64,
    pub closed: bool,
    pub builtin: bool,
}

impl<'a> From<&'a pb::TrackInfo> for Track<'a> {
    fn from(t: &'a pb::TrackInfo) -> Self {
        Track {
            id: &t.id,
            name: &t.name,
            waypoints: t.waypoints,
            length_m: t.length_m,
            width_min_m: t.width_min_m,
            closed: t.closed,
            builtin: t.builtin,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Tracks<'a> {
    pub tracks: Vec<Track<'a>>,
}

#[derive(Debug, Serialize)]
pub struct UploadedTrack<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub length_m: f64,
    pub waypoints: u32,
}

impl<'a> From<&'a pb::TrackInfo> for UploadedTrack<'a> {
    fn from(t: &'a pb::TrackInfo) -> Self {
        UploadedTrack {
            id: &t.id,
            name: &t.name,
            length_m: t.length_m,
            waypoints: t.waypoints,
        }
    }
}

/// A race: its spec flattened, with its id, state and creator.
#[derive(Debug, Serialize)]
pub struct Race {
    pub id: String,
    pub name: String,
    pub description: String,
    pub track: String,
    pub direction: &'static str,
    pub race_type: &'static str,
    /// The obstacle count (object avoidance), else null.
    pub obstacles: Option<u32>,
    /// Head-to-bot, else null.
    pub bots: Option<Bots>,
    pub timing: &'static str,
    pub laps: u32,
    pub min_laps: u32,
    pub off_track_penalty_s: f64,
    pub collision_penalty_s: f64,
    pub continuous: bool,
    pub number_of_resets: u32,
    /// The hold after reversing (the off-track penalty when the race does not set one).
    pub reverse_penalty_s: f64,
    pub immobilized_penalty_s: f64,
    pub opens_at_ms: i64,
    pub closes_at_ms: i64,
    pub state: &'static str,
    pub max_submissions_per_user: u32,
    pub private: bool,
    /// The sensors it takes (empty: any).
    pub sensors: Vec<String>,
    pub created_by: String,
}

#[derive(Debug, Serialize)]
pub struct Bots {
    pub count: u32,
    pub speed_mps: f64,
    pub lane_change: bool,
}

impl From<&pb::Race> for Race {
    fn from(r: &pb::Race) -> Self {
        let s = r.spec.clone().unwrap_or_default();
        Race {
            id: r.id.clone(),
            direction: direction_name(s.direction),
            race_type: race_type_name(s.race_type),
            obstacles: s.obstacles.as_ref().map(|o| o.count),
            bots: s.bots.map(|b| Bots {
                count: b.count,
                speed_mps: b.speed_mps,
                lane_change: b.lane_change,
            }),
            timing: timing_name(s.timing),
            laps: s.laps,
            min_laps: s.min_laps,
            off_track_penalty_s: s.off_track_penalty_s,
            collision_penalty_s: s.collision_penalty_s,
            continuous: s.continuous,
            number_of_resets: s.number_of_resets,
            reverse_penalty_s: s.reverse_penalty_s.unwrap_or(s.off_track_penalty_s),
            immobilized_penalty_s: s.immobilized_penalty_s,
            opens_at_ms: s.opens_at_ms,
            closes_at_ms: s.closes_at_ms,
            state: race_state_name(r.state),
            max_submissions_per_user: s.max_submissions_per_user,
            private: s.private,
            sensors: s.sensors.clone(),
            created_by: r.created_by.clone(),
            name: s.name,
            description: s.description,
            track: s.track,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Races {
    pub races: Vec<Race>,
}

#[derive(Debug, Serialize)]
pub struct Invite<'a> {
    pub invite_id: &'a str,
    pub token: &'a str,
    pub expires_at_ms: i64,
}

impl<'a> From<&'a pb::Invite> for Invite<'a> {
    fn from(i: &'a pb::Invite) -> Self {
        Invite {
            invite_id: &i.id,
            token: &i.token,
            expires_at_ms: i.expires_at_ms,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Model<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub sha256: &'a str,
    pub size_bytes: u64,
    pub uploaded_at_ms: i64,
    pub sensor: &'a str,
    pub action_space_type: &'a str,
    pub network: &'a str,
    /// In an upload's answer: the bytes were already this model (its name kept).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub already_uploaded: bool,
}

impl<'a> From<&'a pb::ModelInfo> for Model<'a> {
    fn from(m: &'a pb::ModelInfo) -> Self {
        Model {
            id: &m.id,
            name: &m.name,
            sha256: &m.sha256,
            size_bytes: m.size_bytes,
            uploaded_at_ms: m.uploaded_at_ms,
            sensor: &m.sensor,
            action_space_type: &m.action_space_type,
            network: &m.network,
            already_uploaded: m.already_uploaded,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Models<'a> {
    pub models: Vec<Model<'a>>,
}

#[derive(Debug, Serialize)]
pub struct Lap {
    pub lap: u32,
    /// Including penalties.
    pub time_s: f64,
    pub time_ms: i64,
    pub penalty_ms: i64,
    pub off_track: u32,
    pub collisions: u32,
    pub completed: bool,
}

impl From<&pb::LapTime> for Lap {
    fn from(l: &pb::LapTime) -> Self {
        Lap {
            lap: l.lap,
            time_s: l.time_ms as f64 / 1000.0,
            time_ms: l.time_ms,
            penalty_ms: l.penalty_ms,
            off_track: l.off_track,
            collisions: l.collisions,
            completed: l.completed,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Submission<'a> {
    pub id: &'a str,
    pub race_id: &'a str,
    pub model_id: &'a str,
    pub user_id: &'a str,
    pub status: &'static str,
    pub laps: Vec<Lap>,
    pub qualified: bool,
    /// Null unless it qualified.
    pub score_ms: Option<i64>,
    pub failure_reason: &'a str,
    pub submitted_at_ms: i64,
    pub finished_at_ms: i64,
    pub attempts: u32,
    pub off_track: u32,
    pub collisions: u32,
}

impl<'a> From<&'a pb::Submission> for Submission<'a> {
    fn from(s: &'a pb::Submission) -> Self {
        Submission {
            id: &s.id,
            race_id: &s.race_id,
            model_id: &s.model_id,
            user_id: &s.user_id,
            status: status_name(s.status),
            laps: s.laps.iter().map(Lap::from).collect(),
            qualified: s.qualified,
            score_ms: s.qualified.then_some(s.score_ms),
            failure_reason: &s.failure_reason,
            submitted_at_ms: s.submitted_at_ms,
            finished_at_ms: s.finished_at_ms,
            attempts: s.attempts,
            off_track: s.off_track,
            collisions: s.collisions,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Submissions<'a> {
    pub submissions: Vec<Submission<'a>>,
}

/// A trace written to a file.
#[derive(Debug, Serialize)]
pub struct TraceFile {
    pub file: String,
    pub bytes: usize,
}

/// A leaderboard row.
#[derive(Debug, Serialize)]
pub struct Row<'a> {
    pub rank: u32,
    pub user: &'a str,
    pub user_id: &'a str,
    pub score_ms: i64,
    pub score_s: f64,
    pub best_lap_ms: i64,
    pub off_track: u32,
    pub model: &'a str,
    pub submission_id: &'a str,
    pub achieved_at_ms: i64,
    /// When the submission was made: what orders rows that share a rank (an equal score).
    pub submitted_at_ms: i64,
}

impl<'a> From<&'a pb::LeaderboardRow> for Row<'a> {
    fn from(r: &'a pb::LeaderboardRow) -> Self {
        Row {
            rank: r.rank,
            user: &r.user_name,
            user_id: &r.user_id,
            score_ms: r.score_ms,
            score_s: r.score_ms as f64 / 1000.0,
            best_lap_ms: r.best_lap_ms,
            off_track: r.off_track,
            model: &r.model_name,
            submission_id: &r.submission_id,
            achieved_at_ms: r.achieved_at_ms,
            submitted_at_ms: r.submitted_at_ms,
        }
    }
}

/// `league leaderboard`: a page of the board.
#[derive(Debug, Serialize)]
pub struct Board<'a> {
    pub rows: Vec<Row<'a>>,
    pub total: u32,
    pub timing: &'static str,
}

impl<'a> From<&'a pb::GetLeaderboardResponse> for Board<'a> {
    fn from(b: &'a pb::GetLeaderboardResponse) -> Self {
        Board {
            rows: b.rows.iter().map(Row::from).collect(),
            total: b.total,
            timing: timing_name(b.timing),
        }
    }
}

/// `league seasons create | add-race`: a season.
#[derive(Debug, Serialize)]
pub struct Season<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub points: &'a [u32],
    pub race_ids: &'a [String],
    pub created_by: &'a str,
    pub created_at_ms: i64,
}

impl<'a> From<&'a pb::Season> for Season<'a> {
    fn from(s: &'a pb::Season) -> Self {
        let spec = s.spec.as_ref();
        Season {
            id: &s.id,
            name: spec.map_or("", |p| &p.name),
            description: spec.map_or("", |p| &p.description),
            points: spec.map_or(&[], |p| &p.points),
            race_ids: spec.map_or(&[], |p| &p.race_ids),
            created_by: &s.created_by,
            created_at_ms: s.created_at_ms,
        }
    }
}

/// `league seasons list`.
#[derive(Debug, Serialize)]
pub struct Seasons<'a> {
    pub seasons: Vec<Season<'a>>,
}

/// `league seasons show`: the standings.
#[derive(Debug, Serialize)]
pub struct Standings<'a> {
    pub season: Option<Season<'a>>,
    /// The races' names in the season's order ("" for a race that no longer counts).
    pub races: &'a [String],
    pub rows: Vec<StandingsRow<'a>>,
    /// Ranked racers in the whole table.
    pub total: u32,
    /// The next page's `--offset` ("" on the last page).
    pub next_page_token: &'a str,
}

#[derive(Debug, Serialize)]
pub struct StandingsRow<'a> {
    pub position: u32,
    pub user_id: &'a str,
    pub user_name: &'a str,
    pub points: u32,
    /// Per race: the rank (0 = not ranked) and the points.
    pub ranks: &'a [u32],
    pub race_points: &'a [u32],
    pub races: u32,
}

impl<'a> From<&'a pb::GetStandingsResponse> for Standings<'a> {
    fn from(r: &'a pb::GetStandingsResponse) -> Self {
        Standings {
            season: r.season.as_ref().map(Season::from),
            races: &r.race_names,
            total: r.total,
            next_page_token: &r.next_page_token,
            rows: r
                .rows
                .iter()
                .map(|s| StandingsRow {
                    position: s.position,
                    user_id: &s.user_id,
                    user_name: &s.user_name,
                    points: s.points,
                    ranks: &s.ranks,
                    race_points: &s.race_points,
                    races: s.races,
                })
                .collect(),
        }
    }
}

// `league leaderboard --watch`: one document per event.

/// The board as it stands (first, and again when a racer leaves it).
#[derive(Debug, Serialize)]
pub struct Snapshot<'a> {
    pub snapshot: Vec<Row<'a>>,
    pub total: u32,
}

/// A submission to the race changed status.
#[derive(Debug, Serialize)]
pub struct SubmissionEvent<'a> {
    pub submission: Submission<'a>,
}

/// A racer's row changed.
#[derive(Debug, Serialize)]
pub struct RankChange<'a> {
    pub rank_change: Row<'a>,
}

#[cfg(test)]
mod tests;

/// `league check-reward`: `ok`, and the error or what the function returned.
#[derive(Debug, Serialize)]
pub struct RewardCheck {
    pub ok: bool,
    pub error: String,
    pub calls: u64,
    pub offtrack_calls: u64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
}

impl From<&pb::CheckRewardResponse> for RewardCheck {
    fn from(r: &pb::CheckRewardResponse) -> Self {
        RewardCheck {
            ok: r.ok,
            error: r.error.clone(),
            calls: r.calls,
            offtrack_calls: r.offtrack_calls,
            min: r.min,
            max: r.max,
            mean: r.mean,
        }
    }
}

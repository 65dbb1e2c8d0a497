//! What people read: tables (a header line, then one line per row) and cards, as text without a
//! final newline. Enum fields use the names of `slipstream_league_client::convert`, times [`time`], lap times
//! [`seconds`].

use slipstream_league_client::convert::{
    race_state_name, race_type_from_pb, reverse_from_pb, role_name, status_name, timing_name,
};
use slipstream_league_client::kinds::RaceType;
use slipstream_proto::v1 as pb;

use super::{seconds, time};

pub fn users(users: &[pb::User]) -> String {
    let mut lines = vec![format!("{:<38} {:<20} {:<12} created", "id", "name", "role")];
    lines.extend(users.iter().map(|u| {
        format!(
            "{:<38} {:<20} {:<12} {}",
            u.id,
            u.name,
            role_name(u.role),
            time(u.created_at_ms)
        )
    }));
    lines.join("\n")
}

/// Tokens (never their secrets); `now` decides which have expired.
pub fn signup_invites(invites: &[pb::SignupInvite], now: i64) -> String {
    let mut lines = vec![format!(
        "{:<36} {:<12} {:<9} {:<10} {:<20} {:<20} note",
        "id", "role", "state", "used", "created", "expires"
    )];
    lines.extend(invites.iter().map(|i| {
        format!(
            "{:<36} {:<12} {:<9} {:<10} {:<20} {:<20} {}",
            i.invite_id,
            role_name(i.role),
            super::json::invite_state(i, now),
            format!("{} of {}", i.uses, i.max_uses),
            time(i.created_at_ms),
            if i.expires_at_ms == 0 {
                "never".to_string()
            } else {
                time(i.expires_at_ms)
            },
            i.note,
        )
    }));
    lines.join("\n")
}

pub fn tokens(tokens: &[pb::TokenInfo], now: i64) -> String {
    let mut lines = vec![format!(
        "{:<36} {:<16} {:<24} {:<8} {:<20} {:<20} last used",
        "id", "user", "description", "state", "created", "expires"
    )];
    lines.extend(tokens.iter().map(|t| {
        let description = if t.bootstrap && t.description.is_empty() {
            "(bootstrap)".to_string()
        } else {
            t.description.clone()
        };
        format!(
            "{:<36} {:<16} {:<24} {:<8} {:<20} {:<20} {}",
            t.token_id,
            t.user_name,
            description,
            super::json::token_state(t, now),
            time(t.created_at_ms),
            if t.expires_at_ms == 0 {
                "never".to_string()
            } else {
                time(t.expires_at_ms)
            },
            if t.last_used_at_ms == 0 {
                "never".to_string()
            } else {
                time(t.last_used_at_ms)
            },
        )
    }));
    lines.join("\n")
}

pub fn tracks(tracks: &[pb::TrackInfo]) -> String {
    let mut lines = vec![format!(
        "{:<74} {:<16} {:>9} {:>8}",
        "id", "name", "length_m", "width_m"
    )];
    lines.extend(
        tracks
            .iter()
            .map(|t| format!("{:<74} {:<16} {:>9.2} {:>8.2}", t.id, t.name, t.length_m, t.width_min_m)),
    );
    lines.join("\n")
}

pub fn races(races: &[pb::Race]) -> String {
    let mut lines = vec![format!(
        "{:<38} {:<24} {:<12} {:<9} {:<12} closes",
        "id", "name", "track", "state", "timing"
    )];
    lines.extend(races.iter().map(|r| {
        let s = r.spec.clone().unwrap_or_default();
        format!(
            "{:<38} {:<24} {:<12} {:<9} {:<12} {}",
            r.id,
            s.name,
            s.track,
            race_state_name(r.state),
            timing_name(s.timing),
            closes(s.closes_at_ms)
        )
    }));
    lines.join("\n")
}

/// A race's closing time; 0 = never.
fn closes(ms: i64) -> String {
    if ms == 0 { "never".into() } else { time(ms) }
}

/// One race, all its settings.
pub fn race(r: &pb::Race) -> String {
    let s = r.spec.clone().unwrap_or_default();
    let reverse = reverse_from_pb(s.direction) == Some(true);
    let mut lines = vec![format!("{}  ({}, {})", s.name, r.id, race_state_name(r.state))];
    if !s.description.is_empty() {
        lines.push(format!("  {}", s.description));
    }
    lines.push(format!(
        "track        {}{}",
        s.track,
        if reverse { " (reversed)" } else { "" }
    ));
    let what = match (race_type_from_pb(s.race_type), &s.obstacles, &s.bots) {
        (Some(RaceType::ObjectAvoidance), Some(o), _) => format!("object avoidance, {} obstacles", o.count),
        (Some(RaceType::HeadToBot), _, Some(b)) => format!(
            "head-to-bot, {} bots at {:.1} m/s{}",
            b.count,
            b.speed_mps,
            if b.lane_change { ", changing lanes" } else { "" }
        ),
        (t, _, _) => t.map_or("?", RaceType::as_str).replace('_', " "),
    };
    lines.push(format!("race type    {what}"));
    lines.push(format!(
        "scoring      {} over {} laps (qualify with {} consecutive completed)",
        timing_name(s.timing),
        s.laps,
        s.min_laps
    ));
    lines.push(format!(
        "rules        {}, {} reset{} per {}",
        if s.continuous {
            "continuous laps"
        } else {
            "separate trials"
        },
        s.number_of_resets,
        if s.number_of_resets == 1 { "" } else { "s" },
        if s.continuous { "race" } else { "trial" },
    ));
    lines.push(format!(
        "penalties    off-track {} s, collision {} s, reversed {} s, immobilized {} s (held, clock running)",
        s.off_track_penalty_s,
        s.collision_penalty_s,
        s.reverse_penalty_s.unwrap_or(s.off_track_penalty_s),
        s.immobilized_penalty_s
    ));
    lines.push(format!(
        "window       {} → {}",
        match s.opens_at_ms {
            0 => "from creation".to_string(),
            t => time(t),
        },
        closes(s.closes_at_ms)
    ));
    let cap = match s.max_submissions_per_user {
        0 => "unlimited".to_string(),
        n => n.to_string(),
    };
    lines.push(format!("submissions  {cap} per racer"));
    lines.push(format!(
        "entry        {}",
        if s.private { "private (by invite)" } else { "public" }
    ));
    lines.push(format!(
        "sensors      {}",
        if s.sensors.is_empty() {
            "any".to_string()
        } else {
            s.sensors.join(", ")
        }
    ));
    lines.join("\n")
}

pub fn models(models: &[pb::ModelInfo]) -> String {
    let mut lines = vec![format!(
        "{:<38} {:<24} {:>10} {:<8} {:<11} uploaded",
        "id", "name", "bytes", "sensor", "actions"
    )];
    lines.extend(models.iter().map(|m| {
        format!(
            "{:<38} {:<24} {:>10} {:<8} {:<11} {}",
            m.id,
            m.name,
            m.size_bytes,
            m.sensor,
            m.action_space_type,
            time(m.uploaded_at_ms)
        )
    }));
    lines.join("\n")
}

/// One submission: its status, laps and score.
pub fn submission(s: &pb::Submission) -> String {
    let mut lines = vec![
        format!("submission {}  race {}  model {}", s.id, s.race_id, s.model_id),
        format!(
            "status     {}{}",
            status_name(s.status),
            if s.failure_reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", s.failure_reason)
            }
        ),
    ];
    lines.extend(s.laps.iter().map(|l| {
        format!(
            "  lap {:>2}: {:>8} s  penalty {:>6} s  off-track {}  collisions {}{}",
            l.lap,
            seconds(l.time_ms),
            seconds(l.penalty_ms),
            l.off_track,
            l.collisions,
            if l.completed { "" } else { "  (not completed)" }
        )
    }));
    if s.status == pb::SubmissionStatus::Completed as i32 {
        lines.push(if s.qualified {
            format!("score      {} s", seconds(s.score_ms))
        } else {
            "score      - (did not qualify: not enough consecutive completed laps)".into()
        });
    }
    lines.join("\n")
}

pub fn submissions(submissions: &[pb::Submission]) -> String {
    let mut lines = vec![format!(
        "{:<38} {:<38} {:<10} {:>9} submitted",
        "id", "race", "status", "score_s"
    )];
    lines.extend(submissions.iter().map(|s| {
        let score = if s.qualified { seconds(s.score_ms) } else { "-".into() };
        format!(
            "{:<38} {:<38} {:<10} {:>9} {}",
            s.id,
            s.race_id,
            status_name(s.status),
            score,
            time(s.submitted_at_ms)
        )
    }));
    lines.join("\n")
}

/// A rank as the board shows it: `=2` when the row shares it (an equal score), else `2`.
pub fn rank(rank: u32, shared: bool) -> String {
    if shared { format!("={rank}") } else { rank.to_string() }
}

/// A page of a leaderboard, then how many are ranked. Rows that share a rank (equal scores; listed by
/// submission time, earlier first) show it as `=N`.
pub fn board(b: &pb::GetLeaderboardResponse) -> String {
    let mut lines = vec![format!(
        "{:>5}  {:<20} {:>10} {:>10} {:>9}  {:<16} {:<20} achieved",
        "rank", "racer", "score_s", "best_lap_s", "off-track", "model", "submitted"
    )];
    let rows = &b.rows;
    lines.extend(rows.iter().enumerate().map(|(i, r)| {
        let same = |j: Option<usize>| j.and_then(|j| rows.get(j)).is_some_and(|o| o.rank == r.rank);
        let shared = same(i.checked_sub(1)) || same(Some(i + 1));
        format!(
            "{:>5}  {:<20} {:>10} {:>10} {:>9}  {:<16} {:<20} {}",
            rank(r.rank, shared),
            r.user_name,
            seconds(r.score_ms),
            seconds(r.best_lap_ms),
            r.off_track,
            r.model_name,
            time(r.submitted_at_ms),
            time(r.achieved_at_ms)
        )
    }));
    lines.push(format!(
        "({} ranked, {}; {} shown; =N: an equal score, earlier submission first)",
        b.total,
        timing_name(b.timing),
        b.rows.len()
    ));
    lines.join("\n")
}

/// `league seasons list`.
pub fn seasons(seasons: &[pb::Season]) -> String {
    let mut lines = vec![format!("{:<40} {:<30} {:>5}  points", "id", "name", "races")];
    for s in seasons {
        let spec = s.spec.clone().unwrap_or_default();
        let points: Vec<String> = spec.points.iter().map(u32::to_string).collect();
        lines.push(format!(
            "{:<40} {:<30} {:>5}  {}",
            s.id,
            spec.name,
            spec.race_ids.len(),
            points.join(" ")
        ));
    }
    lines.join("\n")
}

/// `league seasons show`: one line per racer, a column per race (rank/points).
pub fn standings(r: &pb::GetStandingsResponse) -> String {
    let name = r
        .season
        .as_ref()
        .and_then(|s| s.spec.as_ref())
        .map_or("", |s| s.name.as_str());
    let shown = if (r.rows.len() as u32) < r.total {
        format!(
            " ({} of {} racers; --offset and --limit for more)",
            r.rows.len(),
            r.total
        )
    } else {
        String::new()
    };
    let mut lines = vec![format!("{name}: standings{shown}")];
    for (i, race) in r.race_names.iter().enumerate() {
        let race = if race.is_empty() { "(no longer counts)" } else { race };
        lines.push(format!("  R{}: {race}", i + 1));
    }
    let races: Vec<String> = (1..=r.race_names.len())
        .map(|i| format!("{:>8}", format!("R{i}")))
        .collect();
    lines.push(format!(
        "{:>4}  {:<20} {:>6} {}",
        "pos",
        "racer",
        "points",
        races.join("")
    ));
    for s in &r.rows {
        let cells: Vec<String> = s
            .ranks
            .iter()
            .zip(&s.race_points)
            .map(|(&rank, &p)| {
                if rank == 0 {
                    format!("{:>8}", "-")
                } else {
                    format!("{:>8}", format!("{rank}/{p}"))
                }
            })
            .collect();
        lines.push(format!(
            "{:>4}  {:<20} {:>6} {}",
            s.position,
            s.user_name,
            s.points,
            cells.join("")
        ));
    }
    lines.push(
        "(each race: rank/points; ordered by points, then more 1st places, then 2nd, …; equal racers share a position)"
            .into(),
    );
    lines.join("\n")
}

/// `--watch`: a submission to the race changed status.
pub fn submission_event(s: &pb::Submission) -> String {
    format!("submission {} by {}: {}", s.id, s.user_id, status_name(s.status))
}

/// `--watch`: a racer's row changed.
pub fn rank_change(r: &pb::LeaderboardRow) -> String {
    format!("rank {:>4}: {} {} s", r.rank, r.user_name, seconds(r.score_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAY_1: i64 = 1_714_555_800_000; // 2024-05-01 09:30:00Z

    #[test]
    fn a_leaderboard_is_a_table_then_a_count() {
        let b = pb::GetLeaderboardResponse {
            rows: vec![pb::LeaderboardRow {
                rank: 1,
                user_id: "user_1".into(),
                user_name: "ada".into(),
                score_ms: 83_125,
                submission_id: "sub_1".into(),
                model_name: "fast-one".into(),
                achieved_at_ms: MAY_1 + 60_000,
                off_track: 2,
                best_lap_ms: 27_042,
                submitted_at_ms: MAY_1,
            }],
            next_page_token: String::new(),
            total: 7,
            timing: pb::TimingMethod::TotalTime as i32,
        };
        assert_eq!(
            board(&b).lines().collect::<Vec<_>>(),
            [
                " rank  racer                   score_s best_lap_s off-track  model            submitted            achieved",
                "    1  ada                      83.125     27.042         2  fast-one         2024-05-01 09:30:00Z 2024-05-01 09:31:00Z",
                "(7 ranked, total time; 1 shown; =N: an equal score, earlier submission first)",
            ]
        );
    }

    #[test]
    fn tokens_show_their_state_and_never_a_secret() {
        let t = |id: &str, expires_at_ms, revoked_at_ms| pb::TokenInfo {
            token_id: id.into(),
            user_id: "user_1".into(),
            user_name: "ada".into(),
            description: "laptop".into(),
            created_at_ms: MAY_1,
            expires_at_ms,
            revoked_at_ms,
            last_used_at_ms: 0,
            bootstrap: false,
        };
        let table = tokens(
            &[t("tok_1", 0, 0), t("tok_2", MAY_1 + 1, 0), t("tok_3", 0, MAY_1)],
            MAY_1 + 10,
        );
        let states: Vec<Vec<&str>> = table
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().take(4).collect())
            .collect();
        assert_eq!(
            states,
            [
                ["tok_1", "ada", "laptop", "active"],
                ["tok_2", "ada", "laptop", "expired"],
                ["tok_3", "ada", "laptop", "revoked"]
            ]
        );
        assert_eq!(table.lines().nth(1).unwrap().matches("never").count(), 2, "{table}");
    }

    #[test]
    fn rows_that_share_a_rank_show_it() {
        let row = |rank, name: &str, score_ms| pb::LeaderboardRow {
            rank,
            user_name: name.into(),
            score_ms,
            ..Default::default()
        };
        let b = pb::GetLeaderboardResponse {
            rows: vec![
                row(1, "ada", 8_000),
                row(2, "ben", 9_000),
                row(2, "cid", 9_000),
                row(2, "dee", 9_000),
                row(5, "eve", 9_500),
            ],
            total: 5,
            ..Default::default()
        };
        let ranks: Vec<String> = board(&b)
            .lines()
            .skip(1)
            .take(5)
            .map(|l| l.split_whitespace().next().unwrap().to_string())
            .collect();
        assert_eq!(ranks, ["1", "=2", "=2", "=2", "5"]);
    }

    #[test]
    fn a_race_card_names_its_settings() {
        let r = pb::Race {
            id: "race_1".into(),
            spec: Some(pb::RaceSpec {
                name: "Autumn cup".into(),
                description: "Mind the hairpin.".into(),
                track: "hairpins".into(),
                direction: pb::Direction::Reverse as i32,
                race_type: pb::RaceType::HeadToBot as i32,
                bots: Some(pb::BotSettings {
                    count: 3,
                    speed_mps: 0.6,
                    lane_change: true,
                }),
                timing: pb::TimingMethod::BestAverage as i32,
                min_laps: 2,
                laps: 3,
                off_track_penalty_s: 2.0,
                collision_penalty_s: 5.0,
                continuous: false,
                number_of_resets: 0,
                reverse_penalty_s: None,
                immobilized_penalty_s: 0.0,
                opens_at_ms: MAY_1,
                closes_at_ms: MAY_1 + 7 * 86_400_000,
                max_submissions_per_user: 10,
                private: true,
                sensors: vec!["camera".into(), "stereo_camera".into()],
                ..Default::default()
            }),
            state: pb::RaceState::Open as i32,
            ..Default::default()
        };
        assert_eq!(
            race(&r),
            "\
Autumn cup  (race_1, open)
  Mind the hairpin.
track        hairpins (reversed)
race type    head-to-bot, 3 bots at 0.6 m/s, changing lanes
scoring      best average over 3 laps (qualify with 2 consecutive completed)
rules        separate trials, 0 resets per trial
penalties    off-track 2 s, collision 5 s, reversed 2 s, immobilized 0 s (held, clock running)
window       2024-05-01 09:30:00Z → 2024-05-08 09:30:00Z
submissions  10 per racer
entry        private (by invite)
sensors      camera, stereo_camera"
        );
        // A time trial, with nothing set: the server's defaults, times not set (no window: open
        // from its creation, never closing).
        let plain = race(&pb::Race::default());
        assert!(plain.contains("race type    time trial\n"), "{plain}");
        assert!(plain.contains("scoring      best lap over 0 laps"), "{plain}");
        assert!(
            plain.contains("window       from creation → never\nsubmissions  unlimited per racer\nentry        public\nsensors      any"),
            "{plain}"
        );
    }

    #[test]
    fn a_submission_shows_its_laps_and_score() {
        let lap = |lap, time_ms, completed| pb::LapTime {
            lap,
            time_ms,
            penalty_ms: if completed { 0 } else { 2_000 },
            off_track: u32::from(!completed),
            collisions: 0,
            completed,
        };
        let mut s = pb::Submission {
            id: "sub_1".into(),
            race_id: "race_1".into(),
            model_id: "model_1".into(),
            status: pb::SubmissionStatus::Completed as i32,
            laps: vec![lap(1, 27_042, true), lap(2, 31_500, false)],
            qualified: true,
            score_ms: 27_042,
            ..Default::default()
        };
        assert_eq!(
            submission(&s),
            "\
submission sub_1  race race_1  model model_1
status     completed
  lap  1:   27.042 s  penalty  0.000 s  off-track 0  collisions 0
  lap  2:   31.500 s  penalty  2.000 s  off-track 1  collisions 0  (not completed)
score      27.042 s"
        );
        s.qualified = false;
        assert!(submission(&s).ends_with("score      - (did not qualify: not enough consecutive completed laps)"));
        s.status = pb::SubmissionStatus::Failed as i32;
        s.failure_reason = "the evaluation timed out".into();
        s.laps.clear();
        assert_eq!(
            submission(&s),
            "submission sub_1  race race_1  model model_1\nstatus     failed (the evaluation timed out)"
        );
    }

    #[test]
    fn tables_have_a_header_and_a_line_per_row() {
        let u = pb::User {
            id: "user_1".into(),
            name: "ada".into(),
            role: pb::Role::Facilitator as i32,
            created_at_ms: MAY_1,
        };
        let table = users(&[u.clone(), u]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            ["id", "name", "role", "created"]
        );
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>(),
            ["user_1", "ada", "facilitator", "2024-05-01", "09:30:00Z"]
        );
        assert_eq!(users(&[]).lines().count(), 1, "an empty table is its header");
    }
}

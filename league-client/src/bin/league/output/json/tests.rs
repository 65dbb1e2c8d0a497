//! The `--json` documents, pinned: scripts read these keys and shapes.

use serde_json::{Value, json};

use super::*;

fn doc(v: impl Serialize) -> Value {
    serde_json::to_value(v).unwrap()
}

#[test]
fn a_race_is_its_spec_flattened() {
    let mut r = pb::Race {
        id: "race_1".into(),
        spec: Some(pb::RaceSpec {
            name: "Cup".into(),
            track: "oval".into(),
            direction: pb::Direction::Reverse as i32,
            race_type: pb::RaceType::HeadToBot as i32,
            bots: Some(pb::BotSettings {
                count: 3,
                speed_mps: 0.5,
                lane_change: true,
            }),
            timing: pb::TimingMethod::TotalTime as i32,
            min_laps: 3,
            laps: 3,
            off_track_penalty_s: 2.0,
            collision_penalty_s: 5.0,
            continuous: false,
            number_of_resets: 0,
            reverse_penalty_s: None,
            immobilized_penalty_s: 0.0,
            opens_at_ms: 1_000,
            closes_at_ms: 2_000,
            max_submissions_per_user: 10,
            private: true,
            sensors: vec!["camera".into(), "camera+lidar".into()],
            ..Default::default()
        }),
        state: pb::RaceState::Upcoming as i32,
        created_by: "user_1".into(),
        ..Default::default()
    };
    assert_eq!(
        doc(Race::from(&r)),
        json!({"id": "race_1", "name": "Cup", "description": "", "track": "oval", "direction": "reverse",
               "race_type": "head_to_bot", "obstacles": null,
               "bots": {"count": 3, "speed_mps": 0.5, "lane_change": true},
               "timing": "total time", "laps": 3, "min_laps": 3, "off_track_penalty_s": 2.0,
               "collision_penalty_s": 5.0, "continuous": false, "number_of_resets": 0,
               "reverse_penalty_s": 2.0, "immobilized_penalty_s": 0.0, "opens_at_ms": 1_000, "closes_at_ms": 2_000, "state": "upcoming",
               "max_submissions_per_user": 10, "private": true, "sensors": ["camera", "camera+lidar"], "created_by": "user_1"})
    );
    let spec = r.spec.as_mut().unwrap();
    spec.race_type = pb::RaceType::ObjectAvoidance as i32;
    spec.bots = None;
    spec.obstacles = Some(pb::ObstacleSettings {
        count: 4,
        positions: vec![],
    });
    let d = doc(Race::from(&r));
    assert_eq!(
        (&d["race_type"], &d["obstacles"], &d["bots"]),
        (&json!("object_avoidance"), &json!(4), &Value::Null)
    );
}

#[test]
fn a_submission_has_its_laps_and_a_score_only_if_it_qualified() {
    let mut s = pb::Submission {
        id: "sub_1".into(),
        race_id: "race_1".into(),
        model_id: "model_1".into(),
        user_id: "user_1".into(),
        status: pb::SubmissionStatus::Completed as i32,
        laps: vec![pb::LapTime {
            lap: 1,
            time_ms: 12_345,
            penalty_ms: 2_000,
            off_track: 1,
            collisions: 0,
            completed: true,
        }],
        qualified: true,
        score_ms: 12_345,
        submitted_at_ms: 1_000,
        finished_at_ms: 2_000,
        attempts: 1,
        off_track: 1,
        ..Default::default()
    };
    assert_eq!(
        doc(Submission::from(&s)),
        json!({"id": "sub_1", "race_id": "race_1", "model_id": "model_1", "user_id": "user_1",
               "status": "completed",
               "laps": [{"lap": 1, "time_s": 12.345, "time_ms": 12_345, "penalty_ms": 2_000, "off_track": 1,
                         "collisions": 0, "completed": true}],
               "qualified": true, "score_ms": 12_345, "failure_reason": "", "submitted_at_ms": 1_000,
               "finished_at_ms": 2_000, "attempts": 1, "off_track": 1, "collisions": 0})
    );
    s.qualified = false;
    assert_eq!(doc(Submission::from(&s))["score_ms"], Value::Null);
}

#[test]
fn boards_and_their_events() {
    let row = pb::LeaderboardRow {
        rank: 1,
        user_id: "user_1".into(),
        user_name: "ada".into(),
        score_ms: 8_250,
        submission_id: "sub_1".into(),
        model_name: "fast".into(),
        achieved_at_ms: 1_000,
        off_track: 2,
        best_lap_ms: 8_000,
        submitted_at_ms: 900,
    };
    let expected_row = json!({"rank": 1, "user": "ada", "user_id": "user_1", "score_ms": 8_250, "score_s": 8.25,
                              "best_lap_ms": 8_000, "off_track": 2, "model": "fast", "submission_id": "sub_1",
                              "achieved_at_ms": 1_000, "submitted_at_ms": 900});
    let b = pb::GetLeaderboardResponse {
        rows: vec![row.clone()],
        next_page_token: String::new(),
        total: 1,
        timing: pb::TimingMethod::BestLap as i32,
    };
    assert_eq!(
        doc(Board::from(&b)),
        json!({"rows": [expected_row], "total": 1, "timing": "best lap"})
    );
    let snapshot = Snapshot {
        snapshot: vec![Row::from(&row)],
        total: 1,
    };
    assert_eq!(doc(snapshot), json!({"snapshot": [expected_row], "total": 1}));
    let change = RankChange {
        rank_change: Row::from(&row),
    };
    assert_eq!(doc(change), json!({ "rank_change": expected_row }));
}

#[test]
fn users_models_tracks_and_tokens() {
    let u = pb::User {
        id: "user_1".into(),
        name: "ada".into(),
        role: pb::Role::Worker as i32,
        created_at_ms: 1_000,
    };
    assert_eq!(
        doc(Users {
            users: vec![User::from(&u)]
        }),
        json!({"users": [{"id": "user_1", "name": "ada", "role": "worker", "created_at_ms": 1_000}]})
    );
    let m = pb::ModelInfo {
        id: "model_1".into(),
        name: "fast".into(),
        owner_id: "user_1".into(),
        sha256: "ab".into(),
        size_bytes: 42,
        uploaded_at_ms: 1_000,
        sensor: "lidar".into(),
        action_space_type: "continuous".into(),
        network: "mlp".into(),
        already_uploaded: false,
    };
    assert_eq!(
        doc(Model::from(&m)),
        json!({"id": "model_1", "name": "fast", "sha256": "ab", "size_bytes": 42, "uploaded_at_ms": 1_000,
               "sensor": "lidar", "action_space_type": "continuous", "network": "mlp"})
    );
    let again = pb::ModelInfo {
        already_uploaded: true,
        ..m.clone()
    };
    assert_eq!(doc(Model::from(&again))["already_uploaded"], json!(true));
    let t = pb::TrackInfo {
        id: "upload:ab".into(),
        name: "square".into(),
        waypoints: 24,
        length_m: 24.5,
        width_min_m: 1.0,
        width_mean_m: 1.0,
        closed: true,
        builtin: false,
    };
    assert_eq!(
        doc(Track::from(&t)),
        json!({"id": "upload:ab", "name": "square", "waypoints": 24, "length_m": 24.5, "width_min_m": 1.0,
               "closed": true, "builtin": false})
    );
    assert_eq!(
        doc(UploadedTrack::from(&t)),
        json!({"id": "upload:ab", "name": "square", "length_m": 24.5, "waypoints": 24})
    );
    let i = pb::Invite {
        id: "inv_1".into(),
        token: "slpi_x".into(),
        expires_at_ms: 0,
        ..Default::default()
    };
    assert_eq!(
        doc(Invite::from(&i)),
        json!({"invite_id": "inv_1", "token": "slpi_x", "expires_at_ms": 0})
    );
}

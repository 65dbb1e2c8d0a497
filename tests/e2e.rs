//! End to end, across the three crates, the way a league runs:
//!
//! 1. **sim** — a track is written as a DeepRacer `.npy` file (what an admin would bring);
//! 2. **trainer** — a student trains a small model on that file and evaluates it locally;
//! 3. **league** — a server on 127.0.0.1:0 with a fresh SQLite database; the admin uploads the track
//!    and opens a race on it; the student uploads the model file from disk and submits it; the
//!    queue races it; the leaderboard ranks it with a lap time.
//!
//! The cross-crate promise checked here: the lap times the league publishes are exactly the ones
//! `trainer evaluate` gives for the same model, track, laps, penalties and seed — for a
//! state-observation model and for camera and camera + lidar models made from DeepRacer
//! model_metadata.json files.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use slipstream_league::client::{Clients, connect};
use slipstream_league::ranking::to_ms;
use slipstream_league::{Config, serve};
use slipstream_proto::v1 as pb;
use slipstream_sim::RaceConfig;
use slipstream_sim::track::{Track, ValidateOptions};
use slipstream_trainer::{Budget, DeviceChoice, EvalOptions, Model, TrainConfig, TrainOptions, evaluate, train};

const ADMIN: &str = "e2e-admin-token-0123456789abcdef";

/// Train on `track_file` for `steps` agent steps into `out`.
fn train_model(track_file: &Path, steps: u64, out: &Path) {
    train_with(
        TrainConfig {
            eval_every: 0,
            ..Default::default()
        },
        track_file,
        steps,
        out,
    );
}

fn train_with(config: TrainConfig, track_file: &Path, steps: u64, out: &Path) {
    let opts = TrainOptions {
        config,
        tracks: vec![track_file.display().to_string()],
        reward: "progress_speed".into(),
        budget: Budget::Steps(steps),
        seed: 11,
        device: DeviceChoice::Cpu,
        out_dir: out.to_path_buf(),
        init_from: None,
        resume: false,
        show_reward_prints: false,
    };
    train(opts, &mut |_| {}).expect("training runs");
}

/// A new racer with a token issued by the admin, and a client connected with it.
async fn racer(admin: &mut Clients, addr: &str, name: &str) -> (pb::User, Clients) {
    let user = admin
        .users
        .create_user(pb::CreateUserRequest {
            name: name.into(),
            role: pb::Role::Racer as i32,
        })
        .await
        .unwrap()
        .into_inner();
    let token = admin
        .users
        .issue_token(pb::IssueTokenRequest {
            user_id: user.id.clone(),
            expires_at_ms: 0,
            description: "e2e".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    (user, connect(addr, Some(&token)).await.unwrap())
}

/// `model` raced locally by the trainer with the e2e race's settings and seed.
fn local_race(model: &Path, track_file: &Path, race_id: &str) -> slipstream_trainer::EvalReport {
    let model = Model::load(model, tch::Device::Cpu).unwrap();
    evaluate(
        &model,
        Arc::new(Track::load(track_file, &ValidateOptions::default()).unwrap()),
        "practice_oval",
        &EvalOptions {
            race: RaceConfig {
                continuous: true,
                number_of_resets: 10_000,
                max_time_s: 360.0,
                ..RaceConfig::default()
            },
            seed: slipstream_league::races::race_seed(race_id),
            ..Default::default()
        },
    )
    .unwrap()
}

async fn finished(c: &mut Clients, id: &str) -> pb::Submission {
    for _ in 0..600 {
        let s = c
            .submissions
            .get_submission(pb::GetSubmissionRequest {
                submission_id: id.into(),
            })
            .await
            .expect("the submission is readable by its owner")
            .into_inner();
        let status = pb::SubmissionStatus::try_from(s.status).unwrap();
        if matches!(
            status,
            pb::SubmissionStatus::Completed | pb::SubmissionStatus::Failed | pb::SubmissionStatus::Cancelled
        ) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("submission {id} was not evaluated within a minute");
}

async fn upload_model(c: &mut Clients, path: &Path, name: &str) -> pb::ModelInfo {
    let bytes = std::fs::read(path).unwrap();
    let mut msgs = vec![pb::UploadModelRequest {
        part: Some(pb::upload_model_request::Part::Metadata(pb::ModelUploadMetadata {
            name: name.into(),
            size_bytes: bytes.len() as u64,
        })),
    }];
    msgs.extend(bytes.chunks(64 << 10).map(|c| pb::UploadModelRequest {
        part: Some(pb::upload_model_request::Part::Chunk(c.to_vec())),
    }));
    c.models
        .upload_model(tokio_stream::iter(msgs))
        .await
        .expect("a trained model is accepted")
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_trained_on_a_track_file_is_raced_and_ranked_with_its_local_lap_times() {
    let dir = tempfile::tempdir().unwrap();

    // 1. sim: the track as a DeepRacer .npy file.
    let track_file = dir.path().join("practice_oval.npy");
    let oval = Track::resolve("oval", &ValidateOptions::default()).unwrap();
    slipstream_sim::track::npy::write_track_rows(&track_file, &oval.rows()).unwrap();

    // 2. trainer: train from the file, and a second one trained for a single iteration, for contrast.
    let trained_dir = dir.path().join("trained");
    train_model(&track_file, 120_000, &trained_dir);
    let trained_file = trained_dir.join("model_last.safetensors");
    assert!(
        trained_dir.join("model_metadata.json").is_file(),
        "DeepRacer metadata beside the model"
    );
    let untrained_dir = dir.path().join("untrained");
    train_model(&track_file, 1, &untrained_dir);

    // 3. league: a server with an in-process worker.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let db = format!("sqlite://{}", dir.path().join("league.db").display());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let cfg = Config {
            admin_token: Some(ADMIN.into()),
            workers: 1,
            ..Config::default()
        };
        serve(listener, &db, cfg, async {
            let _ = stopped.await;
        })
        .await
    });
    let mut admin = None;
    for _ in 0..100 {
        if let Ok(mut c) = connect(&addr, Some(ADMIN)).await
            && c.users.who_am_i(pb::WhoAmIRequest {}).await.is_ok()
        {
            admin = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut admin = admin.expect("the server answers");

    // The admin uploads the track file and opens a race on it.
    let track = admin
        .races
        .upload_track(pb::UploadTrackRequest {
            name: "Practice oval".into(),
            npy: std::fs::read(&track_file).unwrap(),
        })
        .await
        .expect("the .npy track is accepted")
        .into_inner();
    assert!(!track.builtin);
    assert_eq!(track.waypoints as usize, oval.num_waypoints());
    assert!((track.length_m - oval.length()).abs() < 1e-9);
    let now = slipstream_league::util::now_ms();
    let race = admin
        .races
        .create_race(pb::CreateRaceRequest {
            spec: Some(pb::RaceSpec {
                name: "Autumn cup".into(),
                track: track.id.clone(),
                timing: pb::TimingMethod::BestLap as i32,
                min_laps: 1,
                laps: 3,
                off_track_penalty_s: 2.0,
                collision_penalty_s: 5.0,
                // Continuous laps, every incident held and put back (DeepRacer's console calls
                // 10000 resets unlimited), so even the barely trained model finishes.
                continuous: true,
                number_of_resets: 10_000,
                reverse_penalty_s: None,
                immobilized_penalty_s: 0.0,
                opens_at_ms: now - 1000,
                closes_at_ms: now + 3_600_000,
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();

    // Two racers, with tokens issued by the admin.
    let mut racers = Vec::new();
    for name in ["ada", "ben"] {
        racers.push(racer(&mut admin, &addr, name).await);
    }
    let [(ada, mut a), (_, mut b)] = <[_; 2]>::try_from(racers).ok().unwrap();

    let ada_model = upload_model(&mut a, &trained_file, "ada-oval").await;
    let ben_model = upload_model(&mut b, &untrained_dir.join("model_last.safetensors"), "ben-first-try").await;
    let mut subs = Vec::new();
    for (c, m) in [(&mut a, &ada_model), (&mut b, &ben_model)] {
        let s = c
            .submissions
            .submit(pb::SubmitRequest {
                race_id: race.id.clone(),
                model_id: m.id.clone(),
            })
            .await
            .expect("the race is open and the cap not reached")
            .into_inner();
        subs.push(s.id);
    }
    let ada_sub = finished(&mut a, &subs[0]).await;
    let ben_sub = finished(&mut b, &subs[1]).await;
    assert_eq!(
        ada_sub.status,
        pb::SubmissionStatus::Completed as i32,
        "{}",
        ada_sub.failure_reason
    );
    assert_eq!(
        ben_sub.status,
        pb::SubmissionStatus::Completed as i32,
        "{}",
        ben_sub.failure_reason
    );
    assert_eq!(ada_sub.laps.len(), 3);
    assert!(
        ada_sub.laps.iter().all(|l| l.completed),
        "the trained model laps: {:?}",
        ada_sub.laps
    );
    assert!(ada_sub.qualified);
    // With resets a car that leaves the track is held for the penalty and put back on the track,
    // so even a barely trained model finishes its laps — slowly, and with off-tracks.
    assert!(
        ben_sub.off_track > ada_sub.off_track,
        "{:?} vs {:?}",
        ben_sub.laps,
        ada_sub.laps
    );

    // The same race, run locally by the trainer with the race's settings and seed: identical laps.
    let local = local_race(&trained_file, &track_file, &race.id);
    let local_ms: Vec<i64> = local.laps.iter().map(|l| to_ms(l.time_s)).collect();
    let league_ms: Vec<i64> = ada_sub.laps.iter().map(|l| l.time_ms).collect();
    assert_eq!(league_ms, local_ms, "the league's lap times are the trainer's");
    let best = to_ms(local.best_lap_s.unwrap());

    // The leaderboard (public, no token): ada first with her best lap, ben behind her.
    // (The board follows a result's commit by a moment: poll until both rows are there.)
    let mut anon = connect(&addr, None).await.unwrap();
    let mut board = pb::GetLeaderboardResponse::default();
    for _ in 0..100 {
        board = anon
            .leaderboards
            .get_leaderboard(pb::GetLeaderboardRequest {
                race_id: race.id.clone(),
                page_size: 10,
                page_token: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        if board.total == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(board.total, 2, "{:?}", board.rows);
    let row = &board.rows[0];
    assert_eq!((row.rank, row.user_id.as_str()), (1, ada.id.as_str()));
    assert_eq!(row.score_ms, best);
    assert_eq!(row.best_lap_ms, best);
    assert_eq!(row.model_name, "ada-oval");
    assert!(
        best > 3_000 && best < 60_000,
        "a plausible lap on a small oval: {best} ms"
    );
    let second = &board.rows[1];
    assert_eq!((second.rank, second.model_name.as_str()), (2, "ben-first-try"));
    assert!(second.score_ms > best);
    assert_eq!(second.score_ms, ben_sub.score_ms);

    // Models made from students' DeepRacer model_metadata.json files (one PPO iteration each) —
    // each action-space kind and sensor set: a discrete front-facing camera with the 3-layer CNN;
    // continuous stereo cameras with SECTOR_LIDAR and the 5-layer CNN; a front-facing camera with
    // LIDAR — are accepted, raced from their images (and lidar readings), and timed exactly as the
    // trainer times them locally.
    let discrete = r#""action_space": [{"steering_angle": -30.0, "speed": 1.0, "index": 0}, {"steering_angle": 0.0, "speed": 2.0, "index": 1},
        {"steering_angle": 30.0, "speed": 1.0, "index": 2}], "action_space_type": "discrete""#;
    let continuous = r#""action_space": {"steering_angle": {"low": -30.0, "high": 30.0}, "speed": {"low": 1.0, "high": 2.0}},
        "action_space_type": "continuous""#;
    let students = [
        (
            "cy",
            discrete,
            r#"["FRONT_FACING_CAMERA"]"#,
            "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
            "camera",
        ),
        (
            "di",
            continuous,
            r#"["STEREO_CAMERAS", "SECTOR_LIDAR"]"#,
            "DEEP_CONVOLUTIONAL_NETWORK",
            "stereo_camera+sector_lidar",
        ),
        (
            "ed",
            continuous,
            r#"["FRONT_FACING_CAMERA", "LIDAR"]"#,
            "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
            "camera+lidar",
        ),
    ];
    for (name, action_space, sensor, network, kind) in students {
        let space = if action_space == discrete {
            "discrete"
        } else {
            "continuous"
        };
        let model_dir = dir.path().join(name);
        let mut config = TrainConfig {
            num_cars: 4,
            rollout_steps: 16,
            batch_size: 64,
            eval_every: 0,
            ..Default::default()
        };
        let student = slipstream_sim::ModelMetadata::parse(&format!(
            r#"{{{action_space}, "sensor": {sensor}, "neural_network": "{network}",
                "training_algorithm": "clipped_ppo", "version": "5"}}"#
        ))
        .unwrap();
        slipstream_trainer::model_metadata::apply(&mut config, &student).unwrap();
        train_with(config, &track_file, 1, &model_dir);
        let model_file = model_dir.join("model_last.safetensors");
        let (_, mut c) = racer(&mut admin, &addr, name).await;
        let model = upload_model(&mut c, &model_file, &format!("{name}-model")).await;
        assert_eq!(
            (
                model.sensor.as_str(),
                model.network.as_str(),
                model.action_space_type.as_str()
            ),
            (kind, network, space),
            "{name}"
        );
        let s = c
            .submissions
            .submit(pb::SubmitRequest {
                race_id: race.id.clone(),
                model_id: model.id.clone(),
            })
            .await
            .expect("a DeepRacer set-up is raced like any other model")
            .into_inner();
        let sub = finished(&mut c, &s.id).await;
        assert_eq!(
            sub.status,
            pb::SubmissionStatus::Completed as i32,
            "{name}: {}",
            sub.failure_reason
        );
        let local = local_race(&model_file, &track_file, &race.id);
        let local_ms: Vec<i64> = local.laps.iter().map(|l| to_ms(l.time_s)).collect();
        let league_ms: Vec<i64> = sub.laps.iter().map(|l| l.time_ms).collect();
        assert!(!league_ms.is_empty(), "{name}");
        assert_eq!(
            league_ms, local_ms,
            "{name}: the league races the model as the trainer does"
        );
    }

    let _ = stop.send(());
    server.await.unwrap().expect("a clean shutdown");
}

//! In-process league servers on 127.0.0.1:0 with a temporary SQLite database, and helpers.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use slipstream_league::client::{Clients, connect};
use slipstream_league::{Config, serve};
use slipstream_proto::v1 as pb;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADMIN: &str = "test-admin-token-0123456789abcdefghij";

pub struct TestServer {
    pub addr: String,
    pub db: String,
    pub dir: tempfile::TempDir,
    /// The server's clock: tests move it on instead of waiting (a token's expiry).
    pub clock: slipstream_league::util::Clock,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), slipstream_league::LeagueError>>>,
}

impl TestServer {
    pub async fn start(workers: usize) -> Self {
        Self::start_with(
            Config {
                workers,
                ..test_config()
            },
            None,
        )
        .await
    }

    /// Start a server; `db` reuses a database URL (a restart), otherwise a fresh SQLite file.
    pub async fn start_with(cfg: Config, db: Option<(String, tempfile::TempDir)>) -> Self {
        let (db, dir) = match db {
            Some(x) => x,
            None => {
                let dir = tempfile::tempdir().unwrap();
                (format!("sqlite://{}", dir.path().join("league.db").display()), dir)
            }
        };
        let admin = cfg.admin_token.clone().unwrap_or_else(|| ADMIN.into());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let db2 = db.clone();
        let clock = cfg.clock.clone();
        let handle = tokio::spawn(async move {
            serve(listener, &db2, cfg, async {
                let _ = rx.await;
            })
            .await
        });
        // Wait until it answers.
        for _ in 0..100 {
            if let Ok(mut c) = connect(&addr, Some(&admin)).await
                && c.users.who_am_i(pb::WhoAmIRequest {}).await.is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        TestServer {
            addr,
            db,
            dir,
            clock,
            stop: Some(tx),
            handle: Some(handle),
        }
    }

    pub async fn client(&self, token: Option<&str>) -> Clients {
        connect(&self.addr, token).await.unwrap()
    }

    pub async fn admin(&self) -> Clients {
        self.client(Some(ADMIN)).await
    }

    /// Create a user with a role and return (user, token, clients).
    pub async fn user(&self, name: &str, role: pb::Role) -> (pb::User, String, Clients) {
        let mut a = self.admin().await;
        let u = a
            .users
            .create_user(pb::CreateUserRequest {
                name: name.into(),
                role: role as i32,
            })
            .await
            .unwrap()
            .into_inner();
        let t = a
            .users
            .issue_token(pb::IssueTokenRequest {
                user_id: u.id.clone(),
                expires_at_ms: 0,
                description: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        let c = self.client(Some(&t.token)).await;
        (u, t.token, c)
    }

    /// Stop the server gracefully; returns the database (to restart on it).
    pub async fn stop(mut self) -> (String, tempfile::TempDir) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap().unwrap();
        }
        let TestServer { db, dir, .. } = self;
        (db, dir)
    }
}

pub fn test_config() -> Config {
    Config {
        admin_token: Some(ADMIN.into()),
        backoff: Duration::from_millis(50),
        ..Config::default()
    }
}

/// A race on `track` open now for a day.
pub fn open_spec(name: &str, track: &str) -> pb::RaceSpec {
    let now = slipstream_league::util::now_ms();
    pb::RaceSpec {
        name: name.into(),
        track: track.into(),
        timing: pb::TimingMethod::BestLap as i32,
        min_laps: 1,
        laps: 3,
        off_track_penalty_s: 2.0,
        collision_penalty_s: 5.0,
        continuous: false,
        number_of_resets: 0,
        reverse_penalty_s: None,
        immobilized_penalty_s: 0.0,
        opens_at_ms: now - 1000,
        closes_at_ms: now + 86_400_000,
        ..Default::default()
    }
}

/// Create a race as `c` (a facilitator or an admin); panics with the server's message if refused.
pub async fn create_race(c: &mut Clients, spec: pb::RaceSpec) -> pb::Race {
    c.races
        .create_race(pb::CreateRaceRequest { spec: Some(spec) })
        .await
        .unwrap_or_else(|e| panic!("creating a race: {}", e.message()))
        .into_inner()
}

/// A model trained on the oval for 120,000 steps (trained once per test binary).
pub fn trained_model() -> Vec<u8> {
    static MODEL: OnceLock<Vec<u8>> = OnceLock::new();
    MODEL.get_or_init(|| train_on_oval(120_000)).clone()
}

/// A model trained on the oval for only 4,096 steps: it laps slowly, leaving the road often — a
/// rival the trained model should beat (trained once per test binary).
pub fn weak_model() -> Vec<u8> {
    static MODEL: OnceLock<Vec<u8>> = OnceLock::new();
    MODEL.get_or_init(|| train_on_oval(4_096)).clone()
}

/// Train on the oval for `steps` (seed 3) and return the last model's file.
fn train_on_oval(steps: u64) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let opts = slipstream_trainer::TrainOptions {
        config: slipstream_trainer::TrainConfig {
            eval_every: 0,
            ..Default::default()
        },
        tracks: vec!["oval".into()],
        reward: "progress_speed".into(),
        budget: slipstream_trainer::Budget::Steps(steps),
        seed: 3,
        device: slipstream_trainer::DeviceChoice::Cpu,
        out_dir: dir.path().to_path_buf(),
        init_from: None,
        resume: false,
        show_reward_prints: false,
    };
    slipstream_trainer::train(opts, &mut |_| {}).unwrap();
    std::fs::read(dir.path().join("model_last.safetensors")).unwrap()
}

/// An untrained (random) model: valid, but it will not lap.
pub fn random_model(seed: i64) -> Vec<u8> {
    random_model_with(seed, |_| {})
}

/// An untrained camera model (DeepRacer's front-facing camera, Slipstream's `cnn`).
pub fn random_camera_model(seed: i64) -> Vec<u8> {
    random_model_with(seed, |cfg| {
        cfg.sensor = slipstream_sim::ObsConfig::Camera(Default::default());
        cfg.network = slipstream_trainer::network::NetworkSpec::camera_default();
    })
}

/// An untrained model of the default settings as `edit` changes them.
fn random_model_with(seed: i64, edit: impl FnOnce(&mut slipstream_trainer::TrainConfig)) -> Vec<u8> {
    tch::manual_seed(seed);
    let mut cfg = slipstream_trainer::TrainConfig::default();
    edit(&mut cfg);
    let spec = slipstream_trainer::model::ModelSpec {
        sensor: cfg.sensor.clone(),
        action_space: cfg.action_space.clone(),
        network: cfg.network.clone(),
        car: cfg.car.clone(),
        agent_dt: 1.0 / 15.0,
        physics_substeps: 4,
    };
    let m = slipstream_trainer::Model::new(spec, -0.5, true, tch::Device::Cpu);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.safetensors");
    m.save(&p).unwrap();
    std::fs::read(&p).unwrap()
}

/// Upload bytes as a model (16 KiB chunks, to exercise streaming); `declared` overrides the size.
pub async fn upload(
    c: &mut Clients,
    bytes: &[u8],
    name: &str,
    declared: Option<u64>,
) -> Result<pb::ModelInfo, tonic::Status> {
    let mut msgs = vec![pb::UploadModelRequest {
        part: Some(pb::upload_model_request::Part::Metadata(pb::ModelUploadMetadata {
            name: name.into(),
            size_bytes: declared.unwrap_or(bytes.len() as u64),
        })),
    }];
    for chunk in bytes.chunks(16 << 10) {
        msgs.push(pb::UploadModelRequest {
            part: Some(pb::upload_model_request::Part::Chunk(chunk.to_vec())),
        });
    }
    c.models.upload_model(futures_iter(msgs)).await.map(|r| r.into_inner())
}

pub fn futures_iter<T: Send + 'static>(v: Vec<T>) -> impl tokio_stream::Stream<Item = T> + Send + 'static {
    tokio_stream::iter(v)
}

/// Submit a model to a race.
pub async fn submit(
    c: &mut Clients,
    race_id: impl Into<String>,
    model_id: impl Into<String>,
) -> Result<tonic::Response<pb::Submission>, tonic::Status> {
    c.submissions
        .submit(pb::SubmitRequest {
            race_id: race_id.into(),
            model_id: model_id.into(),
        })
        .await
}

/// One page of a race's leaderboard.
pub async fn leaderboard(
    c: &mut Clients,
    race_id: impl Into<String>,
    page_size: u32,
    page_token: impl Into<String>,
) -> Result<tonic::Response<pb::GetLeaderboardResponse>, tonic::Status> {
    c.leaderboards
        .get_leaderboard(pb::GetLeaderboardRequest {
            race_id: race_id.into(),
            page_size,
            page_token: page_token.into(),
        })
        .await
}

/// Poll a submission until it has finished.
pub async fn wait_finished(c: &mut Clients, id: &str) -> pb::Submission {
    for _ in 0..600 {
        let s = c
            .submissions
            .get_submission(pb::GetSubmissionRequest {
                submission_id: id.into(),
            })
            .await
            .unwrap()
            .into_inner();
        if [
            pb::SubmissionStatus::Completed as i32,
            pb::SubmissionStatus::Failed as i32,
            pb::SubmissionStatus::Cancelled as i32,
        ]
        .contains(&s.status)
        {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("submission {id} did not finish");
}

pub fn code<T: std::fmt::Debug>(r: Result<T, tonic::Status>) -> tonic::Code {
    r.expect_err("expected an error").code()
}

pub fn npy_file(rows: &[[f64; 6]]) -> Vec<u8> {
    slipstream_sim::track::npy::to_bytes(rows)
}

pub fn square_rows(size: f64, width: f64) -> Vec<[f64; 6]> {
    let h = width / 2.0;
    let corners = [(0.0, 0.0), (size, 0.0), (size, size), (0.0, size)];
    let mut rows = Vec::new();
    for k in 0..4 {
        let (x0, y0) = corners[k];
        let (x1, y1) = corners[(k + 1) % 4];
        for j in 0..20 {
            let t = j as f64 / 20.0;
            let (x, y) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
            let (dx, dy) = (x - size / 2.0, y - size / 2.0);
            let l = (dx * dx + dy * dy).sqrt();
            rows.push([x, y, x - dx / l * h, y - dy / l * h, x + dx / l * h, y + dy / l * h]);
        }
    }
    rows.push(rows[0]);
    rows
}

pub fn path(p: &str) -> PathBuf {
    PathBuf::from(p)
}

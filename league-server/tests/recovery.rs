//! Crashes and shutdowns of the real `league-server` binary: nothing submitted is ever lost.
//!
//! A `kill -9` in the middle of an evaluation leaves a lease behind; the next start on the same
//! database requeues it (an interruption: the racer's attempts are not used up) and the submission
//! completes. A SIGTERM returns the
//! running job to the queue without counting it, ends open leaderboard watches with UNAVAILABLE, and
//! exits cleanly.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use slipstream_league::client::Clients;
use slipstream_proto::v1 as pb;
use tonic::Code;

/// A `league-server serve` child process on a free port.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(db: &str, workers: u32, extra: &[&str]) -> Server {
        let workers = workers.to_string();
        let mut child = Command::new(env!("CARGO_BIN_EXE_league-server"))
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--db",
                db,
                "--workers",
                &workers,
                "--admin-token",
                ADMIN,
            ])
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the league-server binary starts");
        // Read the bound address from the log, then keep draining it (a full pipe would block the server).
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("league server listening on ") {
                    let _ = tx.send(format!("http://{}", addr.trim()));
                }
                eprintln!("[server] {line}");
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server reports its address");
        Server { child, addr }
    }

    async fn client(&self, token: Option<&str>) -> Clients {
        for _ in 0..100 {
            // Any answer but "unavailable" (anonymous clients get "unauthenticated") means it is up.
            if let Ok(mut c) = slipstream_league::client::connect(&self.addr, token).await
                && c.users
                    .who_am_i(pb::WhoAmIRequest {})
                    .await
                    .err()
                    .is_none_or(|e| e.code() != Code::Unavailable)
            {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server at {} does not answer", self.addr);
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, sig) }, 0);
    }

    /// Wait for the process to exit; its exit status.
    fn wait(mut self, limit: Duration) -> std::process::ExitStatus {
        let t = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            if t.elapsed() > limit {
                let _ = self.child.kill();
                panic!("the server did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A race whose evaluation of an untrained model takes a few seconds: 100 laps it never finishes,
/// so it drives until the race's simulated-time limit.
async fn long_race(admin: &mut Clients) -> pb::Race {
    let spec = pb::RaceSpec {
        laps: 100,
        ..open_spec("Endurance", "harbour")
    };
    create_race(admin, spec).await
}

async fn status(c: &mut Clients, id: &str) -> pb::Submission {
    c.submissions
        .get_submission(pb::GetSubmissionRequest {
            submission_id: id.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn wait_running(c: &mut Clients, id: &str) {
    for _ in 0..1000 {
        let s = status(c, id).await;
        assert!(
            s.status != pb::SubmissionStatus::Completed as i32,
            "finished before the test could interrupt it"
        );
        if s.status == pb::SubmissionStatus::Running as i32 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("submission {id} never started");
}

/// Submit an untrained model to a long race as a new racer; (racer clients, submission id).
async fn submit_long(server: &Server) -> (Clients, String) {
    let mut admin = server.client(Some(ADMIN)).await;
    let race = long_race(&mut admin).await;
    let u = admin
        .users
        .create_user(pb::CreateUserRequest {
            name: "rita".into(),
            role: pb::Role::Racer as i32,
        })
        .await
        .unwrap()
        .into_inner();
    let t = admin
        .users
        .issue_token(pb::IssueTokenRequest {
            user_id: u.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut racer = server.client(Some(&t.token)).await;
    let model = upload(&mut racer, &random_model(21), "wobbly", None).await.unwrap();
    let sub = submit(&mut racer, &race.id, model.id).await.unwrap().into_inner();
    (racer, sub.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_resumes_the_interrupted_evaluation_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("league.db").display());
    let server = Server::start(&db, 1, &["--max-attempts", "3"]);
    let (mut racer, sub_id) = submit_long(&server).await;
    wait_running(&mut racer, &sub_id).await;

    // kill -9 mid-evaluation.
    server.signal(libc::SIGKILL);
    let st = server.wait(Duration::from_secs(10));
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&st), Some(libc::SIGKILL));

    // Restart on the same database: the dead process's lease is requeued and evaluated again.
    let server = Server::start(&db, 1, &[]);
    let mut admin = server.client(Some(ADMIN)).await;
    let done = wait_finished(&mut admin, &sub_id).await;
    assert_eq!(
        done.status,
        pb::SubmissionStatus::Completed as i32,
        "{}",
        done.failure_reason
    );
    assert_eq!(
        done.attempts, 1,
        "the killed attempt was the server's failure, not the model's"
    );
    assert_eq!(done.laps.len(), 100);
}

/// The same submission interrupted by as many server kills as it has attempts still completes:
/// attempts count the model's failures, not the server's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_crashes_do_not_use_up_a_racers_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/league.db", dir.path().display());
    let mut server = Server::start(&db, 1, &["--max-attempts", "3"]);
    let (_, sub_id) = submit_long(&server).await;
    for kill in 1..=3 {
        let mut admin = server.client(Some(ADMIN)).await;
        wait_running(&mut admin, &sub_id).await;
        server.signal(libc::SIGKILL);
        server.wait(Duration::from_secs(10));
        server = Server::start(&db, 1, &["--max-attempts", "3"]);
        let mut admin = server.client(Some(ADMIN)).await;
        let s = status(&mut admin, &sub_id).await;
        assert!(
            s.status != pb::SubmissionStatus::Failed as i32,
            "failed after {kill} kill(s): {}",
            s.failure_reason
        );
    }
    let mut admin = server.client(Some(ADMIN)).await;
    let done = wait_finished(&mut admin, &sub_id).await;
    assert_eq!(
        (done.status, done.attempts),
        (pb::SubmissionStatus::Completed as i32, 1),
        "{}",
        done.failure_reason
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_returns_the_running_job_and_ends_watches() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("league.db").display());
    let server = Server::start(&db, 1, &["--shutdown-grace-s", "0"]);
    let (mut racer, sub_id) = submit_long(&server).await;
    let race_id = status(&mut racer, &sub_id).await.race_id;
    let mut anon = server.client(None).await;
    let mut watch = anon
        .leaderboards
        .watch_leaderboard(pb::WatchLeaderboardRequest {
            race_id: race_id.clone(),
            top: 10,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(
        watch.message().await.unwrap().unwrap().event,
        Some(pb::leaderboard_event::Event::Snapshot(_))
    ));
    wait_running(&mut racer, &sub_id).await;

    server.signal(libc::SIGTERM);
    // The watch ends with UNAVAILABLE (after any events still in flight) instead of holding the server up.
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match watch.message().await {
                Ok(Some(_)) => continue,
                Ok(None) => return None,
                Err(e) => return Some(e.code()),
            }
        }
    })
    .await
    .expect("the watch ends at shutdown");
    assert_eq!(ended, Some(Code::Unavailable));
    let st = server.wait(Duration::from_secs(10));
    assert!(st.success(), "clean exit, got {st:?}");

    // The job went back to the queue uncounted; a restart with no workers shows it queued.
    let server = Server::start(&db, 0, &[]);
    let mut admin = server.client(Some(ADMIN)).await;
    let s = status(&mut admin, &sub_id).await;
    assert_eq!(
        (s.status, s.attempts),
        (pb::SubmissionStatus::Queued as i32, 0),
        "{s:?}"
    );
    drop(server);
    // With a worker it completes.
    let server = Server::start(&db, 1, &[]);
    let mut admin = server.client(Some(ADMIN)).await;
    let done = wait_finished(&mut admin, &sub_id).await;
    assert_eq!(
        (done.status, done.attempts),
        (pb::SubmissionStatus::Completed as i32, 1),
        "{}",
        done.failure_reason
    );
}

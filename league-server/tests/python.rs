//! The API from Python: a client generated from `proto/` with grpcio-tools runs the main flow —
//! health, reflection (v1alpha), a racer and a race, upload, watch + submit, leaderboard, trace —
//! against a real server (`proto/examples/python/league_client.py`, the example for Python users).
//! `scripts/grpc-python` installs grpcio into a cache folder outside the checkout on first use.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python with grpcio that `scripts/grpc-python` provides (installing it once).
fn grpc_python() -> String {
    let out = Command::new("bash")
        .arg(repo().join("scripts/grpc-python"))
        .output()
        .expect("running scripts/grpc-python");
    assert!(
        out.status.success(),
        "scripts/grpc-python failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Run the example client's `args` (a command and its options) against `s` with `model`; its
/// one JSON report.
async fn run_client(python: &str, s: &TestServer, args: &[&str], model: &std::path::Path) -> serde_json::Value {
    let addr = s.addr.trim_start_matches("http://").to_string();
    let out = tokio::process::Command::new(python)
        .arg(repo().join("proto/examples/python/league_client.py"))
        .args(&args[..1])
        .args(["--server", &addr])
        .args(&args[1..])
        .arg("--model")
        .arg(model)
        .args(["--timeout", "120"])
        .output()
        .await
        .expect("running the Python client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the Python client failed:\n{stderr}\n{stdout}");
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("the Python client's report is not JSON ({e}):\n{stdout}\n{stderr}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_grpcio_client_runs_the_main_flow() {
    let python = tokio::task::spawn_blocking(grpc_python).await.unwrap();
    let model = tokio::task::spawn_blocking(trained_model).await.unwrap();
    let s = TestServer::start(1).await;
    let model_file = s.dir.path().join("model.safetensors");
    std::fs::write(&model_file, model).unwrap();
    let r = run_client(&python, &s, &["flow", "--admin-token", ADMIN], &model_file).await;

    assert_eq!(r["health"], "SERVING");
    let services = r["reflection_services"].as_array().unwrap();
    for svc in [
        "slipstream.league.v1.LeaderboardService",
        "slipstream.league.v1.ModelService",
        "grpc.health.v1.Health",
    ] {
        assert!(services.iter().any(|s| s == svc), "{svc} not in {services:?}");
    }
    assert!(
        r["reflection_model_methods"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "UploadModel"),
        "{r}"
    );
    assert_eq!(r["model"]["again_already_uploaded"], true);
    assert_eq!(
        r["watched_statuses"].as_array().unwrap().last().unwrap(),
        "SUBMISSION_STATUS_COMPLETED",
        "{r}"
    );
    let sub = &r["submission"];
    assert_eq!(sub["qualified"], true, "{r}");
    assert_eq!(sub["rank_change"], 1, "the watch pushed the new rank: {r}");
    let board = r["leaderboard"].as_array().unwrap();
    assert_eq!(board.len(), 1, "{r}");
    assert_eq!(board[0]["user"], "py-racer");
    assert_eq!(board[0]["submission_id"], sub["id"]);
    assert_eq!(board[0]["score_ms"], sub["score_ms"]);
    assert!(r["trace"]["rows"].as_u64().unwrap() > 10, "{r}");
    assert!(r["trace"]["header"].as_str().unwrap().starts_with("episode,"), "{r}");
    // The head-to-head final: raced, a champion, one of the two places 1.
    let f = &r["final"];
    assert_eq!(f["status"], "MATCH_STATUS_DONE", "{r}");
    // Its replay and the racer's own car's trace, downloaded: the trace's laps are that car's.
    assert_eq!(f["replay_is_gif"], true, "{r}");
    let seat = f["my_seat"].as_u64().unwrap() as usize;
    assert_eq!(f["my_trace_laps"], f["laps"][seat], "{r}");
    assert!(
        ["py-racer", "py-racer-rival"].contains(&f["champion"].as_str().unwrap()),
        "{r}"
    );
    let mut places: Vec<u64> = f["places"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap())
        .collect();
    places.sort();
    assert!(places == [1, 2] || places == [1, 1], "{r}");
    s.stop().await;
}

/// A racer's part on its own, with the racer's token only: the admin's part (the racer, the race)
/// done elsewhere — here by the test, for students by their teacher or the web site.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_racer_needs_only_their_own_token() {
    let python = tokio::task::spawn_blocking(grpc_python).await.unwrap();
    let model = tokio::task::spawn_blocking(trained_model).await.unwrap();
    let s = TestServer::start(1).await;
    let model_file = s.dir.path().join("model.safetensors");
    std::fs::write(&model_file, model).unwrap();
    let (_, token, _) = s.user("student", slipstream_proto::v1::Role::Racer).await;
    let race = create_race(&mut s.admin().await, open_spec("Class cup", "oval")).await;
    let r = run_client(
        &python,
        &s,
        &["racer", "--token", &token, "--race", &race.id],
        &model_file,
    )
    .await;
    assert_eq!(r["submission"]["qualified"], true, "{r}");
    let board = r["leaderboard"].as_array().unwrap();
    assert_eq!(board[0]["user"], "student", "{r}");
    assert!(r["trace"]["rows"].as_u64().unwrap() > 10, "{r}");
    s.stop().await;
}

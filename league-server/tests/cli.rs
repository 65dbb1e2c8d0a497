//! The `league` client binary against an in-process server: the admin's and the racer's paths with
//! `--json` (what scripts rely on), the tables people read, and clear errors with a non-zero exit.

mod common;

use common::*;
use serde_json::Value;

struct Out {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        assert!(self.ok, "league failed: {}", self.stderr);
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// Run `league` with `--server addr` and an optional token (never inherited from the environment).
/// The `league` binary: the client's own package (`slipstream-league-client`, which links no
/// libtorch) builds it beside this package's binaries when the workspace's tests are built.
fn league_bin() -> std::path::PathBuf {
    let p = std::path::Path::new(env!("CARGO_BIN_EXE_league-server")).with_file_name("league");
    assert!(
        p.exists(),
        "{} is missing: build it with `cargo build -p slipstream-league-client`, or run the workspace's tests",
        p.display()
    );
    p
}

async fn league(addr: &str, token: Option<&str>, args: &[&str]) -> Out {
    let mut cmd = tokio::process::Command::new(league_bin());
    cmd.arg("--server").arg(addr).args(args).env_remove("LEAGUE_TOKEN");
    if let Some(t) = token {
        cmd.env("LEAGUE_TOKEN", t);
    }
    let o = cmd.output().await.expect("the league binary runs");
    Out {
        ok: o.status.success(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k} missing in {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_runs_a_head_to_head_final_and_a_ladder_from_the_command_line() {
    let srv = TestServer::start(1).await;
    let addr = srv.addr.as_str();
    let mut admin = srv.admin().await;
    let race = create_race(
        &mut admin,
        slipstream_proto::v1::RaceSpec {
            laps: 2,
            min_laps: 1,
            continuous: true,
            number_of_resets: 10_000,
            ..open_spec("Finals night", "oval")
        },
    )
    .await;
    let (mut subs, mut tokens) = (Vec::new(), Vec::new());
    for (name, bytes) in [("ada", trained_model()), ("bo", weak_model())] {
        let (_, token, mut c) = srv.user(name, slipstream_proto::v1::Role::Racer).await;
        tokens.push(token);
        let m = upload(&mut c, &bytes, &format!("{name}-model"), None).await.unwrap();
        let sub = submit(&mut c, &race.id, &m.id).await.unwrap().into_inner();
        assert!(wait_finished(&mut c, &sub.id).await.qualified);
        subs.push(sub.id);
    }

    // The final: a bracket of the race's best two, raced by the queue; --wait until it is decided.
    let e = league(
        addr,
        Some(ADMIN),
        &[
            "--json",
            "events",
            "bracket",
            &race.id,
            "--name",
            "Grand final",
            "--size",
            "2",
        ],
    )
    .await
    .json();
    assert_eq!(
        (s(&e, "kind"), e["entrants"][0]["user_name"].as_str()),
        ("bracket", Some("ada"))
    );
    let id = s(&e, "id").to_string();
    let done = league(addr, None, &["--json", "events", "show", &id, "--wait"])
        .await
        .json();
    assert_eq!(done["champion_seed"].as_u64(), Some(1), "{done}");
    let final_match = s(&done["matches"][0], "match_id").to_string();
    let table = league(addr, None, &["events", "show", &id]).await;
    assert!(
        table.ok && table.stdout.contains("champion: #1 ada (ada-model)") && table.stdout.contains("W1-1"),
        "{}",
        table.stdout
    );
    let m = league(addr, None, &["--json", "matches", "show", &final_match])
        .await
        .json();
    assert_eq!(
        (s(&m, "status"), m["seats"][0]["place"].as_u64()),
        ("done", Some(1)),
        "{m}"
    );
    assert_eq!(m["seats"][0]["completed_laps"].as_u64(), Some(2));
    let shown = league(addr, None, &["matches", "show", &final_match]).await;
    assert!(shown.ok && shown.stdout.contains("ada (ada-model)"), "{}", shown.stdout);
    assert_eq!(
        (m["has_replay"].as_bool(), m["seats"][1]["has_trace"].as_bool()),
        (Some(true), Some(true))
    );

    // The final's replay (anyone: the race is public) and a car's trace (its racer's own).
    let dir = tempfile::tempdir().unwrap();
    let gif = dir.path().join("final.gif");
    let r = league(
        addr,
        None,
        &[
            "--json",
            "matches",
            "replay",
            &final_match,
            "--out",
            gif.to_str().unwrap(),
        ],
    )
    .await
    .json();
    let bytes = std::fs::read(&gif).unwrap();
    assert!(
        bytes.starts_with(b"GIF89a") && r["bytes"].as_u64() == Some(bytes.len() as u64),
        "{r}"
    );
    let trace = league(
        addr,
        Some(&tokens[1]),
        &["matches", "trace", &final_match, "--grid", "2"],
    )
    .await;
    assert!(
        trace.ok && trace.stdout.starts_with("episode,steps,X,Y,yaw") && trace.stdout.lines().count() > 10,
        "{}",
        trace.stderr
    );
    let theirs = league(
        addr,
        Some(&tokens[1]),
        &["matches", "trace", &final_match, "--grid", "1"],
    )
    .await;
    assert!(
        !theirs.ok && theirs.stderr.contains("seat 0's trace is for its racer"),
        "{}",
        theirs.stderr
    );

    // A match of its own, the slower model in front, waited for.
    let m = league(
        addr,
        Some(ADMIN),
        &["--json", "matches", "create", &race.id, &subs[1], &subs[0], "--wait"],
    )
    .await
    .json();
    assert_eq!(
        (s(&m["seats"][1], "user_name"), m["seats"][1]["place"].as_u64()),
        ("ada", Some(1)),
        "{m}"
    );

    // A ladder of two matches; the table lists both racers with ratings.
    let l = league(
        addr,
        Some(ADMIN),
        &[
            "--json",
            "events",
            "ladder",
            &race.id,
            "--name",
            "Ladder",
            "--max-matches",
            "2",
        ],
    )
    .await
    .json();
    let l = league(addr, None, &["--json", "events", "show", s(&l, "id"), "--wait"])
        .await
        .json();
    assert_eq!(l["matches_raced"].as_u64(), Some(2), "{l}");
    assert_eq!(s(&l["rows"][0], "user_name"), "ada", "{l}");
    assert!(l["rows"][0]["rating"].as_f64().unwrap() > l["rows"][1]["rating"].as_f64().unwrap());
    let list = league(addr, None, &["events", "list"]).await;
    assert!(
        list.ok && list.stdout.contains("Grand final") && list.stdout.contains("ladder"),
        "{}",
        list.stdout
    );

    // Errors name the problem: racers cannot make brackets; a bracket larger than the board.
    let bad = league(addr, None, &["events", "bracket", &race.id, "--name", "x"]).await;
    assert!(!bad.ok && bad.stderr.contains("Unauthenticated"), "{}", bad.stderr);
    let bad = league(
        addr,
        Some(ADMIN),
        &["events", "bracket", &race.id, "--name", "x", "--double", "--size", "2"],
    )
    .await;
    assert!(!bad.ok && bad.stderr.contains("3–64"), "{}", bad.stderr);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_and_racers_run_a_race_from_the_command_line() {
    let srv = TestServer::start(1).await;
    let addr = srv.addr.as_str();
    let dir = tempfile::tempdir().unwrap();

    let me = league(addr, Some(ADMIN), &["--json", "whoami"]).await.json();
    assert_eq!(s(&me, "role"), "admin");

    // The admin: a racer, a token, a track file, a race.
    let user = league(addr, Some(ADMIN), &["--json", "users", "create", "ada"])
        .await
        .json();
    assert_eq!((s(&user, "name"), s(&user, "role")), ("ada", "racer"));
    let token = league(
        addr,
        Some(ADMIN),
        &["--json", "tokens", "issue", s(&user, "id"), "--days", "7"],
    )
    .await
    .json();
    let racer = s(&token, "token").to_string();
    assert!(token["expires_at_ms"].as_i64().unwrap() > slipstream_league::util::now_ms());

    let npy = dir.path().join("square.npy");
    std::fs::write(&npy, npy_file(&square_rows(6.0, 1.0))).unwrap();
    let track = league(
        addr,
        Some(ADMIN),
        &["--json", "tracks", "upload", npy.to_str().unwrap()],
    )
    .await
    .json();
    assert!(s(&track, "id").starts_with("upload:"), "{track}");
    assert_eq!(s(&track, "name"), "square");

    let race = league(
        addr,
        Some(ADMIN),
        &[
            "--json",
            "races",
            "create",
            "--name",
            "CLI cup",
            "--track",
            "oval",
            "--laps",
            "2",
            "--timing",
            "total-time",
            "--max-submissions",
            "2",
        ],
    )
    .await
    .json();
    let race_id = s(&race, "id").to_string();
    assert_eq!((s(&race, "state"), s(&race, "timing")), ("open", "total time"));
    assert_eq!(
        race["min_laps"], 2,
        "total time needs every lap: min_laps defaults to laps"
    );
    let shown = league(addr, None, &["races", "show", &race_id]).await;
    assert!(shown.ok, "{}", shown.stderr);
    assert!(shown.stdout.contains("track        oval"), "{}", shown.stdout);
    assert!(shown.stdout.contains("total time over 2 laps"), "{}", shown.stdout);
    assert!(shown.stdout.contains("2 per racer"), "{}", shown.stdout);
    // Open, it is renamed and kept open longer; its rules stay.
    let updated = league(
        addr,
        Some(ADMIN),
        &[
            "--json",
            "races",
            "update",
            &race_id,
            "--name",
            "CLI cup (extended)",
            "--hours",
            "48",
        ],
    )
    .await
    .json();
    assert_eq!(s(&updated, "name"), "CLI cup (extended)");
    assert_eq!((updated["laps"].clone(), s(&updated, "state")), (2.into(), "open"));
    assert!(
        updated["closes_at_ms"].as_i64().unwrap() > race["closes_at_ms"].as_i64().unwrap(),
        "{updated}"
    );

    // The racer checks a reward function on the server before training: a bug is shown at its line.
    let reward = dir.path().join("reward_function.py");
    std::fs::write(
        &reward,
        "def reward_function(params):\n    return params['speed'] / 0\n",
    )
    .unwrap();
    let checked = league(
        addr,
        Some(&racer),
        &["check-reward", reward.to_str().unwrap(), "--track", "oval"],
    )
    .await;
    assert!(!checked.ok, "a failing reward exits non-zero");
    assert!(
        checked.stdout.contains("reward_function.py:2") && checked.stdout.contains("ZeroDivisionError"),
        "{}",
        checked.stdout
    );
    std::fs::write(&reward, "def reward_function(params):\n    return params['speed']\n").unwrap();
    let checked = league(
        addr,
        Some(&racer),
        &["--json", "check-reward", reward.to_str().unwrap(), "--track", "oval"],
    )
    .await
    .json();
    assert_eq!(checked["ok"], true, "{checked}");

    // The racer: upload, submit, wait, leaderboard, trace.
    let model_file = dir.path().join("my_model.safetensors");
    std::fs::write(&model_file, trained_model()).unwrap();
    let model = league(
        addr,
        Some(&racer),
        &["--json", "models", "upload", model_file.to_str().unwrap()],
    )
    .await
    .json();
    assert_eq!(s(&model, "name"), "my_model");
    let models = league(addr, Some(&racer), &["--json", "models", "list"]).await.json();
    assert_eq!(models["models"].as_array().unwrap().len(), 1, "{models}");

    let sub = league(
        addr,
        Some(&racer),
        &["--json", "submit", &race_id, s(&model, "id"), "--wait"],
    )
    .await
    .json();
    assert_eq!(s(&sub, "status"), "completed", "{sub}");
    assert_eq!(sub["laps"].as_array().unwrap().len(), 2);
    assert_eq!(sub["qualified"], true);
    let total: i64 = sub["laps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["time_ms"].as_i64().unwrap())
        .sum();
    assert_eq!(
        sub["score_ms"].as_i64().unwrap(),
        total,
        "total time = the sum of the laps"
    );

    // (The board follows a result's commit by a moment.)
    let mut board = Value::Null;
    for _ in 0..100 {
        board = league(addr, None, &["--json", "leaderboard", &race_id]).await.json();
        if board["total"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let rows = board["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{board}");
    assert_eq!((rows[0]["rank"].as_u64(), s(&rows[0], "user")), (Some(1), "ada"));
    assert_eq!(rows[0]["score_ms"].as_i64(), Some(total));
    let table = league(addr, None, &["leaderboard", &race_id]).await;
    assert!(table.ok && table.stdout.contains("ada"), "{}", table.stdout);

    // A season of the race, from the command line: ada wins it.
    let season = league(
        addr,
        Some(ADMIN),
        &["--json", "seasons", "create", "Winter", "--points", "10,5"],
    )
    .await
    .json();
    assert_eq!(season["points"], serde_json::json!([10, 5]), "{season}");
    let added = league(
        addr,
        Some(ADMIN),
        &["--json", "seasons", "add-race", s(&season, "id"), &race_id],
    )
    .await
    .json();
    assert_eq!(added["race_ids"], serde_json::json!([race_id]), "{added}");
    let standings = league(addr, None, &["--json", "seasons", "show", s(&season, "id")])
        .await
        .json();
    let row = &standings["rows"][0];
    assert_eq!(
        (row["position"].as_u64(), s(row, "user_name"), row["points"].as_u64()),
        (Some(1), "ada", Some(10)),
        "{standings}"
    );
    assert_eq!(
        (standings["total"].as_u64(), s(&standings, "next_page_token")),
        (Some(1), "")
    );
    let past = league(
        addr,
        None,
        &["--json", "seasons", "show", s(&season, "id"), "--offset", "1"],
    )
    .await
    .json();
    assert_eq!(past["rows"].as_array().map(Vec::len), Some(0), "{past}");
    let table = league(addr, None, &["seasons", "show", s(&season, "id")]).await;
    assert!(
        table.ok && table.stdout.contains("1/10") && table.stdout.contains("ada"),
        "{}",
        table.stdout
    );
    let bad = league(addr, Some(ADMIN), &["seasons", "create", "x", "--points", "1,2"]).await;
    assert!(!bad.ok && bad.stderr.contains("spec.points"), "{}", bad.stderr);

    let trace = dir.path().join("trace.csv");
    let t = league(
        addr,
        Some(&racer),
        &["trace", s(&sub, "id"), "--out", trace.to_str().unwrap()],
    )
    .await;
    assert!(t.ok, "{}", t.stderr);
    let csv = std::fs::read_to_string(&trace).unwrap();
    assert!(
        csv.starts_with("episode,steps,X,Y,yaw"),
        "{}",
        &csv[..80.min(csv.len())]
    );
    let gif = dir.path().join("race.gif");
    let r = league(
        addr,
        Some(&racer),
        &["--json", "replay", s(&sub, "id"), "--out", gif.to_str().unwrap()],
    )
    .await;
    assert!(r.ok, "{}", r.stderr);
    let bytes = std::fs::read(&gif).unwrap();
    assert!(bytes.starts_with(b"GIF89a"));
    assert_eq!(r.json()["bytes"].as_u64(), Some(bytes.len() as u64));

    // The cap (2 per racer) is enforced: the third submit fails with a message and exit status 1.
    league(addr, Some(&racer), &["--json", "submit", &race_id, s(&model, "id")])
        .await
        .json();
    let third = league(addr, Some(&racer), &["submit", &race_id, s(&model, "id")]).await;
    assert!(!third.ok);
    assert!(third.stderr.contains("ResourceExhausted"), "{}", third.stderr);

    // Racers cannot do admin things.
    let denied = league(addr, Some(&racer), &["users", "list"]).await;
    assert!(
        !denied.ok && denied.stderr.contains("PermissionDenied"),
        "{}",
        denied.stderr
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_the_problem_and_exit_non_zero() {
    let srv = TestServer::start(0).await;
    let addr = srv.addr.as_str();
    let dir = tempfile::tempdir().unwrap();
    let check = |o: Out, needle: &str| {
        assert!(!o.ok, "expected a failure, got: {}", o.stdout);
        assert!(o.stderr.starts_with("error: "), "{}", o.stderr);
        assert!(o.stderr.contains(needle), "expected {needle:?} in: {}", o.stderr);
        assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    };

    check(
        league(addr, Some("not-a-real-token"), &["whoami"]).await,
        "Unauthenticated",
    );
    check(league(addr, None, &["models", "list"]).await, "Unauthenticated");
    check(
        league("http://127.0.0.1:1", None, &["races", "list"]).await,
        "cannot connect to http://127.0.0.1:1",
    );
    check(league("not a url", None, &["races", "list"]).await, "--server");
    check(league(addr, None, &["races", "show", "race_nope"]).await, "NotFound");
    let missing = dir.path().join("nowhere.safetensors");
    check(
        league(addr, Some(ADMIN), &["models", "upload", missing.to_str().unwrap()]).await,
        "nowhere.safetensors",
    );
    // A file that is not a model: refused by the server's validation, named in the message.
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"definitely not safetensors").unwrap();
    check(
        league(addr, Some(ADMIN), &["models", "upload", junk.to_str().unwrap()]).await,
        "InvalidArgument",
    );
    // Bad race settings: the field is named.
    check(
        league(
            addr,
            Some(ADMIN),
            &["races", "create", "--name", "x", "--track", "no-such-track"],
        )
        .await,
        "spec.track",
    );
    // clap's own usage errors also exit non-zero.
    let usage = league(addr, None, &["races", "create"]).await;
    assert!(!usage.ok && usage.stderr.contains("--name"), "{}", usage.stderr);
    srv.stop().await;
}

/// `league-server` refuses bad settings with a message naming them, before doing any work.
#[test]
fn the_server_binary_names_bad_settings() {
    let run = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_league-server"))
            .args(args)
            .output()
            .expect("the league-server binary runs");
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!o.status.success(), "expected a failure for {args:?}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    };
    // The same, for a command that would run on if the setting were accepted: it is killed after
    // `limit`, and that is a failure.
    let run_for = |args: &[&str], limit: std::time::Duration| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_league-server"))
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the league-server binary runs");
        let t = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if t.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{args:?} was accepted: the server kept running");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let o = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!o.status.success(), "expected a failure for {args:?}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    };
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/missing/folder/league.db", dir.path().display());
    let e = run(&["serve", "--addr", "127.0.0.1:0", "--db", &db, "--admin-token", ADMIN]);
    assert!(e.contains("--db") && e.contains("cannot open the database"), "{e}");
    let e = run(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--db",
        "mysql://x/y",
        "--admin-token",
        ADMIN,
    ]);
    assert!(e.contains("--db"), "{e}");
    // A bootstrap token short enough to guess: refused, saying how to make a good one.
    let ok_db = format!("sqlite://{}/league.db", dir.path().display());
    let short = "a-31-character-admin-token-xxxx";
    assert_eq!(short.len(), 31);
    let e = run_for(
        &["serve", "--addr", "127.0.0.1:0", "--db", &ok_db, "--admin-token", short],
        std::time::Duration::from_secs(60),
    );
    assert!(
        e.contains("--admin-token") && e.contains("32 characters") && e.contains("openssl rand -hex 32"),
        "{e}"
    );
    let e = run(&["bench", "--rate", "inf"]);
    assert!(e.contains("--rate"), "{e}");
    let e = run(&["bench", "--clients", "0"]);
    assert!(e.contains("--clients"), "{e}");
}

/// Run `league` with `input` on its standard input (not a terminal).
async fn league_stdin(addr: &str, token: Option<&str>, args: &[&str], input: &str) -> Out {
    use tokio::io::AsyncWriteExt;
    let mut cmd = tokio::process::Command::new(league_bin());
    cmd.arg("--server")
        .arg(addr)
        .args(args)
        .env_remove("LEAGUE_TOKEN")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(t) = token {
        cmd.env("LEAGUE_TOKEN", t);
    }
    let mut child = cmd.spawn().expect("the league binary runs");
    child.stdin.take().unwrap().write_all(input.as_bytes()).await.unwrap();
    let o = child.wait_with_output().await.unwrap();
    Out {
        ok: o.status.success(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// The status of signing in to the console as `name` with `password` (303 = signed in).
async fn console_sign_in(addr: &str, name: &str, password: &str) -> u16 {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let form = client.get(format!("{addr}/signin").parse().unwrap()).await.unwrap();
    let csrf = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| {
            v.to_str()
                .ok()?
                .strip_prefix("slp_csrf=")?
                .split(';')
                .next()
                .map(String::from)
        })
        .next()
        .expect("a form token");
    let _ = form.into_body().collect().await;
    let req = hyper::Request::post(format!("{addr}/signin"))
        .header("cookie", format!("slp_csrf={csrf}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(http_body_util::Full::new(bytes::Bytes::from(format!(
            "csrf={csrf}&name={name}&password={}",
            password.replace(' ', "+")
        ))))
        .unwrap();
    client.request(req).await.unwrap().status().as_u16()
}

#[tokio::test]
async fn an_admin_invites_a_class_and_a_user_sets_a_console_password_from_the_command_line() {
    let srv = TestServer::start(0).await;
    let addr = srv.addr.as_str();
    let made = league(
        addr,
        Some(ADMIN),
        &[
            "--json", "invites", "create", "--uses", "30", "--days", "14", "--note", "Period 3",
        ],
    )
    .await
    .json();
    let url = s(&made, "signup_url");
    assert!(url.starts_with(&format!("{addr}/signup/inv_")), "{url}");
    assert_eq!(
        (made["invite"]["max_uses"].as_i64(), s(&made["invite"], "role")),
        (Some(30), "racer")
    );
    let id = s(&made["invite"], "invite_id").to_string();
    let table = league(addr, Some(ADMIN), &["invites", "list"]).await;
    assert!(table.ok, "{}", table.stderr);
    assert!(table.stdout.contains(&id) && table.stdout.contains("0 of 30") && table.stdout.contains("Period 3"));
    let withdrawn = league(addr, Some(ADMIN), &["--json", "invites", "revoke", &id])
        .await
        .json();
    assert!(withdrawn["revoked_at_ms"].as_i64().unwrap() > 0);

    let (_, token, _) = srv.user("carol", slipstream_proto::v1::Role::Racer).await;
    let weak = league_stdin(addr, Some(&token), &["password"], "short\n").await;
    assert!(!weak.ok);
    assert!(
        weak.stderr.contains("password: use at least 8 characters"),
        "{}",
        weak.stderr
    );
    let set = league_stdin(addr, Some(&token), &["password"], "correct horse battery\n").await;
    assert!(set.ok, "{}", set.stderr);
    assert!(set.stdout.contains("console password is set"), "{}", set.stdout);
    assert_eq!(
        console_sign_in(addr, "carol", "correct horse battery").await,
        303,
        "the newline is not part of it"
    );
    // A racer issues a token for herself.
    let own = league(
        addr,
        Some(&token),
        &["--json", "tokens", "issue", "--description", "laptop"],
    )
    .await
    .json();
    assert!(s(&own, "token").starts_with("slp_"));
}

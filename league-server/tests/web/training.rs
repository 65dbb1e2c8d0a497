//! Training from the console, black-box over HTTP: the "Create model" form (Validate shows a
//! reward function's error at its line), a job trained in the sandbox to a model on the student's
//! console, the settings it ran repeating the same model through `trainer train`, quotas, Stop,
//! and another student's job answering 404.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use slipstream_league::Config;
use slipstream_proto::v1 as pb;

use super::accounts::{Browser, invite};
use super::common::*;

const PASSWORD: &str = "racing is fun";

/// A server that trains (one runner, one thread a job, its folders in the test's own folder).
async fn training_server() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_with(
        Config {
            workers: 0,
            trainers: 1,
            training_threads: 1,
            training_dir: dir.path().to_path_buf(),
            ..test_config()
        },
        None,
    )
    .await;
    (s, dir)
}

/// A student signed in on `s`.
async fn student(s: &TestServer, name: &str) -> Browser {
    let mut admin = s.admin().await;
    let inv = invite(&mut admin, pb::Role::Racer, 1, 0).await;
    let mut b = Browser::new(s);
    assert_eq!(b.sign_up(&inv.signup_path, name, PASSWORD).await.status, 303);
    b
}

/// The form's fields for a short camera model on the oval.
fn form<'a>(name: &'a str, minutes: &'a str, reward: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("track", "oval"),
        ("sensor", "camera"),
        ("network", "SLIPSTREAM_CNN"),
        ("action_space_type", "discrete"),
        ("actions", "-30 1\n0 1\n30 1\n0 2"),
        ("reward_code", reward),
        ("minutes", minutes),
        ("seed", "7"),
        ("batch_size", "256"),
        ("num_epochs", "2"),
    ]
}

const REWARD: &str =
    "def reward_function(params):\n    return 1.0 - params['distance_from_center'] / params['track_width']\n";

/// The job's status, polling its page until it is finished (or `timeout`).
async fn wait_finished(b: &mut Browser, path: &str, timeout: Duration) -> String {
    let start = Instant::now();
    loop {
        let page = b.get(path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let status = page
            .body
            .split("data-status=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_default()
            .to_string();
        if ["completed", "stopped", "failed"].contains(&status.as_str()) {
            return page.body;
        }
        assert!(
            start.elapsed() < timeout,
            "still {status} after {timeout:?}: {}",
            page.body
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn trainer_bin() -> PathBuf {
    std::path::Path::new(env!("CARGO_BIN_EXE_league-server")).with_file_name("trainer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_student_trains_a_model_in_the_console_and_its_settings_repeat_it_with_the_trainer() {
    let (s, dir) = training_server().await;
    let mut ann = student(&s, "ann").await;
    let page = ann.get("/console/models/new").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("value=\"oval\""), "the track gallery");
    assert!(
        page.body.contains("def reward_function(params)"),
        "DeepRacer's example to start from"
    );

    // Validate shows a bug at its line, before anything trains.
    let buggy = "def reward_function(params):\n    speed = params['speed']\n    return speed * params['no_such_key']\n";
    let mut fields = form("first", "0.2", buggy);
    fields.push(("action", "validate"));
    let checked = ann.post("/console/models/new", &fields).await;
    assert_eq!(checked.status, 200);
    assert!(checked.body.contains("Your reward function has a problem"));
    assert!(
        checked.body.contains("reward_function.py:3: "),
        "the student's file and line"
    );
    assert!(checked.body.contains("no_such_key"));
    assert!(
        checked.body.contains("value=\"first\""),
        "the form keeps what was typed"
    );
    let mut fields = form("first", "0.2", REWARD);
    fields.push(("action", "validate"));
    assert!(
        ann.post("/console/models/new", &fields)
            .await
            .body
            .contains("Looks good")
    );

    let mut fields = form("first", "0.15", REWARD);
    fields.push(("action", "train"));
    let started = ann.post("/console/models/new", &fields).await;
    assert_eq!(started.status, 303, "{}", started.body);
    let job_path = started.location.clone();
    assert!(job_path.starts_with("/console/trainings/trn_"), "{job_path}");
    let id = job_path.rsplit('/').next().unwrap().to_string();
    let done = wait_finished(&mut ann, &job_path, Duration::from_secs(120)).await;
    assert!(done.contains("data-status=\"completed\""), "{done}");
    assert!(done.contains("Your model is ready"));
    let points = done
        .split("<polyline class=\"reward\" points=\"")
        .nth(1)
        .and_then(|p| p.split('"').next())
        .unwrap();
    assert!(!points.is_empty(), "the chart has the iterations: {done}");
    let home = ann.get("/console").await.body;
    assert!(home.contains("<td>first "), "the model is on the console: {home}");

    // The settings it ran, downloaded, repeat the same model through `trainer train`.
    let toml = ann.get(&format!("{job_path}/train.toml")).await;
    assert_eq!(toml.status, 200);
    let reward = ann.get(&format!("{job_path}/reward_function.py")).await.body;
    assert_eq!(reward, REWARD);
    let steps = done
        .split("--steps ")
        .nth(1)
        .and_then(|p| p.split(' ').next())
        .unwrap()
        .to_string();
    assert!(steps.parse::<u64>().unwrap() > 0, "{steps}");
    let again = tempfile::tempdir().unwrap();
    std::fs::write(again.path().join("train.toml"), &toml.body).unwrap();
    std::fs::write(again.path().join("reward_function.py"), &reward).unwrap();
    let out = tokio::process::Command::new(trainer_bin())
        .current_dir(again.path())
        .args([
            "train",
            "--config",
            "train.toml",
            "--reward",
            "reward_function.py",
            "--track",
            "oval",
        ])
        .args([
            "--seed", "7", "--steps", &steps, "--out", "run", "--device", "cpu", "--json",
        ])
        .env("OMP_NUM_THREADS", "1")
        .env("MKL_NUM_THREADS", "1")
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let league_run = dir.path().join(&id).join("out");
    for file in ["model_last.safetensors", "model_metadata.json"] {
        let a = std::fs::read(league_run.join(file)).unwrap();
        let b = std::fs::read(again.path().join("run").join(file)).unwrap();
        assert!(a == b, "{file}: the console's run and the trainer's differ");
    }
    // The model on the console is the one the run made (listed with a token from her console).
    let token = ann.new_token("test").await;
    let models = s
        .client(Some(&token))
        .await
        .models
        .list_models(pb::ListModelsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .models;
    assert_eq!(models.len(), 1);
    let best = league_run.join("model_best.safetensors");
    let kept = if best.is_file() {
        best
    } else {
        league_run.join("model_last.safetensors")
    };
    assert_eq!(
        models[0].sha256,
        slipstream_league::util::sha256_hex(&std::fs::read(kept).unwrap())
    );

    // The car's lap: a replay of the model the job made, for her only.
    let t0 = Instant::now();
    let replay = loop {
        let page = ann.get(&job_path).await.body;
        if let Some(src) = page
            .split("src=\"")
            .find(|p| p.starts_with("/console/trainings/"))
            .and_then(|p| p.split('"').next())
        {
            break src.replace("&amp;", "&");
        }
        assert!(t0.elapsed() < Duration::from_secs(90), "no replay on the page");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let gif = ann.get(&replay).await;
    assert_eq!(gif.status, 200);
    assert!(gif.body.starts_with("GIF89a"), "a GIF");

    // Its file downloads for her, and for nobody else.
    let file = ann.get(&format!("/console/models/{}/file", models[0].id)).await;
    assert_eq!(file.status, 200);
    let mut bob = student(&s, "bob").await;
    assert_eq!(
        bob.get(&format!("/console/models/{}/file", models[0].id)).await.status,
        404
    );

    // Clone: another job continues from its weights; one that changes its sensor is refused.
    let job_page = ann.get(&job_path).await;
    assert!(job_page.body.contains("clone=true"), "the clone link");
    let form_page = ann.get(&format!("/console/models/new?from={id}&clone=true")).await;
    assert!(
        form_page
            .body
            .contains(&format!("name=\"init_model\" value=\"{}\"", models[0].id))
    );
    let mut fields: Vec<(&str, &str)> = form("second", "1", REWARD)
        .into_iter()
        .map(|(k, v)| if k == "sensor" { (k, "stereo") } else { (k, v) })
        .collect();
    fields.push(("init_model", models[0].id.as_str()));
    fields.push(("action", "train"));
    let changed = ann.post("/console/models/new", &fields).await;
    assert_eq!(changed.status, 400);
    assert!(
        changed.body.contains("has another sensor than this form"),
        "refused, naming the field"
    );
    let mut fields = form("second", "1", REWARD);
    fields.push(("init_model", models[0].id.as_str()));
    fields.push(("steps", "2048"));
    fields.push(("action", "train"));
    let cloned = ann.post("/console/models/new", &fields).await;
    assert_eq!(cloned.status, 303, "{}", cloned.body);
    let done = wait_finished(&mut ann, &cloned.location, Duration::from_secs(120)).await;
    assert!(done.contains("data-status=\"completed\""));
    let clone_id = cloned.location.rsplit('/').next().unwrap();
    let command = std::fs::read_to_string(dir.path().join(clone_id).join("command.txt")).unwrap();
    assert!(command.contains("--init init.safetensors"), "{command}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas_refuse_a_second_job_and_stop_ends_one_keeping_nobody_elses_view() {
    let (s, _dir) = training_server().await;
    let mut ann = student(&s, "ann").await;
    ann.get("/console/models/new").await;
    let too_long = {
        let mut f = form("long", "600", REWARD);
        f.push(("action", "train"));
        ann.post("/console/models/new", &f).await
    };
    assert_eq!(too_long.status, 400);
    assert!(
        too_long.body.contains("minutes: expected more than 0 and at most 60"),
        "{}",
        too_long.body
    );
    let mut f = form("one", "5", REWARD);
    f.push(("action", "train"));
    let first = ann.post("/console/models/new", &f).await;
    assert_eq!(first.status, 303, "{}", first.body);
    let mut f = form("two", "5", REWARD);
    f.push(("action", "train"));
    let second = ann.post("/console/models/new", &f).await;
    assert_eq!(second.status, 429, "{}", second.body);
    assert!(
        second.body.contains("queued or running, the most allowed at once"),
        "{}",
        second.body
    );
    assert!(second.body.contains("value=\"two\""), "the form is kept");

    // Another student sees nothing of it.
    let mut bob = student(&s, "bob").await;
    for suffix in ["", "/train.toml", "/reward_function.py"] {
        assert_eq!(
            bob.get(&format!("{}{suffix}", first.location)).await.status,
            404,
            "{suffix}"
        );
    }
    assert_eq!(bob.post(&format!("{}/stop", first.location), &[]).await.status, 404);

    // The admin's list of everyone's jobs has it; a student has no such page.
    let mut admin = s.admin().await;
    admin
        .users
        .set_password(pb::SetPasswordRequest {
            user_id: String::new(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap();
    let mut boss = Browser::new(&s);
    assert_eq!(boss.sign_in("admin", PASSWORD).await.status, 303);
    let jobs = boss.get("/console/jobs").await;
    assert_eq!(jobs.status, 200);
    assert!(
        jobs.body.contains(&format!("href=\"{}\"", first.location)),
        "the job is listed"
    );
    assert!(jobs.body.contains("<td>ann</td>"), "with its user");
    assert_eq!(bob.get("/console/jobs").await.status, 404);
    // Bad quotas are refused naming the field, and nothing changes.
    boss.get("/console/quotas").await;
    let bad = boss
        .post(
            "/console/quotas",
            &[
                ("concurrent_jobs", "lots"),
                ("monthly_minutes", "600"),
                ("models", "50"),
                ("job_minutes", "60"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.contains("training jobs at once: expected a whole number"),
        "named"
    );
    let negative = boss
        .post(
            "/console/quotas",
            &[
                ("concurrent_jobs", "1"),
                ("monthly_minutes", "-5"),
                ("models", "50"),
                ("job_minutes", "60"),
            ],
        )
        .await;
    assert_eq!(negative.status, 400);
    assert!(
        negative.body.contains("value=\"600\""),
        "the quotas in force are shown again"
    );
    // Bad form values: each refused naming its field.
    for (field, value, says) in [
        ("steps", "many", "steps: expected a whole number"),
        ("track", "nowhere", "track: no built-in or uploaded track"),
        ("seed", "-3", "seed: expected a whole number"),
        ("actions", "left fast", "actions, line 1: steering angle"),
    ] {
        let mut f: Vec<(&str, &str)> = form("bad", "1", REWARD)
            .into_iter()
            .filter(|(k, _)| *k != field)
            .collect();
        f.push((field, value));
        f.push(("action", "train"));
        let r = bob.post("/console/models/new", &f).await;
        assert_eq!(r.status, 400, "{field}");
        assert!(r.body.contains(says), "{field}: {says}");
    }

    // Stop: the job ends within seconds.
    let page = ann.get(&first.location).await;
    assert!(page.body.contains("Stop training"));
    let stopped = ann.post(&format!("{}/stop", first.location), &[]).await;
    assert_eq!(stopped.status, 303);
    let end = wait_finished(&mut ann, &first.location, Duration::from_secs(60)).await;
    assert!(end.contains("data-status=\"stopped\""), "{end}");
    // Now there is room for another.
    let again = ann.post("/console/models/new", &f).await;
    assert_eq!(again.status, 303, "{}", again.body);
}

/// A job whose server stops mid-training is queued again at the next start and resumes from its
/// checkpoint: its iterations continue where they were, and it trains to its step budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_interrupted_by_a_server_restart_resumes_from_its_checkpoint() {
    let (s, dir) = training_server().await;
    let mut ann = student(&s, "ann").await;
    ann.get("/console/models/new").await;
    let mut f = form("resumed", "5", REWARD);
    f.push(("steps", "10240"));
    f.push(("action", "train"));
    let started = ann.post("/console/models/new", &f).await;
    assert_eq!(started.status, 303, "{}", started.body);
    let id = started.location.rsplit('/').next().unwrap().to_string();
    // Wait for its first checkpoint, then stop the server under it.
    let checkpoint = dir.path().join(&id).join("out").join("training_state.json");
    let t0 = Instant::now();
    while !checkpoint.is_file() {
        assert!(t0.elapsed() < Duration::from_secs(120), "no checkpoint");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cookies = ann.cookies.clone();
    let db = s.stop().await;
    let s = TestServer::start_with(
        Config {
            workers: 0,
            trainers: 1,
            training_threads: 1,
            training_dir: dir.path().to_path_buf(),
            ..test_config()
        },
        Some(db),
    )
    .await;
    let mut ann = Browser::new(&s);
    ann.cookies = cookies;
    let done = wait_finished(&mut ann, &started.location, Duration::from_secs(180)).await;
    assert!(
        done.contains("data-status=\"completed\""),
        "{}",
        &done[done.len().saturating_sub(3000)..]
    );
    assert!(
        done.contains("--steps 10240 "),
        "trained exactly its steps across the restart"
    );
    let log = std::fs::read_to_string(dir.path().join(&id).join("command.txt")).unwrap();
    assert!(log.contains("--resume"), "the second run resumed: {log}");
    // Its chart has each iteration once: 10,240 steps are 5 iterations of 2,048.
    let iterations = done
        .split(" iterations")
        .next()
        .unwrap()
        .rsplit(" · ")
        .next()
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(iterations, "5", "{}", &done[..done.len().min(2000)]);
}

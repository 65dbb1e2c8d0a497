//! `league-server bench-console`: the student console's page times with a class-sized league — by
//! default 1,000 users with 10,000 models among them — served in-process from a temporary SQLite
//! database. Each page is fetched over a fresh loopback connection, one after another (after 10
//! untimed), as the signed-in student (or the admin) who opens it.

use std::time::Instant;

use anyhow::{Result, anyhow};
use clap::Args;
use serde_json::json;
use slipstream_league::league::training::{ChartPoint, TrainingForm, build_config, config_toml};
use slipstream_league::store::{
    ModelRow, NewSignupInvite, NewTraining, Role, Store, TrainingLimits, TrainingProgress, TrainingStatus,
};
use slipstream_league::util::{new_id, new_secret, secret_hash};

use super::bench::{BenchServer, get_page_as, percentile};

#[derive(Args, Debug)]
pub struct BenchConsoleArgs {
    /// Users in the league.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    users: u64,
    /// Models among them (spread evenly).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
    models: u64,
    /// Iterations on the timed training job's chart.
    #[arg(long, default_value_t = 300)]
    iterations: u64,
    /// Requests timed per page (after 10 untimed).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    calls: u64,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub async fn run(a: BenchConsoleArgs) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = format!("sqlite://{}", dir.path().join("console.db").display());
    let seeded = Instant::now();
    let store = Store::connect(&db).await?;
    let admin = store.create_user("admin", Role::Admin).await?;
    store
        .ensure_token(&admin.id, &secret_hash(super::bench::ADMIN_TOKEN), "bench")
        .await?;
    // One password hash for everyone: the pages never check passwords.
    let mut users = Vec::with_capacity(a.users as usize);
    for i in 0..a.users {
        users.push(store.create_user(&format!("student{i:06}"), Role::Racer).await?);
    }
    for i in 0..a.models {
        let owner = &users[(i % a.users) as usize];
        store
            .upsert_model(&ModelRow {
                id: new_id("mdl"),
                owner_id: owner.id.clone(),
                name: format!("model-{i}"),
                sha256: format!("{i:064x}"),
                size: 1,
                uploaded_at: store.now_ms(),
                sensor: "camera".into(),
                action_space_type: "discrete".into(),
                network: "cnn".into(),
                deleted: false,
                spec_json: String::new(),
            })
            .await?;
    }
    for i in 0..100 {
        store
            .insert_signup_invite(&NewSignupInvite {
                token_hash: &secret_hash(&format!("bench-invite-{i}")),
                role: Role::Racer,
                note: "class",
                created_by: &admin.id,
                expires_at: 0,
                max_uses: 30,
            })
            .await?;
    }
    // The timed student: their models, a finished training job with its chart, a session.
    let student = &users[0];
    let form = TrainingForm {
        name: "bench".into(),
        ..TrainingForm::defaults("oval")
    };
    let cfg = build_config(&form, 1).map_err(|e| anyhow!("{e}"))?;
    let job = store
        .insert_training(
            &NewTraining {
                owner_id: &student.id,
                name: "bench",
                form_json: &serde_json::to_string(&form)?,
                config_toml: &config_toml(&cfg).map_err(|e| anyhow!("{e}"))?,
                reward_code: &form.reward_code,
                track: "oval",
                seed: 1,
                minutes: 10.0,
                steps: 0,
                init_model_id: "",
            },
            &TrainingLimits {
                concurrent: 0,
                monthly_minutes: 0.0,
                models: 0,
                month_start_ms: 0,
            },
        )
        .await?;
    let token = new_secret("tls");
    store.lease_training("bench", &token, 60_000).await?;
    let metrics: String = (1..=a.iterations)
        .map(|i| {
            let p = ChartPoint {
                iteration: i,
                env_steps: i * 2048,
                reward: Some(i as f64 * 0.5),
                progress: Some((i as f64).min(100.0)),
                eval_progress: (i % 5 == 0).then_some(((i as f64) / 3.0).min(100.0)),
                eval_best_lap_s: (i % 5 == 0).then_some(12.0),
                best: i % 50 == 0,
            };
            serde_json::to_string(&p).expect("a point serialises") + "\n"
        })
        .collect();
    store
        .training_progress(
            &job.id,
            &token,
            60_000,
            &TrainingProgress {
                metrics: &metrics,
                log_tail: "iteration 300\n",
                trained_ms: 600_000,
                env_steps: (a.iterations * 2048) as i64,
            },
        )
        .await?;
    store
        .finish_training(&job.id, &token, TrainingStatus::Completed, "", "")
        .await?;
    let session = new_secret("ses");
    store
        .insert_session(&student.id, &secret_hash(&session), store.now_ms() + 3_600_000)
        .await?;
    let admin_session = new_secret("ses");
    store
        .insert_session(&admin.id, &secret_hash(&admin_session), store.now_ms() + 3_600_000)
        .await?;
    store.close().await;
    let seed_s = seeded.elapsed().as_secs_f64();

    let server = BenchServer::start(&db, 0).await?;
    let as_student = format!("slp_session={session}; slp_csrf=bench");
    let as_admin = format!("slp_session={admin_session}; slp_csrf=bench");
    let pages = [
        ("console home (10 models)", "/console".to_string(), &as_student),
        (
            "create a model (track gallery)",
            "/console/models/new".to_string(),
            &as_student,
        ),
        (
            "training job (chart of the iterations)",
            format!("/console/trainings/{}", job.id),
            &as_student,
        ),
        ("API tokens", "/console/tokens".to_string(), &as_student),
        (
            "invites (admin, 100 invites)",
            "/console/invites".to_string(),
            &as_admin,
        ),
        ("quotas (admin)", "/console/quotas".to_string(), &as_admin),
        ("sign in", "/signin".to_string(), &as_student),
    ];
    let mut report = Vec::new();
    for (what, path, cookie) in &pages {
        let mut t = Vec::new();
        let mut bytes = 0;
        for i in 0..10 + a.calls {
            let t0 = Instant::now();
            bytes = get_page_as(&server.addr, path, Some(cookie)).await?;
            if i >= 10 {
                t.push(t0.elapsed().as_secs_f64() * 1000.0);
            }
        }
        t.sort_by(f64::total_cmp);
        report.push(json!({
            "page": what, "path": path, "bytes": bytes,
            "p50_ms": percentile(&t, 0.5), "p99_ms": percentile(&t, 0.99), "max_ms": t.last(),
        }));
    }
    server.stop().await?;
    if a.json {
        println!(
            "{}",
            json!({"users": a.users, "models": a.models, "iterations": a.iterations, "calls": a.calls,
                   "seed_s": seed_s, "pages": report})
        );
    } else {
        println!(
            "console pages with {} users and {} models ({} calls each, seeded in {seed_s:.1} s):",
            a.users, a.models, a.calls
        );
        for p in &report {
            println!(
                "  {:<42} {:>4} KiB  p50 {:>6.2} ms  p99 {:>6.2} ms",
                p["page"].as_str().unwrap_or(""),
                p["bytes"].as_u64().unwrap_or(0) / 1024,
                p["p50_ms"].as_f64().unwrap_or(f64::NAN),
                p["p99_ms"].as_f64().unwrap_or(f64::NAN)
            );
        }
    }
    Ok(())
}

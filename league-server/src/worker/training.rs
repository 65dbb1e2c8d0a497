//! This server's training runners: lease a training job, run `trainer train` in the sandbox (the
//! student's reward function is untrusted code) with the job's thread budget, report its progress
//! every second while heart-beating the lease, stop it when asked, and store the model it made for
//! its owner.
//!
//! A job's folder (`Config::training_dir`/ID) keeps its files between runs: a job whose server
//! stopped is requeued at the next start (or when its lease expires) and resumes from its
//! checkpoint (`trainer train --resume`) with the minutes it has left. The settings it ran are the
//! folder's `train.toml`, `reward_function.py` and the command line in `command.txt`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::ctx::Ctx;
use crate::error::{LeagueError, Result};
use crate::league::training::{ChartPoint, REWARD_FILE};
use crate::sandbox::{Ended, Job, Limits};
use crate::store::{TrainingProgress, TrainingRow, TrainingStatus};
use crate::util::new_secret;

/// How often a running job's progress is read and its lease renewed.
const REPORT_EVERY: Duration = Duration::from_secs(1);
/// The end of the trainer's output a job's page shows, bytes.
const LOG_TAIL_BYTES: usize = 8 << 10;

/// Start `n` training runners; they stop when `shutdown` turns true (a running job is stopped and
/// requeued: it resumes from its checkpoint at the next start).
pub fn start(ctx: Arc<Ctx>, n: usize, shutdown: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    (0..n)
        .map(|i| {
            let owner = format!("{}train{i}", ctx.boot_id);
            tokio::spawn(run(ctx.clone(), owner, shutdown.clone()))
        })
        .collect()
}

async fn run(ctx: Arc<Ctx>, owner: String, mut shutdown: watch::Receiver<bool>) {
    let lease_ms = ctx.cfg.lease.as_millis() as i64;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let token = new_secret("tls");
        match ctx.store.lease_training(&owner, &token, lease_ms).await {
            Ok(Some(job)) => {
                let id = job.id.clone();
                ctx.training_changed(&id);
                if let Err(e) = train(&ctx, &job, &token, &mut shutdown).await {
                    tracing::error!(training = %id, "training job could not run: {e}");
                    let reason = match &e {
                        LeagueError::FailedPrecondition(m) => m.clone(),
                        _ => format!("the league could not run this job: {e}"),
                    };
                    let _ = ctx
                        .store
                        .finish_training(&id, &token, TrainingStatus::Failed, "", &reason)
                        .await;
                }
                ctx.training_changed(&id);
            }
            Ok(None) => {
                // Jobs whose runner died (another server's, on a shared database) come back.
                if let Err(e) = ctx.store.requeue_expired_trainings(None).await {
                    tracing::warn!("requeueing training jobs: {e}");
                }
                tokio::select! {
                    _ = ctx.training_ready.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => {
                tracing::warn!("leasing a training job: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// The job's folder, with its inputs written (again: they never change) for this run.
fn prepare(dir: &Path, job: &TrainingRow, track_npy: Option<&[u8]>, init: Option<&[u8]>) -> Result<()> {
    let io = |what: &str| {
        let what = what.to_string();
        move |e: std::io::Error| LeagueError::internal(format!("training folder: {what}: {e}"))
    };
    std::fs::create_dir_all(dir).map_err(io("create"))?;
    std::fs::write(dir.join("train.toml"), &job.config_toml).map_err(io("train.toml"))?;
    std::fs::write(dir.join(REWARD_FILE), &job.reward_code).map_err(io(REWARD_FILE))?;
    if let Some(bytes) = track_npy {
        std::fs::write(dir.join("track.npy"), bytes).map_err(io("track.npy"))?;
    }
    if let Some(bytes) = init {
        std::fs::write(dir.join("init.safetensors"), bytes).map_err(io("init.safetensors"))?;
    }
    Ok(())
}

/// The trainer's arguments for a run with `minutes` left, or the job's steps that are left
/// (resuming when the folder has a run).
pub fn train_args(
    job: &TrainingRow,
    track_arg: &str,
    minutes: f64,
    steps_done: i64,
    resume: bool,
    init: bool,
) -> Vec<String> {
    let budget = if job.steps > 0 {
        ["--steps".to_string(), (job.steps - steps_done).max(1).to_string()]
    } else {
        ["--minutes".to_string(), format!("{minutes:.4}")]
    };
    let mut args: Vec<String> = vec![
        "train".into(),
        "--config".into(),
        "train.toml".into(),
        "--reward".into(),
        REWARD_FILE.into(),
        "--track".into(),
        track_arg.into(),
        "--seed".into(),
        job.seed.to_string(),
        budget[0].clone(),
        budget[1].clone(),
        "--out".into(),
        "out".into(),
        "--device".into(),
        "cpu".into(),
        "--json".into(),
    ];
    if resume {
        args.push("--resume".into());
    } else if init {
        args.extend(["--init".into(), "init.safetensors".into()]);
    }
    args
}

/// New complete lines of `path` from byte `from` on; returns them and the new offset.
fn new_lines(path: &Path, from: u64) -> (String, u64) {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else {
        return (String::new(), from);
    };
    if f.seek(SeekFrom::Start(from)).is_err() {
        return (String::new(), from);
    }
    let mut buf = String::new();
    if f.read_to_string(&mut buf).is_err() {
        return (String::new(), from);
    }
    let complete = buf.rfind('\n').map(|i| i + 1).unwrap_or(0);
    buf.truncate(complete);
    let next = from + complete as u64;
    (buf, next)
}

/// The trainer's metrics lines as the chart's points (one JSON line each).
fn chart_lines(metrics: &str) -> String {
    metrics
        .lines()
        .filter_map(|l| serde_json::from_str::<slipstream_trainer::metrics::IterationMetrics>(l).ok())
        .map(|m| serde_json::to_string(&ChartPoint::of(&m)).expect("a point serialises") + "\n")
        .collect()
}

fn tail(bytes: &[u8], n: usize) -> String {
    let s = String::from_utf8_lossy(bytes);
    let start = s.len().saturating_sub(n);
    let start = (start..s.len()).find(|&i| s.is_char_boundary(i)).unwrap_or(s.len());
    s[start..].to_string()
}

/// Run one leased job to its end.
async fn train(ctx: &Arc<Ctx>, job: &TrainingRow, token: &str, shutdown: &mut watch::Receiver<bool>) -> Result<()> {
    let (sandbox, trainer) = ctx.student_code.found()?;
    let dir = ctx.cfg.training_dir.join(&job.id);
    let track_npy = match crate::races::upload_sha(&job.track) {
        Some(sha) => Some(
            ctx.store
                .blob(sha)
                .await?
                .ok_or_else(|| LeagueError::internal(format!("track {} is missing its file", job.track)))?,
        ),
        None => None,
    };
    let init = if job.init_model_id.is_empty() {
        None
    } else {
        let m = ctx
            .store
            .model(&job.init_model_id)
            .await?
            .ok_or_else(|| LeagueError::precondition("the model it starts from was deleted"))?;
        ctx.store.blob(&m.sha256).await?
    };
    {
        let dir = dir.clone();
        let job = job.clone();
        let init = init.clone();
        tokio::task::spawn_blocking(move || prepare(&dir, &job, track_npy.as_deref(), init.as_deref()))
            .await
            .map_err(|e| LeagueError::internal(format!("training folder: {e}")))??;
    }
    let out = dir.join("out");
    // A complete checkpoint ends with its counters (`training_state.json`, written last): resume
    // from it; anything less is a run that never checkpointed — start afresh.
    let resume = out.join("training_state.json").is_file();
    if !resume && out.exists() {
        std::fs::remove_dir_all(&out)
            .map_err(|e| LeagueError::internal(format!("training folder: clearing {}: {e}", out.display())))?;
    }
    let minutes_left = (job.minutes - job.trained_ms as f64 / 60_000.0).max(0.05);
    let track_arg = if crate::races::upload_sha(&job.track).is_some() {
        "track.npy".to_string()
    } else {
        job.track.clone()
    };
    // The steps the checkpoint holds (a resumed run trains the rest of a step budget).
    let steps_done = if resume {
        std::fs::read_to_string(out.join("training_state.json"))
            .ok()
            .and_then(|t| {
                serde_json::from_str::<serde_json::Value>(&t)
                    .ok()?
                    .get("env_steps")?
                    .as_i64()
            })
            .unwrap_or(job.env_steps)
    } else {
        0
    };
    let args = train_args(job, &track_arg, minutes_left, steps_done, resume, init.is_some());
    let _ = std::fs::write(dir.join("command.txt"), format!("trainer {}\n", args.join(" ")));
    let threads = ctx.cfg.training_threads.max(1);
    let wall = Duration::from_secs_f64(minutes_left * 60.0) + Duration::from_secs(300);
    let limits = Limits {
        // Every thread's CPU time counts: the budget's threads for the job's minutes, and room for
        // the start, the evaluations and the end.
        cpu_s: (wall.as_secs_f64() * (threads as f64 + 1.0)) as u64,
        memory_bytes: 16 << 30,
        processes: 256,
        file_bytes: 1 << 30,
        wall,
        output_bytes: 256 << 10,
    };
    let threads_env = threads.to_string();
    let sandboxed = Job {
        program: trainer.program.clone(),
        args: args.iter().map(Into::into).collect(),
        dir: dir.clone(),
        read_only: trainer.read_only(),
        env: ["OMP_NUM_THREADS", "MKL_NUM_THREADS"]
            .iter()
            .map(|k| ((*k).into(), threads_env.clone().into()))
            .collect(),
        limits: limits.clone(),
    };
    tracing::info!(training = %job.id, resume, minutes_left, threads, "training started");

    let (cancel_tx, mut cancel_rx) = watch::channel(false);
    let started = Instant::now();
    let run = sandbox.run_until(&sandboxed, async move {
        let _ = cancel_rx.wait_for(|c| *c).await;
    });
    tokio::pin!(run);
    let metrics_path = out.join("metrics.jsonl");
    // A resumed run's earlier lines were reported by the run before.
    let mut offset = if resume {
        std::fs::metadata(&metrics_path).map(|m| m.len()).unwrap_or(0)
    } else {
        0
    };
    let best_path = out.join("model_best.safetensors");
    let mut best_seen = std::fs::metadata(&best_path).and_then(|m| m.modified()).ok();
    let mut last_replay: Option<Instant> = None;
    let mut stop_asked = false;
    let mut out_of_time = false;
    let mut lost = false;
    let mut env_steps = job.env_steps;
    let lease_ms = ctx.cfg.lease.as_millis() as i64;
    let report = |offset: &mut u64, env_steps: &mut i64, log: String| {
        let (lines, next) = new_lines(&metrics_path, *offset);
        *offset = next;
        if let Some(last) = lines
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str::<slipstream_trainer::metrics::IterationMetrics>(l).ok())
        {
            *env_steps = last.env_steps as i64;
        }
        (chart_lines(&lines), log)
    };
    let outcome = loop {
        tokio::select! {
            o = &mut run => break o,
            _ = tokio::time::sleep(REPORT_EVERY) => {
                let (points, log) = report(&mut offset, &mut env_steps, String::new());
                let trained_ms = job.trained_ms + started.elapsed().as_millis() as i64;
                // A step budget runs within the job's minutes all the same.
                if job.steps > 0 && !out_of_time && trained_ms as f64 > job.minutes * 60_000.0 {
                    out_of_time = true;
                    let _ = cancel_tx.send(true);
                }
                let reported = ctx.store.training_progress(&job.id, token, lease_ms, &TrainingProgress {
                    metrics: &points,
                    log_tail: &log,
                    trained_ms,
                    env_steps,
                }).await;
                match reported {
                    Ok(Some(stop)) => {
                        if stop && !stop_asked {
                            stop_asked = true;
                            let _ = cancel_tx.send(true);
                        }
                    }
                    Ok(None) => {
                        lost = true;
                        let _ = cancel_tx.send(true);
                    }
                    Err(e) => tracing::warn!(training = %job.id, "reporting progress: {e}"),
                }
                if !points.is_empty() {
                    ctx.training_changed(&job.id);
                }
                // A new best model: its replay, now and then (each is a lap raced and drawn).
                let best = std::fs::metadata(&best_path).and_then(|m| m.modified()).ok();
                if best.is_some()
                    && best != best_seen
                    && last_replay.is_none_or(|t| t.elapsed() >= REPLAY_EVERY)
                    && let Ok(bytes) = std::fs::read(&best_path)
                {
                    best_seen = best;
                    last_replay = Some(Instant::now());
                    let iteration = points
                        .lines()
                        .filter_map(|l| serde_json::from_str::<ChartPoint>(l).ok())
                        .rfind(|p| p.best)
                        .map_or(0, |p| p.iteration as i64);
                    spawn_replay(ctx, job, bytes, iteration);
                }
            }
            _ = shutdown.changed() => {
                if *shutdown.borrow() {
                    // The server is stopping: end the run; the job is requeued at the next start
                    // and resumes from its checkpoint.
                    lost = true;
                    let _ = cancel_tx.send(true);
                }
            }
        }
    };
    let outcome =
        outcome.map_err(|e| LeagueError::precondition(format!("the sandbox could not run the trainer: {e}")))?;
    let trained_ms = job.trained_ms + started.elapsed().as_millis() as i64;
    let log = tail(&outcome.stderr, LOG_TAIL_BYTES);
    let (points, log) = report(&mut offset, &mut env_steps, log);
    // The trainer's own summary has the exact steps it trained.
    if let Some(steps) = std::str::from_utf8(&outcome.stdout).ok().and_then(|s| {
        s.lines().rev().find_map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()?
                .get("env_steps")?
                .as_i64()
        })
    }) {
        env_steps = steps;
    }
    // What it did until now is kept (interrupted: if the lease is still ours, the server is
    // stopping).
    let _ = ctx
        .store
        .training_progress(
            &job.id,
            token,
            lease_ms,
            &TrainingProgress {
                metrics: &points,
                log_tail: &log,
                trained_ms,
                env_steps,
            },
        )
        .await;
    if lost {
        tracing::info!(training = %job.id, "training interrupted; it resumes from its checkpoint");
        return Ok(());
    }
    let finished_ok = outcome.success();
    let model_file = [out.join("model_best.safetensors"), out.join("model_last.safetensors")]
        .into_iter()
        .find(|p| p.is_file());
    let (status, reason) = match (&outcome.ended, finished_ok) {
        (_, true) => (TrainingStatus::Completed, String::new()),
        (Ended::Cancelled, _) if out_of_time => (
            TrainingStatus::Stopped,
            format!("stopped at its {} minutes, before its {} steps", job.minutes, job.steps),
        ),
        (Ended::Cancelled, _) => (TrainingStatus::Stopped, "stopped on request".to_string()),
        _ => {
            let last: Vec<&str> = log.lines().rev().filter(|l| !l.trim().is_empty()).take(4).collect();
            let last: Vec<&str> = last.into_iter().rev().collect();
            let job_dir = dir.canonicalize().unwrap_or_else(|_| dir.clone());
            let relative = |s: String| s.replace(&format!("{}/", job_dir.display()), "");
            (
                TrainingStatus::Failed,
                relative(format!(
                    "the trainer {}: {}",
                    outcome.describe(&limits),
                    last.join("\n")
                )),
            )
        }
    };
    let model_id = match (status, model_file) {
        (TrainingStatus::Completed | TrainingStatus::Stopped, Some(path)) => {
            let bytes = tokio::fs::read(&path)
                .await
                .map_err(|e| LeagueError::internal(format!("reading {}: {e}", path.display())))?;
            let last =
                crate::league::training::chart_points(&ctx.store.training(&job.id).await?.unwrap_or(job.clone()))
                    .last()
                    .map_or(0, |p| p.iteration as i64);
            spawn_replay(ctx, job, bytes.clone(), last);
            let (model, _) = crate::league::models::store_model(ctx, &job.owner_id, &job.name, bytes).await?;
            model.id
        }
        _ => String::new(),
    };
    ctx.store
        .finish_training(&job.id, token, status, &model_id, &reason)
        .await?;
    tracing::info!(training = %job.id, status = status.as_str(), model = %model_id, env_steps, "training finished");
    Ok(())
}

/// How often a running job's best model is raced and drawn again, at most.
const REPLAY_EVERY: Duration = Duration::from_secs(45);

/// Race `model` one lap on the job's track and store the replay as the job's newest (in the
/// background, at the evaluations' low priority; a failure is logged, the job goes on).
fn spawn_replay(ctx: &Arc<Ctx>, job: &TrainingRow, model: Vec<u8>, iteration: i64) {
    let ctx = ctx.clone();
    let job = job.clone();
    tokio::spawn(async move {
        if let Err(e) = replay(&ctx, &job, model, iteration).await {
            tracing::warn!(training = %job.id, "no replay: {e}");
        }
    });
}

async fn replay(ctx: &Ctx, job: &TrainingRow, model: Vec<u8>, iteration: i64) -> Result<()> {
    let mut spec = crate::races::RaceSpec::time_trial(&job.name, &job.track, 0, 0);
    spec.laps = 1;
    let race = crate::store::RaceRow {
        id: job.id.clone(),
        spec,
        created_by: job.owner_id.clone(),
        created_at: job.created_at,
    };
    let run = ctx.race_run(&race).await?;
    let track = ctx.race_track(&run)?;
    let outcome = crate::evaluation::run_in_background(model, run.clone(), track.clone(), Duration::from_secs(60))
        .await
        .map_err(LeagueError::internal)?;
    let gif = tokio::task::spawn_blocking(move || crate::evaluation::replay_gif(&run, track, &outcome.trace))
        .await
        .map_err(|e| LeagueError::internal(format!("the replay's renderer stopped: {e}")))?
        .map_err(LeagueError::internal)?;
    let sha = crate::util::sha256_hex(&gif);
    ctx.store.put_blob(&sha, &gif).await?;
    ctx.store.set_training_replay(&job.id, &sha, iteration).await?;
    ctx.training_changed(&job.id);
    Ok(())
}

/// A job's folder.
pub fn folder(ctx: &Ctx, id: &str) -> PathBuf {
    ctx.cfg.training_dir.join(id)
}

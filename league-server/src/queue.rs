//! In-process evaluation workers and the lease reaper.
//!
//! A worker loops: lease the oldest due job, load its model and race, race it on a blocking thread
//! (heart-beating the lease meanwhile), and record the outcome. A head-to-head match's job races
//! its models together and advances its bracket or ladder. The reaper also advances brackets and
//! ladders now and then (a ladder's new entrants or opened race; a bracket whose server stopped
//! between recording a match and queueing the next). On shutdown it stops leasing; a
//! running evaluation gets `shutdown_grace` to finish, otherwise its job goes back to the queue
//! (so nothing is lost, and a `kill -9` is recovered at the next start by requeueing the dead
//! process's leases).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::ctx::Ctx;
use crate::evaluation;
use crate::store::{JobSubject, LeasedJob};

/// Start `n` workers and the reaper; they stop when `shutdown` turns true.
pub fn start(ctx: Arc<Ctx>, n: usize, shutdown: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let mut handles = Vec::new();
    for i in 0..n {
        handles.push(tokio::spawn(worker(ctx.clone(), i, shutdown.clone())));
    }
    handles.push(tokio::spawn(reaper(ctx, shutdown)));
    handles
}

async fn worker(ctx: Arc<Ctx>, index: usize, mut shutdown: watch::Receiver<bool>) {
    let owner = format!("{}{index}", ctx.boot_id);
    let lease_ms = ctx.cfg.lease.as_millis() as i64;
    loop {
        if *shutdown.borrow() {
            return;
        }
        match ctx.lease_job(&owner, lease_ms, true).await {
            Ok(Some(job)) => process(&ctx, job, &mut shutdown).await,
            Ok(None) => {
                tokio::select! {
                    _ = ctx.job_ready.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => {
                tracing::error!("leasing a job failed: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn process(ctx: &Arc<Ctx>, job: LeasedJob, shutdown: &mut watch::Receiver<bool>) {
    let sub_id = match &job.subject {
        JobSubject::Match(id) => return process_match(ctx, &job, id, shutdown).await,
        JobSubject::Evaluation(id) => id,
    };
    let inputs = match ctx.evaluation_inputs(sub_id).await {
        Ok((sub, race, model)) => ctx.model_bytes(&model).await.map(|bytes| (sub, race, bytes)),
        Err(e) => Err(e),
    };
    let (sub, race, model) = match inputs {
        Ok(x) => x,
        Err(e) => {
            if let Err(e) = ctx.fail_job(&job.job_id, &job.lease_token, &e.to_string()).await {
                tracing::error!("recording a failure: {e}");
            }
            return;
        }
    };
    let run = match ctx.race_run(&race).await {
        Ok(r) => r,
        Err(e) => {
            let _ = ctx
                .finish_job(&job.job_id, &job.lease_token, &race, Err(e.to_string()))
                .await;
            return;
        }
    };
    tracing::info!(job = %job.job_id, submission = %sub.id, race = %race.id, attempt = job.attempts, "evaluating");
    let started = std::time::Instant::now();
    let eval = evaluation::run_in_background(model, run, ctx.cfg.eval_wall_limit);
    let Some(outcome) = supervise(ctx, &job, eval, shutdown).await else {
        return;
    };
    match &outcome {
        Ok(o) => tracing::info!(
            job = %job.job_id,
            submission = %sub.id,
            laps_completed = o.laps.iter().filter(|l| l.completed).count(),
            seconds = started.elapsed().as_secs_f64(),
            "evaluated"
        ),
        Err(e) => tracing::warn!(job = %job.job_id, submission = %sub.id, "evaluation failed: {e}"),
    }
    if let Err(e) = ctx.finish_job(&job.job_id, &job.lease_token, &race, outcome).await {
        tracing::error!(job = %job.job_id, "recording the result failed: {e}");
    }
}

/// Race a head-to-head match and record it (which advances its bracket or ladder).
async fn process_match(ctx: &Arc<Ctx>, job: &LeasedJob, match_id: &str, shutdown: &mut watch::Receiver<bool>) {
    let (m, run, models) = match ctx.match_inputs(match_id).await {
        Ok(x) => x,
        Err(e) => {
            if let Err(e) = ctx
                .finish_match(&job.job_id, &job.lease_token, match_id, Err(e.to_string()))
                .await
            {
                tracing::error!("recording a failure: {e}");
            }
            return;
        }
    };
    ctx.event_changed(&m.event_id);
    tracing::info!(job = %job.job_id, r#match = %m.id, cars = models.len(), attempt = job.attempts, "racing a match");
    let race = evaluation::run_match_in_background(models, run, ctx.cfg.eval_wall_limit);
    let Some(outcome) = supervise(ctx, job, race, shutdown).await else {
        return;
    };
    if let Err(e) = ctx.finish_match(&job.job_id, &job.lease_token, match_id, outcome).await {
        tracing::error!(job = %job.job_id, "recording a match failed: {e}");
    }
}

/// Wait for a job's work while heart-beating its lease. On shutdown the work gets
/// `shutdown_grace` to finish; after that the job goes back to the queue and `None` is returned.
async fn supervise<T>(
    ctx: &Arc<Ctx>,
    job: &LeasedJob,
    work: impl std::future::Future<Output = Result<T, String>>,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<Result<T, String>> {
    let mut work = Box::pin(work);
    let lease_ms = ctx.cfg.lease.as_millis() as i64;
    let mut beat = tokio::time::interval(ctx.cfg.lease / 3);
    beat.tick().await;
    let mut stopping: Option<tokio::time::Instant> = None;
    loop {
        let grace_left = stopping.map(|t| t.saturating_duration_since(tokio::time::Instant::now()));
        tokio::select! {
            r = &mut work => return Some(r),
            _ = beat.tick() => {
                if let Err(e) = ctx.store.heartbeat(&job.job_id, &job.lease_token, lease_ms).await {
                    tracing::warn!(job = %job.job_id, "heartbeat failed: {e}");
                }
            }
            _ = shutdown.changed(), if stopping.is_none() => {
                stopping = Some(tokio::time::Instant::now() + ctx.cfg.shutdown_grace);
            }
            _ = tokio::time::sleep(grace_left.unwrap_or(Duration::MAX)), if grace_left.is_some() => {
                tracing::warn!(job = %job.job_id, "shutting down: returning the running job to the queue");
                if let Err(e) = ctx.store.release_job(&job.job_id, &job.lease_token).await {
                    tracing::error!("releasing a job: {e}");
                }
                return None;
            }
        }
    }
}

/// Reaper rounds between two advances of the events (a round is 2 s).
const EVENT_TICK_ROUNDS: u32 = 5;

async fn reaper(ctx: Arc<Ctx>, mut shutdown: watch::Receiver<bool>) {
    let mut round = 0u32;
    loop {
        if round.is_multiple_of(EVENT_TICK_ROUNDS)
            && let Err(e) = ctx.tick_events().await
        {
            tracing::error!("advancing brackets and ladders: {e}");
        }
        round = round.wrapping_add(1);
        if let Err(e) = ctx.requeue_expired(None).await {
            tracing::error!("requeueing expired leases: {e}");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

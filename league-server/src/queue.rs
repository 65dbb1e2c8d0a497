//! In-process evaluation workers and the lease reaper.
//!
//! A worker loops: lease the oldest due job, load its model and race, race it on a blocking thread
//! (heart-beating the lease meanwhile), and record the outcome. On shutdown it stops leasing; a
//! running evaluation gets `shutdown_grace` to finish, otherwise its job goes back to the queue
//! (so nothing is lost, and a `kill -9` is recovered at the next start by requeueing the dead
//! process's leases).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::ctx::Ctx;
use crate::evaluation;
use crate::store::LeasedJob;

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
        match ctx.store.lease_job(&owner, lease_ms).await {
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
    let inputs = match ctx.job_inputs(&job).await {
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
    if let Ok(Some(s)) = ctx.store.submission(&sub.id).await {
        ctx.publish_submission(&s);
    }
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
    let wall = ctx.cfg.eval_wall_limit;
    let started = std::time::Instant::now();
    let mut eval = Box::pin(evaluation::run_in_background(model, run, wall));
    let lease_ms = ctx.cfg.lease.as_millis() as i64;
    let mut beat = tokio::time::interval(ctx.cfg.lease / 3);
    beat.tick().await;
    let mut stopping: Option<tokio::time::Instant> = None;
    let outcome = loop {
        let grace_left = stopping.map(|t| t.saturating_duration_since(tokio::time::Instant::now()));
        tokio::select! {
            r = &mut eval => break r,
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
                return;
            }
        }
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

async fn reaper(ctx: Arc<Ctx>, mut shutdown: watch::Receiver<bool>) {
    loop {
        match ctx.store.requeue_expired(None).await {
            Ok(failed) => {
                for s in failed {
                    ctx.publish_submission(&s);
                }
            }
            Err(e) => tracing::error!("requeueing expired leases: {e}"),
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

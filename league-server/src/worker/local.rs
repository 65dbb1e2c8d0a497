//! This server's own workers (a [`JobSource`] over its queue) and the lease reaper.
//!
//! A head-to-head match's job races its models together and advances its bracket or ladder. The
//! reaper also advances brackets and ladders now and then (a ladder's new entrants or opened race;
//! a bracket whose server stopped between recording a match and queueing the next). On shutdown
//! the workers stop leasing; a running race gets `shutdown_grace` to finish, otherwise its job goes
//! back to the queue (so nothing is lost, and a `kill -9` is recovered at the next start by
//! requeueing the dead process's leases).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Inputs, JobSource, Models, Raced, Settings};
use crate::ctx::Ctx;
use crate::store::{JobSubject, LeasedJob, RaceRow};

/// Start `n` workers and the reaper; they stop when `shutdown` turns true.
pub fn start(ctx: Arc<Ctx>, n: usize, shutdown: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let settings = Settings {
        wall_limit: ctx.cfg.eval_wall_limit,
        heartbeat: ctx.cfg.lease / 3,
        shutdown_grace: ctx.cfg.shutdown_grace,
    };
    let mut handles = Vec::new();
    for i in 0..n {
        let source = Local {
            owner: format!("{}{i}", ctx.boot_id),
            ctx: ctx.clone(),
        };
        handles.push(tokio::spawn(super::run(source, settings, shutdown.clone())));
    }
    handles.push(tokio::spawn(reaper(ctx, shutdown)));
    handles
}

/// A worker of this server's queue.
struct Local {
    ctx: Arc<Ctx>,
    /// Its leases' owner (this process's boot id and the worker's number).
    owner: String,
}

/// A leased job, and (an evaluation's) race once its inputs are read.
struct LocalJob {
    leased: LeasedJob,
    race: Option<RaceRow>,
}

impl Local {
    fn lease_ms(&self) -> i64 {
        self.ctx.cfg.lease.as_millis() as i64
    }
}

impl JobSource for Local {
    type Job = LocalJob;

    fn job_id(job: &LocalJob) -> &str {
        &job.leased.job_id
    }

    async fn lease(&mut self) -> Result<Option<LocalJob>, String> {
        let job = self.ctx.lease_job(&self.owner, self.lease_ms(), true).await;
        Ok(job
            .map_err(|e| e.to_string())?
            .map(|leased| LocalJob { leased, race: None }))
    }

    async fn idle(&mut self) {
        tokio::select! {
            _ = self.ctx.job_ready.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }

    async fn inputs(&mut self, job: &mut LocalJob) -> Result<Inputs, String> {
        let ctx = &self.ctx;
        let (run, models) = match &job.leased.subject {
            JobSubject::Evaluation(_) => {
                let (sub, race, model) = ctx.evaluation_inputs(&job.leased).await.map_err(|e| e.to_string())?;
                let sub = sub.id.clone();
                job.race = Some(race.clone());
                let model = ctx.model_bytes(&model).await.map_err(|e| e.to_string())?;
                let run = ctx.race_run(&race).await.map_err(|e| e.to_string())?;
                tracing::info!(job = %job.leased.job_id, submission = %sub, race = %race.id, attempt = job.leased.attempts, "evaluating");
                (run, Models::Evaluation(model))
            }
            JobSubject::Match(match_id) => {
                let (m, run, models) = ctx.match_inputs(match_id).await.map_err(|e| e.to_string())?;
                ctx.event_changed(&m.event_id);
                tracing::info!(job = %job.leased.job_id, r#match = %m.id, cars = models.len(), attempt = job.leased.attempts, "racing a match");
                (run, Models::Match(models))
            }
        };
        let track = ctx.race_track(&run).map_err(|e| e.to_string())?;
        Ok(Inputs { run, track, models })
    }

    async fn heartbeat(&mut self, job: &LocalJob) {
        let j = &job.leased;
        if let Err(e) = self
            .ctx
            .store
            .heartbeat(&j.job_id, &j.lease_token, self.lease_ms())
            .await
        {
            tracing::warn!(job = %j.job_id, "heartbeat failed: {e}");
        }
    }

    async fn release(&mut self, job: &LocalJob) {
        let j = &job.leased;
        if let Err(e) = self.ctx.release_job(&j.job_id, &j.lease_token).await {
            tracing::error!(job = %j.job_id, "releasing a job: {e}");
        }
    }

    async fn report(&mut self, job: LocalJob, outcome: Result<Raced, String>) {
        let (ctx, j) = (&self.ctx, &job.leased);
        let recorded = match (&j.subject, outcome, &job.race) {
            (JobSubject::Evaluation(_), outcome, Some(race)) => {
                let outcome = outcome.and_then(|r| match r {
                    Raced::Evaluation(o) => Ok(o),
                    Raced::Match(_) => Err("a match's outcome for an evaluation (a bug)".into()),
                });
                ctx.finish_job(&j.job_id, &j.lease_token, race, outcome).await
            }
            // Its inputs could not be read: no race to record against.
            (JobSubject::Evaluation(_), outcome, None) => {
                let reason = outcome.err().unwrap_or_else(|| "no race".into());
                ctx.fail_job(&j.job_id, &j.lease_token, &reason).await
            }
            (JobSubject::Match(match_id), outcome, _) => {
                let outcome = outcome.and_then(|r| match r {
                    Raced::Match(m) => Ok(m),
                    Raced::Evaluation(_) => Err("an evaluation's outcome for a match (a bug)".into()),
                });
                ctx.finish_match(&j.job_id, &j.lease_token, match_id, outcome).await
            }
        };
        if let Err(e) = recorded {
            tracing::error!(job = %j.job_id, "recording the outcome failed: {e}");
        }
    }
}

/// Reaper rounds between two advances of the events (a round is 2 s).
const EVENT_TICK_ROUNDS: u32 = 5;

/// Requeue expired leases (every 2 s) and advance brackets and ladders (every 10 s).
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

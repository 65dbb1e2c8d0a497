//! Evaluation workers: one loop — lease a job, gather its inputs, race them while heart-beating the
//! lease, report the outcome — over a [`JobSource`]: this server's own queue ([`local`], the
//! in-process workers) or a server's over gRPC ([`remote`], `league-server worker`).

pub mod local;
pub mod remote;
pub mod training;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use slipstream_sim::Track;
use tokio::sync::watch;

use crate::evaluation::{self, MatchOutcome, Outcome};
use crate::races::RaceRun;

/// What a leased job races: its race (track, rules, seed) and its model files.
#[derive(Debug)]
pub struct Inputs {
    pub run: RaceRun,
    /// The race's track, as the simulator loaded it.
    pub track: Arc<Track>,
    pub models: Models,
}

/// The models of a job.
#[derive(Debug)]
pub enum Models {
    /// A submission's evaluation: its model.
    Evaluation(Vec<u8>),
    /// A head-to-head match: every seat's model, in grid order.
    Match(Vec<Vec<u8>>),
}

/// What racing a job gave.
#[derive(Debug)]
pub enum Raced {
    Evaluation(Outcome),
    Match(MatchOutcome),
}

impl Inputs {
    /// Race on a thread of its own, at a lower priority than request handling.
    async fn race(self, wall_limit: Duration) -> Result<Raced, String> {
        match self.models {
            Models::Evaluation(model) => evaluation::run_in_background(model, self.run, self.track, wall_limit)
                .await
                .map(Raced::Evaluation),
            Models::Match(models) => evaluation::run_match_in_background(models, self.run, self.track, wall_limit)
                .await
                .map(Raced::Match),
        }
    }
}

/// Where a worker's jobs come from and where their outcomes go.
pub trait JobSource: Send {
    type Job: Send + Sync;

    /// The job's id (for the logs).
    fn job_id(job: &Self::Job) -> &str;
    /// The next due job, if any.
    fn lease(&mut self) -> impl Future<Output = Result<Option<Self::Job>, String>> + Send;
    /// Wait a little for a job to be queued (after a lease found none).
    fn idle(&mut self) -> impl Future<Output = ()> + Send;
    /// What the job races (an `Err` is reported as the job's failure).
    fn inputs(&mut self, job: &mut Self::Job) -> impl Future<Output = Result<Inputs, String>> + Send;
    /// Extend the job's lease.
    fn heartbeat(&mut self, job: &Self::Job) -> impl Future<Output = ()> + Send;
    /// Give the job back unfinished: the worker is stopping.
    fn release(&mut self, job: &Self::Job) -> impl Future<Output = ()> + Send;
    /// Record the job's outcome.
    fn report(&mut self, job: Self::Job, outcome: Result<Raced, String>) -> impl Future<Output = ()> + Send;
}

/// How a worker runs its jobs.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Wall-clock limit of one race.
    pub wall_limit: Duration,
    /// Time between two heartbeats of a running job's lease.
    pub heartbeat: Duration,
    /// How long a running job may still take once the worker is told to stop; after that it is
    /// released.
    pub shutdown_grace: Duration,
}

/// Work `source`'s jobs until `shutdown` turns true.
pub async fn run<S: JobSource>(mut source: S, settings: Settings, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        let mut job = match source.lease().await {
            Ok(Some(job)) => job,
            Ok(None) => {
                tokio::select! {
                    _ = source.idle() => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            Err(e) => {
                tracing::warn!("leasing a job failed: {e}");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
        };
        let outcome = match source.inputs(&mut job).await {
            Ok(inputs) => {
                let started = std::time::Instant::now();
                let race = inputs.race(settings.wall_limit);
                let Some(outcome) = supervise(&mut source, &job, race, &settings, &mut shutdown).await else {
                    continue;
                };
                log_outcome(S::job_id(&job), &outcome, started.elapsed());
                outcome
            }
            Err(e) => Err(e),
        };
        source.report(job, outcome).await;
    }
}

fn log_outcome(job: &str, outcome: &Result<Raced, String>, took: Duration) {
    let seconds = took.as_secs_f64();
    match outcome {
        Ok(Raced::Evaluation(o)) => {
            let laps_completed = o.laps.iter().filter(|l| l.completed).count();
            tracing::info!(job, laps_completed, seconds, "evaluated");
        }
        Ok(Raced::Match(m)) => tracing::info!(job, winner = m.result.winner(), seconds, "match raced"),
        Err(e) => tracing::warn!(job, seconds, "race failed: {e}"),
    }
}

/// Wait for a job's race while heart-beating its lease. Once `shutdown` turns true the race gets
/// `shutdown_grace` to finish; after that the job is released and `None` returned.
async fn supervise<S: JobSource, T>(
    source: &mut S,
    job: &S::Job,
    work: impl Future<Output = Result<T, String>>,
    settings: &Settings,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<Result<T, String>> {
    let mut work = std::pin::pin!(work);
    let mut beat = tokio::time::interval(settings.heartbeat);
    beat.tick().await;
    let mut stopping: Option<tokio::time::Instant> = None;
    loop {
        let grace_left = stopping.map(|t| t.saturating_duration_since(tokio::time::Instant::now()));
        tokio::select! {
            r = &mut work => return Some(r),
            _ = beat.tick() => source.heartbeat(job).await,
            _ = shutdown.changed(), if stopping.is_none() => {
                stopping = Some(tokio::time::Instant::now() + settings.shutdown_grace);
            }
            _ = tokio::time::sleep(grace_left.unwrap_or(Duration::MAX)), if grace_left.is_some() => {
                tracing::warn!(job = S::job_id(job), "stopping: giving the running job back");
                source.release(job).await;
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A job source that records what the loop did with its one job.
    #[derive(Default)]
    struct Fake {
        jobs: Vec<String>,
        heartbeats: usize,
        /// Completes the running work at the second heartbeat.
        finish_at_second_beat: Option<tokio::sync::oneshot::Sender<()>>,
        released: Vec<String>,
        reported: Arc<Mutex<Vec<(String, Result<(), String>)>>>,
        /// Told to stop once a job is reported.
        stop: Option<watch::Sender<bool>>,
    }

    impl JobSource for Fake {
        type Job = String;

        fn job_id(job: &String) -> &str {
            job
        }

        async fn lease(&mut self) -> Result<Option<String>, String> {
            Ok(self.jobs.pop())
        }

        async fn idle(&mut self) {
            tokio::task::yield_now().await
        }

        async fn inputs(&mut self, job: &mut String) -> Result<Inputs, String> {
            Err(format!("{job}: the model file is missing"))
        }

        async fn heartbeat(&mut self, _job: &String) {
            self.heartbeats += 1;
            if self.heartbeats == 2
                && let Some(done) = self.finish_at_second_beat.take()
            {
                let _ = done.send(());
            }
        }

        async fn release(&mut self, job: &String) {
            self.released.push(job.clone());
        }

        async fn report(&mut self, job: String, outcome: Result<Raced, String>) {
            self.reported.lock().unwrap().push((job, outcome.map(|_| ())));
            if let Some(stop) = &self.stop {
                stop.send_replace(true);
            }
        }
    }

    fn settings(grace: Duration) -> Settings {
        Settings {
            wall_limit: Duration::from_secs(60),
            heartbeat: Duration::from_millis(1),
            shutdown_grace: grace,
        }
    }

    #[tokio::test]
    async fn a_running_job_is_heart_beaten_until_it_finishes() {
        let (done, finished) = tokio::sync::oneshot::channel();
        let mut source = Fake {
            finish_at_second_beat: Some(done),
            ..Fake::default()
        };
        let (_keep, mut shutdown) = watch::channel(false);
        let work = async { finished.await.map(|()| 7).map_err(|e| e.to_string()) };
        let job = "job-1".to_string();
        let r = supervise(&mut source, &job, work, &settings(Duration::ZERO), &mut shutdown).await;
        assert_eq!(r, Some(Ok(7)));
        assert_eq!(source.heartbeats, 2);
        assert!(source.released.is_empty());
    }

    #[tokio::test]
    async fn a_job_still_running_when_the_grace_ends_is_given_back() {
        let mut source = Fake::default();
        let (stop, mut shutdown) = watch::channel(false);
        stop.send_replace(true);
        let work = std::future::pending::<Result<(), String>>();
        let job = "job-1".to_string();
        let r = supervise(&mut source, &job, work, &settings(Duration::ZERO), &mut shutdown).await;
        assert_eq!(r, None);
        assert_eq!(source.released, vec!["job-1".to_string()]);
    }

    #[tokio::test]
    async fn a_job_whose_inputs_cannot_be_read_is_reported_failed() {
        let (stop, shutdown) = watch::channel(false);
        let reported = Arc::new(Mutex::new(Vec::new()));
        let source = Fake {
            jobs: vec!["job-1".into()],
            reported: reported.clone(),
            stop: Some(stop),
            ..Fake::default()
        };
        run(source, settings(Duration::ZERO), shutdown).await;
        let reported = reported.lock().unwrap();
        assert_eq!(
            *reported,
            vec![("job-1".to_string(), Err("job-1: the model file is missing".to_string()))]
        );
    }
}

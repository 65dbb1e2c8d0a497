//! A remote evaluation worker (`league-server worker`): a [`JobSource`] over a server's gRPC
//! WorkerService — it leases jobs (evaluations and head-to-head matches), fetches their models,
//! races them here, heart-beats the lease and reports the result.

use std::sync::Arc;
use std::time::Duration;

use slipstream_proto::v1 as pb;
use tokio::sync::watch;

use super::{Inputs, JobSource, Models, Raced, Settings};
use crate::client::Clients;
use crate::convert::lap_to_pb;
use crate::races::RaceRun;

/// How long a remote worker's leases last between heartbeats, seconds.
const LEASE_S: u32 = 60;

/// Work a server's jobs until `shutdown` turns true (a running race is finished first). Errors
/// talking to the server are retried after a pause.
pub async fn run(clients: Clients, name: String, wall_limit: Duration, shutdown: watch::Receiver<bool>) {
    tch::set_num_threads(1);
    let settings = Settings {
        wall_limit,
        heartbeat: Duration::from_secs(u64::from(LEASE_S) / 3),
        // The race itself stops at its wall-clock limit.
        shutdown_grace: wall_limit,
    };
    super::run(Remote { clients, name }, settings, shutdown).await
}

/// A worker of a server's queue, over gRPC.
struct Remote {
    clients: Clients,
    name: String,
}

impl Remote {
    /// A seat's model file, checked against its SHA-256.
    async fn fetch(&mut self, job: &pb::Job, seat: u32, sha256: &str, size: u64) -> Result<Vec<u8>, String> {
        let mut stream = self
            .clients
            .workers
            .fetch_model(pb::FetchModelRequest {
                job_id: job.job_id.clone(),
                lease_token: job.lease_token.clone(),
                seat,
            })
            .await
            .map_err(|e| format!("fetching the model: {e}"))?
            .into_inner();
        let mut model = Vec::with_capacity(size.min(64 << 20) as usize);
        while let Some(chunk) = stream.message().await.map_err(|e| format!("fetching the model: {e}"))? {
            model.extend_from_slice(&chunk.data);
        }
        if crate::util::sha256_hex(&model) != sha256 {
            return Err("the model's bytes do not match its SHA-256".into());
        }
        Ok(model)
    }
}

impl JobSource for Remote {
    type Job = pb::Job;

    fn job_id(job: &pb::Job) -> &str {
        &job.job_id
    }

    async fn lease(&mut self) -> Result<Option<pb::Job>, String> {
        let r = self
            .clients
            .workers
            .lease_job(pb::LeaseJobRequest {
                worker_name: self.name.clone(),
                lease_seconds: LEASE_S,
                head_to_head: true,
            })
            .await
            .map_err(|e| e.to_string())?;
        Ok(r.into_inner().job)
    }

    async fn idle(&mut self) {
        tokio::time::sleep(Duration::from_secs(1)).await
    }

    async fn inputs(&mut self, job: &mut pb::Job) -> Result<Inputs, String> {
        let run: RaceRun =
            serde_json::from_str(&job.race_json).map_err(|e| format!("the server sent an unreadable race: {e}"))?;
        let track = Arc::new(run.track().map_err(|e| e.to_string())?);
        let models = if job.match_id.is_empty() {
            tracing::info!(job = %job.job_id, submission = %job.submission_id, "evaluating");
            let (sha, size) = (job.model_sha256.clone(), job.model_size_bytes);
            Models::Evaluation(self.fetch(job, 0, &sha, size).await?)
        } else {
            tracing::info!(job = %job.job_id, r#match = %job.match_id, "racing a match");
            if job.seat_model_sha256.len() != job.seat_model_size_bytes.len() {
                return Err("the server sent a match without every seat's model".into());
            }
            let seats: Vec<(String, u64)> = job
                .seat_model_sha256
                .iter()
                .cloned()
                .zip(job.seat_model_size_bytes.iter().copied())
                .collect();
            let mut models = Vec::with_capacity(seats.len());
            for (seat, (sha, size)) in seats.iter().enumerate() {
                models.push(self.fetch(job, seat as u32, sha, *size).await?);
            }
            Models::Match(models)
        };
        Ok(Inputs { run, track, models })
    }

    async fn heartbeat(&mut self, job: &pb::Job) {
        let hb = pb::HeartbeatRequest {
            job_id: job.job_id.clone(),
            lease_token: job.lease_token.clone(),
            lease_seconds: LEASE_S,
        };
        if let Err(e) = self.clients.workers.heartbeat(hb).await {
            tracing::warn!(job = %job.job_id, "heartbeat failed: {e}");
        }
    }

    /// Nothing to send: the lease expires and the server queues the job again.
    async fn release(&mut self, _job: &pb::Job) {}

    async fn report(&mut self, job: pb::Job, outcome: Result<Raced, String>) {
        let outcome = match outcome {
            Ok(raced) => pb::complete_job_request::Outcome::Result(job_result(raced)),
            Err(reason) => pb::complete_job_request::Outcome::Failure(reason),
        };
        let done = pb::CompleteJobRequest {
            job_id: job.job_id.clone(),
            lease_token: job.lease_token,
            outcome: Some(outcome),
        };
        if let Err(e) = self.clients.workers.complete_job(done).await {
            tracing::warn!(job = %job.job_id, "reporting the result failed (the lease will expire and the job be retried): {e}");
        }
    }
}

/// A race's outcome as the WorkerService takes it.
fn job_result(raced: Raced) -> pb::JobResult {
    let laps = |laps: &[crate::ranking::Lap]| laps.iter().enumerate().map(|(i, l)| lap_to_pb(i, l)).collect();
    match raced {
        Raced::Evaluation(o) => pb::JobResult {
            laps: laps(&o.laps),
            trace: o.trace,
            seats: vec![],
        },
        Raced::Match(m) => pb::JobResult {
            seats: m
                .result
                .seats
                .iter()
                .zip(m.traces)
                .map(|(s, trace)| pb::SeatOutcome {
                    place: s.place,
                    laps: laps(&s.laps),
                    trace,
                })
                .collect(),
            ..Default::default()
        },
    }
}

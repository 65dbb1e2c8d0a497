//! A remote evaluation worker (`league-server worker`): leases jobs from a server over gRPC, races
//! them here, heart-beats the lease, and reports the result.

use std::time::Duration;

use slipstream_proto::v1 as pb;
use tokio::sync::watch;

use crate::client::Clients;
use crate::convert::lap_to_pb;
use crate::evaluation;
use crate::races::RaceRun;

/// Run until `shutdown` turns true. Errors talking to the server are retried after a pause.
pub async fn run(mut clients: Clients, name: String, wall_limit: Duration, mut shutdown: watch::Receiver<bool>) {
    let lease_s = 60u32;
    tch::set_num_threads(1);
    loop {
        if *shutdown.borrow() {
            return;
        }
        let job = match clients
            .workers
            .lease_job(pb::LeaseJobRequest {
                worker_name: name.clone(),
                lease_seconds: lease_s,
            })
            .await
        {
            Ok(r) => r.into_inner().job,
            Err(e) => {
                tracing::warn!("leasing failed: {e}");
                None
            }
        };
        let Some(job) = job else {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        };
        tracing::info!(job = %job.job_id, submission = %job.submission_id, "evaluating");
        let outcome = evaluate_job(&mut clients, &job, lease_s, wall_limit).await;
        let outcome = match outcome {
            Ok(o) => pb::complete_job_request::Outcome::Result(pb::JobResult {
                laps: o.laps.iter().enumerate().map(|(i, l)| lap_to_pb(i, l)).collect(),
                trace: o.trace,
            }),
            Err(reason) => pb::complete_job_request::Outcome::Failure(reason),
        };
        if let Err(e) = clients
            .workers
            .complete_job(pb::CompleteJobRequest {
                job_id: job.job_id.clone(),
                lease_token: job.lease_token.clone(),
                outcome: Some(outcome),
            })
            .await
        {
            tracing::warn!(job = %job.job_id, "reporting the result failed (the lease will expire and the job be retried): {e}");
        }
    }
}

async fn evaluate_job(
    clients: &mut Clients,
    job: &pb::Job,
    lease_s: u32,
    wall_limit: Duration,
) -> Result<evaluation::Outcome, String> {
    let run: RaceRun =
        serde_json::from_str(&job.race_json).map_err(|e| format!("the server sent an unreadable race: {e}"))?;
    let mut stream = clients
        .workers
        .fetch_model(pb::FetchModelRequest {
            job_id: job.job_id.clone(),
            lease_token: job.lease_token.clone(),
        })
        .await
        .map_err(|e| format!("fetching the model: {e}"))?
        .into_inner();
    let mut model = Vec::with_capacity(job.model_size_bytes as usize);
    while let Some(chunk) = stream.message().await.map_err(|e| format!("fetching the model: {e}"))? {
        model.extend_from_slice(&chunk.data);
    }
    if crate::util::sha256_hex(&model) != job.model_sha256 {
        return Err("the model's bytes do not match its SHA-256".into());
    }
    let mut eval = Box::pin(evaluation::run_in_background(model, run, wall_limit));
    let mut beat = tokio::time::interval(Duration::from_secs(u64::from(lease_s) / 3));
    beat.tick().await;
    loop {
        tokio::select! {
            r = &mut eval => return r,
            _ = beat.tick() => {
                let hb = pb::HeartbeatRequest { job_id: job.job_id.clone(), lease_token: job.lease_token.clone(), lease_seconds: lease_s };
                if let Err(e) = clients.workers.heartbeat(hb).await {
                    tracing::warn!(job = %job.job_id, "heartbeat failed: {e}");
                }
            }
        }
    }
}

//! A remote evaluation worker (`league-server worker`): leases jobs from a server over gRPC —
//! evaluations and head-to-head matches — races them here, heart-beats the lease, and reports the
//! result.

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
                head_to_head: true,
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
        let outcome = if job.match_id.is_empty() {
            tracing::info!(job = %job.job_id, submission = %job.submission_id, "evaluating");
            evaluate_job(&mut clients, &job, lease_s, wall_limit)
                .await
                .map(|o| pb::JobResult {
                    laps: o.laps.iter().enumerate().map(|(i, l)| lap_to_pb(i, l)).collect(),
                    trace: o.trace,
                    seats: vec![],
                })
        } else {
            tracing::info!(job = %job.job_id, r#match = %job.match_id, "racing a match");
            race_match_job(&mut clients, &job, lease_s, wall_limit)
                .await
                .map(|r| pb::JobResult {
                    seats: r
                        .result
                        .seats
                        .iter()
                        .zip(r.traces)
                        .map(|(s, trace)| pb::SeatOutcome {
                            place: s.place,
                            laps: s.laps.iter().enumerate().map(|(i, l)| lap_to_pb(i, l)).collect(),
                            trace,
                        })
                        .collect(),
                    ..Default::default()
                })
        };
        let outcome = match outcome {
            Ok(r) => pb::complete_job_request::Outcome::Result(r),
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
    let run = race_of(job)?;
    let model = fetch(clients, job, 0, &job.model_sha256, job.model_size_bytes).await?;
    let eval = evaluation::run_in_background(model, run, wall_limit);
    heart_beating(clients, job, lease_s, eval).await
}

async fn race_match_job(
    clients: &mut Clients,
    job: &pb::Job,
    lease_s: u32,
    wall_limit: Duration,
) -> Result<evaluation::MatchOutcome, String> {
    let run = race_of(job)?;
    if job.seat_model_sha256.len() != job.seat_model_size_bytes.len() {
        return Err("the server sent a match without every seat's model".into());
    }
    let mut models = Vec::with_capacity(job.seat_model_sha256.len());
    for (seat, (sha, &size)) in job.seat_model_sha256.iter().zip(&job.seat_model_size_bytes).enumerate() {
        models.push(fetch(clients, job, seat as u32, sha, size).await?);
    }
    let race = evaluation::run_match_in_background(models, run, wall_limit);
    heart_beating(clients, job, lease_s, race).await
}

fn race_of(job: &pb::Job) -> Result<RaceRun, String> {
    serde_json::from_str(&job.race_json).map_err(|e| format!("the server sent an unreadable race: {e}"))
}

/// A seat's model file, checked against its SHA-256.
async fn fetch(clients: &mut Clients, job: &pb::Job, seat: u32, sha256: &str, size: u64) -> Result<Vec<u8>, String> {
    let mut stream = clients
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

/// Wait for `work`, heart-beating the job's lease meanwhile.
async fn heart_beating<T>(
    clients: &mut Clients,
    job: &pb::Job,
    lease_s: u32,
    work: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    let mut work = Box::pin(work);
    let mut beat = tokio::time::interval(Duration::from_secs(u64::from(lease_s) / 3));
    beat.tick().await;
    loop {
        tokio::select! {
            r = &mut work => return r,
            _ = beat.tick() => {
                let hb = pb::HeartbeatRequest { job_id: job.job_id.clone(), lease_token: job.lease_token.clone(), lease_seconds: lease_s };
                if let Err(e) = clients.workers.heartbeat(hb).await {
                    tracing::warn!(job = %job.job_id, "heartbeat failed: {e}");
                }
            }
        }
    }
}

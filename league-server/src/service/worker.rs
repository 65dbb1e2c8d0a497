//! WorkerService: remote evaluation workers lease jobs, fetch models, heartbeat and report results.

use std::sync::Arc;
use std::time::Duration;

use slipstream_proto::v1 as pb;
use slipstream_proto::v1::worker_service_server::WorkerService;
use tonic::{Request, Response, Status};

use crate::convert::lap_from_pb;
use crate::ctx::Ctx;
use crate::error::LeagueError;
use crate::evaluation::{MatchOutcome, Outcome};
use crate::league::access::WORKERS;
use crate::matches::{MatchResult, SeatResult};
use crate::service::{Download, download};
use crate::store::{JobSubject, LeasedJob};

#[derive(Debug, Clone)]
pub struct Workers(pub Arc<Ctx>);

const CHUNK: usize = 1 << 20;

fn lease_seconds(requested: u32) -> Result<Duration, LeagueError> {
    match requested {
        0 => Ok(Duration::from_secs(60)),
        5..=600 => Ok(Duration::from_secs(u64::from(requested))),
        s => Err(LeagueError::invalid(format!("lease_seconds: expected 5–600, got {s}"))),
    }
}

type ModelStream = Download<pb::ModelChunk>;

impl Workers {
    /// A leased match as a remote worker receives it: its race (seeded by the match) and every
    /// seat's model.
    async fn match_job(&self, job: &LeasedJob, match_id: &str) -> Result<Option<pb::Job>, LeagueError> {
        let (m, run, _) = match self.0.match_inputs(match_id).await {
            Ok(x) => x,
            Err(e) => {
                self.0
                    .finish_match(&job.job_id, &job.lease_token, match_id, Err(e.to_string()))
                    .await?;
                return Ok(None);
            }
        };
        let mut shas = Vec::with_capacity(m.entrants.len());
        let mut sizes = Vec::with_capacity(m.entrants.len());
        for e in &m.entrants {
            let sub = self
                .0
                .store
                .submission(&e.submission_id)
                .await?
                .ok_or_else(|| LeagueError::internal("match without submission"))?;
            let model = self.0.submission_model(&sub).await?;
            shas.push(model.sha256);
            sizes.push(model.size as u64);
        }
        self.0.event_changed(&m.event_id);
        Ok(Some(pb::Job {
            job_id: job.job_id.clone(),
            submission_id: String::new(),
            lease_token: job.lease_token.clone(),
            lease_expires_at_ms: job.lease_expires_at,
            race_json: serde_json::to_string(&run).expect("serialisable"),
            model_sha256: shas[0].clone(),
            model_size_bytes: sizes[0],
            match_id: m.id,
            seat_model_sha256: shas,
            seat_model_size_bytes: sizes,
        }))
    }

    /// A remote worker's result of a match, checked seat by seat.
    async fn complete_match(
        &self,
        r: pb::CompleteJobRequest,
        match_id: String,
    ) -> Result<Response<pb::CompleteJobResponse>, Status> {
        let m = self
            .0
            .store
            .match_row(&match_id)
            .await?
            .ok_or_else(|| LeagueError::internal("job without match"))?;
        let outcome = match r.outcome {
            Some(pb::complete_job_request::Outcome::Result(res)) => {
                let n = m.entrants.len();
                if res.seats.len() != n {
                    return Err(LeagueError::invalid(format!(
                        "result.seats: the match has {n} seats, got {}",
                        res.seats.len()
                    ))
                    .into());
                }
                let mut seats = Vec::with_capacity(n);
                for (i, s) in res.seats.iter().enumerate() {
                    if !(1..=n as u32).contains(&s.place) {
                        return Err(LeagueError::invalid(format!(
                            "result.seats[{i}].place: expected 1–{n}, got {}",
                            s.place
                        ))
                        .into());
                    }
                    if s.laps.len() > 1000 || s.laps.iter().any(|l| l.time_ms < 0 || l.penalty_ms < 0) {
                        return Err(LeagueError::invalid(format!(
                            "result.seats[{i}].laps: expected at most 1000 laps with times ≥ 0"
                        ))
                        .into());
                    }
                    seats.push(SeatResult {
                        place: s.place,
                        laps: s.laps.iter().map(lap_from_pb).collect(),
                    });
                }
                Ok(MatchOutcome {
                    result: MatchResult { seats },
                    traces: res.seats.into_iter().map(|s| s.trace).collect(),
                })
            }
            Some(pb::complete_job_request::Outcome::Failure(reason)) => Err(reason.chars().take(2000).collect()),
            None => return Err(LeagueError::invalid("outcome: send a result or a failure").into()),
        };
        // In a task of its own, as an evaluation's result is.
        let ctx = self.0.clone();
        tokio::spawn(async move { ctx.finish_match(&r.job_id, &r.lease_token, &match_id, outcome).await })
            .await
            .map_err(|e| LeagueError::internal(format!("recording the result: {e}")))??;
        Ok(Response::new(pb::CompleteJobResponse {}))
    }
}

#[tonic::async_trait]
impl WorkerService for Workers {
    async fn lease_job(&self, req: Request<pb::LeaseJobRequest>) -> Result<Response<pb::LeaseJobResponse>, Status> {
        let user = self
            .0
            .auth
            .require(req.metadata(), WORKERS, "leasing evaluation jobs")
            .await?;
        let r = req.into_inner();
        let lease = lease_seconds(r.lease_seconds)?;
        let name: String = r
            .worker_name
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(64)
            .collect();
        let owner = format!("remote:{}:{name}", user.id);
        let Some(job) = self
            .0
            .lease_job(&owner, lease.as_millis() as i64, r.head_to_head)
            .await?
        else {
            return Ok(Response::new(pb::LeaseJobResponse { job: None }));
        };
        if let JobSubject::Match(id) = &job.subject {
            return Ok(Response::new(pb::LeaseJobResponse {
                job: self.match_job(&job, id).await?,
            }));
        }
        let (sub, race, model) = match self.0.evaluation_inputs(&job).await {
            Ok(x) => x,
            Err(e) => {
                self.0.fail_job(&job.job_id, &job.lease_token, &e.to_string()).await?;
                return Ok(Response::new(pb::LeaseJobResponse { job: None }));
            }
        };
        let run = self.0.race_run(&race).await?;
        Ok(Response::new(pb::LeaseJobResponse {
            job: Some(pb::Job {
                job_id: job.job_id.clone(),
                submission_id: sub.id.clone(),
                lease_token: job.lease_token.clone(),
                lease_expires_at_ms: job.lease_expires_at,
                race_json: serde_json::to_string(&run).expect("serialisable"),
                model_sha256: model.sha256,
                model_size_bytes: model.size as u64,
                ..Default::default()
            }),
        }))
    }

    type FetchModelStream = ModelStream;

    async fn fetch_model(&self, req: Request<pb::FetchModelRequest>) -> Result<Response<ModelStream>, Status> {
        self.0.auth.require(req.metadata(), WORKERS, "fetching models").await?;
        let r = req.into_inner();
        let sub_id = match self.0.store.check_lease(&r.job_id, &r.lease_token).await? {
            JobSubject::Evaluation(id) => id,
            JobSubject::Match(match_id) => {
                let m = self
                    .0
                    .store
                    .match_row(&match_id)
                    .await?
                    .ok_or_else(|| LeagueError::internal("job without match"))?;
                m.entrants
                    .get(r.seat as usize)
                    .ok_or_else(|| {
                        LeagueError::invalid(format!(
                            "seat: the match has {} seats, got {}",
                            m.entrants.len(),
                            r.seat
                        ))
                    })?
                    .submission_id
                    .clone()
            }
        };
        let sub = self
            .0
            .store
            .submission(&sub_id)
            .await?
            .ok_or_else(|| LeagueError::internal("job without submission"))?;
        let data = self.0.model_bytes(&self.0.submission_model(&sub).await?).await?;
        Ok(Response::new(download(&data, CHUNK, |data| pb::ModelChunk { data })))
    }

    async fn heartbeat(&self, req: Request<pb::HeartbeatRequest>) -> Result<Response<pb::HeartbeatResponse>, Status> {
        self.0
            .auth
            .require(req.metadata(), WORKERS, "heart-beating jobs")
            .await?;
        let r = req.into_inner();
        let lease = lease_seconds(r.lease_seconds)?;
        let until = self
            .0
            .store
            .heartbeat(&r.job_id, &r.lease_token, lease.as_millis() as i64)
            .await?;
        Ok(Response::new(pb::HeartbeatResponse {
            lease_expires_at_ms: until,
        }))
    }

    async fn complete_job(
        &self,
        req: Request<pb::CompleteJobRequest>,
    ) -> Result<Response<pb::CompleteJobResponse>, Status> {
        self.0.auth.require(req.metadata(), WORKERS, "completing jobs").await?;
        let r = req.into_inner();
        let sub_id = match self.0.store.check_lease(&r.job_id, &r.lease_token).await? {
            JobSubject::Match(match_id) => return self.complete_match(r, match_id).await,
            JobSubject::Evaluation(id) => id,
        };
        let (_, race) = self.0.evaluated_submission(&sub_id).await?;
        let outcome = match r.outcome {
            Some(pb::complete_job_request::Outcome::Result(res)) => {
                if res.laps.is_empty() || res.laps.len() > 1000 {
                    return Err(LeagueError::invalid(format!(
                        "result.laps: expected 1–1000 laps, got {}",
                        res.laps.len()
                    ))
                    .into());
                }
                if let Some(l) = res.laps.iter().find(|l| l.time_ms < 0 || l.penalty_ms < 0) {
                    return Err(LeagueError::invalid(format!("result.laps[{}]: negative time", l.lap)).into());
                }
                Ok(Outcome {
                    laps: res.laps.iter().map(lap_from_pb).collect(),
                    trace: res.trace,
                })
            }
            Some(pb::complete_job_request::Outcome::Failure(reason)) => Err(reason.chars().take(2000).collect()),
            None => return Err(LeagueError::invalid("outcome: send a result or a failure").into()),
        };
        // Recorded in a task of its own: a client that hangs up mid-way must not interrupt the
        // commit-then-update-the-leaderboard sequence.
        let ctx = self.0.clone();
        tokio::spawn(async move { ctx.finish_job(&r.job_id, &r.lease_token, &race, outcome).await })
            .await
            .map_err(|e| LeagueError::internal(format!("recording the result: {e}")))??;
        Ok(Response::new(pb::CompleteJobResponse {}))
    }
}

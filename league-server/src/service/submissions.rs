//! SubmissionService and LeaderboardService.

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use slipstream_proto::v1 as pb;
use slipstream_proto::v1::leaderboard_service_server::LeaderboardService;
use slipstream_proto::v1::submission_service_server::SubmissionService;
use tokio::sync::broadcast::error::RecvError;
use tonic::{Request, Response, Status};

use crate::boards::{Diff, board_diff};
use crate::convert::{public_submission, submission_to_pb};
use crate::ctx::{Ctx, stopped};
use crate::error::{LeagueError, Result};
use crate::league::Viewer;
use crate::league::access::{ADMINS, RACERS};
use crate::league::paging::{page_size, parse_page_token};
use crate::league::standings::leaderboard_page;
use crate::service::{Download, download};

#[derive(Debug, Clone)]
pub struct Submissions(pub Arc<Ctx>);

#[derive(Debug, Clone)]
pub struct Leaderboards(pub Arc<Ctx>);

/// Traces and replays are sent in messages of at most 64 KiB.
pub(crate) const TRACE_CHUNK: usize = 64 << 10;

type EventStream = Pin<Box<dyn Stream<Item = Result<pb::LeaderboardEvent, Status>> + Send>>;

#[tonic::async_trait]
impl SubmissionService for Submissions {
    async fn submit(&self, req: Request<pb::SubmitRequest>) -> Result<Response<pb::Submission>, Status> {
        let user = self.0.auth.require(req.metadata(), RACERS, "submitting models").await?;
        let r = req.into_inner();
        let sub = self.0.submit(&user, &r.race_id, &r.model_id).await?;
        Ok(Response::new(submission_to_pb(&sub)))
    }

    async fn get_submission(&self, req: Request<pb::GetSubmissionRequest>) -> Result<Response<pb::Submission>, Status> {
        let user = self.0.auth.signed_in(req.metadata()).await?;
        let s = Viewer::user(&user)
            .own_submission(&self.0, &req.into_inner().submission_id)
            .await?;
        Ok(Response::new(submission_to_pb(&s)))
    }

    async fn list_submissions(
        &self,
        req: Request<pb::ListSubmissionsRequest>,
    ) -> Result<Response<pb::ListSubmissionsResponse>, Status> {
        let user = self.0.auth.signed_in(req.metadata()).await?;
        let r = req.into_inner();
        let offset = parse_page_token(&r.page_token)?;
        let n = page_size("page_size", r.page_size, 50, 500)?;
        let who = Viewer::user(&user).own_scope();
        let race = (!r.race_id.is_empty()).then_some(r.race_id.as_str());
        let rows = self.0.store.list_submissions(who, race, offset, n + 1).await?;
        let next = if rows.len() > n {
            (offset + n).to_string()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListSubmissionsResponse {
            submissions: rows.iter().take(n).map(submission_to_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn cancel_submission(
        &self,
        req: Request<pb::CancelSubmissionRequest>,
    ) -> Result<Response<pb::Submission>, Status> {
        let user = self.0.auth.signed_in(req.metadata()).await?;
        let s = Viewer::user(&user)
            .own_submission(&self.0, &req.into_inner().submission_id)
            .await?;
        let s = self.0.cancel(&s).await?;
        Ok(Response::new(submission_to_pb(&s)))
    }

    async fn reevaluate(&self, req: Request<pb::ReevaluateRequest>) -> Result<Response<pb::Submission>, Status> {
        self.0
            .auth
            .require(req.metadata(), ADMINS, "re-evaluating submissions")
            .await?;
        let id = req.into_inner().submission_id;
        let s = self
            .0
            .store
            .submission(&id)
            .await?
            .ok_or_else(|| LeagueError::not_found(format!("submission_id: no submission {id:?}")))?;
        let s = self.0.reevaluate(&s).await?;
        Ok(Response::new(submission_to_pb(&s)))
    }

    type DownloadTraceStream = Download<pb::TraceChunk>;

    async fn download_trace(
        &self,
        req: Request<pb::DownloadTraceRequest>,
    ) -> Result<Response<Download<pb::TraceChunk>>, Status> {
        let user = self.0.auth.signed_in(req.metadata()).await?;
        let id = req.into_inner().submission_id;
        let s = Viewer::user(&user).whole_submission(&self.0, &id).await?;
        if s.trace_sha256.is_empty() {
            return Err(LeagueError::precondition(format!(
                "the submission is {}; a trace exists once it has completed",
                s.status.as_str()
            ))
            .into());
        }
        let data = self
            .0
            .store
            .blob(&s.trace_sha256)
            .await?
            .ok_or_else(|| LeagueError::internal("trace missing"))?;
        Ok(Response::new(download(&data, TRACE_CHUNK, |data| pb::TraceChunk {
            data,
        })))
    }

    type DownloadReplayStream = Download<pb::ReplayChunk>;

    async fn download_replay(
        &self,
        req: Request<pb::DownloadReplayRequest>,
    ) -> Result<Response<Download<pb::ReplayChunk>>, Status> {
        let user = self.0.auth.signed_in(req.metadata()).await?;
        let id = req.into_inner().submission_id;
        let s = Viewer::user(&user).whole_submission(&self.0, &id).await?;
        if s.replay_sha256.is_empty() {
            return Err(LeagueError::precondition(if s.trace_sha256.is_empty() {
                format!(
                    "the submission is {}; a replay exists once it has completed",
                    s.status.as_str()
                )
            } else {
                "this evaluation has no replay (the server could not render it; the trace is there)".to_string()
            })
            .into());
        }
        let data = self
            .0
            .store
            .blob(&s.replay_sha256)
            .await?
            .ok_or_else(|| LeagueError::internal("replay missing"))?;
        Ok(Response::new(download(&data, TRACE_CHUNK, |data| pb::ReplayChunk {
            data,
        })))
    }
}

#[tonic::async_trait]
impl LeaderboardService for Leaderboards {
    async fn get_leaderboard(
        &self,
        req: Request<pb::GetLeaderboardRequest>,
    ) -> Result<Response<pb::GetLeaderboardResponse>, Status> {
        let user = self.0.auth.user(req.metadata()).await?;
        let r = req.into_inner();
        let race = Viewer::new(user.as_ref()).race(&self.0, &r.race_id).await?;
        let offset = parse_page_token(&r.page_token)?;
        let n = page_size("page_size", r.page_size, 50, 1000)?;
        Ok(Response::new(
            leaderboard_page(&self.0, &race.id, race.spec.timing, offset, n).await?,
        ))
    }

    type WatchLeaderboardStream = EventStream;

    async fn watch_leaderboard(
        &self,
        req: Request<pb::WatchLeaderboardRequest>,
    ) -> Result<Response<EventStream>, Status> {
        let user = self.0.auth.user(req.metadata()).await?;
        let r = req.into_inner();
        let race = Viewer::new(user.as_ref()).race(&self.0, &r.race_id).await?;
        let top = page_size("top", r.top, 50, 1000)?;
        // Subscribe before the snapshot so that no change falls between them.
        let mut events = self.0.boards.subscribe();
        let mut boards = self.0.boards.watch_board(&race.id);
        let mut stopping = self.0.stopping.subscribe();
        // (A board put while the snapshot is taken shows up as a change: diffed, it is harmless.)
        let snapshot = leaderboard_page(&self.0, &race.id, race.spec.timing, 0, top).await?;
        let ctx = self.0.clone();
        let race_id = race.id.clone();
        let timing = race.spec.timing;
        // A submission whole to those who see it so (league::access), else as the public board shows it.
        let shown = move |s: pb::Submission| {
            if Viewer::new(user.as_ref()).sees_whole(&s.user_id, &race) {
                s
            } else {
                public_submission(&s)
            }
        };
        let stream = async_stream::stream! {
            // What this watcher last showed of the board's first `top` places.
            let mut seen = snapshot.rows.clone();
            yield Ok(pb::LeaderboardEvent { event: Some(pb::leaderboard_event::Event::Snapshot(snapshot)) });
            loop {
                let resync = tokio::select! {
                    e = events.recv() => match e {
                        Ok(e) if e.race_id == race_id => {
                            yield Ok(pb::LeaderboardEvent { event: Some(pb::leaderboard_event::Event::Submission(shown(e.submission))) });
                            false
                        }
                        Ok(_) => false,
                        // Fell behind on submission events: start again from a fresh snapshot.
                        Err(RecvError::Lagged(_)) => true,
                        Err(RecvError::Closed) => break,
                    },
                    changed = boards.changed() => {
                        if changed.is_err() {
                            break;
                        }
                        let board = boards.borrow_and_update().clone();
                        match board_diff(&seen, &board, top) {
                            Diff::Rows(rows) => {
                                seen = board.top(top);
                                for row in rows {
                                    yield Ok(pb::LeaderboardEvent { event: Some(pb::leaderboard_event::Event::RankChange(row)) });
                                }
                                false
                            }
                            Diff::Snapshot => true,
                        }
                    },
                    _ = stopped(&mut stopping) => {
                        yield Err(Status::unavailable("the server is shutting down; watch again once it is back"));
                        break;
                    }
                };
                if resync {
                    match leaderboard_page(&ctx, &race_id, timing, 0, top).await {
                        Ok(s) => {
                            seen = s.rows.clone();
                            yield Ok(pb::LeaderboardEvent { event: Some(pb::leaderboard_event::Event::Snapshot(s)) });
                        }
                        Err(e) => { yield Err(Status::from(e)); break; }
                    }
                }
            }
        };
        Ok(Response::new(Box::pin(stream)))
    }
}

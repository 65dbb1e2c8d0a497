//! HeadToHeadService: brackets, ladders and matches (the rules: `matches.rs`, `brackets.rs`; the
//! operations: `events.rs`).

use std::sync::Arc;

use slipstream_proto::v1 as pb;
use slipstream_proto::v1::head_to_head_service_server::HeadToHeadService;
use tonic::{Request, Response, Status};

use crate::brackets::{Elimination, Slot};
use crate::convert::lap_to_pb;
use crate::ctx::Ctx;
use crate::error::{LeagueError, Result};
use crate::league::Viewer;
use crate::league::access::ORGANISERS;
use crate::league::events::EventView;
use crate::league::paging::{page_size, parse_page_token};
use crate::matches::{Entrant, MatchStatus};
use crate::service::submissions::TRACE_CHUNK;
use crate::service::{Download, download};
use crate::store::{EventRow, MatchRow};

#[derive(Debug, Clone)]
pub struct HeadToHead(pub Arc<Ctx>);

/// What managing a race allows here (PermissionDenied: "only the race's creator or an admin can …").
const MANAGE: &str = "make its brackets, ladders and matches";

/// The default and largest ladder lengths.
const DEFAULT_LADDER_MATCHES: u32 = 100;

pub fn status_to_pb(s: MatchStatus) -> pb::MatchStatus {
    match s {
        MatchStatus::Queued => pb::MatchStatus::Queued,
        MatchStatus::Running => pb::MatchStatus::Running,
        MatchStatus::Done => pb::MatchStatus::Done,
        MatchStatus::Failed => pb::MatchStatus::Failed,
    }
}

fn entrant_to_pb(e: &Entrant) -> pb::MatchEntrant {
    pb::MatchEntrant {
        submission_id: e.submission_id.clone(),
        user_id: e.user_id.clone(),
        user_name: e.user_name.clone(),
        model_name: e.model_name.clone(),
    }
}

pub fn match_to_pb(m: &MatchRow) -> pb::Match {
    let seats = m
        .entrants
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let seat = m.result.as_ref().and_then(|r| r.seats.get(i));
            let laps = seat.map(|s| s.laps.as_slice()).unwrap_or_default();
            pb::MatchSeat {
                entrant: Some(entrant_to_pb(e)),
                place: seat.map_or(0, |s| s.place),
                laps: laps.iter().enumerate().map(|(i, l)| lap_to_pb(i, l)).collect(),
                completed_laps: laps.iter().filter(|l| l.completed).count() as u32,
                finish_ms: laps.iter().filter(|l| l.completed).map(|l| l.time_ms).sum(),
                has_trace: m.trace_sha256s.get(i).is_some_and(|sha| !sha.is_empty()),
            }
        })
        .collect();
    pb::Match {
        id: m.id.clone(),
        race_id: m.race_id.clone(),
        event_id: m.event_id.clone(),
        event_key: m.event_key.clone(),
        status: status_to_pb(m.status) as i32,
        seats,
        failure_reason: m.failure_reason.clone(),
        created_at_ms: m.created_at,
        finished_at_ms: m.finished_at,
        has_replay: !m.replay_sha256.is_empty(),
    }
}

fn slot_to_pb(s: Slot) -> pb::BracketSlot {
    match s {
        Slot::Entrant(e) => pb::BracketSlot {
            seed: e + 1,
            bye: false,
        },
        Slot::Bye => pb::BracketSlot { seed: 0, bye: true },
        Slot::Pending => pb::BracketSlot { seed: 0, bye: false },
    }
}

/// An event as the API shows it: a bracket with its plan now, a ladder with its table now.
pub async fn event_to_pb(ctx: &Ctx, e: &EventRow) -> Result<pb::Event> {
    let kind = match ctx.event_view(e).await? {
        EventView::Bracket {
            elimination,
            plan,
            entrants,
            matches,
        } => {
            let seed = |s: Option<Slot>| match s {
                Some(Slot::Entrant(e)) => e + 1,
                _ => 0,
            };
            pb::event::Kind::Bracket(pb::Bracket {
                elimination: match elimination {
                    Elimination::Single => pb::Elimination::Single,
                    Elimination::Double => pb::Elimination::Double,
                } as i32,
                entrants: entrants
                    .iter()
                    .enumerate()
                    .map(|(i, s)| pb::BracketEntrant {
                        seed: i as u32 + 1,
                        entrant: Some(entrant_to_pb(&s.entrant)),
                        rank: s.rank,
                        score_ms: s.score_ms,
                    })
                    .collect(),
                matches: plan
                    .matches
                    .iter()
                    .map(|p| {
                        let key = p.key.to_string();
                        let raced = matches.iter().find(|m| m.event_key == key);
                        pb::BracketMatch {
                            key,
                            slots: p.slots.iter().map(|&s| slot_to_pb(s)).collect(),
                            winner_seed: seed(p.winner),
                            match_id: raced.map(|m| m.id.clone()).unwrap_or_default(),
                            status: raced.map_or(pb::MatchStatus::Unspecified, |m| status_to_pb(m.status)) as i32,
                        }
                    })
                    .collect(),
                champion_seed: plan.champion.map_or(0, |c| c + 1),
                runner_up_seed: plan.runner_up.map_or(0, |c| c + 1),
            })
        }
        EventView::Ladder {
            table,
            raced,
            max_matches,
            world,
            active,
            ..
        } => pb::event::Kind::Ladder(pb::Ladder {
            max_matches,
            matches_raced: raced as u32,
            rows: table
                .iter()
                .enumerate()
                .map(|(i, l)| pb::LadderRow {
                    position: i as u32 + 1,
                    entrant: Some(entrant_to_pb(&l.entrant)),
                    rating: l.rating,
                    uncertainty: l.uncertainty,
                    conservative: l.conservative(),
                    matches: l.matches,
                    wins: l.wins,
                    board_rank: l.board_rank,
                })
                .collect(),
            world,
            active,
        }),
    };
    Ok(pb::Event {
        id: e.id.clone(),
        name: e.spec.name.clone(),
        description: e.spec.description.clone(),
        race_id: e.spec.race_id.clone(),
        kind: Some(kind),
        created_by: e.created_by.clone(),
        created_at_ms: e.created_at,
    })
}

impl HeadToHead {
    /// A match's stored file (its replay or a seat's trace): FailedPrecondition until the match is
    /// raced, or with `missing`'s reason when a raced match has none.
    async fn file(&self, m: &MatchRow, sha256: &str, missing: impl FnOnce() -> String) -> Result<Vec<u8>> {
        if sha256.is_empty() {
            return Err(LeagueError::precondition(if m.status == MatchStatus::Done {
                missing()
            } else {
                format!(
                    "match {} is {}; its replay and traces exist once it is raced",
                    m.id,
                    m.status.as_str()
                )
            }));
        }
        self.0
            .store
            .blob(sha256)
            .await?
            .ok_or_else(|| LeagueError::internal("a match's file is missing"))
    }
}

#[tonic::async_trait]
impl HeadToHeadService for HeadToHead {
    async fn create_bracket(&self, req: Request<pb::CreateBracketRequest>) -> Result<Response<pb::Event>, Status> {
        let user = self
            .0
            .auth
            .require(req.metadata(), ORGANISERS, "creating brackets")
            .await?;
        let r = req.into_inner();
        let race = Viewer::user(&user).managed_race(&self.0, &r.race_id, MANAGE).await?;
        let elimination = match pb::Elimination::try_from(r.elimination) {
            Ok(pb::Elimination::Single) | Ok(pb::Elimination::Unspecified) => Elimination::Single,
            Ok(pb::Elimination::Double) => Elimination::Double,
            Err(_) => {
                return Err(LeagueError::invalid(format!("elimination: unknown value {}", r.elimination)).into());
            }
        };
        let e = self
            .0
            .create_bracket(&user.id, &r.name, &r.description, &race, elimination, r.size)
            .await?;
        tracing::info!(event = %e.id, race = %race.id, "bracket created");
        Ok(Response::new(event_to_pb(&self.0, &e).await?))
    }

    async fn create_ladder(&self, req: Request<pb::CreateLadderRequest>) -> Result<Response<pb::Event>, Status> {
        let user = self
            .0
            .auth
            .require(req.metadata(), ORGANISERS, "creating ladders")
            .await?;
        let r = req.into_inner();
        let race = Viewer::user(&user).managed_race(&self.0, &r.race_id, MANAGE).await?;
        let max = if r.max_matches == 0 {
            DEFAULT_LADDER_MATCHES
        } else {
            r.max_matches
        };
        let e = self
            .0
            .create_ladder(&user.id, &r.name, &r.description, &race, max)
            .await?;
        tracing::info!(event = %e.id, race = %race.id, "ladder created");
        Ok(Response::new(event_to_pb(&self.0, &e).await?))
    }

    async fn create_match(&self, req: Request<pb::CreateMatchRequest>) -> Result<Response<pb::Match>, Status> {
        let user = self
            .0
            .auth
            .require(req.metadata(), ORGANISERS, "creating matches")
            .await?;
        let r = req.into_inner();
        let race = Viewer::user(&user).managed_race(&self.0, &r.race_id, MANAGE).await?;
        let max = slipstream_sim::GroupConfig::MAX_SIZE;
        if !(2..=max).contains(&r.submission_ids.len()) {
            return Err(LeagueError::invalid(format!(
                "submission_ids: expected 2–{max} submissions, got {}",
                r.submission_ids.len()
            ))
            .into());
        }
        let board = self.0.boards.get(&self.0.store, &race.id).await?;
        let mut entrants = Vec::with_capacity(r.submission_ids.len());
        for (i, id) in r.submission_ids.iter().enumerate() {
            if r.submission_ids[..i].contains(id) {
                return Err(LeagueError::invalid(format!("submission_ids[{i}]: {id:?} is listed twice")).into());
            }
            let row = board.rows.iter().find(|b| &b.submission_id == id).ok_or_else(|| {
                LeagueError::invalid(format!(
                    "submission_ids[{i}]: {id:?} is not ranked on race {}'s leaderboard",
                    race.id
                ))
            })?;
            entrants.push(Entrant {
                submission_id: row.submission_id.clone(),
                user_id: row.user_id.clone(),
                user_name: row.user_name.clone(),
                model_name: row.model_name.clone(),
            });
        }
        let m = self.0.create_match(&race, &entrants).await?;
        tracing::info!(r#match = %m.id, race = %race.id, "match created");
        Ok(Response::new(match_to_pb(&m)))
    }

    async fn get_event(&self, req: Request<pb::GetEventRequest>) -> Result<Response<pb::Event>, Status> {
        let user = self.0.auth.user(req.metadata()).await?;
        let (e, _) = Viewer::new(user.as_ref())
            .event(&self.0, &req.into_inner().event_id)
            .await?;
        Ok(Response::new(event_to_pb(&self.0, &e).await?))
    }

    async fn list_events(
        &self,
        req: Request<pb::ListEventsRequest>,
    ) -> Result<Response<pb::ListEventsResponse>, Status> {
        let user = self.0.auth.user(req.metadata()).await?;
        let r = req.into_inner();
        let offset = parse_page_token(&r.page_token)?;
        let n = page_size("page_size", r.page_size, 50, 500)?;
        let rows = self.0.store.list_events(offset, n + 1).await?;
        let mut events = Vec::new();
        for e in rows.iter().take(n) {
            if let Some(race) = self.0.race(&e.spec.race_id).await?
                && Viewer::new(user.as_ref()).sees_race(&self.0, &race).await?
            {
                events.push(event_to_pb(&self.0, e).await?);
            }
        }
        Ok(Response::new(pb::ListEventsResponse {
            events,
            next_page_token: if rows.len() > n {
                (offset + n).to_string()
            } else {
                String::new()
            },
        }))
    }

    async fn get_match(&self, req: Request<pb::GetMatchRequest>) -> Result<Response<pb::Match>, Status> {
        let user = self.0.auth.user(req.metadata()).await?;
        let (m, _) = Viewer::new(user.as_ref())
            .match_row(&self.0, &req.into_inner().match_id)
            .await?;
        Ok(Response::new(match_to_pb(&m)))
    }

    type DownloadMatchReplayStream = Download<pb::ReplayChunk>;

    async fn download_match_replay(
        &self,
        req: Request<pb::DownloadMatchReplayRequest>,
    ) -> Result<Response<Download<pb::ReplayChunk>>, Status> {
        let user = self.0.auth.user(req.metadata()).await?;
        let (m, _) = Viewer::new(user.as_ref())
            .match_row(&self.0, &req.into_inner().match_id)
            .await?;
        let data = self
            .file(&m, &m.replay_sha256, || {
                format!("match {} has no replay (the server could not render it)", m.id)
            })
            .await?;
        Ok(Response::new(download(&data, TRACE_CHUNK, |data| pb::ReplayChunk {
            data,
        })))
    }

    type DownloadMatchTraceStream = Download<pb::TraceChunk>;

    async fn download_match_trace(
        &self,
        req: Request<pb::DownloadMatchTraceRequest>,
    ) -> Result<Response<Download<pb::TraceChunk>>, Status> {
        let user = self.0.auth.signed_in(req.metadata()).await?;
        let r = req.into_inner();
        let (m, race) = Viewer::user(&user).match_row(&self.0, &r.match_id).await?;
        let seat = r.seat as usize;
        let entrant = m.entrants.get(seat).ok_or_else(|| {
            LeagueError::invalid(format!(
                "seat: match {} has seats 0 to {}, got {seat}",
                m.id,
                m.entrants.len() - 1
            ))
        })?;
        if !Viewer::user(&user).sees_whole(&entrant.user_id, &race) {
            return Err(LeagueError::denied(format!(
                "seat: seat {seat}'s trace is for its racer, the race's creator and admins"
            ))
            .into());
        }
        let sha = m.trace_sha256s.get(seat).map(String::as_str).unwrap_or_default();
        let data = self
            .file(&m, sha, || {
                format!(
                    "seat: seat {seat} of match {} forfeited (its model could not be loaded)",
                    m.id
                )
            })
            .await?;
        Ok(Response::new(download(&data, TRACE_CHUNK, |data| pb::TraceChunk {
            data,
        })))
    }

    async fn retry_match(&self, req: Request<pb::RetryMatchRequest>) -> Result<Response<pb::Match>, Status> {
        let user = self
            .0
            .auth
            .require(req.metadata(), ORGANISERS, "retrying matches")
            .await?;
        let id = req.into_inner().match_id;
        let m = self
            .0
            .store
            .match_row(&id)
            .await?
            .ok_or_else(|| LeagueError::not_found(format!("match_id: no match {id:?}")))?;
        Viewer::user(&user).managed_race(&self.0, &m.race_id, MANAGE).await?;
        if !self.0.store.requeue_match(&m.id).await? {
            return Err(LeagueError::precondition(format!(
                "match_id: match {id} is {}, not failed",
                m.status.as_str()
            ))
            .into());
        }
        self.0.job_ready.notify_waiters();
        self.0.event_changed(&m.event_id);
        tracing::info!(r#match = %m.id, "match queued again");
        let m = self.0.store.match_row(&m.id).await?.unwrap_or(m);
        Ok(Response::new(match_to_pb(&m)))
    }

    async fn list_matches(
        &self,
        req: Request<pb::ListMatchesRequest>,
    ) -> Result<Response<pb::ListMatchesResponse>, Status> {
        let user = self.0.auth.user(req.metadata()).await?;
        let (e, _) = Viewer::new(user.as_ref())
            .event(&self.0, &req.into_inner().event_id)
            .await?;
        let matches = self.0.store.event_matches(&e.id).await?;
        Ok(Response::new(pb::ListMatchesResponse {
            matches: matches.iter().map(match_to_pb).collect(),
        }))
    }
}

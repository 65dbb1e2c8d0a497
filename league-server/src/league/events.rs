//! Head-to-head operations shared by the services, the evaluation queue and the web site: what a
//! match job needs, recording a match, advancing its bracket or ladder, creating events, and the
//! models' worlds (who can race whom). The rules themselves are pure, in [`crate::matches`] and
//! [`crate::brackets`].

use slipstream_trainer::head_to_head::compatible;
use slipstream_trainer::model::ModelSpec;

use crate::brackets::{Elimination, Plan, Slot};
use crate::ctx::Ctx;
use crate::error::{LeagueError, Result};
use crate::evaluation::MatchOutcome;
use crate::matches::{
    Entrant, EventKind, EventSpec, LadderLine, MatchResult, MatchStatus, Played, Seeded, bracket_plan, ladder_table,
    next_pairing,
};
use crate::races::{RaceRun, RaceState, race_seed};
use crate::store::{EventRow, MatchRow, RaceRow};

/// An event as every front end shows it now (the API's `Event`, the web's bracket and ladder pages).
#[derive(Debug)]
pub enum EventView {
    /// A bracket: its plan from the winners so far, its seeded entrants, its matches.
    Bracket {
        elimination: Elimination,
        plan: Plan,
        entrants: Vec<Seeded>,
        matches: Vec<MatchRow>,
    },
    /// A ladder: its table now, its matches raced of its limit, its world in words, whether a match
    /// is under way (`busy`) and whether it is still going (`active`: busy, or it will queue more).
    Ladder {
        table: Vec<LadderLine>,
        raced: usize,
        max_matches: u32,
        world: String,
        busy: bool,
        active: bool,
    },
}

/// Whether one of an event's matches is queued or running.
fn busy(matches: &[MatchRow]) -> bool {
    matches
        .iter()
        .any(|m| matches!(m.status, MatchStatus::Queued | MatchStatus::Running))
}

/// The most entrants a ladder pairs (the first of its race's leaderboard).
pub const MAX_LADDER_ENTRANTS: usize = 256;

impl Ctx {
    /// The settings of a submission's model (its world: sensor, action space, car, step).
    pub async fn submission_world(&self, submission_id: &str) -> Result<std::result::Result<ModelSpec, String>> {
        let sub = self
            .store
            .submission(submission_id)
            .await?
            .ok_or_else(|| LeagueError::internal(format!("no submission {submission_id}")))?;
        let model = self.submission_model(&sub).await?;
        self.model_spec(&model).await
    }

    /// What a match job races: the match, its race's track and rules (seeded by the match), and
    /// every seat's model file in grid order.
    pub async fn match_inputs(&self, match_id: &str) -> Result<(MatchRow, RaceRun, Vec<Vec<u8>>)> {
        let m = self
            .store
            .match_row(match_id)
            .await?
            .ok_or_else(|| LeagueError::internal(format!("job without match {match_id}")))?;
        let race = self
            .store
            .race(&m.race_id)
            .await?
            .ok_or_else(|| LeagueError::precondition("the match's race was deleted"))?;
        let mut run = self.race_run(&race).await?;
        run.seed = race_seed(&m.id);
        let mut models = Vec::with_capacity(m.entrants.len());
        for e in &m.entrants {
            let sub = self
                .store
                .submission(&e.submission_id)
                .await?
                .ok_or_else(|| LeagueError::internal(format!("no submission {}", e.submission_id)))?;
            let model = self.submission_model(&sub).await?;
            models.push(self.model_bytes(&model).await?);
        }
        Ok((m, run, models))
    }

    /// Record a match's outcome (a failure is retried, as evaluations are), then advance its
    /// event and tell the event's watchers.
    pub async fn finish_match(
        &self,
        job_id: &str,
        lease_token: &str,
        match_id: &str,
        outcome: std::result::Result<MatchOutcome, String>,
    ) -> Result<()> {
        match outcome {
            Ok(MatchOutcome { result, traces }) => match self
                .store
                .complete_match(
                    job_id,
                    lease_token,
                    &result,
                    &traces,
                    self.match_replay(match_id, &result, traces.clone()).await.as_deref(),
                )
                .await?
            {
                Some(m) => {
                    tracing::info!(job = %job_id, r#match = %m.id, winner = result.winner(), "match raced");
                    if !m.event_id.is_empty() {
                        self.advance_event(&m.event_id).await?;
                    }
                }
                None => tracing::info!(job = %job_id, "match result ignored: the lease was stale"),
            },
            Err(reason) => self.fail_job(job_id, lease_token, &reason).await?,
        }
        if let Some(m) = self.store.match_row(match_id).await? {
            self.event_changed(&m.event_id);
        }
        Ok(())
    }

    /// A match's replay from its traces (on a blocking thread), or `None` with a warning when it
    /// cannot be rendered (the result counts without it).
    async fn match_replay(&self, match_id: &str, result: &MatchResult, traces: Vec<Vec<u8>>) -> Option<Vec<u8>> {
        let inputs = async {
            let m = self
                .store
                .match_row(match_id)
                .await?
                .ok_or_else(|| LeagueError::internal("no match"))?;
            let race = self
                .store
                .race(&m.race_id)
                .await?
                .ok_or_else(|| LeagueError::internal("no race"))?;
            let run = self.race_run(&race).await?;
            let track = self.race_track(&run)?;
            Ok::<_, LeagueError>((m, run, track))
        };
        let (m, run, track) = match inputs.await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(r#match = match_id, "no replay: {e}");
                return None;
            }
        };
        let names: Vec<String> = m.entrants.iter().map(|e| e.user_name.clone()).collect();
        let result = result.clone();
        let rendered = tokio::task::spawn_blocking(move || {
            crate::evaluation::match_replay_gif(&run, track, &result, &traces, &names)
        })
        .await;
        match rendered {
            Ok(Ok(gif)) => gif,
            Ok(Err(e)) => {
                tracing::warn!(r#match = match_id, "no replay: {e}");
                None
            }
            Err(e) => {
                tracing::warn!(r#match = match_id, "no replay: the renderer stopped: {e}");
                None
            }
        }
    }

    /// What `e` shows now ([`EventView`]).
    pub async fn event_view(&self, e: &EventRow) -> Result<EventView> {
        let matches = self.store.event_matches(&e.id).await?;
        Ok(match &e.spec.kind {
            EventKind::Bracket { elimination, entrants } => EventView::Bracket {
                elimination: *elimination,
                plan: bracket_plan(*elimination, entrants, &played(&matches)),
                entrants: entrants.clone(),
                matches,
            },
            EventKind::Ladder { max_matches, world } => {
                let busy = busy(&matches);
                EventView::Ladder {
                    table: self.ladder(e, &matches).await?,
                    raced: matches.iter().filter(|m| m.status == MatchStatus::Done).count(),
                    max_matches: *max_matches,
                    world: crate::matches::world_in_words(world),
                    busy,
                    active: busy || self.ladder_takes_matches(e, &matches, *max_matches).await?,
                }
            }
        })
    }

    /// Whether a ladder queues more matches (once none is under way): its race is open and its
    /// limit of `max_matches` is not reached.
    async fn ladder_takes_matches(&self, e: &EventRow, matches: &[MatchRow], max_matches: u32) -> Result<bool> {
        let open = match self.race(&e.spec.race_id).await? {
            Some(r) => r.spec.state(self.now_ms()) == RaceState::Open,
            None => false,
        };
        Ok(open && (matches.len() as u32) < max_matches)
    }

    /// Tell the watchers of an event (the web site's live pages) that it changed.
    pub fn event_changed(&self, event_id: &str) {
        if !event_id.is_empty() {
            // No receiver is no error: nobody is watching.
            let _ = self.events.send(event_id.to_string());
        }
    }

    /// Queue the matches an event is ready for: a bracket's matches whose two entrants are known;
    /// a ladder's next pairing while its race is open, no match of it is under way and its match
    /// limit is not reached. Idempotent (a bracket match is queued once per key).
    pub async fn advance_event(&self, event_id: &str) -> Result<()> {
        let Some(event) = self.store.event(event_id).await? else {
            return Ok(());
        };
        let matches = self.store.event_matches(event_id).await?;
        let queued_before = matches.len();
        match &event.spec.kind {
            EventKind::Bracket { elimination, entrants } => {
                let plan = bracket_plan(*elimination, entrants, &played(&matches));
                for m in plan.ready() {
                    let seats: Vec<Entrant> = m
                        .slots
                        .iter()
                        .filter_map(|s| match s {
                            Slot::Entrant(e) => entrants.get(*e as usize).map(|s| s.entrant.clone()),
                            _ => None,
                        })
                        .collect();
                    self.store
                        .insert_match(&event.spec.race_id, event_id, Some(&m.key.to_string()), &seats)
                        .await?;
                }
            }
            EventKind::Ladder { max_matches, .. } => {
                if !busy(&matches) && self.ladder_takes_matches(&event, &matches, *max_matches).await? {
                    let table = self.ladder(&event, &matches).await?;
                    let last = matches.last().map(|m| m.entrants.as_slice());
                    if let Some(pair) = next_pairing(&table, last) {
                        let key = (matches.len() + 1).to_string();
                        self.store
                            .insert_match(&event.spec.race_id, event_id, Some(&key), &pair)
                            .await?;
                    }
                }
            }
        }
        if self.store.event_matches(event_id).await?.len() > queued_before {
            self.job_ready.notify_waiters();
            self.event_changed(event_id);
        }
        Ok(())
    }

    /// Advance every ladder (new entrants on its race's leaderboard, its race opening) and every
    /// bracket without a champion (a server stopped between recording a match and queueing the
    /// next one): called by the queue's reaper now and then, and so at every start.
    pub async fn tick_events(&self) -> Result<()> {
        let mut offset = 0;
        loop {
            let page = self.store.list_events(offset, 100).await?;
            for e in &page {
                let undecided = match &e.spec.kind {
                    EventKind::Ladder { .. } => true,
                    EventKind::Bracket { elimination, entrants } => {
                        let matches = self.store.event_matches(&e.id).await?;
                        bracket_plan(*elimination, entrants, &played(&matches))
                            .champion
                            .is_none()
                    }
                };
                if undecided {
                    self.advance_event(&e.id).await?;
                }
            }
            if page.len() < 100 {
                return Ok(());
            }
            offset += page.len();
        }
    }

    /// A ladder's table now: the entrants on its race's leaderboard whose models share the
    /// ladder's world, rated over its completed matches.
    pub async fn ladder(&self, event: &EventRow, matches: &[MatchRow]) -> Result<Vec<LadderLine>> {
        let EventKind::Ladder { world, .. } = &event.spec.kind else {
            return Err(LeagueError::invalid(format!("event_id: {} is not a ladder", event.id)));
        };
        let board = self.boards.get(&self.store, &event.spec.race_id).await?;
        let mut entrants = Vec::new();
        for (row, &rank) in board.rows.iter().zip(&board.ranks).take(MAX_LADDER_ENTRANTS) {
            if let Ok(spec) = self.submission_world(&row.submission_id).await?
                && compatible(world, &spec).is_ok()
            {
                entrants.push((
                    Entrant {
                        submission_id: row.submission_id.clone(),
                        user_id: row.user_id.clone(),
                        user_name: row.user_name.clone(),
                        model_name: row.model_name.clone(),
                    },
                    rank,
                ));
            }
        }
        Ok(ladder_table(&entrants, &played(matches)))
    }

    /// Seed a bracket from the first `size` racers of `race`'s leaderboard (fewer if fewer are
    /// ranked); every entrant's model must share the best seed's world.
    pub async fn create_bracket(
        &self,
        by: &str,
        name: &str,
        description: &str,
        race: &RaceRow,
        elimination: Elimination,
        size: u32,
    ) -> Result<EventRow> {
        let board = self.boards.get(&self.store, &race.id).await?;
        let seeded: Vec<Seeded> = board
            .rows
            .iter()
            .zip(&board.ranks)
            .take(size as usize)
            .map(|(r, &rank)| Seeded {
                entrant: Entrant {
                    submission_id: r.submission_id.clone(),
                    user_id: r.user_id.clone(),
                    user_name: r.user_name.clone(),
                    model_name: r.model_name.clone(),
                },
                rank,
                score_ms: r.score_ms,
            })
            .collect();
        let spec = EventSpec {
            name: name.trim().to_string(),
            description: description.to_string(),
            race_id: race.id.clone(),
            kind: EventKind::Bracket {
                elimination,
                entrants: seeded.clone(),
            },
        };
        spec.validate().map_err(|e| {
            LeagueError::invalid(format!(
                "{e} (race {} has {} ranked racers; size {size})",
                race.id,
                board.rows.len()
            ))
        })?;
        self.check_worlds(&seeded.iter().map(|s| s.entrant.clone()).collect::<Vec<_>>())
            .await?;
        let row = self.store.insert_event(&spec, by).await?;
        self.advance_event(&row.id).await?;
        Ok(row)
    }

    /// An open ladder over `race`'s leaderboard, in the world of its best-ranked model now.
    pub async fn create_ladder(
        &self,
        by: &str,
        name: &str,
        description: &str,
        race: &RaceRow,
        max_matches: u32,
    ) -> Result<EventRow> {
        let board = self.boards.get(&self.store, &race.id).await?;
        let Some(top) = board.rows.first() else {
            return Err(LeagueError::precondition(format!(
                "race_id: race {} has no ranked racer yet; a ladder races the models of its leaderboard, in the world \
                 (sensor and car settings) of the best one",
                race.id
            )));
        };
        let world = self
            .submission_world(&top.submission_id)
            .await?
            .map_err(|e| LeagueError::precondition(format!("the leader's model cannot be read: {e}")))?;
        let spec = EventSpec {
            name: name.trim().to_string(),
            description: description.to_string(),
            race_id: race.id.clone(),
            kind: EventKind::Ladder {
                max_matches,
                world: Box::new(world),
            },
        };
        spec.validate()?;
        let row = self.store.insert_event(&spec, by).await?;
        self.advance_event(&row.id).await?;
        Ok(row)
    }

    /// A match of its own (an admin's exhibition or final): `entrants` in grid order.
    pub async fn create_match(&self, race: &RaceRow, entrants: &[Entrant]) -> Result<MatchRow> {
        self.check_worlds(entrants).await?;
        let m = self.store.insert_match(&race.id, "", None, entrants).await?;
        self.job_ready.notify_waiters();
        Ok(m)
    }

    /// Every entrant's model shares the first's world; the error names the entrant and what
    /// differs.
    async fn check_worlds(&self, entrants: &[Entrant]) -> Result<()> {
        let mut first: Option<ModelSpec> = None;
        for (i, e) in entrants.iter().enumerate() {
            let spec = self.submission_world(&e.submission_id).await?.map_err(|err| {
                LeagueError::precondition(format!(
                    "entrants[{i}]: the model of {} ({}) cannot be read: {err}",
                    e.user_name, e.submission_id
                ))
            })?;
            match &first {
                None => first = Some(spec),
                Some(f) => compatible(f, &spec).map_err(|err| {
                    LeagueError::precondition(format!(
                        "entrants[{i}]: the model \"{}\" of {} ({}) cannot race in one world with entrants[0]'s — {err}; \
                         head-to-head cars share sensor and car settings",
                        e.model_name, e.user_name, e.submission_id
                    ))
                })?,
            }
        }
        Ok(())
    }
}

/// The events' view of stored matches.
pub fn played(matches: &[MatchRow]) -> Vec<Played<'_>> {
    matches
        .iter()
        .map(|m| Played {
            key: &m.event_key,
            entrants: &m.entrants,
            result: m.result.as_ref(),
        })
        .collect()
}

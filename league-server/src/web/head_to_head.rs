//! Head-to-head on the web site: a bracket drawn round by round, a ladder's ratings, a match's
//! result — and an event's live updates (`GET /events/{id}/live`: the event's body again, rendered
//! by the page's own function, whenever one of its matches is queued, starts, is raced or fails).
//! Shown only for public races, like everything on the site.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use maud::{Markup, html};
use tokio::sync::broadcast::error::RecvError;

use super::pages::{layout, race_url};
use super::{Page, PageError, Site, Visitor, Web, visible_race};
use crate::brackets::{Plan, Planned, Side, Slot};
use crate::ctx::{Ctx, stopped};
use crate::error::LeagueError;
use crate::league::events::EventView;
use crate::matches::{EventKind, LadderLine, MatchStatus, Seeded};
use crate::store::{EventRow, MatchRow, RaceRow};
use crate::util::display_seconds;

/// An event of a race the visitor may see, or 404.
async fn visible_event(ctx: &Ctx, visitor: &Visitor, id: &str) -> Result<(EventRow, RaceRow), PageError> {
    let missing = || PageError::not_found(format!("There is no bracket or ladder {id:?} to show you."));
    visitor.viewer().event(ctx, id).await.map_err(|e| match e {
        LeagueError::NotFound(_) => missing(),
        e => e.into(),
    })
}

pub async fn event_page(State(web): Site, visitor: Visitor, Path(id): Path<String>) -> Page {
    let (e, race) = visible_event(&web.ctx, &visitor, &id).await?;
    let body = web.ctx.event_view(&e).await?;
    let track = web.track_name(&race.spec.track).await;
    let kind = match &e.spec.kind {
        EventKind::Bracket { elimination, .. } => format!("{} elimination bracket", elimination.as_str()),
        EventKind::Ladder { .. } => "rating ladder".to_string(),
    };
    Ok(layout(
        &e.spec.name,
        "event",
        html! {
            p.crumbs { a href="/" { "Races" } " › " a href=(race_url(&race.id)) { (race.spec.name) } }
            h1 { (e.spec.name) }
            p.state { "Head-to-head " (kind) " on " (track) " · " (race.spec.laps) " laps, the race's rules" }
            @if !e.spec.description.is_empty() { p.description { (e.spec.description) } }
            p.live-status data-live-status aria-live="polite" { "Updates as matches are raced." }
            div data-live=(format!("/events/{}/live", e.id)) { (render(&body)) }
            (rules(&e.spec.kind))
        },
        true,
    ))
}

/// The event's rules in words, under its body.
fn rules(kind: &EventKind) -> Markup {
    html! {
        p.rules {
            "Cars race together on one track and see each other; the car that runs into the car "
            "ahead is the one penalised. More laps completed wins, then the earlier finish. "
            @match kind {
                EventKind::Bracket { .. } => {
                    "Seeds come from the race's leaderboard; the better seed starts in front and "
                    "advances when the cars cannot be separated. Byes advance without racing. In "
                    "double elimination a second loss eliminates; the grand final is one match."
                }
                EventKind::Ladder { .. } => {
                    "Ratings are Weng-Lin (mean ± uncertainty, starting at 25 ± 8.33), replayed over "
                    "the ladder's matches in order; the table ranks by rating − 3 × uncertainty. "
                    "The least-raced model meets the closest rating next."
                }
            }
        }
    }
}

fn render(body: &EventView) -> Markup {
    match body {
        EventView::Bracket {
            plan,
            entrants,
            matches,
            ..
        } => bracket(plan, entrants, matches),
        EventView::Ladder {
            table,
            raced,
            max_matches,
            world,
            busy,
            ..
        } => ladder(table, *raced, *max_matches, world, *busy),
    }
}

fn bracket(plan: &Plan, entrants: &[Seeded], matches: &[MatchRow]) -> Markup {
    let champion = plan.champion.and_then(|c| entrants.get(c as usize));
    let sides = [
        (Side::Winners, "Winners' bracket", "W"),
        (Side::Losers, "Losers' bracket", "L"),
        (Side::GrandFinal, "Grand final", "GF"),
    ];
    html! {
        @if let Some(c) = champion {
            p.champion { "Champion: " strong { (c.entrant.user_name) } " (" (c.entrant.model_name) ")" }
        }
        @for (side, title, _) in sides {
            @let rounds = plan.rounds(side);
            @if !rounds.is_empty() {
                section.bracket aria-label=(title) {
                    @if plan.rounds(Side::Losers).is_empty() {
                        h2.visually-hidden { (title) }
                    } @else {
                        h2 { (title) }
                    }
                    div.rounds {
                        @for (r, round) in rounds.iter().enumerate() {
                            div.round {
                                h3 { (round_name(side, r, rounds.len())) }
                                div.cards {
                                    @for m in round {
                                        @if !m.slots.iter().all(|s| *s == Slot::Bye) {
                                            (bracket_match(m, entrants, matches))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        table.seeds {
            caption { "Seeds, from the race's leaderboard" }
            thead { tr { th scope="col" class="num" { "Seed" } th scope="col" { "Racer" } th scope="col" { "Model" }
                th scope="col" class="num" { "Rank" } th scope="col" class="num" { "Time trial" } } }
            tbody {
                @for (i, s) in entrants.iter().enumerate() {
                    tr {
                        td.num { (i + 1) }
                        td { a href=(format!("/racers/{}", s.entrant.user_id)) { (s.entrant.user_name) } }
                        td { (s.entrant.model_name) }
                        td.num { (s.rank) }
                        td.num { (display_seconds(s.score_ms)) }
                    }
                }
            }
        }
    }
}

fn round_name(side: Side, r: usize, rounds: usize) -> String {
    match side {
        Side::GrandFinal => "Final".into(),
        Side::Winners if r + 1 == rounds && rounds > 1 => "Final".into(),
        Side::Winners if r + 2 == rounds => "Semi-finals".into(),
        Side::Winners => format!("Round {}", r + 1),
        Side::Losers => format!("Losers' round {}", r + 1),
    }
}

fn bracket_match(m: &Planned, entrants: &[Seeded], matches: &[MatchRow]) -> Markup {
    let key = m.key.to_string();
    let raced = matches.iter().find(|x| x.event_key == key);
    let state = match (m.winner, raced.map(|r| r.status)) {
        (Some(_), _) if raced.is_none() => "advances without racing",
        (Some(_), _) => "raced",
        (None, Some(MatchStatus::Running)) => "racing now",
        (None, Some(MatchStatus::Queued)) => "queued",
        (None, Some(MatchStatus::Failed)) => "could not be raced",
        _ => "waiting",
    };
    let seat_of = |seed: u32| {
        raced.and_then(|r| {
            let sub = &entrants.get(seed as usize)?.entrant.submission_id;
            let i = r.entrants.iter().position(|e| &e.submission_id == sub)?;
            r.result.as_ref().and_then(|res| res.seats.get(i))
        })
    };
    html! {
        article.match data-key=(key) data-state=(state) {
            header {
                span.key { (key) }
                " · "
                @if let Some(r) = raced {
                    a href=(format!("/matches/{}", r.id)) { (state) }
                } @else { (state) }
            }
            ol {
                @for slot in m.slots {
                    @let won = m.winner == Some(slot) && matches!(slot, Slot::Entrant(_));
                    li class=(if won { "winner" } else { "" }) {
                        @match slot {
                            Slot::Entrant(e) => {
                                @let s = &entrants[e as usize];
                                span.seed { (e + 1) }
                                span.name { (s.entrant.user_name) }
                                @if let Some(seat) = seat_of(e) {
                                    span.result {
                                        @let laps = seat.laps.iter().filter(|l| l.completed).count();
                                        (laps) @if laps == 1 { " lap" } @else { " laps" }
                                        @if laps > 0 {
                                            ", " (display_seconds(seat.laps.iter().filter(|l| l.completed).map(|l| l.time_ms).sum()))
                                        }
                                    }
                                }
                            }
                            Slot::Bye => { span.tbd { "bye" } }
                            Slot::Pending => { span.tbd { "to be decided" } }
                        }
                    }
                }
            }
        }
    }
}

fn ladder(table: &[LadderLine], raced: usize, max: u32, world: &str, running: bool) -> Markup {
    html! {
        p.count {
            (raced) " of " (max) " matches raced"
            @if running { " · a match is under way" }
            " · models with a " (world)
        }
        @if table.is_empty() {
            p { "No model of this world is ranked on the race yet." }
        } @else {
            table.ladder {
                caption { "Ratings: mean ± uncertainty; ranked by mean − 3 × uncertainty" }
                thead { tr {
                    th scope="col" class="num" { "Pos." } th scope="col" { "Racer" } th scope="col" { "Model" }
                    th scope="col" class="num" { "Rating" } th scope="col" class="num" { "±" }
                    th scope="col" class="num" { "Matches" } th scope="col" class="num" { "Wins" }
                } }
                tbody {
                    @for (i, l) in table.iter().enumerate() {
                        tr {
                            td.num { (i + 1) }
                            td { a href=(format!("/racers/{}", l.entrant.user_id)) { (l.entrant.user_name) } }
                            td { (l.entrant.model_name) }
                            td.num { (format!("{:.2}", l.rating)) }
                            td.num { (format!("{:.2}", l.uncertainty)) }
                            td.num { (l.matches) }
                            td.num { (l.wins) }
                        }
                    }
                }
            }
        }
    }
}

/// An event's live updates: its body now, then again after every change.
pub async fn event_live(
    State(web): State<Arc<Web>>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, PageError> {
    let ctx = web.ctx.clone();
    // Listen before reading, so that no change falls between the two.
    let mut changes = ctx.events.subscribe();
    let (e, _) = visible_event(&ctx, &visitor, &id).await?;
    let mut stopping = ctx.stopping.subscribe();
    let first = render(&ctx.event_view(&e).await?).into_string();
    let stream = async_stream::stream! {
        yield Ok(SseEvent::default().event("board").data(first));
        loop {
            tokio::select! {
                changed = changes.recv() => {
                    match changed {
                        Ok(changed) if changed != e.id => continue,
                        Ok(_) | Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => break,
                    }
                    match ctx.event_view(&e).await {
                        Ok(b) => yield Ok(SseEvent::default().event("board").data(render(&b).into_string())),
                        Err(err) => tracing::warn!(event = %e.id, "live update not rendered: {err}"),
                    }
                }
                _ = stopped(&mut stopping) => break,
            }
        }
    };
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// A match of a race the visitor may see, with its race; otherwise 404.
async fn visible_match(ctx: &Ctx, visitor: &Visitor, id: &str) -> Result<(MatchRow, RaceRow), PageError> {
    let missing = || PageError::not_found(format!("There is no match {id:?} to show you."));
    visitor.viewer().match_row(ctx, id).await.map_err(|e| match e {
        LeagueError::NotFound(_) => missing(),
        e => e.into(),
    })
}

pub async fn match_replay(State(web): Site, visitor: Visitor, Path(id): Path<String>) -> Result<Response, PageError> {
    let (m, _) = visible_match(&web.ctx, &visitor, &id).await?;
    if m.replay_sha256.is_empty() {
        return Err(PageError::not_found("This match has no replay."));
    }
    let gif = web
        .ctx
        .store
        .blob(&m.replay_sha256)
        .await?
        .ok_or_else(|| LeagueError::internal("replay missing"))?;
    // Content-addressed: a match's replay never changes.
    Ok((
        [
            (header::CONTENT_TYPE, "image/gif"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        gif,
    )
        .into_response())
}

pub async fn match_page(State(web): Site, visitor: Visitor, Path(id): Path<String>) -> Page {
    let ctx = &web.ctx;
    let (m, race) = visible_match(ctx, &visitor, &id).await?;
    let track = web.track_name(&race.spec.track).await;
    let event = match m.event_id.as_str() {
        "" => None,
        e => ctx.store.event(e).await?,
    };
    let mut order: Vec<usize> = (0..m.entrants.len()).collect();
    if let Some(r) = &m.result {
        order.sort_by_key(|&i| (r.seats[i].place, i));
    }
    let title = match &event {
        Some(e) => format!("{} · {}", e.spec.name, m.event_key),
        None => "Head-to-head match".to_string(),
    };
    Ok(layout(
        &title,
        "match",
        html! {
            p.crumbs {
                a href="/" { "Races" } " › " a href=(race_url(&race.id)) { (race.spec.name) }
                @if let Some(e) = &event { " › " a href=(format!("/events/{}", e.id)) { (e.spec.name) } }
            }
            h1 { (title) }
            p.state {
                @match m.status {
                    MatchStatus::Queued => "Queued: waiting for a worker.",
                    MatchStatus::Running => "Racing now.",
                    MatchStatus::Done => "Raced.",
                    MatchStatus::Failed => "Could not be raced.",
                }
                @if !m.failure_reason.is_empty() { " " (m.failure_reason) }
            }
            table.match-result {
                caption { (track) ", " (race.spec.laps) " laps · grid: the order the cars started in" }
                thead { tr {
                    th scope="col" class="num" { "Place" } th scope="col" class="num" { "Grid" }
                    th scope="col" { "Racer" } th scope="col" { "Model" }
                    th scope="col" class="num" { "Laps" } th scope="col" class="num" { "Finish" }
                    th scope="col" class="num" { "Penalties" } th scope="col" class="num" { "Off-track" }
                    th scope="col" class="num" { "Collisions" }
                } }
                tbody {
                    @for i in order {
                        @let e = &m.entrants[i];
                        @let seat = m.result.as_ref().map(|r| &r.seats[i]);
                        @let laps = seat.map(|s| s.laps.as_slice()).unwrap_or_default();
                        @let done = laps.iter().filter(|l| l.completed).count();
                        tr {
                            td.num { @if let Some(s) = seat { strong { (s.place) } } @else { "–" } }
                            td.num { (i + 1) }
                            td { a href=(format!("/racers/{}", e.user_id)) { (e.user_name) } }
                            td { (e.model_name) }
                            td.num { (done) }
                            td.num {
                                @if done > 0 { (display_seconds(laps.iter().filter(|l| l.completed).map(|l| l.time_ms).sum())) } @else { "–" }
                            }
                            td.num { (display_seconds(laps.iter().map(|l| l.penalty_ms).sum())) }
                            td.num { (laps.iter().map(|l| l.off_track).sum::<u32>()) }
                            td.num { (laps.iter().map(|l| l.collisions).sum::<u32>()) }
                        }
                    }
                }
            }
            @if !m.replay_sha256.is_empty() {
                figure.replay {
                    img src=(format!("/matches/{}/replay.gif", m.id))
                        alt="Replay of the match: the winner's car with its trail, camera and timer; the other cars in colour";
                    figcaption { "Replay: the winner's car (black) with its camera view; the others in their colours (outlined while held)." }
                }
            }
        },
        false,
    ))
}

/// The public events listed on the front page: (event, its race).
pub async fn public_events(ctx: &Ctx, limit: usize) -> Result<Vec<(EventRow, RaceRow)>, PageError> {
    let mut out = Vec::new();
    for e in ctx.store.list_events(0, limit).await? {
        if let Ok(race) = visible_race(ctx, &Visitor::default(), &e.spec.race_id).await {
            out.push((e, race));
        }
    }
    Ok(out)
}

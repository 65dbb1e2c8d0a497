//! `league events …` and `league matches …` (the HeadToHeadService): brackets, ladders and
//! head-to-head matches. Their `--json` views are here too (`Match`, `Event`): the keys scripts
//! read.

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use slipstream_league_client::client::Clients;
use slipstream_proto::v1 as pb;

use crate::Reply;
use crate::args::{EventsCmd, MatchesCmd};
use crate::output::json::Lap;
use crate::output::{Output, time};
use crate::submissions::{collect, save};

/// How often `--wait` asks.
const POLL: Duration = Duration::from_millis(500);

pub async fn events(c: &mut Clients, out: Output, cmd: EventsCmd) -> Result<()> {
    match cmd {
        EventsCmd::Bracket {
            race,
            name,
            description,
            size,
            double,
        } => {
            let e = c
                .head_to_head
                .create_bracket(pb::CreateBracketRequest {
                    race_id: race,
                    name,
                    description,
                    elimination: if double {
                        pb::Elimination::Double
                    } else {
                        pb::Elimination::Single
                    } as i32,
                    size,
                })
                .await
                .reply()?;
            out.emit(&Event::from(&e), || {
                format!("created bracket {}\n{}", e.id, event_text(&e))
            })
        }
        EventsCmd::Ladder {
            race,
            name,
            description,
            max_matches,
        } => {
            let e = c
                .head_to_head
                .create_ladder(pb::CreateLadderRequest {
                    race_id: race,
                    name,
                    description,
                    max_matches,
                })
                .await
                .reply()?;
            out.emit(&Event::from(&e), || {
                format!("created ladder {}\n{}", e.id, event_text(&e))
            })
        }
        EventsCmd::List => {
            let r = c
                .head_to_head
                .list_events(pb::ListEventsRequest {
                    page_size: 500,
                    page_token: String::new(),
                })
                .await
                .reply()?;
            let events: Vec<Event> = r.events.iter().map(Event::from).collect();
            out.emit(&events, || {
                if r.events.is_empty() {
                    return "no brackets or ladders".into();
                }
                let mut lines = vec![format!("{:<28} {:<8} {:<28} {}", "id", "kind", "race", "name")];
                for e in &r.events {
                    lines.push(format!("{:<28} {:<8} {:<28} {}", e.id, kind_name(e), e.race_id, e.name));
                }
                lines.join("\n")
            })
        }
        EventsCmd::Show { event, wait } => {
            let e = loop {
                let e = c
                    .head_to_head
                    .get_event(pb::GetEventRequest {
                        event_id: event.clone(),
                    })
                    .await
                    .reply()?;
                if !wait || event_over(&e) {
                    break e;
                }
                tokio::time::sleep(POLL).await;
            };
            out.emit(&Event::from(&e), || event_text(&e))
        }
    }
}

pub async fn matches(c: &mut Clients, out: Output, cmd: MatchesCmd) -> Result<()> {
    let (id, wait) = match cmd {
        MatchesCmd::Create {
            race,
            submissions,
            wait,
        } => {
            let m = c
                .head_to_head
                .create_match(pb::CreateMatchRequest {
                    race_id: race,
                    submission_ids: submissions,
                })
                .await
                .reply()?;
            if !wait {
                return out.emit(&Match::from(&m), || format!("queued match {}", m.id));
            }
            (m.id, true)
        }
        MatchesCmd::Show { r#match, wait } => (r#match, wait),
        MatchesCmd::Replay { r#match, out: file } => {
            let stream = c
                .head_to_head
                .download_match_replay(pb::DownloadMatchReplayRequest { match_id: r#match })
                .await
                .reply()?;
            return save(out, &collect(stream, |c| c.data).await?, Some(file));
        }
        MatchesCmd::Trace {
            r#match,
            grid,
            out: file,
        } => {
            let stream = c
                .head_to_head
                .download_match_trace(pb::DownloadMatchTraceRequest {
                    match_id: r#match,
                    seat: grid - 1,
                })
                .await
                .reply()?;
            return save(out, &collect(stream, |c| c.data).await?, file);
        }
        MatchesCmd::Retry { r#match } => {
            let m = c
                .head_to_head
                .retry_match(pb::RetryMatchRequest { match_id: r#match })
                .await
                .reply()?;
            return out.emit(&Match::from(&m), || format!("queued match {} again", m.id));
        }
    };
    let m = loop {
        let m = c
            .head_to_head
            .get_match(pb::GetMatchRequest { match_id: id.clone() })
            .await
            .reply()?;
        if !wait || matches!(status(&m), pb::MatchStatus::Done | pb::MatchStatus::Failed) {
            break m;
        }
        tokio::time::sleep(POLL).await;
    };
    out.emit(&Match::from(&m), || match_text(&m))
}

fn status(m: &pb::Match) -> pb::MatchStatus {
    pb::MatchStatus::try_from(m.status).unwrap_or_default()
}

fn status_name(s: i32) -> &'static str {
    match pb::MatchStatus::try_from(s).unwrap_or_default() {
        pb::MatchStatus::Unspecified => "",
        pb::MatchStatus::Queued => "queued",
        pb::MatchStatus::Running => "running",
        pb::MatchStatus::Done => "done",
        pb::MatchStatus::Failed => "failed",
    }
}

fn kind_name(e: &pb::Event) -> &'static str {
    match &e.kind {
        Some(pb::event::Kind::Bracket(_)) => "bracket",
        Some(pb::event::Kind::Ladder(_)) => "ladder",
        None => "",
    }
}

/// A bracket with its champion (or stuck on a match that could not be raced), or a ladder that
/// stopped racing (its match limit reached, or its race closed).
fn event_over(e: &pb::Event) -> bool {
    match &e.kind {
        Some(pb::event::Kind::Bracket(b)) => {
            b.champion_seed != 0 || b.matches.iter().any(|m| m.status == pb::MatchStatus::Failed as i32)
        }
        Some(pb::event::Kind::Ladder(l)) => !l.active,
        None => true,
    }
}

fn entrant_name(e: Option<&pb::MatchEntrant>) -> String {
    e.map_or_else(String::new, |e| format!("{} ({})", e.user_name, e.model_name))
}

/// A match for people: one line per seat, in finishing order once raced.
fn match_text(m: &pb::Match) -> String {
    let mut lines = vec![format!(
        "match {} on race {} — {}{}",
        m.id,
        m.race_id,
        status_name(m.status),
        if m.failure_reason.is_empty() {
            String::new()
        } else {
            format!(": {}", m.failure_reason)
        }
    )];
    lines.push(format!(
        "{:>5} {:>4}  {:<36} {:>5} {:>10} {:>9} {:>10}",
        "place", "grid", "racer (model)", "laps", "finish", "off-track", "collisions"
    ));
    let mut seats: Vec<(usize, &pb::MatchSeat)> = m.seats.iter().enumerate().collect();
    seats.sort_by_key(|(i, s)| (if s.place == 0 { u32::MAX } else { s.place }, *i));
    for (grid, s) in seats {
        let place = if s.place == 0 {
            "-".to_string()
        } else {
            s.place.to_string()
        };
        let finish = if s.completed_laps == 0 {
            "-".to_string()
        } else {
            time(s.finish_ms)
        };
        lines.push(format!(
            "{:>5} {:>4}  {:<36} {:>5} {:>10} {:>9} {:>10}",
            place,
            grid + 1,
            entrant_name(s.entrant.as_ref()),
            s.completed_laps,
            finish,
            s.laps.iter().map(|l| l.off_track).sum::<u32>(),
            s.laps.iter().map(|l| l.collisions).sum::<u32>(),
        ));
    }
    lines.join("\n")
}

/// A bracket round by round, or a ladder's table, for people.
fn event_text(e: &pb::Event) -> String {
    let mut lines = vec![format!("{} ({}) on race {}", e.name, kind_name(e), e.race_id)];
    match &e.kind {
        Some(pb::event::Kind::Bracket(b)) => {
            let name = |seed: u32| {
                b.entrants
                    .iter()
                    .find(|s| s.seed == seed)
                    .map_or_else(String::new, |s| format!("#{seed} {}", entrant_name(s.entrant.as_ref())))
            };
            let slot = |s: &pb::BracketSlot| {
                if s.bye {
                    "(bye)".to_string()
                } else if s.seed == 0 {
                    "(to be decided)".to_string()
                } else {
                    name(s.seed)
                }
            };
            let kind = match pb::Elimination::try_from(b.elimination).unwrap_or_default() {
                pb::Elimination::Double => "double elimination",
                _ => "single elimination",
            };
            lines.push(format!("{kind}, {} entrants", b.entrants.len()));
            for m in &b.matches {
                let (a, z) = (
                    m.slots.first().map(slot).unwrap_or_default(),
                    m.slots.get(1).map(slot).unwrap_or_default(),
                );
                if m.slots.iter().any(|s| s.bye) {
                    continue;
                }
                let state = if m.winner_seed != 0 {
                    format!("won by #{}", m.winner_seed)
                } else {
                    status_name(m.status).to_string()
                };
                lines.push(format!("  {:<6} {:<34} v  {:<34} {}", m.key, a, z, state));
            }
            if b.champion_seed != 0 {
                lines.push(format!("champion: {}", name(b.champion_seed)));
            }
        }
        Some(pb::event::Kind::Ladder(l)) => {
            lines.push(format!(
                "{} of {} matches raced; world: {}",
                l.matches_raced, l.max_matches, l.world
            ));
            lines.push(format!(
                "{:>4}  {:<36} {:>7} {:>6} {:>8} {:>4}",
                "pos", "racer (model)", "rating", "±", "matches", "wins"
            ));
            for r in &l.rows {
                lines.push(format!(
                    "{:>4}  {:<36} {:>7.2} {:>6.2} {:>8} {:>4}",
                    r.position,
                    entrant_name(r.entrant.as_ref()),
                    r.rating,
                    r.uncertainty,
                    r.matches,
                    r.wins
                ));
            }
        }
        None => {}
    }
    lines.join("\n")
}

/// `--json` views.
#[derive(Debug, Serialize)]
pub struct Entrant<'a> {
    pub submission_id: &'a str,
    pub user_id: &'a str,
    pub user_name: &'a str,
    pub model_name: &'a str,
}

impl<'a> From<Option<&'a pb::MatchEntrant>> for Entrant<'a> {
    fn from(e: Option<&'a pb::MatchEntrant>) -> Self {
        Entrant {
            submission_id: e.map_or("", |e| &e.submission_id),
            user_id: e.map_or("", |e| &e.user_id),
            user_name: e.map_or("", |e| &e.user_name),
            model_name: e.map_or("", |e| &e.model_name),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Seat<'a> {
    #[serde(flatten)]
    pub entrant: Entrant<'a>,
    /// 1 = won; 0 until raced.
    pub place: u32,
    pub completed_laps: u32,
    pub finish_ms: i64,
    pub laps: Vec<Lap>,
    /// `league matches trace --grid N` downloads it (the racer's own, or any for the race's
    /// creator and admins).
    pub has_trace: bool,
}

#[derive(Debug, Serialize)]
pub struct Match<'a> {
    pub id: &'a str,
    pub race_id: &'a str,
    pub event_id: &'a str,
    pub event_key: &'a str,
    pub status: &'static str,
    pub failure_reason: &'a str,
    /// Grid order.
    pub seats: Vec<Seat<'a>>,
    pub created_at_ms: i64,
    pub finished_at_ms: i64,
    /// `league matches replay` downloads it.
    pub has_replay: bool,
}

impl<'a> From<&'a pb::Match> for Match<'a> {
    fn from(m: &'a pb::Match) -> Self {
        Match {
            id: &m.id,
            race_id: &m.race_id,
            event_id: &m.event_id,
            event_key: &m.event_key,
            status: status_name(m.status),
            failure_reason: &m.failure_reason,
            seats: m
                .seats
                .iter()
                .map(|s| Seat {
                    entrant: Entrant::from(s.entrant.as_ref()),
                    place: s.place,
                    completed_laps: s.completed_laps,
                    finish_ms: s.finish_ms,
                    laps: s.laps.iter().map(Lap::from).collect(),
                    has_trace: s.has_trace,
                })
                .collect(),
            created_at_ms: m.created_at_ms,
            finished_at_ms: m.finished_at_ms,
            has_replay: m.has_replay,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct BracketMatch<'a> {
    pub key: &'a str,
    /// Seeds (1-based; 0 = a bye or not yet decided).
    pub seeds: Vec<u32>,
    pub byes: Vec<bool>,
    pub winner_seed: u32,
    pub match_id: &'a str,
    pub status: &'static str,
}

#[derive(Debug, Serialize)]
pub struct LadderRow<'a> {
    pub position: u32,
    #[serde(flatten)]
    pub entrant: Entrant<'a>,
    pub rating: f64,
    pub uncertainty: f64,
    pub conservative: f64,
    pub matches: u32,
    pub wins: u32,
    pub board_rank: u32,
}

#[derive(Debug, Serialize)]
pub struct Event<'a> {
    pub id: &'a str,
    pub kind: &'static str,
    pub name: &'a str,
    pub race_id: &'a str,
    /// Brackets: entrants in seed order, the matches, the champion's seed (0 until decided).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrants: Option<Vec<Entrant<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches: Option<Vec<BracketMatch<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub champion_seed: Option<u32>,
    /// Ladders: the table and how many matches were raced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<LadderRow<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches_raced: Option<u32>,
    /// Ladders: still racing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

impl<'a> From<&'a pb::Event> for Event<'a> {
    fn from(e: &'a pb::Event) -> Self {
        let mut v = Event {
            id: &e.id,
            kind: kind_name(e),
            name: &e.name,
            race_id: &e.race_id,
            entrants: None,
            matches: None,
            champion_seed: None,
            rows: None,
            matches_raced: None,
            active: None,
        };
        match &e.kind {
            Some(pb::event::Kind::Bracket(b)) => {
                v.entrants = Some(b.entrants.iter().map(|s| Entrant::from(s.entrant.as_ref())).collect());
                v.matches = Some(
                    b.matches
                        .iter()
                        .map(|m| BracketMatch {
                            key: &m.key,
                            seeds: m.slots.iter().map(|s| s.seed).collect(),
                            byes: m.slots.iter().map(|s| s.bye).collect(),
                            winner_seed: m.winner_seed,
                            match_id: &m.match_id,
                            status: status_name(m.status),
                        })
                        .collect(),
                );
                v.champion_seed = Some(b.champion_seed);
            }
            Some(pb::event::Kind::Ladder(l)) => {
                v.rows = Some(
                    l.rows
                        .iter()
                        .map(|r| LadderRow {
                            position: r.position,
                            entrant: Entrant::from(r.entrant.as_ref()),
                            rating: r.rating,
                            uncertainty: r.uncertainty,
                            conservative: r.conservative,
                            matches: r.matches,
                            wins: r.wins,
                            board_rank: r.board_rank,
                        })
                        .collect(),
                );
                v.matches_raced = Some(l.matches_raced);
                v.active = Some(l.active);
            }
            None => {}
        }
        v
    }
}

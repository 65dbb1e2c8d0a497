//! The site's HTML: one function per page, plus the leaderboard rows that the live updates send
//! again ([`board`]). Plain semantic HTML with one stylesheet; every table has a caption and
//! column headers; status text that changes is announced politely.

use axum::http::StatusCode;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;
use slipstream_proto::v1 as pb;

use super::DrawnTrack;
use crate::boards::Board;
use crate::league::standings::SeasonTable;
use crate::matches::EventKind;
use crate::races::{RaceSpec, RaceType};
use crate::store::{EventRow, Pending, RaceRow, SeasonRow, SubmissionRow};
use crate::util::{display_seconds, display_time};

/// Which leaderboard a fragment is for: a race page's table, or the big screen's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BoardView {
    #[default]
    Page,
    Screen,
}

impl BoardView {
    fn as_str(self) -> &'static str {
        match self {
            BoardView::Page => "page",
            BoardView::Screen => "screen",
        }
    }
}

/// The frame of every page.
pub(super) fn layout(title: &str, body_class: &str, main: Markup, live: bool) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Slipstream League" }
                link rel="stylesheet" href="/static/style.css";
                @if live {
                    script src="/static/live.js" defer {}
                }
            }
            body class=(body_class) {
                @if body_class != "screen" {
                    header.site {
                        a.brand href="/" { "Slipstream League" }
                        a.console-link href="/console" { "My console" }
                    }
                }
                main { (main) }
                @if body_class != "screen" {
                    footer.site {
                        "Results update live. The league's API (gRPC and gRPC-web) is on this address too."
                    }
                }
            }
        }
    }
}

/// A page for what could not be shown.
pub fn error(status: StatusCode, message: &str) -> Markup {
    let title = status.canonical_reason().unwrap_or("Error");
    layout(
        title,
        "error",
        html! {
            h1 { (status.as_u16()) " " (title) }
            p { (message) }
            p { a href="/" { "All public races" } }
        },
        false,
    )
}

/// A race's kind, as people read it.
fn race_kind(spec: &RaceSpec) -> String {
    match spec.race_type {
        RaceType::TimeTrial => "time trial".into(),
        RaceType::ObjectAvoidance => format!("object avoidance, {} obstacles", spec.obstacle_count),
        RaceType::HeadToBot => format!("head-to-bot, {} bot cars at {} m/s", spec.bot_count, spec.bot_speed_mps),
    }
}

pub(super) fn race_url(id: &str) -> String {
    format!("/races/{id}")
}

/// The front page: the seasons, the head-to-head events and the public races, newest first.
pub fn index(
    races: &[(RaceRow, String, usize)],
    seasons: &[SeasonRow],
    events: &[(EventRow, RaceRow)],
    now_ms: i64,
) -> Markup {
    layout(
        "Races",
        "index",
        html! {
            @if !seasons.is_empty() {
                h1 { "Seasons" }
                ul.seasons {
                    @for s in seasons {
                        li {
                            a href=(format!("/seasons/{}", s.id)) { (s.spec.name) }
                            " · " (s.spec.race_ids.len()) @if s.spec.race_ids.len() == 1 { " race" } @else { " races" }
                        }
                    }
                }
            }
            @if !events.is_empty() {
                h1 { "Head-to-head" }
                ul.events {
                    @for (e, race) in events {
                        li {
                            a href=(format!("/events/{}", e.id)) { (e.spec.name) }
                            " · "
                            @match &e.spec.kind {
                                EventKind::Bracket { elimination, entrants } => {
                                    (elimination.as_str()) " elimination bracket of " (entrants.len())
                                }
                                EventKind::Ladder { .. } => { "rating ladder" }
                            }
                            " on " (race.spec.name)
                        }
                    }
                }
            }
            h1 { "Races" }
            @if races.is_empty() {
                p { "No public races yet." }
            } @else {
                table.races {
                    caption { "Public races, newest first" }
                    thead { tr {
                        th scope="col" { "Race" } th scope="col" { "Track" } th scope="col" { "Kind" }
                        th scope="col" { "State" } th scope="col" { "Closes" } th scope="col" class="num" { "Ranked" }
                    } }
                    tbody {
                        @for (race, track, entries) in races {
                            tr {
                                td { a href=(race_url(&race.id)) { (race.spec.name) } }
                                td { (track) @if race.spec.reverse { " (reversed)" } }
                                td { (race_kind(&race.spec)) }
                                td { (race.spec.state(now_ms).as_str()) }
                                td { (display_time(race.spec.closes_at_ms)) }
                                td.num { (entries) }
                            }
                        }
                    }
                }
            }
        },
        false,
    )
}

/// A race's settings as a description list.
fn settings(spec: &RaceSpec, track: &str) -> Markup {
    let resets = if spec.number_of_resets == 0 {
        "none: an incident ends the trial".to_string()
    } else {
        spec.number_of_resets.to_string()
    };
    html! {
        dl.settings {
            dt { "Kind" } dd { (race_kind(spec)) }
            dt { "Track" } dd { (track) @if spec.reverse { " (reversed)" } }
            dt { "Ranked by" } dd { (spec.timing.as_str()) }
            dt { "Laps" } dd {
                (spec.laps) @if spec.continuous { " in one run" } @else { " trials" }
                ", " (spec.min_laps) " to qualify"
            }
            dt { "Penalties" } dd {
                "off-track " (spec.off_track_penalty_s) " s, collision " (spec.collision_penalty_s) " s"
            }
            dt { "Resets per trial" } dd { (resets) }
            dt { "Open" } dd { (display_time(spec.opens_at_ms)) " to " (display_time(spec.closes_at_ms)) }
            @if !spec.sensors.is_empty() {
                dt { "Sensors" } dd { (spec.sensors.join(" or ")) }
            }
            @if spec.max_submissions_per_user > 0 {
                dt { "Submissions" } dd { "at most " (spec.max_submissions_per_user) " per racer" }
            }
        }
    }
}

/// Links to the previous and next `n` of `total` rows (nothing when all fit): `page(offset)` is a
/// page's address, `what` names the rows ("places").
fn pager(label: &str, what: &str, total: usize, offset: usize, n: usize, page: impl Fn(usize) -> String) -> Markup {
    let prev = offset.saturating_sub(n);
    html! {
        @if offset > 0 || offset + n < total {
            nav.pages aria-label=(label) {
                @if offset > 0 { a href=(page(prev)) rel="prev" { "← " (what) " " (prev + 1) "–" (offset) } }
                @if offset + n < total {
                    a href=(page(offset + n)) rel="next" { (what) " " (offset + n + 1) "–" ((offset + 2 * n).min(total)) " →" }
                }
            }
        }
    }
}

/// The live events of a board's rows `offset..offset + n` in `view`.
pub fn live_url(race_id: &str, offset: usize, n: usize, view: BoardView) -> String {
    format!("/races/{race_id}/events?offset={offset}&n={n}&view={}", view.as_str())
}

/// The leaderboard rows `offset..offset + n`: on the page and again in each live update.
/// A race's standing as shown: its ranked board and its evaluations under way.
#[derive(Clone, Copy)]
pub struct Standing<'a> {
    pub board: &'a Board,
    pub pending: Pending,
}

pub fn board(race: &RaceRow, standing: Standing, offset: usize, n: usize, view: BoardView) -> Markup {
    let (board, pending) = (standing.board, standing.pending);
    let total = board.rows.len();
    let rows: Vec<pb::LeaderboardRow> = (offset.min(total)..(offset + n).min(total))
        .map(|i| board.row(i))
        .collect();
    let timing = race.spec.timing.as_str();
    html! {
        p.count data-total=(total) {
            @match total {
                0 => { "No ranked results yet." }
                1 => { "1 racer ranked" }
                _ => { (total) " racers ranked" }
            }
            " · by " (timing)
        }
        @if pending.queued + pending.running > 0 {
            p.pending data-queued=(pending.queued) data-running=(pending.running) {
                "Evaluating now: " (pending.running) ", waiting: " (pending.queued) "."
            }
        }
        @if !rows.is_empty() {
            table.board {
                caption.visually-hidden { "Leaderboard of " (race.spec.name) ", by " (timing) }
                thead { tr {
                    th scope="col" class="num" { "Rank" }
                    th scope="col" { "Racer" }
                    @if view == BoardView::Page { th scope="col" { "Model" } }
                    th scope="col" class="num" { "Time (s)" }
                    @if view == BoardView::Page { th scope="col" class="num" { "Best lap (s)" } }
                    th scope="col" class="num" { "Off-track" }
                    @if view == BoardView::Page { th scope="col" { "Finished" } }
                } }
                tbody {
                    @for r in &rows {
                        tr data-racer=(r.user_id) data-submission=(r.submission_id) {
                            td.num.rank { (r.rank) }
                            td {
                                @if view == BoardView::Page {
                                    a href=(format!("/racers/{}", r.user_id)) { (r.user_name) }
                                } @else {
                                    (r.user_name)
                                }
                            }
                            @if view == BoardView::Page {
                                td { a href=(format!("/submissions/{}", r.submission_id)) { (r.model_name) } }
                            }
                            td.num.time { (display_seconds(r.score_ms)) }
                            @if view == BoardView::Page { td.num { (display_seconds(r.best_lap_ms)) } }
                            td.num { (r.off_track) }
                            @if view == BoardView::Page { td { (display_time(r.achieved_at_ms)) } }
                        }
                    }
                }
            }
        }
    }
}

/// A race's page: settings, the track, and the live leaderboard (`offset`, `n` rows).
pub fn race(
    race: &RaceRow,
    track_name: &str,
    track: Option<&DrawnTrack>,
    standing: Standing,
    offset: usize,
    n: usize,
    now_ms: i64,
) -> Markup {
    let spec = &race.spec;
    let total = standing.board.rows.len();
    let page = |o: usize| format!("/races/{}?offset={o}&n={n}", race.id);
    layout(
        &spec.name,
        "race",
        html! {
            p.crumbs { a href="/" { "Races" } }
            h1 { (spec.name) }
            p.state { "This race is " strong { (spec.state(now_ms).as_str()) } "." }
            @if !spec.description.is_empty() { p.description { (spec.description) } }
            div.race-top {
                figure.track {
                    @if let Some(t) = track {
                        (PreEscaped(&t.svg))
                        figcaption {
                            (t.name) ": " (format!("{:.1}", t.length_m)) " m long, "
                            (format!("{:.2}", t.width_mean_m)) " m wide"
                            @if spec.reverse { ", driven in reverse" }
                            ". The start line is white, the arrow shows the direction. "
                            a href=(format!("/races/{}/track.npy", race.id)) download { "Download the track" }
                            " (.npy) to train on it."
                        }
                    } @else {
                        figcaption { (track_name) }
                    }
                }
                (settings(spec, track_name))
            }
            section.leaderboard aria-labelledby="board-title" {
                h2 #board-title { "Leaderboard" }
                p.live-status role="status" data-live-status { "Showing results as of this page's loading." }
                div #board data-live=(live_url(&race.id, offset, n, BoardView::Page)) {
                    (board(race, standing, offset, n, BoardView::Page))
                }
                (pager("Leaderboard pages", "places", total, offset, n, page))
            }
            p { a href=(format!("/races/{}/screen", race.id)) { "Big-screen leaderboard" } " (for events: full screen, live)" }
        },
        true,
    )
}

/// The big screen: the race's name, the track and the first `n` places, large, live.
pub fn screen(race: &RaceRow, track: Option<&DrawnTrack>, standing: Standing, n: usize) -> Markup {
    layout(
        &race.spec.name,
        "screen",
        html! {
            div.screen-grid {
                div.screen-board {
                    h1 { (race.spec.name) }
                    div #board data-live=(live_url(&race.id, 0, n, BoardView::Screen)) {
                        (board(race, standing, 0, n, BoardView::Screen))
                    }
                    p.live-status role="status" data-live-status { "" }
                }
                @if let Some(t) = track {
                    figure.track { (PreEscaped(&t.svg)) }
                }
            }
        },
        true,
    )
}

/// A ranked submission: its place, per-lap results and replay.
pub fn submission(sub: &SubmissionRow, race: &RaceRow, b: &Board, place: usize) -> Markup {
    let row = b.row(place);
    let title = format!("{} by {}", row.model_name, row.user_name);
    layout(
        &title,
        "submission",
        html! {
            p.crumbs { a href="/" { "Races" } " › " a href=(race_url(&race.id)) { (race.spec.name) } }
            h1 { (row.model_name) " by " a href=(format!("/racers/{}", row.user_id)) { (row.user_name) } }
            p.summary {
                "Rank " strong { (row.rank) } " of " (b.rows.len()) " in " a href=(race_url(&race.id)) { (race.spec.name) }
                " · " (race.spec.timing.as_str()) " " strong { (display_seconds(row.score_ms)) " s" }
                " · submitted " (display_time(sub.submitted_at)) ", finished " (display_time(sub.finished_at))
            }
            table.laps {
                caption { "Laps (times include penalties)" }
                thead { tr {
                    th scope="col" class="num" { "Lap" } th scope="col" class="num" { "Time (s)" }
                    th scope="col" class="num" { "Penalties (s)" } th scope="col" class="num" { "Off-track" }
                    th scope="col" class="num" { "Collisions" } th scope="col" { "Finished" }
                } }
                tbody {
                    @for (i, lap) in sub.laps.iter().enumerate() {
                        tr {
                            td.num { (i + 1) }
                            td.num { (display_seconds(lap.time_ms)) }
                            td.num { (display_seconds(lap.penalty_ms)) }
                            td.num { (lap.off_track) }
                            td.num { (lap.collisions) }
                            td { @if lap.completed { "yes" } @else { "no" } }
                        }
                    }
                }
            }
            @if sub.replay_sha256.is_empty() {
                p { "This evaluation has no replay." }
            } @else {
                figure.replay {
                    img src=(format!("/submissions/{}/replay.gif", sub.id))
                        alt=(format!("Replay of {title}: the track from above with the car's trail, its camera view and the lap timer"));
                    figcaption { "Replay (15 frames per second of race time)" }
                }
            }
        },
        false,
    )
}

/// A racer: their places on public leaderboards.
pub fn racer(name: &str, places: &[(RaceRow, pb::LeaderboardRow, usize)]) -> Markup {
    layout(
        name,
        "racer",
        html! {
            p.crumbs { a href="/" { "Races" } }
            h1 { (name) }
            table.places {
                caption { "Places on public leaderboards" }
                thead { tr {
                    th scope="col" { "Race" } th scope="col" class="num" { "Rank" } th scope="col" { "Model" }
                    th scope="col" class="num" { "Time (s)" } th scope="col" { "Finished" }
                } }
                tbody {
                    @for (race, row, total) in places {
                        tr {
                            td { a href=(race_url(&race.id)) { (race.spec.name) } }
                            td.num { (row.rank) " of " (total) }
                            td { a href=(format!("/submissions/{}", row.submission_id)) { (row.model_name) } }
                            td.num { (display_seconds(row.score_ms)) }
                            td { (display_time(row.achieved_at_ms)) }
                        }
                    }
                }
            }
        },
        false,
    )
}

/// A season: its standings (points per race and in total), its points table and the tie-breaks.
pub fn season(season: &SeasonRow, table: &SeasonTable, offset: usize, n: usize) -> Markup {
    let spec = &season.spec;
    let total = table.rows.len();
    let rows = &table.rows[offset.min(total)..(offset + n).min(total)];
    let page = |o: usize| format!("/seasons/{}?offset={o}&n={n}", season.id);
    let points = spec
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{}: {p}", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    layout(
        &spec.name,
        "season",
        html! {
            p.crumbs { a href="/" { "Races" } }
            h1 { (spec.name) }
            @if !spec.description.is_empty() { p.description { (spec.description) } }
            p.rules {
                "Points by place in each race (" (points) "; lower places score 0). Racers tied on a "
                "leaderboard share its rank and its points. Standings: more points first, then more "
                "1st places, then more 2nd places, and so on; racers equal on all of these share a position."
            }
            @if table.rows.is_empty() {
                p { "No racer is ranked in this season's races yet." }
            } @else {
                div.wide {
                    table.standings {
                        caption {
                            (total) @if total == 1 { " racer" } @else { " racers" } " · each race: rank, then points"
                        }
                        thead { tr {
                            th scope="col" class="num" { "Pos." }
                            th scope="col" { "Racer" }
                            th scope="col" class="num" { "Points" }
                            @for (i, race) in table.races.iter().enumerate() {
                                th scope="col" class="num" {
                                    @match race {
                                        Some(r) => { a href=(race_url(&r.id)) { (r.spec.name) } }
                                        None => { "race " (i + 1) " (withdrawn)" }
                                    }
                                }
                            }
                        } }
                        tbody {
                            @for r in rows {
                                tr {
                                    td.num { (r.position) }
                                    td { a href=(format!("/racers/{}", r.user_id)) { (r.user_name) } }
                                    td.num { strong { (r.points) } }
                                    @for (rank, pts) in r.ranks.iter().zip(&r.race_points) {
                                        td.num {
                                            @if *rank == 0 { "–" } @else { (rank) " · " (pts) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                (pager("Standings pages", "positions", total, offset, n, page))
            }
        },
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::BoardRow;

    fn cup() -> RaceRow {
        RaceRow {
            id: "race_x".into(),
            spec: RaceSpec::time_trial("Cup <1>", "oval", 0, 0),
            created_by: "u".into(),
            created_at: 0,
        }
    }

    fn shown(board: &Board) -> Standing<'_> {
        Standing {
            board,
            pending: Pending::default(),
        }
    }

    #[test]
    fn evaluations_under_way_are_counted_above_the_board() {
        let b = board(2);
        let line =
            |pending| super::board(&cup(), Standing { board: &b, pending }, 0, 10, BoardView::Page).into_string();
        assert!(!line(Pending::default()).contains("Evaluating"));
        let html = line(Pending { queued: 3, running: 1 });
        assert!(
            html.contains("data-queued=\"3\" data-running=\"1\">Evaluating now: 1, waiting: 3.</p>"),
            "{html}"
        );
    }

    fn board(n: usize) -> Board {
        Board::new(
            (0..n)
                .map(|i| BoardRow {
                    user_id: format!("user_{i:04}"),
                    user_name: format!("racer {i}"),
                    submission_id: format!("sub_{i:04}"),
                    score_ms: 5000 + i as i64,
                    submitted_at: 1,
                    achieved_at: 2,
                    off_track: 0,
                    best_lap_ms: 5000,
                    model_name: "m".into(),
                })
                .collect(),
        )
    }

    #[test]
    fn a_page_of_the_board_links_its_neighbours() {
        let b = board(250);
        let html = super::race(&cup(), "oval", None, shown(&b), 100, 100, 1).into_string();
        assert!(html.contains("<h1>Cup &lt;1&gt;</h1>"), "escaped: {html}");
        let rows = html.matches("<tr data-racer=").count();
        assert_eq!(rows, 100);
        assert!(html.contains("data-racer=\"user_0100\"") && !html.contains("data-racer=\"user_0099\""));
        assert!(
            html.contains("href=\"/races/race_x?offset=0&amp;n=100\" rel=\"prev\">← places 1–100</a>"),
            "{html}"
        );
        assert!(
            html.contains("href=\"/races/race_x?offset=200&amp;n=100\" rel=\"next\">places 201–250 →</a>"),
            "{html}"
        );
        assert!(html.contains("events?offset=100&amp;n=100&amp;view=page"));
        // All on one page: no links.
        let html = super::race(&cup(), "oval", None, shown(&b), 0, 1000, 1).into_string();
        assert!(!html.contains("rel=\"next\"") && !html.contains("rel=\"prev\""));
        assert_eq!(html.matches("<tr data-racer=").count(), 250);
        // Beyond the end: no rows, a way back.
        let html = super::race(&cup(), "oval", None, shown(&b), 900, 100, 1).into_string();
        assert_eq!(html.matches("<tr data-racer=").count(), 0);
        assert!(html.contains("rel=\"prev\""));
    }

    #[test]
    fn the_big_screen_shows_no_links_and_ties_share_a_rank() {
        let mut rows = board(3).rows.clone();
        rows[1].score_ms = rows[0].score_ms;
        let b = Board::new(rows);
        let html = board_markup(&b);
        assert!(!html.contains("<a "), "{html}");
        let ranks: Vec<&str> = html.split("<td class=\"num rank\">").skip(1).map(|r| &r[..1]).collect();
        assert_eq!(ranks, ["1", "1", "3"]);
    }

    fn board_markup(b: &Board) -> String {
        super::board(&cup(), shown(b), 0, 10, BoardView::Screen).into_string()
    }
}

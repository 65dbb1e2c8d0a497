//! The web site, served by the league server on its gRPC port (HTTP/1.1; gRPC and gRPC-web share
//! the port): the public races, each race's live leaderboard, the submissions on
//! it (per-lap results and the replay), racers, and a full-screen "big screen" leaderboard for
//! events.
//!
//! Seasons are public (they group public races): each has a standings page. Head-to-head brackets
//! and ladders of public races have pages that follow their matches live, and each match has a
//! page ([`head_to_head`]).
//!
//! The public pages show what the anonymous gRPC API shows and nothing more: public races, and
//! the submissions that hold a racer's place on a public race's leaderboard. A signed-in visitor
//! ([`Visitor`]) also sees the private races they were invited to, as the API shows them. Anything
//! else — a private race, a submission that does not rank, a racer with no public place — answers
//! 404, the same as an id that never existed.
//!
//! * [`account`]: sign-up with an invite, sign-in and out, API tokens, password, invites; the
//!   session and CSRF cookies.
//! * [`console`]: the student console's home (a signed-in user's own models, trainings, submissions).
//! * [`training`]: "Create model", a training job's live page, its settings as files, quotas;
//!   [`chart`]: its chart as SVG.
//! * [`pages`]: the HTML (maud templates, escaped at compile time), one function per page.
//! * [`live`]: a leaderboard's server-sent events: the board's rows again, rendered by the same
//!   function as the page, whenever the board changes. `static/live.js` (a dozen lines, the only
//!   script) swaps them in; without JavaScript the page shows the board as of its loading.
//! * [`track_svg`]: a race's track drawn to scale as SVG.
//!
//! No CDN and no external fonts: the pages work on an event's offline network.

mod account;
mod chart;
mod console;
mod head_to_head;
mod live;
mod pages;
mod track_svg;
mod training;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::Markup;
use serde::Deserialize;

use crate::boards::Board;
use crate::ctx::Ctx;
use crate::error::LeagueError;
use crate::league::Viewer;
use crate::store::{RaceRow, SubmissionRow};

pub use account::Visitor;

pub use pages::BoardView;

/// Rows on a race page unless `?n=` asks for another number (at most [`MAX_ROWS`]).
pub const PAGE_ROWS: usize = 100;
/// Rows on the big screen unless `?n=` asks for another number (at most [`MAX_SCREEN_ROWS`]).
pub const SCREEN_ROWS: usize = 10;
pub const MAX_ROWS: usize = 1000;
pub const MAX_SCREEN_ROWS: usize = 50;
/// Public races listed on the front page.
const LISTED_RACES: usize = 200;

/// The site's state: the league and the tracks drawn so far.
#[derive(Debug)]
pub struct Web {
    ctx: Arc<Ctx>,
    /// Each (track, direction) drawn once.
    tracks: Mutex<HashMap<(String, bool), Arc<DrawnTrack>>>,
    /// Uploaded tracks' names by id (tracks never change: content-addressed).
    track_names: Mutex<HashMap<String, String>>,
}

type Site = State<Arc<Web>>;

/// The site's routes. [`crate::serve`] adds the gRPC services to them; requests for paths no page
/// has get a 404 page, or gRPC's `UNIMPLEMENTED` when they are gRPC calls.
pub fn router(ctx: Arc<Ctx>) -> Router {
    let web = Arc::new(Web {
        ctx,
        tracks: Mutex::new(HashMap::new()),
        track_names: Mutex::new(HashMap::new()),
    });
    Router::new()
        .route("/", get(index))
        .route("/console", get(console::home))
        .route(
            "/console/models/{id}/submit",
            axum::routing::post(console::submit_model),
        )
        .route("/console/models/{id}/file", get(console::model_file))
        .merge(account::routes())
        .merge(training::routes())
        .route("/races/{id}", get(race_page))
        .route("/races/{id}/screen", get(screen_page))
        .route("/races/{id}/track.npy", get(track_file))
        .route("/races/{id}/events", get(live::events))
        .route("/submissions/{id}", get(submission_page))
        .route("/submissions/{id}/replay.gif", get(replay))
        .route("/racers/{id}", get(racer_page))
        .route("/seasons/{id}", get(season_page))
        .route("/events/{id}", get(head_to_head::event_page))
        .route("/events/{id}/live", get(head_to_head::event_live))
        .route("/matches/{id}", get(head_to_head::match_page))
        .route("/matches/{id}/replay.gif", get(head_to_head::match_replay))
        .route(
            "/static/style.css",
            get(|| asset("text/css", include_str!("static/style.css"))),
        )
        .route(
            "/static/live.js",
            get(|| asset("text/javascript", include_str!("static/live.js"))),
        )
        .fallback(fallback)
        .with_state(web)
}

/// A race's track as its pages show it: the map and the figures under it.
#[derive(Debug)]
pub struct DrawnTrack {
    pub svg: String,
    pub name: String,
    pub length_m: f64,
    pub width_mean_m: f64,
}

/// A page that could not be shown: its status and what the visitor is told.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    fn not_found(what: impl Into<String>) -> Self {
        PageError {
            status: StatusCode::NOT_FOUND,
            message: what.into(),
        }
    }
}

impl From<LeagueError> for PageError {
    fn from(e: LeagueError) -> Self {
        let status = match &e {
            LeagueError::NotFound(_) => StatusCode::NOT_FOUND,
            LeagueError::InvalidArgument(_) => StatusCode::BAD_REQUEST,
            LeagueError::Database(_) | LeagueError::Migrate(_) | LeagueError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            _ => StatusCode::BAD_REQUEST,
        };
        // The gRPC status's message: internal causes are logged under an id, only the id is shown.
        PageError {
            status,
            message: tonic::Status::from(e).message().to_string(),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        (self.status, pages::error(self.status, &self.message)).into_response()
    }
}

type Page = Result<Markup, PageError>;

/// `?offset=` and `?n=` of a leaderboard (and, for its live events, `?view=page|screen`).
#[derive(Debug, Default, Deserialize)]
pub struct BoardQuery {
    #[serde(default)]
    offset: usize,
    #[serde(default)]
    n: u32,
    #[serde(default)]
    view: BoardView,
}

/// A page's query string, or a 400 page naming what is wrong in it (e.g. `offset: invalid digit`).
impl<S: Send + Sync> FromRequestParts<S> for BoardQuery {
    type Rejection = PageError;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, PageError> {
        Query::<BoardQuery>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| q)
            .map_err(|e| PageError {
                status: StatusCode::BAD_REQUEST,
                message: e.body_text(),
            })
    }
}

impl BoardQuery {
    /// The rows asked for: `n` (0 = `default`) checked against `max`, from `offset`.
    fn window(&self, default: usize, max: usize) -> Result<(usize, usize), PageError> {
        Ok((
            self.offset,
            crate::league::paging::page_size("n", self.n, default, max)?,
        ))
    }
}

/// A race the visitor may see (a public race; a private one to its racers, signed in), or 404.
async fn visible_race(ctx: &Ctx, visitor: &Visitor, id: &str) -> Result<RaceRow, PageError> {
    visitor
        .viewer()
        .race(ctx, id)
        .await
        .map_err(|_| PageError::not_found(format!("There is no race {id:?} to show you.")))
}

/// A submission the visitor may see — the one holding its racer's place on the leaderboard of a
/// race they may see — with its race, the board and its place on it; otherwise 404.
async fn ranked_submission(
    ctx: &Ctx,
    visitor: &Visitor,
    id: &str,
) -> Result<(SubmissionRow, RaceRow, Arc<Board>, usize), PageError> {
    let not_found = || PageError::not_found(format!("There is no ranked submission {id:?} to show you."));
    let sub = ctx.store.submission(id).await?.ok_or_else(not_found)?;
    let race = visitor
        .viewer()
        .race(ctx, &sub.race_id)
        .await
        .map_err(|_| not_found())?;
    let board = ctx.boards.get(&ctx.store, &race.id).await?;
    let place = board
        .position(&sub.user_id)
        .filter(|&p| board.rows[p].submission_id == sub.id)
        .ok_or_else(not_found)?;
    Ok((sub, race, board, place))
}

impl Web {
    /// The race's track drawn (once per track and direction), or `None` with a warning if it
    /// cannot be loaded (the page is still useful without it).
    async fn track(&self, race: &RaceRow) -> Option<Arc<DrawnTrack>> {
        self.drawn(&race.spec.track, race.spec.reverse).await
    }

    /// A track (a built-in's name or an upload's id) drawn in a direction, once.
    async fn drawn(&self, id: &str, reverse: bool) -> Option<Arc<DrawnTrack>> {
        let key = (id.to_string(), reverse);
        if let Some(svg) = self.tracks.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Some(svg.clone());
        }
        let track = match self.ctx.track_by_id(id, reverse).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(track = id, "track not drawn: {e}");
                return None;
            }
        };
        let name = self.track_name(id).await;
        let drawn = Arc::new(DrawnTrack {
            svg: track_svg::draw(&track, &name).into_string(),
            name,
            length_m: track.length(),
            width_mean_m: track.width_mean(),
        });
        let mut tracks = self.tracks.lock().unwrap_or_else(|e| e.into_inner());
        if tracks.len() >= 1000 {
            tracks.clear();
        }
        tracks.insert(key, drawn.clone());
        Some(drawn)
    }

    /// What people call a track: a built-in's name, an uploaded track's name (its id if it
    /// cannot be read).
    async fn track_name(&self, id: &str) -> String {
        if crate::races::upload_sha(id).is_none() {
            return id.to_string();
        }
        if let Some(name) = self.track_names.lock().unwrap_or_else(|e| e.into_inner()).get(id) {
            return name.clone();
        }
        match self.ctx.store.track(id).await {
            Ok(Some(row)) => {
                let mut names = self.track_names.lock().unwrap_or_else(|e| e.into_inner());
                if names.len() >= 10_000 {
                    names.clear();
                }
                names.insert(id.to_string(), row.name.clone());
                row.name
            }
            Ok(None) => id.to_string(),
            Err(e) => {
                tracing::warn!(track = id, "track name: {e}");
                id.to_string()
            }
        }
    }
}

async fn index(State(web): Site) -> Page {
    let ctx = &web.ctx;
    let races = ctx
        .store
        .list_races(Viewer::PUBLIC.race_scope(), 0, LISTED_RACES)
        .await?;
    let mut listed = Vec::with_capacity(races.len());
    for race in races {
        let entries = ctx.boards.get(&ctx.store, &race.id).await?.rows.len();
        let track = web.track_name(&race.spec.track).await;
        listed.push((race, track, entries));
    }
    let seasons = ctx.store.list_seasons(0, LISTED_RACES).await?;
    let events = head_to_head::public_events(ctx, LISTED_RACES).await?;
    Ok(pages::index(&listed, &seasons, &events, web.ctx.now_ms()))
}

async fn season_page(State(web): Site, Path(id): Path<String>, q: BoardQuery) -> Page {
    let (offset, n) = q.window(PAGE_ROWS, MAX_ROWS)?;
    let season = web
        .ctx
        .store
        .season(&id)
        .await?
        .ok_or_else(|| PageError::not_found(format!("There is no season {id:?}.")))?;
    let table = crate::league::standings::season_table(&web.ctx, &season).await?;
    Ok(pages::season(&season, &table, offset, n))
}

async fn race_page(State(web): Site, visitor: Visitor, Path(id): Path<String>, q: BoardQuery) -> Page {
    let race = visible_race(&web.ctx, &visitor, &id).await?;
    let (offset, n) = q.window(PAGE_ROWS, MAX_ROWS)?;
    let board = web.ctx.boards.get(&web.ctx.store, &race.id).await?;
    let pending = web.ctx.store.pending_evaluations(&race.id).await?;
    let track = web.track(&race).await;
    let track_name = web.track_name(&race.spec.track).await;
    Ok(pages::race(
        &race,
        &track_name,
        track.as_deref(),
        pages::Standing { board: &board, pending },
        offset,
        n,
        web.ctx.now_ms(),
    ))
}

/// The race's track as a DeepRacer `.npy` file, to train on: an uploaded track's file as it was
/// uploaded, a built-in track's waypoints (the race's direction is on its page).
async fn track_file(State(web): Site, visitor: Visitor, Path(id): Path<String>) -> Result<Response, PageError> {
    let race = visible_race(&web.ctx, &visitor, &id).await?;
    let bytes = match crate::races::upload_sha(&race.spec.track) {
        Some(sha) => web
            .ctx
            .store
            .blob(sha)
            .await?
            .ok_or_else(|| LeagueError::internal(format!("track {} is missing its file", race.spec.track)))?,
        None => {
            let opts = slipstream_sim::track::ValidateOptions::default();
            let track = slipstream_sim::track::builtin::load(&race.spec.track, &opts)
                .map_err(|e| LeagueError::internal(format!("track {}: {e}", race.spec.track)))?;
            slipstream_sim::track::npy::to_bytes(&track.rows())
        }
    };
    let name = web.track_name(&race.spec.track).await;
    Ok(attachment(&name, "npy", "application/octet-stream", bytes))
}

async fn screen_page(State(web): Site, visitor: Visitor, Path(id): Path<String>, q: BoardQuery) -> Page {
    let race = visible_race(&web.ctx, &visitor, &id).await?;
    let (_, n) = q.window(SCREEN_ROWS, MAX_SCREEN_ROWS)?;
    let board = web.ctx.boards.get(&web.ctx.store, &race.id).await?;
    let pending = web.ctx.store.pending_evaluations(&race.id).await?;
    let track = web.track(&race).await;
    Ok(pages::screen(
        &race,
        track.as_deref(),
        pages::Standing { board: &board, pending },
        n,
    ))
}

async fn submission_page(State(web): Site, visitor: Visitor, Path(id): Path<String>) -> Page {
    let (sub, race, board, place) = ranked_submission(&web.ctx, &visitor, &id).await?;
    Ok(pages::submission(&sub, &race, &board, place))
}

async fn replay(State(web): Site, visitor: Visitor, Path(id): Path<String>) -> Result<Response, PageError> {
    let (sub, ..) = ranked_submission(&web.ctx, &visitor, &id).await?;
    if sub.replay_sha256.is_empty() {
        return Err(PageError::not_found("This evaluation has no replay."));
    }
    let gif = web
        .ctx
        .store
        .blob(&sub.replay_sha256)
        .await?
        .ok_or_else(|| LeagueError::internal("replay missing"))?;
    // Content-addressed: a submission's replay never changes.
    Ok((
        [
            (header::CONTENT_TYPE, "image/gif"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        gif,
    )
        .into_response())
}

async fn racer_page(State(web): Site, Path(id): Path<String>) -> Page {
    let ctx = &web.ctx;
    let not_found = || PageError::not_found(format!("There is no racer {id:?} on a public leaderboard."));
    let user = ctx.store.user(&id).await?.ok_or_else(not_found)?;
    let mut places = Vec::new();
    for race_id in ctx.store.public_races_ranking(&user.id).await? {
        let Some(race) = ctx.race(&race_id).await? else {
            continue;
        };
        if !Viewer::PUBLIC.sees_race(ctx, &race).await? {
            continue;
        }
        let board = ctx.boards.get(&ctx.store, &race.id).await?;
        if let Some(p) = board.position(&user.id) {
            places.push((race, board.row(p), board.rows.len()));
        }
    }
    if places.is_empty() {
        return Err(not_found());
    }
    Ok(pages::racer(&user.name, &places))
}

/// A download: `body` saved as `stem.ext`, the stem made safe for the header (letters, digits, '-'
/// and '_'; anything else becomes '_').
pub(super) fn attachment(stem: &str, ext: &str, content_type: &'static str, body: Vec<u8>) -> Response {
    let stem: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{stem}.{ext}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A static file compiled into the binary.
async fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        body,
    )
}

/// No page here: a 404 page — or, for a gRPC call to a service this server does not have, gRPC's
/// `UNIMPLEMENTED` (what tonic answers without the site).
async fn fallback(headers: HeaderMap) -> Response {
    let grpc = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"));
    if grpc {
        return tonic::Status::unimplemented("no such service or method").into_http();
    }
    PageError::not_found("There is no page here.").into_response()
}

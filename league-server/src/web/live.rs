//! A leaderboard's live updates as server-sent events (`GET /races/{id}/events`).
//!
//! Each event (`board`) carries the rows a page shows and the race's evaluations under way, rendered
//! by [`pages::board`] — the page's own function, so a live update and a reload look the same. The
//! first event is the board as it is when the stream opens (a result recorded between the page's
//! loading and the stream's opening is not missed); then one event per change of the race's board
//! (the board's `watch`: changes that come faster than a browser reads are coalesced into the
//! latest) or of one of its submissions' status (queued, running, finished). A comment every 15 s keeps
//! proxies from closing an idle stream. The stream ends when the server shuts down; browsers
//! reconnect by themselves (EventSource) once it is back.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::pages::{self, BoardView};
use super::{BoardQuery, MAX_ROWS, MAX_SCREEN_ROWS, PAGE_ROWS, PageError, SCREEN_ROWS, Visitor, Web, visible_race};
use crate::ctx::stopped;

pub async fn events(
    State(web): State<Arc<Web>>,
    visitor: Visitor,
    Path(id): Path<String>,
    q: BoardQuery,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, PageError> {
    let ctx = web.ctx.clone();
    let race = visible_race(&ctx, &visitor, &id).await?;
    let (offset, n) = match q.view {
        BoardView::Page => q.window(PAGE_ROWS, MAX_ROWS)?,
        BoardView::Screen => q.window(SCREEN_ROWS, MAX_SCREEN_ROWS)?,
    };
    // Follow the board and the submissions before reading them, so that no change falls between.
    let mut boards = ctx.boards.watch_board(&race.id);
    let mut submissions = ctx.boards.subscribe();
    let mut stopping = ctx.stopping.subscribe();
    let first = ctx.boards.get(&ctx.store, &race.id).await?;
    let first_pending = ctx.store.pending_evaluations(&race.id).await?;
    let render = move |board: &crate::boards::Board, pending| {
        Event::default()
            .event("board")
            .data(pages::board(&race, pages::Standing { board, pending }, offset, n, q.view).into_string())
    };
    let race_id = id;
    let stream = async_stream::stream! {
        yield Ok(render(&first, first_pending));
        drop(first);
        loop {
            tokio::select! {
                changed = boards.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    boards.borrow_and_update();
                }
                event = submissions.recv() => match event {
                    Ok(e) if e.race_id != race_id => continue,
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                },
                _ = stopped(&mut stopping) => break,
            }
            let shown = async {
                let board = ctx.boards.get(&ctx.store, &race_id).await?;
                let pending = ctx.store.pending_evaluations(&race_id).await?;
                Ok::<_, crate::error::LeagueError>((board, pending))
            };
            match shown.await {
                Ok((board, pending)) => yield Ok(render(&board, pending)),
                Err(e) => tracing::warn!(race = %race_id, "live board not sent: {e}"),
            }
        }
    };
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

//! Standings: a page of a race's leaderboard, and a season's table from its races' boards.

use slipstream_proto::v1 as pb;

use crate::convert::timing_to_pb;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::league::access::is_public;
use crate::seasons::{Placing, Standing, standings};
use crate::store::{RaceRow, SeasonRow};

/// A page of a race's ranking.
pub async fn leaderboard_page(
    ctx: &Ctx,
    race_id: &str,
    timing: crate::ranking::Timing,
    offset: usize,
    n: usize,
) -> Result<pb::GetLeaderboardResponse> {
    let board = ctx.boards.get(&ctx.store, race_id).await?;
    let total = board.rows.len();
    let end = (offset + n).min(total);
    let rows = (offset.min(total)..end).map(|i| board.row(i)).collect();
    Ok(pb::GetLeaderboardResponse {
        rows,
        next_page_token: if end < total { end.to_string() } else { String::new() },
        total: total as u32,
        timing: timing_to_pb(timing) as i32,
    })
}

/// A season's standings with its races (`None`: a race that no longer counts — private or deleted).
#[derive(Debug)]
pub struct SeasonTable {
    pub races: Vec<Option<RaceRow>>,
    pub rows: Vec<Standing>,
}

/// The standings of a season now, from the races' cached leaderboards.
pub async fn season_table(ctx: &Ctx, season: &SeasonRow) -> Result<SeasonTable> {
    let mut races = Vec::with_capacity(season.spec.race_ids.len());
    let mut boards = Vec::with_capacity(season.spec.race_ids.len());
    for id in &season.spec.race_ids {
        match ctx.race(id).await? {
            Some(race) if is_public(&race) => {
                let board = ctx.boards.get(&ctx.store, &race.id).await?;
                boards.push(Some(
                    board
                        .rows
                        .iter()
                        .zip(&board.ranks)
                        .map(|(r, &rank)| Placing {
                            user_id: r.user_id.clone(),
                            user_name: r.user_name.clone(),
                            rank,
                        })
                        .collect(),
                ));
                races.push(Some(race));
            }
            _ => {
                boards.push(None);
                races.push(None);
            }
        }
    }
    Ok(SeasonTable {
        rows: standings(&season.spec, &boards),
        races,
    })
}

//! `league leaderboard` (the LeaderboardService): a page of the board, or `--watch` its changes.

use anyhow::Result;
use slipstream_league_client::client::Clients;
use slipstream_proto::v1 as pb;
use slipstream_proto::v1::leaderboard_event::Event;

use crate::output::{Output, human, json};
use crate::{Reply, rpc_error};

pub async fn show(c: &mut Clients, out: Output, race: String, limit: u32) -> Result<()> {
    let b = c
        .leaderboards
        .get_leaderboard(pb::GetLeaderboardRequest {
            race_id: race,
            page_size: limit,
            page_token: String::new(),
        })
        .await
        .reply()?;
    out.emit(&json::Board::from(&b), || human::board(&b))
}

/// The board's top `limit`, then every change, until the server ends the stream.
pub async fn watch(c: &mut Clients, out: Output, race: String, limit: u32) -> Result<()> {
    let mut stream = c
        .leaderboards
        .watch_leaderboard(pb::WatchLeaderboardRequest {
            race_id: race,
            top: limit,
        })
        .await
        .reply()?;
    while let Some(ev) = stream.message().await.map_err(rpc_error)? {
        match ev.event {
            Some(Event::Snapshot(b)) => {
                let snapshot = json::Snapshot {
                    snapshot: b.rows.iter().map(json::Row::from).collect(),
                    total: b.total,
                };
                out.emit(&snapshot, || human::board(&b))?;
            }
            Some(Event::Submission(s)) => {
                let event = json::SubmissionEvent {
                    submission: json::Submission::from(&s),
                };
                out.emit(&event, || human::submission_event(&s))?;
            }
            Some(Event::RankChange(r)) => {
                let change = json::RankChange {
                    rank_change: json::Row::from(&r),
                };
                out.emit(&change, || human::rank_change(&r))?;
            }
            None => {}
        }
    }
    Ok(())
}

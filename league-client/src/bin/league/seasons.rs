//! `league seasons …` (the SeasonService): seasons of public races and their standings.

use anyhow::Result;
use slipstream_league_client::client::Clients;
use slipstream_proto::v1 as pb;

use crate::Reply;
use crate::args::SeasonsCmd;
use crate::output::{Output, human, json};

pub async fn seasons(c: &mut Clients, out: Output, cmd: SeasonsCmd) -> Result<()> {
    match cmd {
        SeasonsCmd::Create {
            name,
            description,
            points,
            races,
        } => {
            let spec = pb::SeasonSpec {
                name,
                description,
                points,
                race_ids: races,
            };
            let s = c
                .seasons
                .create_season(pb::CreateSeasonRequest { spec: Some(spec) })
                .await
                .reply()?;
            out.emit(&json::Season::from(&s), || format!("created season {}", s.id))
        }
        SeasonsCmd::List => {
            let r = c
                .seasons
                .list_seasons(pb::ListSeasonsRequest {
                    page_size: 500,
                    page_token: String::new(),
                })
                .await
                .reply()?;
            let seasons = json::Seasons {
                seasons: r.seasons.iter().map(json::Season::from).collect(),
            };
            out.emit(&seasons, || human::seasons(&r.seasons))
        }
        SeasonsCmd::Show { season, limit, offset } => {
            let r = c
                .seasons
                .get_standings(pb::GetStandingsRequest {
                    season_id: season,
                    page_size: limit,
                    page_token: if offset == 0 { String::new() } else { offset.to_string() },
                })
                .await
                .reply()?;
            out.emit(&json::Standings::from(&r), || human::standings(&r))
        }
        SeasonsCmd::AddRace { season, race } => {
            let s = c
                .seasons
                .get_season(pb::GetSeasonRequest {
                    season_id: season.clone(),
                })
                .await
                .reply()?;
            let mut spec = s.spec.unwrap_or_default();
            spec.race_ids.push(race);
            let s = c
                .seasons
                .update_season(pb::UpdateSeasonRequest {
                    season_id: season,
                    spec: Some(spec),
                })
                .await
                .reply()?;
            let n = s.spec.as_ref().map_or(0, |s| s.race_ids.len());
            out.emit(&json::Season::from(&s), || format!("season {} has {n} races", s.id))
        }
        SeasonsCmd::Delete { season } => {
            c.seasons
                .delete_season(pb::DeleteSeasonRequest {
                    season_id: season.clone(),
                })
                .await
                .reply()?;
            out.emit(&json::Deleted { deleted: &season }, || {
                format!("deleted season {season}")
            })
        }
    }
}

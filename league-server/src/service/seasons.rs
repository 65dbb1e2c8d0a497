//! SeasonService: seasons of public races and their standings.

use std::sync::Arc;

use slipstream_proto::v1 as pb;
use slipstream_proto::v1::season_service_server::SeasonService;
use tonic::{Request, Response, Status};

use crate::ctx::Ctx;
use crate::error::{LeagueError, Result};
use crate::league::Viewer;
use crate::league::access::ORGANISERS;
use crate::league::access::is_public;
use crate::league::paging::{page_size, parse_page_token};
use crate::league::standings::season_table;
use crate::seasons::SeasonSpec;
use crate::store::{SeasonRow, User};

#[derive(Debug, Clone)]
pub struct Seasons(pub Arc<Ctx>);

pub fn season_to_pb(s: &SeasonRow) -> pb::Season {
    pb::Season {
        id: s.id.clone(),
        spec: Some(pb::SeasonSpec {
            name: s.spec.name.clone(),
            description: s.spec.description.clone(),
            points: s.spec.points.clone(),
            race_ids: s.spec.race_ids.clone(),
        }),
        created_by: s.created_by.clone(),
        created_at_ms: s.created_at,
    }
}

impl Seasons {
    /// A request's spec, checked: fields, and every race exists and is public.
    async fn validated(&self, user: &User, spec: Option<pb::SeasonSpec>) -> Result<SeasonSpec> {
        let s = spec.ok_or_else(|| LeagueError::invalid("spec: missing"))?;
        let spec = SeasonSpec {
            name: s.name,
            description: s.description,
            points: s.points,
            race_ids: s.race_ids,
        }
        .validated()?;
        for (i, id) in spec.race_ids.iter().enumerate() {
            match self.0.race(id).await? {
                Some(r) if is_public(&r) => {}
                // A private race the caller may not see is named as missing, as everywhere.
                Some(r) if Viewer::user(user).sees_race(&self.0, &r).await? => {
                    return Err(LeagueError::invalid(format!(
                        "spec.race_ids[{i}]: {id:?} is private; seasons group public races"
                    )));
                }
                _ => return Err(LeagueError::invalid(format!("spec.race_ids[{i}]: no race {id:?}"))),
            }
        }
        Ok(spec)
    }

    async fn season(&self, id: &str) -> Result<SeasonRow> {
        self.0
            .store
            .season(id)
            .await?
            .ok_or_else(|| LeagueError::not_found(format!("season_id: no season {id:?}")))
    }

    async fn managed(&self, user: &User, id: &str) -> Result<SeasonRow> {
        let s = self.season(id).await?;
        if !Viewer::user(user).manages_season(&s) {
            return Err(LeagueError::denied(
                "only the season's creator or an admin can change it",
            ));
        }
        Ok(s)
    }
}

/// GetStandings' default and largest pages.
const DEFAULT_STANDINGS_PAGE: usize = 50;
const MAX_STANDINGS_PAGE: usize = 1000;

#[tonic::async_trait]
impl SeasonService for Seasons {
    async fn create_season(&self, req: Request<pb::CreateSeasonRequest>) -> Result<Response<pb::Season>, Status> {
        let user = self
            .0
            .auth
            .require(req.metadata(), ORGANISERS, "creating seasons")
            .await?;
        let spec = self.validated(&user, req.into_inner().spec).await?;
        let s = self.0.store.insert_season(&spec, &user.id).await?;
        tracing::info!(season = %s.id, name = %spec.name, "season created");
        Ok(Response::new(season_to_pb(&s)))
    }

    async fn update_season(&self, req: Request<pb::UpdateSeasonRequest>) -> Result<Response<pb::Season>, Status> {
        let user = self
            .0
            .auth
            .require(req.metadata(), ORGANISERS, "editing seasons")
            .await?;
        let r = req.into_inner();
        let s = self.managed(&user, &r.season_id).await?;
        let spec = self.validated(&user, r.spec).await?;
        self.0.store.update_season(&s.id, &spec).await?;
        Ok(Response::new(season_to_pb(&SeasonRow { spec, ..s })))
    }

    async fn delete_season(
        &self,
        req: Request<pb::DeleteSeasonRequest>,
    ) -> Result<Response<pb::DeleteSeasonResponse>, Status> {
        let user = self
            .0
            .auth
            .require(req.metadata(), ORGANISERS, "deleting seasons")
            .await?;
        let s = self.managed(&user, &req.into_inner().season_id).await?;
        self.0.store.delete_season(&s.id).await?;
        Ok(Response::new(pb::DeleteSeasonResponse {}))
    }

    async fn list_seasons(
        &self,
        req: Request<pb::ListSeasonsRequest>,
    ) -> Result<Response<pb::ListSeasonsResponse>, Status> {
        let r = req.into_inner();
        let offset = parse_page_token(&r.page_token)?;
        let n = page_size("page_size", r.page_size, 50, 500)?;
        let rows = self.0.store.list_seasons(offset, n + 1).await?;
        Ok(Response::new(pb::ListSeasonsResponse {
            seasons: rows.iter().take(n).map(season_to_pb).collect(),
            next_page_token: if rows.len() > n {
                (offset + n).to_string()
            } else {
                String::new()
            },
        }))
    }

    async fn get_season(&self, req: Request<pb::GetSeasonRequest>) -> Result<Response<pb::Season>, Status> {
        Ok(Response::new(season_to_pb(
            &self.season(&req.into_inner().season_id).await?,
        )))
    }

    async fn get_standings(
        &self,
        req: Request<pb::GetStandingsRequest>,
    ) -> Result<Response<pb::GetStandingsResponse>, Status> {
        let r = req.into_inner();
        let n = page_size("page_size", r.page_size, DEFAULT_STANDINGS_PAGE, MAX_STANDINGS_PAGE)?;
        let offset = parse_page_token(&r.page_token)?;
        let s = self.season(&r.season_id).await?;
        let table = season_table(&self.0, &s).await?;
        let total = table.rows.len();
        let end = offset.saturating_add(n).min(total);
        Ok(Response::new(pb::GetStandingsResponse {
            season: Some(season_to_pb(&s)),
            next_page_token: if end < total { end.to_string() } else { String::new() },
            total: total as u32,
            rows: table
                .rows
                .into_iter()
                .skip(offset)
                .take(n)
                .map(|r| pb::StandingsRow {
                    position: r.position,
                    user_id: r.user_id,
                    user_name: r.user_name,
                    points: r.points,
                    ranks: r.ranks,
                    race_points: r.race_points,
                    races: r.races,
                })
                .collect(),
            race_names: table
                .races
                .iter()
                .map(|r| r.as_ref().map(|r| r.spec.name.clone()).unwrap_or_default())
                .collect(),
        }))
    }
}

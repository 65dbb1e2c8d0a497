//! RaceService: races, tracks and invites.

use std::sync::Arc;

use slipstream_proto::v1 as pb;
use slipstream_proto::v1::race_service_server::RaceService;
use slipstream_sim::track::{Track, ValidateOptions, builtin, npy};
use tonic::{Request, Response, Status};

use crate::convert::{invite_to_pb, race_to_pb, spec_from_pb};
use crate::ctx::Ctx;
use crate::error::{LeagueError, Result};
use crate::league::Viewer;
use crate::league::access::ORGANISERS;
use crate::league::access::is_public;
use crate::league::paging::{page_size, parse_page_token};
use crate::league::tracks::{StoredTrack, track_info_pb};
use crate::races::{RaceRules, RaceState};
use crate::store::RaceRow;
use crate::util::{new_secret, secret_hash, sha256_hex};

#[derive(Debug, Clone)]
pub struct Races(pub Arc<Ctx>);

/// Largest track upload.
pub const MAX_TRACK_BYTES: usize = 1 << 20;

impl Races {
    async fn race_msg(&self, r: &RaceRow) -> Result<pb::Race> {
        Ok(race_to_pb(r, self.0.track_info(&r.spec.track).await?, self.0.now_ms()))
    }

    async fn validated_spec(&self, spec: Option<pb::RaceSpec>) -> Result<crate::races::RaceSpec> {
        let spec = spec.ok_or_else(|| LeagueError::invalid("spec: missing"))?;
        let spec = spec_from_pb(&spec).map_err(LeagueError::invalid)?;
        let uploaded = match crate::races::upload_sha(&spec.track) {
            Some(_) => self.0.store.track(&spec.track).await?.is_some(),
            None => false,
        };
        spec.validate(|_| uploaded)?;
        Ok(spec)
    }
}

#[tonic::async_trait]
impl RaceService for Races {
    async fn create_race(&self, req: Request<pb::CreateRaceRequest>) -> Result<Response<pb::Race>, Status> {
        let user = self
            .0
            .auth
            .require(req.metadata(), ORGANISERS, "creating races")
            .await?;
        let spec = self.validated_spec(req.into_inner().spec).await?;
        let race = self.0.store.insert_race(&spec, &user.id).await?;
        tracing::info!(race = %race.id, name = %spec.name, "race created");
        Ok(Response::new(self.race_msg(&race).await?))
    }

    async fn update_race(&self, req: Request<pb::UpdateRaceRequest>) -> Result<Response<pb::Race>, Status> {
        let user = self.0.auth.require(req.metadata(), ORGANISERS, "editing races").await?;
        let r = req.into_inner();
        // Changes are decided on the stored race, not a cached copy.
        self.0.forget_race(&r.race_id);
        let race = Viewer::user(&user).managed_race(&self.0, &r.race_id, "edit it").await?;
        let now = self.0.now_ms();
        let mut spec = self.validated_spec(r.spec).await?;
        match race.spec.state(now) {
            RaceState::Upcoming => {}
            RaceState::Open => spec = race.spec.open_change(spec, now)?,
            RaceState::Closed => {
                return Err(LeagueError::precondition("the race has closed; its results are final").into());
            }
        }
        self.0.store.update_race(&race.id, &spec).await?;
        self.0.forget_race(&race.id);
        let updated = RaceRow { spec, ..race };
        Ok(Response::new(self.race_msg(&updated).await?))
    }

    async fn delete_race(
        &self,
        req: Request<pb::DeleteRaceRequest>,
    ) -> Result<Response<pb::DeleteRaceResponse>, Status> {
        let user = self
            .0
            .auth
            .require(req.metadata(), ORGANISERS, "deleting races")
            .await?;
        let r = req.into_inner();
        // Changes are decided on the stored race, not a cached copy.
        self.0.forget_race(&r.race_id);
        let race = Viewer::user(&user)
            .managed_race(&self.0, &r.race_id, "delete it")
            .await?;
        if race.spec.state(self.0.now_ms()) == RaceState::Open {
            return Err(LeagueError::precondition(
                "the race is open; it can be deleted before it opens or after it closes",
            )
            .into());
        }
        self.0.store.delete_race(&race.id).await?;
        self.0.forget_race(&race.id);
        self.0.boards.invalidate(&race.id);
        Ok(Response::new(pb::DeleteRaceResponse {}))
    }

    async fn list_races(&self, req: Request<pb::ListRacesRequest>) -> Result<Response<pb::ListRacesResponse>, Status> {
        let user = self.0.auth.user(req.metadata()).await?;
        let r = req.into_inner();
        let offset = parse_page_token(&r.page_token)?;
        let n = page_size("page_size", r.page_size, 50, 500)?;
        let scope = Viewer::new(user.as_ref()).race_scope();
        let rows = self.0.store.list_races(scope, offset, n + 1).await?;
        let next = if rows.len() > n {
            (offset + n).to_string()
        } else {
            String::new()
        };
        let mut races = Vec::new();
        for row in rows.iter().take(n) {
            races.push(self.race_msg(row).await?);
        }
        Ok(Response::new(pb::ListRacesResponse {
            races,
            next_page_token: next,
        }))
    }

    async fn get_race(&self, req: Request<pb::GetRaceRequest>) -> Result<Response<pb::Race>, Status> {
        let user = self.0.auth.user(req.metadata()).await?;
        let race = Viewer::new(user.as_ref())
            .race(&self.0, &req.into_inner().race_id)
            .await?;
        Ok(Response::new(self.race_msg(&race).await?))
    }

    async fn upload_track(&self, req: Request<pb::UploadTrackRequest>) -> Result<Response<pb::TrackInfo>, Status> {
        let user = self
            .0
            .auth
            .require(req.metadata(), ORGANISERS, "uploading tracks")
            .await?;
        let r = req.into_inner();
        let name = r.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(LeagueError::invalid("name: expected 1–100 characters").into());
        }
        if r.npy.len() > MAX_TRACK_BYTES {
            return Err(LeagueError::ResourceExhausted(format!(
                "npy: {} bytes is over the {MAX_TRACK_BYTES}-byte limit for tracks",
                r.npy.len()
            ))
            .into());
        }
        let a = npy::parse(&r.npy).map_err(|e| LeagueError::invalid(format!("npy: {e}")))?;
        if a.cols != 6 {
            return Err(LeagueError::invalid(format!(
                "npy: expected 6 columns (center, inner, outer x/y), found {}",
                a.cols
            ))
            .into());
        }
        let rows: Vec<[f64; 6]> = a
            .data
            .chunks_exact(6)
            .map(|c| [c[0], c[1], c[2], c[3], c[4], c[5]])
            .collect();
        let track = Track::from_rows(name.to_string(), &rows, &ValidateOptions::default())
            .map_err(|e| LeagueError::invalid(format!("npy: {}", e.kind)))?;
        let sha = sha256_hex(&r.npy);
        let id = format!("upload:{sha}");
        self.0.store.put_blob(&sha, &r.npy).await?;
        self.0
            .store
            .insert_track(
                &id,
                name,
                &serde_json::to_string(&StoredTrack::of(&track)).expect("serialisable"),
                &user.id,
            )
            .await?;
        Ok(Response::new(track_info_pb(&id, name, &track, false)))
    }

    async fn list_tracks(
        &self,
        _req: Request<pb::ListTracksRequest>,
    ) -> Result<Response<pb::ListTracksResponse>, Status> {
        let mut tracks = Vec::new();
        for b in builtin::all() {
            if let Some(t) = self.0.track_info(b.name).await? {
                tracks.push(t);
            }
        }
        for row in self.0.store.list_tracks().await? {
            if let Some(t) = self.0.track_info(&row.id).await? {
                tracks.push(t);
            }
        }
        Ok(Response::new(pb::ListTracksResponse { tracks }))
    }

    async fn create_invite(&self, req: Request<pb::CreateInviteRequest>) -> Result<Response<pb::Invite>, Status> {
        let user = self
            .0
            .auth
            .require(req.metadata(), ORGANISERS, "inviting racers")
            .await?;
        let r = req.into_inner();
        let race = Viewer::user(&user)
            .managed_race(&self.0, &r.race_id, "invite racers")
            .await?;
        if is_public(&race) {
            return Err(LeagueError::precondition("the race is public: everyone may enter without an invite").into());
        }
        // 0 = when the race closes; for a race that never closes, never (0).
        let expires = if r.expires_at_ms == 0 {
            race.spec.closes_at_ms
        } else {
            r.expires_at_ms
        };
        if expires != 0 && expires <= self.0.now_ms() {
            return Err(LeagueError::invalid("expires_at_ms: must be in the future").into());
        }
        let token = new_secret("inv");
        let inv = self
            .0
            .store
            .insert_invite(&race.id, &secret_hash(&token), expires)
            .await?;
        Ok(Response::new(invite_to_pb(&inv, token)))
    }

    async fn list_invites(
        &self,
        req: Request<pb::ListInvitesRequest>,
    ) -> Result<Response<pb::ListInvitesResponse>, Status> {
        let user = self
            .0
            .auth
            .require(req.metadata(), ORGANISERS, "listing invites")
            .await?;
        let race = Viewer::user(&user)
            .managed_race(&self.0, &req.into_inner().race_id, "list its invites")
            .await?;
        let invites = self
            .0
            .store
            .list_invites(&race.id)
            .await?
            .iter()
            .map(|i| invite_to_pb(i, String::new()))
            .collect();
        Ok(Response::new(pb::ListInvitesResponse { invites }))
    }

    async fn revoke_invite(&self, req: Request<pb::RevokeInviteRequest>) -> Result<Response<pb::Invite>, Status> {
        let user = self
            .0
            .auth
            .require(req.metadata(), ORGANISERS, "revoking invites")
            .await?;
        let id = req.into_inner().invite_id;
        let inv = self
            .0
            .store
            .invite(&id)
            .await?
            .ok_or_else(|| LeagueError::not_found(format!("invite_id: no invite {id:?}")))?;
        Viewer::user(&user)
            .managed_race(&self.0, &inv.race_id, "revoke its invites")
            .await?;
        self.0.store.revoke_invite(&id).await?;
        let inv = self.0.store.invite(&id).await?.expect("exists");
        Ok(Response::new(invite_to_pb(&inv, String::new())))
    }

    async fn join_race(&self, req: Request<pb::JoinRaceRequest>) -> Result<Response<pb::Race>, Status> {
        let user = self.0.auth.signed_in(req.metadata()).await?;
        let token = req.into_inner().invite_token;
        let inv = self
            .0
            .store
            .invite_by_hash(&secret_hash(token.trim()))
            .await?
            .ok_or_else(|| LeagueError::not_found("invite_token: unknown invite"))?;
        if inv.revoked {
            return Err(LeagueError::precondition("the invite was revoked").into());
        }
        if inv.expires_at != 0 && inv.expires_at <= self.0.now_ms() {
            return Err(LeagueError::precondition("the invite has expired").into());
        }
        let race = self
            .0
            .store
            .race(&inv.race_id)
            .await?
            .ok_or_else(|| LeagueError::not_found("the invite's race no longer exists"))?;
        self.0.store.add_member(&race.id, &user.id).await?;
        self.0.store.use_invite(&inv.id).await?;
        Ok(Response::new(self.race_msg(&race).await?))
    }
}
